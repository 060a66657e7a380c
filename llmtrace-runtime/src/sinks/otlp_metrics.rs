//! The metrics over OTLP/HTTP (`/v1/metrics`), with opentelemetry-otlp's metric exporter.
//!
//! The metrics SDK's periodic reader exports from a thread of its own, which runs no tokio
//! runtime, while opentelemetry-otlp's HTTP client is asynchronous: each export runs on a
//! current-thread runtime this exporter owns, bounded by the export timeout.

use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use super::logs::otlp::signal_endpoint;

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
    /// `traces_endpoint` is the traces endpoint given in code (its metrics endpoint is the same
    /// with `/v1/metrics`); without one, opentelemetry-otlp reads the standard variables.
    pub(crate) fn new(traces_endpoint: Option<&str>, timeout: Duration) -> Result<Self, String> {
        use opentelemetry_otlp::WithExportConfig;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the metrics export runtime: {e}"))?;
        let _entered = runtime.enter();
        let mut builder = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_timeout(timeout);
        if let Some(e) = traces_endpoint {
            builder = builder.with_endpoint(signal_endpoint(e, "metrics"));
        }
        let inner = builder.build().map_err(|e| e.to_string())?;
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
