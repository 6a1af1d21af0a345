//! The server's figures for an operations team, in the Prometheus text exposition format
//! (`GET /metrics`, with the operator's bearer token, or on a separate `--metrics-addr`):
//! requests by route and status, latency histograms by route, the publication served and its
//! age, database errors, refused tokens and rate-limited clients. Routes are the router's
//! patterns (`/c/:id`), never the ids themselves.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::Mutex;
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

/// Answers the database could not give (503s and failed gathered lookups).
pub(crate) static DATABASE_ERRORS: AtomicU64 = AtomicU64::new(0);
/// Portal requests refused for going over a client's rate.
pub(crate) static RATE_LIMITED: AtomicU64 = AtomicU64::new(0);
/// API requests refused for a missing or wrong token.
pub(crate) static UNAUTHORIZED: AtomicU64 = AtomicU64::new(0);

/// One route's latencies.
#[derive(Default)]
struct Histogram {
    buckets: [u64; BOUNDS.len()],
    count: u64,
    sum: f64,
}

/// One route's figures: answers by status, and latencies.
#[derive(Default)]
struct Route {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// The requests answered so far, by route (one lock, taken briefly once a request; a route's
/// name is allocated the first time only).
#[derive(Default)]
pub(crate) struct Metrics {
    routes: Mutex<BTreeMap<String, Route>>,
}

impl Metrics {
    fn record(&self, route: &str, status: u16, seconds: f64) {
        let Ok(mut routes) = self.routes.lock() else {
            return;
        };
        if !routes.contains_key(route) {
            routes.insert(route.to_owned(), Route::default());
        }
        let Some(r) = routes.get_mut(route) else {
            return;
        };
        *r.statuses.entry(status).or_default() += 1;
        let h = &mut r.latency;
        for (bucket, bound) in h.buckets.iter_mut().zip(BOUNDS) {
            if seconds <= bound {
                *bucket += 1;
            }
        }
        h.count += 1;
        h.sum += seconds;
    }

    /// The exposition text.
    fn render(&self, sequence: u64, age_s: Option<i64>) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP propusk_http_requests_total Requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE propusk_http_requests_total counter");
        let routes = self.routes.lock().ok();
        let routes = routes.as_deref().into_iter().flatten();
        for (route, r) in routes.clone() {
            for (status, n) in &r.statuses {
                let _ = writeln!(
                    out,
                    "propusk_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
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
        for (route, r) in routes {
            let (route, h) = (escape(route), &r.latency);
            for (bound, n) in BOUNDS.iter().zip(h.buckets) {
                let _ = writeln!(
                    out,
                    "propusk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "propusk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "propusk_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "propusk_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                h.count
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
            "propusk_unauthorized_total",
            "API requests refused for a missing or wrong token.",
            &UNAUTHORIZED,
        );
        out
    }
}

/// A label value as the exposition format quotes it.
fn escape(value: &str) -> String {
    value
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
    // The route's pattern as `/c/:id` (braces inside label values trip up some scrapers).
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || "other".to_owned(),
        |p| p.as_str().replace('{', ":").replace('}', ""),
    );
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    if status == 503 {
        DATABASE_ERRORS.fetch_add(1, Ordering::Relaxed);
    }
    state
        .metrics
        .record(&route, status, started.elapsed().as_secs_f64());
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
