//! The server's figures for an operations team, in the Prometheus text exposition format
//! (`GET /metrics`, with the operator's bearer token, or on a separate `--metrics-addr`):
//! requests by route and status, latency histograms by route, the publication served and its
//! age, database errors and reconnections, the portal's gathered lookups, refused tokens and
//! rate-limited clients. Routes are the router's patterns (`/c/:id`), never the ids themselves;
//! a route missing from [`ROUTES`] counts under `other`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Latency bucket bounds, in seconds.
const BOUNDS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];

/// Answers the database could not give (503s).
pub(crate) static DATABASE_ERRORS: AtomicU64 = AtomicU64::new(0);
/// Portal requests refused for going over a client's rate.
pub(crate) static RATE_LIMITED: AtomicU64 = AtomicU64::new(0);
/// API requests refused for a missing or wrong token.
pub(crate) static UNAUTHORIZED: AtomicU64 = AtomicU64::new(0);
/// Portal judgements of a credential whose row carries the issuer's proof (no signature
/// checked).
pub(crate) static JUDGED_PROVEN: AtomicU64 = AtomicU64::new(0);
/// Portal judgements that checked the credential's signature (a row without a valid proof).
pub(crate) static JUDGED_CHECKED: AtomicU64 = AtomicU64::new(0);

/// The routes the server answers, as the router names them: each has its figures; anything
/// else counts under `other`.
const ROUTES: [&str; 15] = [
    "/",
    "/C/{id}",
    "/api/v1/credentials",
    "/api/v1/credentials/{id}/revoke",
    "/api/v1/issuance/{record_id}",
    "/api/v1/keys/rotate",
    "/app",
    "/app/",
    "/app/{file}",
    "/bundle/{name}",
    "/c/{id}",
    "/c/{id}/credential",
    "/healthz",
    "/metrics",
    "/static/{file}",
];

/// The statuses counted apart; any other counts under `other`.
const STATUSES: [u16; 13] = [
    200, 304, 400, 401, 403, 404, 408, 413, 422, 429, 500, 503, 504,
];

/// One route's figures, counted without a lock: answers by status, and latencies.
#[derive(Default)]
struct Route {
    statuses: [AtomicU64; STATUSES.len() + 1],
    buckets: [AtomicU64; BOUNDS.len()],
    count: AtomicU64,
    /// The latencies' sum, in microseconds.
    sum_us: AtomicU64,
}

/// The requests answered so far, by route (and one more for `other`).
pub(crate) struct Metrics {
    routes: Vec<Route>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            routes: (0..=ROUTES.len()).map(|_| Route::default()).collect(),
        }
    }
}

