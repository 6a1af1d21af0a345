//! `propusk serve`: the issuer's HTTP server — the signed trust bundle for verifiers
//! ([`bundle`]: ETags, 304s, cache headers), the portal page behind link-form QR codes
//! ([`portal`]: Russian and English, masked holder only, rate-limited per client by [`limiter`]),
//! and the operator API ([`api`]: bearer token, JSON errors with stable codes; internal failures
//! are logged, never shown). Everything that touches the database or the disk runs on tokio's
//! blocking pool, never on the async threads.

mod api;
mod bundle;
mod judged;
pub mod limiter;
mod metrics;
mod portal;
mod webapp;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use propusk_spec::Timestamp;

use crate::error::IssuerError;
use crate::issuer::{Issuer, TOKEN_FILE};
use crate::store::Lookup;

pub use api::ApiError;
use bundle::Served;
use limiter::Limiter;

/// Where the server keeps the files it publishes, inside the issuer's directory.
pub const PUBLISHED_DIR: &str = "published";
/// Portal lookups a client may make in a burst, and per minute after it, by default.
pub const PORTAL_RATE: u32 = 30;
/// How often a server looks for a newer publication in the store (made by `issuer publish` or
/// another server).
pub const REFRESH: Duration = Duration::from_secs(2);

/// The server's shared state.
pub struct AppState {
    lookup: Arc<dyn Lookup>,
    time_zone: jiff::tz::TimeZone,
    issuer: Mutex<Issuer>,
    token: String,
    published: PathBuf,
    files: RwLock<std::collections::HashMap<String, Served>>,
    /// The bundle and deltas of the publication served before, still served: a verifier that
    /// read the previous index a moment before this server moved on still finds what it named.
    previous: RwLock<std::collections::HashMap<String, Served>>,
    /// The sequence of the publication served.
    serving: AtomicU64,
    /// Its trust bundle, opened with the root key: what the portal judges with.
    bundle: RwLock<Option<Arc<propusk_trust_list::Bundle>>>,
    /// The root public key.
    root: ed25519_dalek::VerifyingKey,
    /// The portal's judgements, kept while they hold.
    judged: judged::Judgements,
    /// The issuer's proof key: a stored credential whose proof it confirms is judged without its
    /// signature checked (this issuer stored it, having signed it).
    prover: Option<crate::secret::Prover>,
    /// The web app's files, with this server as its source of trust data, each also gzipped.
    app: Vec<webapp::Served>,
    limiter: Mutex<Limiter>,
    /// The requests answered, for `/metrics`.
    metrics: metrics::Metrics,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// Now, from the system clock.
pub(crate) fn now() -> Timestamp {
    Timestamp::from_system(std::time::SystemTime::now())
}

impl AppState {
    /// State for an unlocked issuer in `dir`: reads the operator token, publishes the current
    /// trust data (into the store, and `dir/published`) when there is none or the newest is due
    /// ([`Issuer::due_for_publishing`]: a restart publishes no new sequence), and serves it. `portal_rate` is the portal
    /// lookups a client may make in a burst and per minute (0: no limit, for load tests).
    pub fn new(dir: &Path, issuer: Issuer, portal_rate: u32) -> Result<Arc<Self>, IssuerError> {
        let token_path = dir.join(TOKEN_FILE);
        let token = std::fs::read_to_string(&token_path)
            .map_err(|e| IssuerError::io(&token_path, e))?
            .trim()
            .to_owned();
        let time_zone =
            jiff::tz::TimeZone::get(issuer.time_zone()).unwrap_or(jiff::tz::TimeZone::UTC);
        let root = issuer.root_key()?.public_key;
        let app = crate::app::files(crate::app::config(&issuer, "", &[])?)
            .into_iter()
            .map(webapp::Served::from)
            .collect();
        let state = Arc::new(AppState {
            lookup: issuer.lookup()?,
            prover: issuer.vault().ok().map(crate::secret::Vault::prover),
            time_zone,
            issuer: Mutex::new(issuer),
            token,
            published: dir.join(PUBLISHED_DIR),
            files: RwLock::new(std::collections::HashMap::new()),
            previous: RwLock::new(std::collections::HashMap::new()),
            serving: AtomicU64::new(0),
            bundle: RwLock::new(None),
            root,
            judged: judged::Judgements::default(),
            app,
            limiter: Mutex::new(Limiter::new(portal_rate, limiter::CAPACITY)),
            metrics: metrics::Metrics::default(),
        });
        let due = state.issuer()?.due_for_publishing(now())?;
        match if due {
            state.republish()
        } else {
            state.refresh()
        } {
            Ok(()) => {}
            // The store holds rows nothing proves this issuer wrote: nothing new is signed, the
            // newest good publication is served, and the operator is told (the log).
            Err(e @ IssuerError::Store(crate::error::StoreError::Unproven(_))) => {
                tracing::error!(error = %e, "not published; serving the newest publication");
                eprintln!("propusk: {e}");
                state.refresh()?;
            }
            Err(e) => return Err(e),
        }
        Ok(state)
    }

