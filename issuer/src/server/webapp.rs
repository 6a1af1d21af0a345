//! `GET /app/…`: the web app (verifier and wallet), with this server as its trust data's
//! source. Files are answered from memory; the service worker keeps them for offline use.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use crate::app::AppFile;

/// A file of the app as the server keeps it: as it is and gzipped (made once, at start), each
/// shared by every answer without a copy.
pub(crate) struct Served {
    name: &'static str,
    kind: &'static str,
    plain: axum::body::Bytes,
    gzipped: axum::body::Bytes,
}

impl From<AppFile> for Served {
    fn from(f: AppFile) -> Self {
        Served {
            name: f.name,
            kind: f.kind,
            gzipped: crate::app::gzip(&f.bytes).into(),
            plain: f.bytes.into(),
        }
    }
}

/// `GET /app`: to `/app/` (relative URLs in the app resolve against it).
pub(crate) async fn bare() -> Redirect {
    Redirect::permanent("/app/")
}

/// `GET /app/`: the app's page.
pub(crate) async fn index(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    serve(&state, "index.html", &headers)
}

/// `GET /app/{file}`.
pub(crate) async fn file(
    State(state): State<Arc<AppState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    serve(&state, &name, &headers)
}

/// A file, gzipped for a client that takes it (the engine is a third of its size so).
fn serve(state: &AppState, name: &str, request: &HeaderMap) -> Response {
    let Some(file) = state.app.iter().find(|f| f.name == name) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let takes_gzip = request
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let body = if takes_gzip {
        file.gzipped.clone()
    } else {
        file.plain.clone()
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.kind));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if takes_gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    // Always revalidated: the service worker holds the offline copy, and a new build must reach
    // it; the worker script itself may never be cached by HTTP.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