impl Metrics {
    fn record(&self, route: &str, status: u16, seconds: f64) {
        let at = ROUTES
            .iter()
            .position(|r| *r == route)
            .unwrap_or(ROUTES.len());
        let Some(r) = self.routes.get(at) else {
            return;
        };
        let slot = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len());
        r.statuses[slot].fetch_add(1, Ordering::Relaxed);
        for (bucket, bound) in r.buckets.iter().zip(BOUNDS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        r.count.fetch_add(1, Ordering::Relaxed);
        r.sum_us
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Each route with its figures, `other` last, those never asked for left out.
    fn answered(&self) -> impl Iterator<Item = (&str, &Route)> + Clone {
        ROUTES
            .iter()
            .copied()
            .chain(std::iter::once("other"))
            .zip(&self.routes)
            .filter(|(_, r)| r.count.load(Ordering::Relaxed) > 0)
    }

    /// The exposition text.
    fn render(&self, sequence: u64, age_s: Option<i64>) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP propusk_http_requests_total Requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE propusk_http_requests_total counter");
        for (route, r) in self.answered() {
            let labels = STATUSES
                .iter()
                .map(u16::to_string)
                .chain(["other".to_owned()]);
            for (status, n) in labels.zip(&r.statuses) {
                let n = n.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "propusk_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                        escape(route)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP propusk_http_request_duration_seconds Time to answer, by route."
        );
        let _ = writeln!(
            out,
            "# TYPE propusk_http_request_duration_seconds histogram"
        );
        for (route, r) in self.answered() {
            let route = escape(route);
            for (bound, n) in BOUNDS.iter().zip(&r.buckets) {
                let _ = writeln!(
                    out,
                    "propusk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    n.load(Ordering::Relaxed)
                );
            }
            let count = r.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "propusk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "propusk_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                r.sum_us.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "propusk_http_request_duration_seconds_count{{route=\"{route}\"}} {count}"
            );
        }
        let gauge = |out: &mut String, name: &str, help: &str, value: String| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name} {value}");
        };
        let counter = |out: &mut String, name: &str, help: &str, value: &AtomicU64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        };
        gauge(
            &mut out,
            "propusk_publication_sequence",
            "The publication this server serves.",
            sequence.to_string(),
        );
        if let Some(age) = age_s {
            gauge(
                &mut out,
                "propusk_publication_age_seconds",
                "How old the publication served is.",
                age.to_string(),
            );
        }
        let figures = &crate::store::figures::GATHERED_LOOKUPS;
        counter(
            &mut out,
            "propusk_gathered_lookups_total",
            "Portal lookups answered by gathered queries (divided by the queries: the mean batch).",
            figures,
        );
        counter(
            &mut out,
            "propusk_gathered_queries_total",
            "Gathered lookup queries made.",
            &crate::store::figures::GATHERED_BATCHES,
        );
        counter(
            &mut out,
            "propusk_database_reconnects_total",
            "Database connections opened again after the database closed one.",
            &crate::store::figures::RECONNECTS,
        );
        counter(
            &mut out,
            "propusk_database_errors_total",
            "Answers the database could not give.",
            &DATABASE_ERRORS,
        );
        counter(
            &mut out,
            "propusk_rate_limited_total",
            "Portal requests refused over a client's rate.",
            &RATE_LIMITED,
        );
        counter(
            &mut out,
            "propusk_portal_judged_proven_total",
            "Portal judgements of credentials whose rows the issuer's proof vouches for (no \
             signature checked).",
            &JUDGED_PROVEN,
        );
        counter(
            &mut out,
            "propusk_portal_judged_checked_total",
            "Portal judgements that checked the credential's signature (a row without a valid \
             proof).",
            &JUDGED_CHECKED,
        );
        counter(
            &mut out,
            "propusk_unauthorized_total",
            "API requests refused for a missing or wrong token.",
            &UNAUTHORIZED,
        );
        out
    }
}

/// A route's pattern as a label value: `/c/{id}` as `/c/:id` (braces inside label values trip
/// up some scrapers), quoted as the exposition format quotes.
fn escape(value: &str) -> String {
    value
        .replace('{', ":")
        .replace('}', "")
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Middleware: every request answered is counted under its route's pattern and timed.
pub(crate) async fn track(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // The route's pattern (a shared string: no copy), named for the exposition when rendered.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    if status == 503 {
        DATABASE_ERRORS.fetch_add(1, Ordering::Relaxed);
    }
    let route = route.as_ref().map_or("other", MatchedPath::as_str);
    state
        .metrics
        .record(route, status, started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics` on the operator's address: with the operator's bearer token.
pub(crate) async fn guarded(
    State(state): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> Response {
    if !super::api::token_matches(&state, &headers) {
        UNAUTHORIZED.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            route = "/metrics",
            "refused: a missing or wrong bearer token (401)"
        );
        return super::api::ApiError::Unauthorized.into_response();
    }
    open(State(state)).await
}

/// `GET /metrics` on `--metrics-addr` (a network only the monitoring reaches): no token.
pub(crate) async fn open(State(state): State<Arc<AppState>>) -> Response {
    let sequence = state.serving.load(Ordering::Acquire);
    let age = state
        .bundle
        .read()
        .ok()
        .and_then(|b| b.as_ref().map(|b| b.content().issued_at))
        .map(|made| super::now().unix() - made);
    let mut response = state.metrics.render(sequence, age).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
