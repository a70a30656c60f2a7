//! `GET /metrics` in the Prometheus text format, and the HTTP metrics: requests by route
//! template (`/api/v1/transcriptions/{id}`, never the raw path) and status, with a latency
//! histogram.
//!
//! The core records through the [`metrics`] facade ([`ytcaption::metrics`] lists its names);
//! [`install`] installs the Prometheus recorder for the process (once; `serve` and `worker
//! --metrics-listen` call it first) and [`render`] refreshes the pipeline's gauges and prints
//! everything. A program that installed a recorder of its own gets `/metrics` answered with
//! 501 and keeps its own exporter.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use ytcaption::Pipeline;

use crate::ServerState;

/// HTTP requests answered, by `method`, `route` (the route template) and `status`.
pub const HTTP_REQUESTS: &str = "ytcaption_http_requests_total";
/// Seconds from a request to its response's head, by `method` and `route`.
pub const HTTP_DURATION: &str = "ytcaption_http_request_duration_seconds";

/// Bucket bounds of the `*_seconds` histograms: from 5 ms (HTTP) to an hour (long jobs).
const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0,
    3600.0,
];
/// Bucket bounds of the real-time factor.
const RTF_BUCKETS: &[f64] = &[0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the Prometheus recorder as the process's metrics recorder (the first call does;
/// later calls return the same answer). `false` when another recorder was installed first.
pub fn install() -> bool {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(ytcaption::metrics::REAL_TIME_FACTOR.into()),
                        RTF_BUCKETS,
                    )
                })
                .and_then(|b| b.install_recorder());
            match handle {
                Ok(h) => {
                    ytcaption::metrics::describe();
                    describe();
                    Some(h)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics: no Prometheus recorder installed");
                    None
                }
            }
        })
        .is_some()
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by method, route template and status."
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Seconds from an HTTP request to its response, by method and route template."
    );
}

/// Every metric in the Prometheus text format, the pipeline's gauges read from its journal
/// first; `None` when [`install`] did not install the Prometheus recorder.
pub async fn render(pipeline: &Pipeline) -> Option<String> {
    let handle = HANDLE.get()?.as_ref()?;
    if let Err(e) = pipeline.record_gauges().await {
        tracing::warn!(error = %e, "metrics: cannot read the queue gauges");
    }
    handle.run_upkeep();
    Some(handle.render())
}

/// The answer of `GET /metrics`.
pub async fn response(pipeline: &Pipeline) -> Response {
    match render(pipeline).await {
        Some(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        None => (
            StatusCode::NOT_IMPLEMENTED,
            "metrics: this process has no Prometheus recorder (another one was installed)\n",
        )
            .into_response(),
    }
}

/// `GET /metrics`.
pub async fn handler(State(s): State<ServerState>) -> Response {
    response(s.pipeline()).await
}

/// Middleware (a route layer: it runs after routing, so the route template is known): counts
/// each request by method, route template and status, and times it. Requests no route matched
/// are not counted.
pub async fn layer(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = method_label(req.method());
    let started = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    res
}

/// The method as a label: the standard ones by name, anything else `other`.
fn method_label(m: &axum::http::Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// Serves only `GET /metrics` (of `pipeline`) on `listener` until the task is dropped: what
/// `ytcaption worker --metrics-listen` runs. Other paths answer 404.
pub async fn listen(listener: tokio::net::TcpListener, pipeline: Pipeline) -> std::io::Result<()> {
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let p = pipeline.clone();
            async move { response(&p).await }
        }),
    );
    axum::serve(listener, app).await
}
