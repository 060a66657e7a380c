//! The JSONL metrics file: one OTLP/JSON `ExportMetricsServiceRequest` per export, as the
//! OpenTelemetry Collector's `file` exporter writes metrics, rotated as the traces' file is.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;

use super::jsonl::JsonlExporter;

/// Writes metrics to a file as JSON lines, one OTLP/JSON `ExportMetricsServiceRequest` per
/// export (cumulative temporality: each line holds the totals since the start). The default
/// setup writes `llmtrace-metrics.jsonl` next to `llmtrace-traces.jsonl`.
///
/// ```no_run
/// use llmtrace_runtime as llmtrace;
/// use std::time::Duration;
///
/// let metrics = llmtrace::export::JsonlMetricsExporter::new("out/metrics.jsonl");
/// let _guard = llmtrace::init()
///     .metrics_exporter(metrics, Duration::from_secs(10))
///     .install();
/// ```
///
/// The file is opened, appended to and rotated as [`JsonlExporter`] does it; writes happen on
/// the metrics SDK's export thread, never on the application's.
pub struct JsonlMetricsExporter {
    file: JsonlExporter,
}

impl JsonlMetricsExporter {
    /// An exporter writing to `path`, with [`JsonlExporter`]'s default cap.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        JsonlMetricsExporter {
            file: JsonlExporter::new(path),
        }
    }

    /// The file the metrics are written to.
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

impl fmt::Debug for JsonlMetricsExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlMetricsExporter")
            .field("path", &self.file.path())
            .finish()
    }
}

impl PushMetricExporter for JsonlMetricsExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let request = ExportMetricsServiceRequest::from(metrics);
        if request
            .resource_metrics
            .iter()
            .all(|rm| rm.scope_metrics.iter().all(|sm| sm.metrics.is_empty()))
        {
            // Nothing recorded yet: a line of it would only be noise.
            return Ok(());
        }
        let mut line = serde_json::to_vec(&request).map_err(|e| {
            OTelSdkError::InternalFailure(format!("cannot encode metrics as OTLP/JSON: {e}"))
        })?;
        line.push(b'\n');
        self.file
            .append_line(&line)
            .map_err(OTelSdkError::InternalFailure)
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}
