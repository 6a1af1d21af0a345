//! The operator API: bearer token (compared in constant time), JSON in and out, errors as
//! `{"error": code, "message"}` with a status per kind; internal failures are logged and shown
//! only as "something went wrong". Issuing, revoking and rotating run on the blocking pool.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use propusk_spec::CredentialId;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::{AppState, blocking, now};
use crate::error::EuError;
use crate::error::{IssuerError, StoreError};
use propusk_input::{Request, RotateRequest};

/// An API error: a status, a stable code, and a message that reveals nothing internal.
#[non_exhaustive]
#[derive(Debug)]
pub enum ApiError {
    /// No valid bearer token.
    Unauthorized,
    /// The request is malformed.
    BadInput(String),
    /// Well-formed, but the rules refuse it.
    Refused(String),
    /// No such credential or record.
    NotFound(String),
    /// The keys are not in a state that allows it.
    Conflict(String),
    /// The body did not arrive in time.
    Timeout,
    /// The body is larger than the server takes.
    TooLarge,
    /// The issuer's database cannot be reached (it is restarting, or down): try again.
    Unavailable,
    /// Anything else: logged, never shown.
    Internal(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Unauthorized => f.write_str("no valid bearer token"),
            ApiError::TooLarge => f.write_str("the body is too large"),
            ApiError::Timeout => f.write_str("the body did not arrive in time"),
            ApiError::Unavailable => f.write_str("the issuer's database cannot be reached"),
            ApiError::BadInput(m)
            | ApiError::Refused(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::Internal(m) => f.write_str(m),
        }
    }
}

impl From<IssuerError> for ApiError {
    fn from(e: IssuerError) -> Self {
        match e {
            IssuerError::Store(ref s) if s.is_unavailable() => ApiError::Unavailable,
            IssuerError::Input(m) => ApiError::BadInput(m.to_string()),
            IssuerError::Refused(m) => ApiError::Refused(m.to_string()),
            IssuerError::UnknownCredential(id) => ApiError::NotFound(format!("no credential {id}")),
            IssuerError::Key(m) => ApiError::Conflict(m.to_string()),
            IssuerError::Eu(m @ (EuError::NotSetUp | EuError::AlreadySetUp)) => {
                ApiError::Conflict(m.to_string())
            }
            IssuerError::Eu(m @ (EuError::Twin(_) | EuError::Sign(_))) => {
                ApiError::Refused(m.to_string())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            return ApiError::Unavailable;
        }
        ApiError::Internal(e.to_string())
    }
}

/// Seconds a client is asked to wait when the database is down (`Retry-After`).
pub(crate) const RETRY_AFTER_S: &str = "5";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a valid bearer token is required".to_owned(),
            ),
            ApiError::BadInput(m) => (StatusCode::BAD_REQUEST, "bad_input", m),
            ApiError::Refused(m) => (StatusCode::UNPROCESSABLE_ENTITY, "refused", m),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
            ApiError::Conflict(m) => (StatusCode::CONFLICT, "conflict", m),
            ApiError::Timeout => (
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the body did not arrive in time".to_owned(),
            ),
            ApiError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the body is larger than the server takes".to_owned(),
            ),
            ApiError::Unavailable => {
                tracing::warn!("the database cannot be reached");
                let body = json!({
                    "error": "unavailable",
                    "message": "the issuer's database cannot be reached; try again shortly",
                });
                let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from_static(RETRY_AFTER_S),
                );
                return response;
            }
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong".to_owned(),
                )
            }
        };
        (status, Json(json!({"error": code, "message": message}))).into_response()
    }
}

/// A request body as it arrives: its bytes, or why they could not be had (too large, ...).
type Body = Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>;

/// The body as text; too large or not UTF-8 is answered in the API's JSON like any bad input.
fn text(body: Body) -> Result<String, ApiError> {
    let bytes = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge,
        _ => ApiError::BadInput(e.body_text()),
    })?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadInput("the body is not UTF-8 text".into()))
}

impl AppState {
    /// A credential id as logs carry it: a keyed hash (the id itself unlocks the credential at
    /// `/c/ID/credential`, and logs travel further than the database).
    fn log_id(&self, id: &CredentialId) -> String {
        let keyed = format!("{}\n{id}", self.token);
        propusk_trust_list::sha256_hex(keyed.as_bytes())[..16].to_owned()
    }
}

/// The most a request body may hold.
pub(crate) const MAX_BODY: usize = 2 << 20;

/// The API's routes, behind the token; an authenticated request's body must arrive within
/// `body_timeout`.
pub(crate) fn routes(state: Arc<AppState>, body_timeout: Duration) -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/credentials", post(issue))
        .route("/api/v1/credentials/{id}/revoke", post(revoke))
        .route("/api/v1/keys/rotate", post(rotate))
        .route("/api/v1/issuance/{record_id}", get(issuance))
        .route_layer(axum::middleware::from_fn_with_state(
            (state, body_timeout),
            require_token,
        ))
}

/// Whether the request carries the operator's bearer token (compared in constant time).
pub(crate) fn token_matches(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = state.token.as_bytes();
    !expected.is_empty()
        && given.len() == expected.len()
        && bool::from(given.as_bytes().ct_eq(expected))
}

