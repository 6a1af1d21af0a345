//! `GET /app/…`: the web app (verifier and wallet), with this server as its trust data's
//! source. Files are answered from memory; the service worker keeps them for offline use.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;

/// `GET /app`: to `/app/` (relative URLs in the app resolve against it).
pub(crate) async fn bare() -> Redirect {
    Redirect::permanent("/app/")
}

/// `GET /app/`: the app's page.
pub(crate) async fn index(State(state): State<Arc<AppState>>) -> Response {
    serve(&state, "index.html")
}

/// `GET /app/{file}`.
pub(crate) async fn file(
    State(state): State<Arc<AppState>>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    serve(&state, &name)
}

fn serve(state: &AppState, name: &str) -> Response {
    let Some(file) = state.app.iter().find(|f| f.name == name) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut response = (StatusCode::OK, file.bytes.clone()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.kind));
    // Always revalidated: the service worker holds the offline copy, and a new build must reach
    // it; the worker script itself may never be cached by HTTP.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
