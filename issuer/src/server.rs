//! `propusk serve`: the issuer's HTTP server — the signed trust bundle for verifiers (ETags,
//! 304s, cache headers), the portal page behind link-form QR codes (Russian and English, masked
//! holder only, rate-limited per client), and the operator API (bearer token, JSON errors with
//! stable codes; internal failures are logged, never shown).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use axum::extract::{ConnectInfo, Path as UrlPath, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use propusk_spec::{CredentialId, Timestamp, decode};
use rusqlite::OptionalExtension;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::error::IssuerError;
use crate::input::Request;
use crate::state::Issuer;

/// Where the server keeps the files it publishes, inside the issuer's directory.
pub const PUBLISHED_DIR: &str = "published";
/// Portal lookups a client may make in a burst, and per minute after it, by default.
pub const PORTAL_RATE: u32 = 30;

/// One file of the published trust data, ready to serve.
#[derive(Clone)]
struct Served {
    bytes: Arc<Vec<u8>>,
    etag: String,
    immutable: bool,
}

/// A token bucket per client address: `rate` lookups in a burst and per minute (0: no limit).
struct Limiter {
    rate: f64,
    buckets: HashMap<IpAddr, (f64, Instant)>,
}

impl Limiter {
    /// Takes one token for `ip`; `false` when its bucket is empty.
    fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        if self.buckets.len() > 100_000 {
            self.buckets
                .retain(|_, (_, seen)| now.duration_since(*seen).as_secs() < 60);
        }
        let (tokens, seen) = self.buckets.entry(ip).or_insert((self.rate, now));
        let refill = now.duration_since(*seen).as_secs_f64() * self.rate / 60.0;
        *tokens = (*tokens + refill).min(self.rate);
        *seen = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Read-only SQLite connections for the portal, so that lookups do not wait for the issuer's
/// lock or for each other.
struct ReadPool {
    path: PathBuf,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl ReadPool {
    fn with<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, ApiError> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match pooled {
            Some(c) => c,
            None => rusqlite::Connection::open_with_flags(
                &self.path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        };
        let result = f(&conn).map_err(|e| ApiError::Internal(e.to_string()));
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(conn);
        }
        result
    }
}

/// The server's shared state.
pub struct AppState {
    reads: ReadPool,
    time_zone: jiff::tz::TimeZone,
    issuer: Mutex<Issuer>,
    token: String,
    published: PathBuf,
    files: RwLock<HashMap<String, Served>>,
    limiter: Mutex<Limiter>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Timestamp::from_unix(secs)
        .unwrap_or_else(|| Timestamp::from_unix(0).unwrap_or_else(|| unreachable!("0 is in range")))
}

impl AppState {
    /// State for an unlocked issuer in `dir`: reads the operator token, publishes the current
    /// trust data into `dir/published` and loads it for serving. `portal_rate` is the portal
    /// lookups a client may make in a burst and per minute (0: no limit, for load tests).
    pub fn new(dir: &Path, issuer: Issuer, portal_rate: u32) -> Result<Arc<Self>, IssuerError> {
        let token_path = dir.join(crate::state::TOKEN_FILE);
        let token = std::fs::read_to_string(&token_path)
            .map_err(|e| IssuerError::io(&token_path, e))?
            .trim()
            .to_owned();
        let time_zone =
            jiff::tz::TimeZone::get(issuer.time_zone()).unwrap_or(jiff::tz::TimeZone::UTC);
        let state = Arc::new(AppState {
            time_zone,
            reads: ReadPool {
                path: dir.join(crate::state::STORE_FILE),
                idle: Mutex::new(Vec::new()),
            },
            issuer: Mutex::new(issuer),
            token,
            published: dir.join(PUBLISHED_DIR),
            files: RwLock::new(HashMap::new()),
            limiter: Mutex::new(Limiter {
                rate: f64::from(portal_rate),
                buckets: HashMap::new(),
            }),
        });
        state.republish()?;
        Ok(state)
    }

    fn issuer(&self) -> Result<std::sync::MutexGuard<'_, Issuer>, ApiError> {
        self.issuer
            .lock()
            .map_err(|_| ApiError::Internal("the issuer lock is poisoned".into()))
    }

