//! Prometheus metrics without a global recorder: each [`Metrics`] owns its recorder, the
//! request middleware records into it and `GET /metrics` renders it. Labels carry the matched
//! route template, the method and the status, never a raw path or any identifying value.

use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use std::sync::Arc;
use std::time::Duration;

pub const REQUESTS_TOTAL: &str = "http_requests_total";
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";

const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A Prometheus registry, cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let builder = match PrometheusBuilder::new().set_buckets_for_metric(
            Matcher::Full(REQUEST_DURATION.to_string()),
            DURATION_BUCKETS,
        ) {
            Ok(b) => b,
            Err(_) => PrometheusBuilder::new(),
        };
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        let metrics = Self {
            recorder: Arc::new(recorder),
            handle,
        };
        metrics.with(|| {
            metrics::describe_counter!(
                REQUESTS_TOTAL,
                "HTTP requests answered, by route template, method and status."
            );
            metrics::describe_histogram!(
                REQUEST_DURATION,
                metrics::Unit::Seconds,
                "HTTP request latency, by route template, method and status."
            );
        });
        metrics
    }

    /// The handle that renders the exposition text.
    pub fn handle(&self) -> &PrometheusHandle {
        &self.handle
    }

    /// Runs `f` with this registry as the recorder of the `metrics` macros.
    pub fn with<T>(&self, f: impl FnOnce() -> T) -> T {
        metrics::with_local_recorder(self.recorder.as_ref(), f)
    }

    /// The exposition text (Prometheus text format 0.0.4).
    pub fn render(&self) -> String {
        self.handle.render()
    }

    pub(crate) fn record_request(
        &self,
        method: &'static str,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let route = route.to_string();
        let status = status.to_string();
        self.with(|| {
            let labels = [
                ("method", method.to_string()),
                ("route", route),
                ("status", status),
            ];
            metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
            metrics::histogram!(REQUEST_DURATION, &labels).record(elapsed.as_secs_f64());
        });
    }
}
