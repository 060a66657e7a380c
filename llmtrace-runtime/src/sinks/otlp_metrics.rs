//! The metrics over OTLP (`/v1/metrics` over HTTP, the metrics service over gRPC), with
//! opentelemetry-otlp's metric exporter.
//!
//! The metrics SDK's periodic reader exports from a thread of its own, which runs no tokio
//! runtime, while opentelemetry-otlp's HTTP and gRPC clients are asynchronous: each export runs
//! on a current-thread runtime this exporter owns, bounded by the export timeout.

use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use super::logs::otlp::{Transport, configure};

/// opentelemetry-otlp's metric exporter, on a runtime of its own.
pub(crate) struct OtlpMetrics {
    inner: opentelemetry_otlp::MetricExporter,
    runtime: tokio::runtime::Runtime,
    timeout: Duration,
}

impl std::fmt::Debug for OtlpMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtlpMetrics")
    }
}

impl OtlpMetrics {
    /// `traces_endpoint` is the traces endpoint given in code (over HTTP its metrics endpoint is
    /// the same with `/v1/metrics`; over gRPC, the same address); without one,
    /// opentelemetry-otlp reads the standard variables.
    pub(crate) fn new(
        traces_endpoint: Option<&str>,
        transport: Transport,
        timeout: Duration,
    ) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the metrics export runtime: {e}"))?;
        // The gRPC channel is built lazily on the runtime it is created in: this one.
        let _entered = runtime.enter();
        let endpoint = traces_endpoint.map(|e| transport.endpoint(e, "metrics"));
        let builder = opentelemetry_otlp::MetricExporter::builder();
        let built = match transport {
            #[cfg(feature = "otlp-http")]
            Transport::Http => configure(builder.with_http(), endpoint, timeout).build(),
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc => configure(builder.with_tonic(), endpoint, timeout).build(),
        };
        let inner = built.map_err(|e| e.to_string())?;
        drop(_entered);
        Ok(OtlpMetrics {
            inner,
            runtime,
            timeout,
        })
    }
}

impl PushMetricExporter for OtlpMetrics {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let timeout = self.timeout;
        self.runtime
            .block_on(async { tokio::time::timeout(timeout, self.inner.export(metrics)).await })
            .unwrap_or(Err(OTelSdkError::Timeout(timeout)))
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}