    /// Publishes the current state and reloads the files served.
    fn republish(&self) -> Result<(), IssuerError> {
        self.issuer
            .lock()
            .map_err(|_| IssuerError::Store("lock poisoned".into()))?
            .publish(&self.published, now())?;
        let mut files = HashMap::new();
        let entries =
            std::fs::read_dir(&self.published).map_err(|e| IssuerError::io(&self.published, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".cbor") {
                continue;
            }
            let bytes =
                std::fs::read(entry.path()).map_err(|e| IssuerError::io(&entry.path(), e))?;
            let etag = format!("\"{}\"", &propusk_trust_list::sha256_hex(&bytes)[..32]);
            files.insert(
                name.clone(),
                Served {
                    bytes: Arc::new(bytes),
                    etag,
                    immutable: name != propusk_trust_list::INDEX_FILE,
                },
            );
        }
        *self
            .files
            .write()
            .map_err(|_| IssuerError::Store("lock poisoned".into()))? = files;
        Ok(())
    }
}

/// The router over a state.
pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/api/v1/credentials", post(api_issue))
        .route("/api/v1/credentials/{id}/revoke", post(api_revoke))
        .route("/api/v1/keys/rotate", post(api_rotate))
        .route("/api/v1/issuance/{record_id}", get(api_issuance))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            require_token,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/bundle/{name}", get(bundle))
        .route("/c/{id}", get(portal))
        .route("/c/{id}/credential", get(portal_credential))
        .route("/C/{id}", get(portal))
        .merge(api)
        .with_state(state)
}

