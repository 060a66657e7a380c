//! An object-safe view of `opentelemetry_sdk`'s `SpanExporter`, so the worker can hold any
//! number of exporters of different types.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// A boxed export future.
pub(crate) type ExportFuture<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + Send + 'a>>;

/// `SpanExporter` with its `export` future boxed.
pub(crate) trait DynSpanExporter: Send + Sync + Debug {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_>;
    fn force_flush(&self) -> OTelSdkResult;
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
}

impl<T: SpanExporter + 'static> DynSpanExporter for T {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_> {
        Box::pin(SpanExporter::export(self, batch))
    }

    fn force_flush(&self) -> OTelSdkResult {
        SpanExporter::force_flush(self)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(self, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource)
    }
}

/// Why an exporter could not be built.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Builds an exporter on the worker thread, inside its runtime (exporters such as OTLP/gRPC need
/// a runtime to exist when they are created).
pub(crate) struct ExporterFactory {
    /// What the exporter is, for messages: `OTLP/HTTP exporter`, `console exporter`, ...
    pub(crate) name: String,
    pub(crate) build: Box<dyn FnOnce() -> Result<Box<dyn DynSpanExporter>, BoxError> + Send>,
}

impl ExporterFactory {
    pub(crate) fn new(
        name: impl Into<String>,
        build: impl FnOnce() -> Result<Box<dyn DynSpanExporter>, BoxError> + Send + 'static,
    ) -> Self {
        ExporterFactory {
            name: name.into(),
            build: Box::new(build),
        }
    }
}

impl std::fmt::Debug for ExporterFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExporterFactory")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
