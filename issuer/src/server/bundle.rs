//! The published trust data, served from memory: strong ETags, 304 on `If-None-Match`,
//! `immutable` for the content-addressed bundles and deltas, `no-cache` for the index.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use propusk_trust_list::{Bundle, INDEX_FILE, Index, PublishError, sha256_hex};

use super::AppState;
use crate::error::IssuerError;

/// One file of the published trust data, ready to serve.
#[derive(Clone)]
pub(crate) struct Served {
    bytes: Arc<Vec<u8>>,
    etag: String,
    immutable: bool,
}

impl AppState {
    /// Serves the newest publication in the store when it is newer than the one served: made by
    /// this server, by `propusk issuer publish`, or by another server on the same database.
    pub(crate) fn refresh(&self) -> Result<(), IssuerError> {
        let Some(newest) = self.lookup.latest_publication()? else {
            return Ok(());
        };
        if newest <= self.serving.load(Ordering::Acquire) {
            return Ok(());
        }
        let files: HashMap<String, Served> = self
            .lookup
            .publication_files(newest)?
            .into_iter()
            .map(|(name, bytes)| {
                let served = Served {
                    etag: format!("\"{}\"", &sha256_hex(&bytes)[..32]),
                    immutable: name != INDEX_FILE,
                    bytes: Arc::new(bytes),
                };
                (name, served)
            })
            .collect();
        let Some(index) = files.get(INDEX_FILE) else {
            return Ok(());
        };
        let index = Index::open(&index.bytes, &self.root).map_err(PublishError::from)?;
        let bundle = files
            .get(&index.full)
            .map(|full| Bundle::open(&full.bytes, &self.root))
            .transpose()
            .map_err(PublishError::from)?;
        *self
            .bundle
            .write()
            .map_err(|_| IssuerError::Server("the bundle's lock is poisoned".into()))? =
            bundle.map(Arc::new);
        let old = std::mem::replace(
            &mut *self
                .files
                .write()
                .map_err(|_| IssuerError::Server("the files' lock is poisoned".into()))?,
            files,
        );
        *self
            .previous
            .write()
            .map_err(|_| IssuerError::Server("the files' lock is poisoned".into()))? =
            old.into_iter().filter(|(_, f)| f.immutable).collect();
        self.serving.store(newest, Ordering::Release);
        tracing::info!(sequence = newest, "serving the newest publication");
        Ok(())
    }
}

/// `GET /bundle/{name}`. The index, and a file this server does not have yet, are answered
/// after a look at the store for a newer publication (another server's, a moment ago): a
/// verifier that syncs from several servers behind one name never sees an older index after a
/// newer one, nor a 404 for a file the index it just read names. The previous publication's
/// bundle and deltas stay served (an index read just before a publication still resolves).
/// When the store cannot be reached, what is in memory is served.
pub(crate) async fn file(
    State(state): State<Arc<AppState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let known = state
        .files
        .read()
        .ok()
        .is_some_and(|f| f.contains_key(&name));
    if name == INDEX_FILE || !known {
        let fresh = state.clone();
        if let Err(e) = super::blocking(move || Ok(fresh.refresh()?)).await {
            tracing::debug!(error = ?e, "cannot look for a newer publication");
        }
    }
    let file = state
        .files
        .read()
        .ok()
        .and_then(|f| f.get(&name).cloned())
        .or_else(|| state.previous.read().ok()?.get(&name).cloned());
    let Some(file) = file else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let cache = if file.immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Public, signed data: a web app exported to another origin (a CDN) may read it.
    out.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if let Ok(etag) = HeaderValue::from_str(&file.etag) {
        out.insert(header::ETAG, etag);
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == file.etag || t.trim() == "*")
        });
    if matches {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/cbor"),
    );
    (StatusCode::OK, out, file.bytes.as_ref().clone()).into_response()
}