    fn issuer(&self) -> Result<MutexGuard<'_, Issuer>, IssuerError> {
        self.issuer
            .lock()
            .map_err(|_| IssuerError::Server("the issuer lock is poisoned".into()))
    }

    /// Publishes the current state (into the store, and `dir/published`) and serves it.
    fn republish(&self) -> Result<(), IssuerError> {
        self.issuer()?.publish(&self.published, now())?;
        self.refresh()
    }

    /// Publishes when the newest publication is due (a server left running for days keeps
    /// its verifiers' data fresh); else looks for a newer one (another server's).
    fn keep_fresh(&self) -> Result<(), IssuerError> {
        self.refresh()?;
        // The age of the publication served, from memory (reading it back from the store would
        // decode a bundle of a million revocations every two seconds).
        let made = self
            .bundle
            .read()
            .ok()
            .and_then(|b| b.as_ref().map(|b| b.content().issued_at));
        if made.is_none_or(|made| now().unix() - made >= crate::publish::REPUBLISH_AFTER_S) {
            self.republish()?;
        }
        Ok(())
    }
}

/// Runs blocking work (the database, the disk) on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("a blocking task failed: {e}")))?
}

/// The router over a state.
pub fn router(state: Arc<AppState>) -> Router {
    router_with(state, HEADER_TIMEOUT)
}

/// [`router`] giving an authenticated client `body_timeout` to send its request's body (a
/// client that stalls or trickles it is answered 408 then, its connection closed).
pub fn router_with(state: Arc<AppState>, body_timeout: Duration) -> Router {
    Router::new()
        .route("/", get(portal::home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/bundle/{name}", get(bundle::file))
        .route("/c/{id}", get(portal::page))
        .route("/c/{id}/credential", get(portal::credential))
        .route("/C/{id}", get(portal::page))
        .route("/static/{file}", get(portal::asset))
        .route("/app", get(webapp::bare))
        .route("/app/", get(webapp::index))
        .route("/app/{file}", get(webapp::file))
        .route("/metrics", get(metrics::guarded))
        .merge(api::routes(state.clone(), body_timeout))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// `/metrics` alone, without a token: for `--metrics-addr`, an address only the monitoring
/// reaches.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics::open))
        .with_state(state)
}

/// Headers every answer carries: no type sniffing, no referrer, no framing, and a content
/// security policy that lets a page load only this server's own style sheet and script.
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
             img-src 'self' blob: data:; connect-src 'self'; worker-src 'self'; \
             manifest-src 'self'; media-src 'self' blob: mediastream:; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    response
}

/// Serves the unlocked issuer of `dir` on `addr` until the process is stopped (Ctrl-C), on a
/// runtime of its own.
pub fn run(
    dir: &Path,
    issuer: Issuer,
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    portal_rate: u32,
) -> Result<(), IssuerError> {
    // The addresses first: a server that cannot listen publishes nothing.
    let listener = bind(addr)?;
    let metrics = metrics_addr.map(bind).transpose()?;
    let state = AppState::new(dir, issuer, portal_rate)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| IssuerError::Server(format!("cannot start the runtime: {e}")))?;
    let served = runtime.block_on(async {
        if let Some(metrics) = metrics {
            let app = metrics_router(state.clone());
            let listener = tokio_listener(metrics)?;
            if let Ok(bound) = listener.local_addr() {
                tracing::info!(%bound, "serving /metrics");
            }
            tokio::spawn(accept(
                listener,
                app,
                std::future::pending(),
                HEADER_TIMEOUT,
            ));
        }
        serve_bound(state.clone(), listener).await
    });
    // The tasks end with the runtime; the issuer (and its database client, which runs a
    // runtime of its own) is dropped after, outside any runtime.
    drop(runtime);
    drop(state);
    served
}