/// Checks the token, then reads the body whole within the time allowed: a client that stalls
/// or trickles it (the token does not make it harmless) is answered 408, its connection closed.
async fn require_token(
    State((state, body_timeout)): State<(Arc<AppState>, Duration)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if !token_matches(&state, request.headers()) {
        super::metrics::UNAUTHORIZED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let peer = request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_default();
        tracing::warn!(%peer, path = request.uri().path(), "refused: a missing or wrong bearer token (401)");
        return ApiError::Unauthorized.into_response();
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(body_timeout, axum::body::to_bytes(body, MAX_BODY)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return ApiError::TooLarge.into_response(),
        Err(_) => {
            tracing::warn!("an authenticated request's body did not arrive in time");
            let mut response = ApiError::Timeout.into_response();
            response.headers_mut().insert(
                header::CONNECTION,
                header::HeaderValue::from_static("close"),
            );
            return response;
        }
    };
    next.run(axum::extract::Request::from_parts(parts, bytes.into()))
        .await
}

/// `?eu=true` of `POST /api/v1/credentials`.
#[derive(Debug, Default, serde::Deserialize)]
struct IssueOptions {
    #[serde(default)]
    eu: bool,
}

/// `POST /api/v1/credentials`: issuance JSON in, `{"id", "credential", "link", "holder"}` out —
/// `holder` the full record (names, Latin forms, birth date, whole document number) for the
/// holder's own paper copy, which the credential does not carry; with `?eu=true` also `"eu"`,
/// the EU DCC twin (both issued, or neither). Only with the operator's token, as every `/api`.
async fn issue(
    State(state): State<Arc<AppState>>,
    options: Result<Query<IssueOptions>, axum::extract::rejection::QueryRejection>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let Query(options) = options.map_err(|e| ApiError::BadInput(e.body_text()))?;
    let request = Request::from_json(&text(body)?).map_err(IssuerError::from)?;
    let logged = state.clone();
    let (issued, twin) = blocking(move || {
        let mut issuer = state.issuer()?;
        Ok(match options.eu {
            true => issuer
                .issue_with_twin(&request, now())
                .map(|(i, t)| (i, Some(t)))?,
            false => (issuer.issue(&request, now())?, None),
        })
    })
    .await?;
    let kind = issued.credential_type.as_str();
    tracing::info!(id = %logged.log_id(&issued.id), kind, eu = twin.is_some(), "issued");
    let link = issued.links.as_ref().map(|l| l.short.clone());
    let mut answer = json!({
        "id": issued.id,
        "credential": issued.credential,
        "link": link,
        "holder": issued.holder,
    });
    if let Some(twin) = twin {
        answer["eu"] = twin.into();
    }
    Ok(Json(answer))
}

/// `POST /api/v1/credentials/{id}/revoke`: revoked, and published at once.
async fn revoke(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id: CredentialId = id
        .parse()
        .map_err(|e| ApiError::BadInput(format!("credential id: {e}")))?;
    let logged = state.clone();
    let (revoked, published) = blocking(move || {
        let revoked = state.issuer()?.revoke(&id, now())?;
        Ok((revoked, published(state.republish())?))
    })
    .await?;
    tracing::info!(id = %logged.log_id(&revoked.id), "revoked");
    let mut answer = json!({"id": revoked.id, "status": revoked.status, "published": true});
    if let Err(why) = published {
        answer["published"] = false.into();
        answer["message"] = why.into();
    }
    Ok(Json(answer))
}

/// A publication after a change: made; or refused because the store holds rows nothing proves
/// this issuer wrote — the change stands (it is recorded), the refusal is said and logged for
/// the operator. Other failures are the request's.
fn published(result: Result<(), IssuerError>) -> Result<Result<(), String>, IssuerError> {
    match result {
        Ok(()) => Ok(Ok(())),
        Err(e @ IssuerError::Store(crate::error::StoreError::Unproven(_))) => {
            tracing::error!(error = %e, "not published");
            Ok(Err(format!("recorded, but not published: {e}")))
        }
        Err(e) => Err(e),
    }
}

/// `POST /api/v1/keys/rotate` (`{"announce": true}` to announce only): the key, published at
/// once.
async fn rotate(State(state): State<Arc<AppState>>, body: Body) -> Result<Json<Value>, ApiError> {
    let options = RotateRequest::from_body(&text(body)?).map_err(IssuerError::from)?;
    let key = blocking(move || {
        let key = state.issuer()?.rotate(now(), options.announce)?;
        state.republish()?;
        Ok(key)
    })
    .await?;
    tracing::info!(key = %key.key_id, status = key.status.as_str(), "rotated");
    Ok(Json(
        serde_json::to_value(key).map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}

/// `GET /api/v1/issuance/{record_id}`: was it issued, when, which id (no personal data).
async fn issuance(
    State(state): State<Arc<AppState>>,
    UrlPath(record_id): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let lookup = record_id.clone();
    let found = blocking(move || Ok(state.issuer()?.record(&lookup)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("record {record_id} was never issued")))?;
    Ok(Json(json!({
        "record_id": found.record_id,
        "issued": true,
        "id": found.id,
        "type": found.credential_type,
        "issued_at": found.issued_at,
        "expires_at": found.expires_at,
        "status": found.status,
    })))
}
