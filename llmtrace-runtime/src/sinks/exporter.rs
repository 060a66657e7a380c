//! The exporters the worker calls, behind one object-safe trait ([`Export`]), in two kinds:
//! any `opentelemetry_sdk` `SpanExporter` (the user's, the console, OTLP/gRPC), which receives
//! `SpanData` ([`SpanDataExporter`]); and the built-in exporters that encode the mapped spans
//! straight into OTLP messages (JSONL, OTLP/HTTP), skipping `SpanData` and the SDK's transform.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::mapper::MappedSpan;

/// A boxed export future.
pub(crate) type ExportFuture<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + Send + 'a>>;

/// The future of one batch's export, which owns what it needs: it runs on the worker's runtime
/// while the worker maps the next batch.
pub(crate) type Sending = ExportFuture<'static>;

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

/// An exporter as the worker calls it: the worker adds each mapped span to the batch being built
/// (each exporter turns it into its own form as it comes), then has the batch exported.
pub(crate) trait Export: Send + Sync + Debug {
    /// Adds a span to the batch the next [`export`](Export::export) sends.
    fn add(&mut self, span: MappedSpan);
    /// Sends the spans added since the last call (or [`discard`](Export::discard)). The batch
    /// leaves the exporter at once: spans added while the returned future runs belong to the
    /// next batch. The worker keeps one batch in flight at a time.
    fn export(&mut self) -> Sending;
    /// Drops the spans added since the last call, unsent.
    fn discard(&mut self);
    /// The encoded size of the spans added since the last call, in bytes, exact or estimated;
    /// 0 for an exporter whose calls have no size to keep to. The worker sends the batch once
    /// this reaches its byte limit.
    fn batch_bytes(&self) -> usize {
        0
    }
    fn force_flush(&self) -> OTelSdkResult;
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult;
    /// The resource and instrumentation scope of every span it will export.
    fn set_resource(&mut self, resource: &Resource, scope: &InstrumentationScope);
    /// Whether the spans this exporter is given become `SpanData`, whose attribute list holds
    /// the callsite's request attributes too: the worker then maps them into the list at once
    /// (`Mapper::finish`) rather than borrowed apart.
    fn inline_request(&self) -> bool {
        false
    }
}

/// A `SpanExporter` behind [`Export`]: each span becomes `SpanData`, as the SDK would hand it.
#[derive(Debug)]
pub(crate) struct SpanDataExporter {
    /// Shared with the export in flight.
    inner: Arc<dyn DynSpanExporter>,
    scope: InstrumentationScope,
    batch: Vec<SpanData>,
    /// The batch's estimated protobuf size ([`estimated_len`]).
    bytes: usize,
}

impl SpanDataExporter {
    pub(crate) fn new(inner: Box<dyn DynSpanExporter>) -> Self {
        SpanDataExporter {
            inner: Arc::from(inner),
            scope: InstrumentationScope::default(),
            batch: Vec::new(),
            bytes: 0,
        }
    }
}

/// About the size of `span` encoded as an OTLP protobuf `Span`: its strings, plus a few bytes of
/// keys, lengths and numbers for each field. It is what a request of such spans grows by, close
/// enough to keep a batch under a body limit with the margin [`Export::batch_bytes`]'s limit
/// leaves; not a substitute for an encoder.
fn estimated_len(span: &SpanData) -> usize {
    fn value_len(value: &opentelemetry::Value) -> usize {
        use opentelemetry::{Array, Value};
        let each = |n: usize, len: usize| n * 4 + len;
        match value {
            Value::String(s) => s.as_str().len() + 4,
            Value::Array(Array::String(v)) => {
                each(v.len(), v.iter().map(|s| s.as_str().len()).sum())
            }
            Value::Array(Array::I64(v)) => each(v.len(), v.len() * 9),
            Value::Array(Array::F64(v)) => each(v.len(), v.len() * 9),
            Value::Array(Array::Bool(v)) => each(v.len(), v.len()),
            _ => 11,
        }
    }
    fn attributes_len(attributes: &[opentelemetry::KeyValue]) -> usize {
        attributes
            .iter()
            .map(|kv| kv.key.as_str().len() + value_len(&kv.value) + 6)
            .sum()
    }
    // Ids, times, kind, flags and status, with their keys and lengths.
    const FIXED: usize = 72;
    let status = match &span.status {
        opentelemetry::trace::Status::Error { description } => description.len() + 4,
        _ => 0,
    };
    FIXED
        + span.name.len()
        + status
        + attributes_len(&span.attributes)
        + span
            .events
            .iter()
            .map(|e| e.name.len() + attributes_len(&e.attributes) + 16)
            .sum::<usize>()
        + span
            .links
            .iter()
            .map(|l| attributes_len(&l.attributes) + 44)
            .sum::<usize>()
}