/// Serves until the process is stopped (Ctrl-C).
pub async fn serve(state: Arc<AppState>, addr: SocketAddr) -> Result<(), IssuerError> {
    let listener = std::net::TcpListener::bind(addr).map_err(|e| IssuerError::Io {
        path: PathBuf::from(addr.to_string()),
        message: e.to_string(),
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| IssuerError::Store(e.to_string()))?;
    tracing::info!(%bound, "listening");
    println!("listening on http://{bound}");
    serve_listener(state, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves on an already bound listener until `shutdown` completes.
pub async fn serve_listener(
    state: Arc<AppState>,
    listener: std::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), IssuerError> {
    listener
        .set_nonblocking(true)
        .map_err(|e| IssuerError::Store(e.to_string()))?;
    let listener = tokio::net::TcpListener::from_std(listener)
        .map_err(|e| IssuerError::Store(e.to_string()))?;
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|e| IssuerError::Store(e.to_string()))
}

// ---- trust bundle --------------------------------------------------------------------------

async fn bundle(
    State(state): State<Arc<AppState>>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let file = state.files.read().ok().and_then(|f| f.get(&name).cloned());
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

// ---- portal --------------------------------------------------------------------------------

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

fn russian(query: &LangQuery, headers: &HeaderMap) -> bool {
    match query.lang.as_deref() {
        Some(l) => l.starts_with("ru"),
        None => headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|first| first.trim().starts_with("ru")),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(
    ru: bool,
    status: StatusCode,
    tone: &str,
    title: &str,
    rows: &[(&str, String)],
    note: &str,
) -> Response {
    let lang = if ru { "ru" } else { "en" };
    let rows: String = rows
        .iter()
        .map(|(k, v)| format!("<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v)))
        .collect();
    let other = if ru {
        ("?lang=en", "English")
    } else {
        ("?lang=ru", "Русский")
    };
    let html = format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>\
body{{font-family:system-ui,sans-serif;margin:0;padding:1.5rem;max-width:32rem;margin:auto;color:#111}}\
.status{{font-size:1.6rem;font-weight:700;padding:1rem;border-radius:.6rem;margin-bottom:1rem;color:#fff}}\
.valid{{background:#1b7f3b}}.invalid{{background:#b3261e}}.unknown{{background:#6b6b6b}}\
th{{text-align:left;padding:.3rem 1rem .3rem 0;color:#555;font-weight:500}}td{{padding:.3rem 0;font-size:1.1rem}}\
p{{color:#444}}a{{color:#1a56b8}}</style></head><body><div class=\"status {tone}\" id=\"status\">{title}</div>\
<table>{rows}</table><p id=\"note\">{note}</p><p><a id=\"lang\" href=\"{href}\">{label}</a></p>\
<script>if(location.hash.length>5){{var n=document.getElementById('note');n.textContent+=' {fragment}';\
var a=document.getElementById('lang');a.href=a.getAttribute('href')+location.hash;}}</script>\
</body></html>",
        title = escape(title),
        note = escape(note),
        href = other.0,
        label = other.1,
        fragment = if ru {
            "Эта ссылка содержит сам подписанный сертификат: приложение проверяющего проверит его без сети."
        } else {
            "This link also carries the signed certificate itself: a verifier app checks it offline."
        },
    );
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn type_name(t: &str, ru: bool) -> String {
    match (t, ru) {
        ("vaccination", true) => "Вакцинация".into(),
        ("recovery", true) => "Перенесённое заболевание".into(),
        ("test", true) => "Тест".into(),
        ("exemption", true) => "Медицинский отвод".into(),
        ("pass", true) => "Пропуск".into(),
        ("vaccination", false) => "Vaccination".into(),
        ("recovery", false) => "Recovery".into(),
        ("test", false) => "Test".into(),
        ("exemption", false) => "Medical exemption".into(),
        ("pass", false) => "Movement pass".into(),
        (other, _) => other.into(),
    }
}

async fn portal(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<LangQuery>,
    headers: HeaderMap,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let ru = russian(&query, &headers);
    let ip = client.map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.0.ip());
    let allowed = state
        .limiter
        .lock()
        .map(|mut l| l.allow(ip, Instant::now()))
        .unwrap_or(false);
    if !allowed {
        let (title, note) = if ru {
            (
                "Слишком много запросов",
                "Подождите минуту и попробуйте снова.",
            )
        } else {
            ("Too many requests", "Wait a minute and try again.")
        };
        return page(
            ru,
            StatusCode::TOO_MANY_REQUESTS,
            "unknown",
            title,
            &[],
            note,
        );
    }
    let not_found = || {
        let (title, note) = if ru {
            (
                "Сертификат не найден",
                "Проверьте ссылку: такого сертификата нет, или в адресе опечатка.",
            )
        } else {
            (
                "Certificate not found",
                "Check the link: there is no such certificate, or the address has a typo.",
            )
        };
        page(ru, StatusCode::NOT_FOUND, "unknown", title, &[], note)
    };
    let Ok(id) = id.parse::<CredentialId>() else {
        return not_found();
    };
    let found = state.reads.with(|conn| {
        conn.query_row(
            "SELECT status, text FROM credentials WHERE id = ?1",
            [id.to_string()],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )
        .optional()
    });
    let (status, text) = match found {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(),
        Err(e) => return e.into_response(),
    };
    let Ok(decoded) = decode(&text) else {
        tracing::error!("a stored credential does not decode");
        return ApiError::Internal("stored credential".into()).into_response();
    };
    let c = decoded.unverified_claims();
    let expired = c.expires_at <= now();
    let (tone, title) = match (status.as_str(), expired, ru) {
        ("revoked", _, true) => ("invalid", "Сертификат отозван"),
        ("revoked", _, false) => ("invalid", "Certificate revoked"),
        (_, true, true) => ("invalid", "Срок действия истёк"),
        (_, true, false) => ("invalid", "Certificate expired"),
        (_, false, true) => ("valid", "Сертификат действителен"),
        (_, false, false) => ("valid", "Certificate valid"),
    };
    // The jurisdiction's local time, as people there read their clocks.
    let until = jiff::Timestamp::from_second(c.expires_at.unix())
        .map(|t| {
            let local = t.to_zoned(state.time_zone.clone());
            format!(
                "{} ({})",
                local.strftime("%Y-%m-%d %H:%M"),
                state.time_zone.iana_name().unwrap_or("UTC")
            )
        })
        .unwrap_or_else(|_| c.expires_at.to_string());
    let labels = if ru {
        [
            "Тип",
            "Действителен до",
            "Владелец",
            "Дата рождения",
            "Документ",
        ]
    } else {
        ["Type", "Valid until", "Holder", "Date of birth", "Document"]
    };
    let rows = [
        (labels[0], type_name(c.credential_type().as_str(), ru)),
        (labels[1], until),
        (labels[2], c.holder.initials()),
        (labels[3], c.holder.birth_date.to_string()),
        (labels[4], c.holder.document.masked()),
    ];
    let note = if ru {
        "Сверьте инициалы, дату рождения и номер с документом, удостоверяющим личность."
    } else {
        "Match the initials, date of birth and number against the identity document."
    };
    page(ru, StatusCode::OK, tone, title, &rows, note)
}

/// The credential text behind a short link, for a wallet that adds the link: the id is the
/// secret (96 random bits), so whoever holds the link may have its credential. Rate-limited like
/// the page; unknown and mistyped ids both get a plain 404.
async fn portal_credential(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Response {
    let ip = client.map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.0.ip());
    if !state
        .limiter
        .lock()
        .map(|mut l| l.allow(ip, Instant::now()))
        .unwrap_or(false)
    {
        return (StatusCode::TOO_MANY_REQUESTS, "too many requests").into_response();
    }
    let Ok(id) = id.parse::<CredentialId>() else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let text = state.reads.with(|conn| {
        conn.query_row(
            "SELECT text FROM credentials WHERE id = ?1",
            [id.to_string()],
            |r| r.get::<_, String>(0),
        )
        .optional()
    });
    match text {
        Ok(Some(text)) => {
            let mut response = (StatusCode::OK, text).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Ok(None) => (StatusCode::NOT_FOUND, "not found").into_response(),
        Err(e) => e.into_response(),
    }
}

// ---- operator API ----------------------------------------------------------------------------

/// An API error: a status, a stable code, and a message that reveals nothing internal.
#[derive(Debug)]
enum ApiError {
    Unauthorized,
    BadInput(String),
    Refused(String),
    NotFound(String),
    Conflict(String),
    Internal(String),
}

impl From<IssuerError> for ApiError {
    fn from(e: IssuerError) -> Self {
        match e {
            IssuerError::Input(m) => ApiError::BadInput(m),
            IssuerError::Refused(m) => ApiError::Refused(m),
            IssuerError::UnknownCredential(id) => ApiError::NotFound(format!("no credential {id}")),
            IssuerError::Key(m) => ApiError::Conflict(m),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

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

async fn require_token(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let expected = state.token.as_bytes();
    let ok = given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected));
    if !ok || expected.is_empty() {
        return ApiError::Unauthorized.into_response();
    }
    next.run(request).await
}

async fn api_issue(
    State(state): State<Arc<AppState>>,
    body: String,
) -> Result<Json<serde_json::Value>, ApiError> {
    let request = Request::from_json(&body)?;
    let issued = state.issuer()?.issue(&request, now())?;
    tracing::info!(id = %issued.id, kind = %issued.credential_type, "issued");
    Ok(Json(
        json!({"id": issued.id, "credential": issued.credential, "link": issued.link}),
    ))
}

async fn api_revoke(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id: CredentialId = id
        .parse()
        .map_err(|e| ApiError::BadInput(format!("credential id: {e}")))?;
    let revoked = state.issuer()?.revoke(&id, now())?;
    state
        .republish()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(id = %revoked.id, "revoked");
    Ok(Json(json!({"id": revoked.id, "status": revoked.status})))
}

#[derive(Deserialize, Default)]
struct RotateBody {
    #[serde(default)]
    announce: bool,
}

async fn api_rotate(
    State(state): State<Arc<AppState>>,
    body: String,
) -> Result<Json<serde_json::Value>, ApiError> {
    let options: RotateBody = if body.trim().is_empty() {
        RotateBody::default()
    } else {
        serde_json::from_str(&body).map_err(|e| ApiError::BadInput(e.to_string()))?
    };
    let key = state.issuer()?.rotate(now(), options.announce)?;
    state
        .republish()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    tracing::info!(key = %key.key_id, status = %key.status, "rotated");
    Ok(Json(
        serde_json::to_value(key).map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}

async fn api_issuance(
    State(state): State<Arc<AppState>>,
    UrlPath(record_id): UrlPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let found = state
        .issuer()?
        .record(&record_id)?
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