/// Serves until the process is stopped (Ctrl-C).
pub async fn serve(state: Arc<AppState>, addr: SocketAddr) -> Result<(), IssuerError> {
    serve_bound(state, bind(addr)?).await
}

/// Listens on `addr`, or says in words why not.
fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, IssuerError> {
    std::net::TcpListener::bind(addr).map_err(|e| {
        IssuerError::Server(match e.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "cannot listen on {addr}: the address is in use (another server runs there?); \
                 choose another --addr"
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "cannot listen on {addr}: permission denied (ports below 1024 need privileges); \
                 choose another --addr"
            ),
            std::io::ErrorKind::AddrNotAvailable => {
                format!("cannot listen on {addr}: no such address on this machine")
            }
            _ => format!("cannot listen on {addr}: {e}"),
        })
    })
}

/// Serves on a bound listener until the process is stopped (Ctrl-C).
async fn serve_bound(
    state: Arc<AppState>,
    listener: std::net::TcpListener,
) -> Result<(), IssuerError> {
    let bound = listener
        .local_addr()
        .map_err(|e| IssuerError::Server(e.to_string()))?;
    tracing::info!(%bound, "listening");
    println!("listening on http://{bound}");
    serve_listener(state, listener, stopped()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM (a service manager stopping the server).
async fn stopped() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminated => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// How long connections in flight at a shutdown may take to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's headers (a slow-loris client that trickles
/// them, or opens connections and sends nothing, is closed after it). hyper starts the same
/// timer when a kept-alive connection waits for its next request, so it is also the idle
/// timeout (tested). An authenticated client has as long again for its request's body.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves on an already bound listener until `shutdown` completes.
pub async fn serve_listener(
    state: Arc<AppState>,
    listener: std::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), IssuerError> {
    serve_listener_with(state, listener, shutdown, HEADER_TIMEOUT).await
}

/// [`serve_listener`] with another header timeout.
pub async fn serve_listener_with(
    state: Arc<AppState>,
    listener: std::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    header_timeout: Duration,
) -> Result<(), IssuerError> {
    let listener = tokio_listener(listener)?;
    // One issuer has one current publication, whoever made it: look for a newer one now and then.
    let watched = state.clone();
    let watcher = tokio::spawn(async move {
        let mut every = tokio::time::interval(REFRESH);
        loop {
            every.tick().await;
            let state = watched.clone();
            if let Err(e) = blocking(move || Ok(state.keep_fresh()?)).await {
                tracing::warn!(error = %e, "cannot look for a newer publication");
            }
        }
    });
    let app = router_with(state, header_timeout);
    accept(listener, app, shutdown, header_timeout).await;
    watcher.abort();
    Ok(())
}

/// Accepts connections on `listener` for `app` until `shutdown` completes; then lets the
/// requests in flight finish (at most [`SHUTDOWN_GRACE`]).
async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    header_timeout: Duration,
) {
    let mut connections = tokio::task::JoinSet::new();
    // Told to each connection at shutdown: an idle one closes at once, one answering a request
    // finishes it first.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(
            app.clone()
                .layer(axum::Extension(axum::extract::ConnectInfo(peer))),
        );
        let mut stopping = stopping.clone();
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                _ = stopping.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended");
            }
        });
        // Connections that ended are forgotten as they go.
        while connections.try_join_next().is_some() {}
    }
    tracing::info!(
        open = connections.len(),
        "shutting down: no new connections"
    );
    let _ = stop.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            left = connections.len(),
            "connections still open at the end of the grace period were closed"
        );
    }
}

/// A bound listener handed to tokio (inside a runtime).
fn tokio_listener(listener: std::net::TcpListener) -> Result<tokio::net::TcpListener, IssuerError> {
    listener
        .set_nonblocking(true)
        .map_err(|e| IssuerError::Server(e.to_string()))?;
    tokio::net::TcpListener::from_std(listener).map_err(|e| IssuerError::Server(e.to_string()))
}