impl Export for SpanDataExporter {
    fn add(&mut self, span: MappedSpan) {
        let span = span.into_span_data(&self.scope);
        self.bytes += estimated_len(&span);
        self.batch.push(span);
    }

    fn batch_bytes(&self) -> usize {
        self.bytes
    }

    fn export(&mut self) -> Sending {
        self.bytes = 0;
        // The exporter takes the batch; the next one starts at this one's size.
        let capacity = self.batch.len();
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(capacity));
        let inner = self.inner.clone();
        Box::pin(async move { inner.export(batch).await })
    }

    fn discard(&mut self) {
        self.bytes = 0;
        self.batch.clear();
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource, scope: &InstrumentationScope) {
        // The worker sets the resource before the first export, while nothing shares the
        // exporter.
        let inner = Arc::get_mut(&mut self.inner);
        debug_assert!(inner.is_some(), "the resource is set before any export");
        if let Some(inner) = inner {
            inner.set_resource(resource);
        }
        self.scope = scope.clone();
    }

    fn inline_request(&self) -> bool {
        true
    }
}

/// Why an exporter could not be built.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Builds an exporter on the worker thread, inside its runtime (exporters such as OTLP/gRPC need
/// a runtime to exist when they are created).
pub(crate) struct ExporterFactory {
    /// What the exporter is, for messages: `OTLP/HTTP exporter`, `console exporter`, ...
    pub(crate) name: String,
    pub(crate) build: Box<dyn FnOnce() -> Result<Box<dyn Export>, BoxError> + Send>,
    /// Where the exporter notes the spans its collector rejected in an export it acknowledged
    /// (OTLP's `partial_success`), for the worker to count after each call.
    pub(crate) rejections: Option<Arc<Rejections>>,
}

impl ExporterFactory {
    /// A factory of a `SpanExporter`, which receives `SpanData`.
    pub(crate) fn new(
        name: impl Into<String>,
        build: impl FnOnce() -> Result<Box<dyn DynSpanExporter>, BoxError> + Send + 'static,
    ) -> Self {
        Self::direct(name, move || {
            build().map(|e| Box::new(SpanDataExporter::new(e)) as Box<dyn Export>)
        })
    }

    /// A factory of an exporter that takes the mapped spans as they are.
    pub(crate) fn direct(
        name: impl Into<String>,
        build: impl FnOnce() -> Result<Box<dyn Export>, BoxError> + Send + 'static,
    ) -> Self {
        ExporterFactory {
            name: name.into(),
            build: Box::new(build),
            rejections: None,
        }
    }

    /// The exporter notes the spans its collector rejects in `rejections`.
    #[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
    pub(crate) fn with_rejections(mut self, rejections: Arc<Rejections>) -> Self {
        self.rejections = Some(rejections);
        self
    }
}

/// The spans a collector rejected while acknowledging the request that carried them (OTLP's
/// `partial_success`), noted by the exporter during one export call and taken by the worker
/// after it.
#[derive(Debug, Default)]
pub(crate) struct Rejections(Mutex<Option<Rejected>>);

/// What a collector said it rejected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rejected {
    /// Spans rejected (`rejected_spans`).
    pub(crate) spans: u64,
    /// The collector's explanation (`error_message`); the last one when a call got several.
    pub(crate) message: String,
}

impl Rejections {
    /// Notes a partial success: the spans add up over the call, the last message is kept.
    #[cfg_attr(not(feature = "otlp-http"), allow(dead_code))]
    pub(crate) fn add(&self, spans: u64, message: String) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let r = slot.get_or_insert_with(Rejected::default);
        r.spans = r.spans.saturating_add(spans);
        if !message.is_empty() {
            r.message = message;
        }
    }

    /// What was noted since the last call, if anything.
    pub(crate) fn take(&self) -> Option<Rejected> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl std::fmt::Debug for ExporterFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExporterFactory")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}
