//! Installation: the [`init`] builder, [`Builder::install`] and the guard that flushes on drop.
//! Nothing else in the crate imports this layer: it reads the environment, chooses the
//! exporters, builds the stages, the mapper and the sink of the mode asked for, and fills the
//! state the hot path reads.
//!
//! Settings made in code win over the environment; the environment wins over the defaults.

mod env;
mod exporters;
mod guard;
mod resource;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};

use env::EnvConfig;
pub use env::{EnvSource, OtlpProtocol, ProcessEnv};
use exporters::ExporterSpec;
pub use guard::Guard;

use crate::handoff;
use crate::mapper::Mapper;
use crate::record::clock;
use crate::semconv::Conventions;
use crate::sinks::exporter::{BoxError, DynSpanExporter, ExporterFactory};
use crate::sinks::host::{self, HostExport};
use crate::sinks::worker::{WorkerConfig, WorkerHandle};
use crate::stages::cost::{ModelPrice, PriceOverride};
use crate::stages::redact::Redaction;
use crate::stages::tail::TailSampler;
use crate::stages::{Place, StageConfig, Stages};
use crate::state::settings::{self, ContentCapture, Overflow};
use crate::state::{
    self, ConfigError, Counters, Error, HOST, HeadSampler, Installed, OTEL_CONTEXT, Output,
    Sampler, TRACING_PARENT, warn,
};

/// Starts configuring llmtrace. Finish with [`Builder::install`].
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// let _guard = llmtrace::init()
///     .service_name("support-bot")
///     .with_exporter(opentelemetry_sdk::trace::InMemorySpanExporter::default())
///     .install(); // flushes and shuts down when dropped
/// ```
pub fn init() -> Builder {
    Builder::default()
}

/// Configures and installs llmtrace. See [`init`].
#[must_use = "nothing is installed until `install` is called"]
pub struct Builder {
    service_name: Option<String>,
    resource: Vec<KeyValue>,
    sampler: Option<Sampler>,
    tail: Option<TailSampler>,
    exporters: Vec<ExporterSpec>,
    no_exporters: bool,
    content: Option<ContentCapture>,
    content_limit: Option<usize>,
    redaction: Option<Redaction>,
    conventions: Option<Conventions>,
    prices: Vec<PriceOverride>,
    prices_file: Option<PathBuf>,
    env: Box<dyn EnvSource>,
    buffer_capacity: usize,
    buffer_budget: usize,
    on_full: Overflow,
    max_queue: usize,
    max_batch: usize,
    max_batch_bytes: usize,
    tick: Duration,
    /// Host modes: end the host's spans on llmtrace's host thread.
    host_end_off_thread: Option<bool>,
    export_timeout: Duration,
    flush_timeout: Duration,
    mode: ModeChoice,
    otel_context: Option<bool>,
    /// The batch settings chosen in code, which the environment's do not replace.
    batch_in_code: BatchInCode,
    /// Builds the meter provider, given the resource.
    #[cfg(feature = "metrics")]
    metrics: Option<MeterProviderFactory>,
}

/// Which of the settings the `OTEL_BSP_*` variables also give were chosen in code.
#[derive(Clone, Copy, Debug, Default)]
struct BatchInCode {
    max_batch: bool,
    export_interval: bool,
    export_timeout: bool,
}

#[cfg(feature = "metrics")]
type MeterProviderFactory =
    Box<dyn FnOnce(opentelemetry_sdk::Resource) -> opentelemetry_sdk::metrics::SdkMeterProvider>;

/// The export mode asked for: native, `tracing` or OTel-provider.
#[derive(Debug, Default)]
enum ModeChoice {
    #[default]
    Native,
    #[cfg(feature = "tracing")]
    Tracing,
    OtelProvider(SdkTracerProvider),
    OtelGlobalProvider,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("service_name", &self.service_name)
            .field("sampler", &self.sampler)
            .field("exporters", &self.exporters.len())
            .field("content", &self.content)
            .field("prices", &self.prices.len())
            .field("prices_file", &self.prices_file)
            .field("mode", &self.mode)
            .field("otel_context", &self.otel_context)
            .finish_non_exhaustive()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            service_name: None,
            resource: Vec::new(),
            sampler: None,
            tail: None,
            exporters: Vec::new(),
            no_exporters: false,
            content: None,
            content_limit: None,
            redaction: None,
            conventions: None,
            prices: Vec::new(),
            prices_file: None,
            env: Box::new(ProcessEnv),
            buffer_capacity: settings::DEFAULT_BUFFER_CAPACITY,
            buffer_budget: settings::DEFAULT_BUFFER_BUDGET,
            on_full: Overflow::Drop,
            max_queue: settings::DEFAULT_MAX_QUEUE,
            max_batch: settings::DEFAULT_MAX_BATCH,
            max_batch_bytes: settings::DEFAULT_MAX_BATCH_BYTES,
            tick: settings::DEFAULT_EXPORT_INTERVAL,
            host_end_off_thread: None,
            export_timeout: settings::DEFAULT_EXPORT_TIMEOUT,
            flush_timeout: settings::DEFAULT_FLUSH_TIMEOUT,
            mode: ModeChoice::Native,
            otel_context: None,
            batch_in_code: BatchInCode::default(),
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }
}

impl Builder {
    /// The `service.name` resource attribute (else `OTEL_SERVICE_NAME`, else
    /// `unknown_service:<executable>`).
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Adds a resource attribute (`service.version`, `deployment.environment.name`, ...); wins
    /// over the same key in `OTEL_RESOURCE_ATTRIBUTES`.
    pub fn resource_attribute(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.resource.push(KeyValue::new(key, value.into()));
        self
    }

    /// Head sampling: which traces to record (else `OTEL_TRACES_SAMPLER`, else
    /// `ParentBased(AlwaysOn)`).
    pub fn sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// Keeps whole traces by what happened in them, decided when their root ends (else
    /// `LLMTRACE_TAIL_SAMPLING_RATE` and its companions). See [`TailSampler`].
    pub fn tail_sampling(mut self, sampler: TailSampler) -> Self {
        self.tail = Some(sampler);
        self
    }

    /// Adds an exporter. Every `opentelemetry_sdk` `SpanExporter` works; several can be added.
    /// Exporters chosen in code replace those the environment would choose.
    ///
    /// An `export::JsonlExporter` receives the spans as the default JSONL file does, encoded
    /// straight into OTLP/JSON; any other exporter receives them as `SpanData`.
    pub fn with_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        let name = format!("exporter {} given to the builder", self.exporters.len() + 1);
        #[cfg_attr(not(feature = "jsonl"), allow(unused_mut))]
        let mut exporter = Some(exporter);
        #[cfg(feature = "jsonl")]
        if let Some(jsonl) = (&mut exporter as &mut dyn std::any::Any)
            .downcast_mut::<Option<crate::sinks::jsonl::JsonlExporter>>()
            .and_then(Option::take)
        {
            self.exporters
                .push(ExporterSpec::Custom(ExporterFactory::direct(
                    name,
                    move || Ok(Box::new(jsonl)),
                )));
            return self;
        }
        if let Some(exporter) = exporter {
            self.exporters
                .push(ExporterSpec::Custom(ExporterFactory::new(
                    name,
                    move || Ok(Box::new(exporter) as Box<dyn DynSpanExporter>),
                )));
        }
        self
    }

    /// Adds an exporter built on the export thread, inside its runtime (for exporters that need
    /// a runtime when they are created). The factory's error is any error type (a `String`
    /// too): [`try_install`](Builder::try_install) returns it as [`Error::Config`], and
    /// [`install`](Builder::install) warns and goes on without the exporter.
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    /// use opentelemetry_sdk::trace::InMemorySpanExporter;
    ///
    /// let guard = llmtrace::init()
    ///     .with_exporter_factory(|| Err::<InMemorySpanExporter, _>("no collector configured"))
    ///     .try_install();
    /// assert!(matches!(guard, Err(llmtrace::Error::Config(_))));
    /// ```
    pub fn with_exporter_factory<E, X, F>(mut self, factory: F) -> Self
    where
        E: SpanExporter + 'static,
        X: Into<BoxError>,
        F: FnOnce() -> Result<E, X> + Send + 'static,
    {
        let name = format!("exporter {} given to the builder", self.exporters.len() + 1);
        self.exporters
            .push(ExporterSpec::Custom(ExporterFactory::new(
                name,
                move || {
                    factory()
                        .map(|e| Box::new(e) as Box<dyn DynSpanExporter>)
                        .map_err(Into::into)
                },
            )));
        self
    }

    /// Adds the console tree exporter (stderr).
    pub fn console(mut self) -> Self {
        self.exporters.push(ExporterSpec::Console);
        self
    }

    /// Adds the JSONL file exporter (OTLP/JSON, one request per line) writing to `path`.
    pub fn jsonl(mut self, path: impl Into<PathBuf>) -> Self {
        self.exporters.push(ExporterSpec::Jsonl(path.into()));
        self
    }

    /// Adds an OTLP exporter configured by the standard `OTEL_EXPORTER_OTLP_*` variables
    /// (endpoint, headers, timeout), over `protocol`.
    pub fn otlp(mut self, protocol: OtlpProtocol) -> Self {
        self.exporters.push(ExporterSpec::Otlp {
            endpoint: None,
            protocol,
        });
        self
    }

    /// Adds an OTLP exporter sending to `endpoint`, used as given: for HTTP, the full traces
    /// URL (`http://collector:4318/v1/traces`); for gRPC, the collector address
    /// (`http://collector:4317`). Headers and timeout still come from `OTEL_EXPORTER_OTLP_*`.
    pub fn otlp_endpoint(mut self, protocol: OtlpProtocol, endpoint: impl Into<String>) -> Self {
        self.exporters.push(ExporterSpec::Otlp {
            endpoint: Some(endpoint.into()),
            protocol,
        });
        self
    }

    /// Installs no exporter at all, whatever the environment says (spans are still recorded:
    /// test captures receive theirs).
    pub fn without_exporters(mut self) -> Self {
        self.no_exporters = true;
        self
    }

    /// Where captured content goes (else `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`,
    /// else on spans). See [`ContentCapture`].
    pub fn content_capture(mut self, content: ContentCapture) -> Self {
        self.content = Some(content);
        self
    }

    /// How captured content is scrubbed before it leaves the process (default:
    /// [`Redaction::default`], every built-in detector). Runs off the caller's thread in native
    /// mode (on the export thread), on the thread that ends the span in the `tracing` and
    /// OTel-provider modes, on every captured value: messages, arguments and results, documents, custom attributes, status
    /// descriptions and event attributes. `Redaction::none()` turns it off.
    pub fn redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = Some(redaction);
        self
    }

    /// The largest content attribute (prompt, response, arguments, documents), in bytes (else
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` or `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else 32
    /// KiB). Longer values are cut after redaction, where the stages run, and stay valid JSON;
    /// the span says so with `llmtrace.content.truncated = true`.
    pub fn content_limit(mut self, bytes: usize) -> Self {
        self.content_limit = Some(bytes);
        self
    }

    /// Which attribute conventions to emit (else `LLMTRACE_SEMCONV` and
    /// `OTEL_SEMCONV_STABILITY_OPT_IN`). See [`Conventions`].
    pub fn conventions(mut self, conventions: Conventions) -> Self {
        self.conventions = Some(conventions);
        self
    }

    /// The price of `model` whatever the provider, for models the price database does not know
    /// (fine-tuned, self-hosted) or that you pay another rate for. Wins over the database and
    /// over a prices file; matched against the response model, then the request model,
    /// ignoring ASCII case. See [`ModelPrice`].
    pub fn model_price(mut self, model: impl Into<String>, price: ModelPrice) -> Self {
        self.prices.push(PriceOverride {
            provider: None,
            model: model.into(),
            price,
        });
        self
    }

    /// The price of `model` when called through `provider` (the `gen_ai.provider.name` value,
    /// such as `openai` or `azure.ai.openai`). Wins over a [`model_price`](Builder::model_price)
    /// for the same model, a prices file and the database.
    pub fn provider_model_price(
        mut self,
        provider: impl Into<String>,
        model: impl Into<String>,
        price: ModelPrice,
    ) -> Self {
        self.prices.push(PriceOverride {
            provider: Some(provider.into()),
            model: model.into(),
            price,
        });
        self
    }

    /// Reads model prices from a JSON file (else the file named by `LLMTRACE_PRICES_FILE`).
    /// Its prices win over the database; prices given in code win over the file's.
    ///
    /// ```json
    /// {"models": [
    ///   {"provider": "openai", "model": "ft:gpt-4o:acme", "input_per_mtok": 3.0,
    ///    "output_per_mtok": 12.0, "cache_read_per_mtok": 1.5, "cache_write_per_mtok": 3.75},
    ///   {"model": "local-llama", "input_per_mtok": 0.1, "output_per_mtok": 0.2}
    /// ]}
    /// ```
    ///
    /// Rates are USD per million tokens. `provider` (a `gen_ai.provider.name` value) and the
    /// cache rates are optional; without a cache rate, cached tokens cost the input rate. Other
    /// keys are errors. The file is read once when llmtrace starts (on the export thread in
    /// native mode); a
    /// file that cannot be read or parsed is reported in one warning (path and error) and left
    /// out.
    pub fn prices_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.prices_file = Some(path.into());
        self
    }

    /// Reads environment variables from `env` instead of the process environment.
    pub fn env(mut self, env: impl EnvSource + 'static) -> Self {
        self.env = Box::new(env);
        self
    }

    /// Spans each thread's first buffer holds before the export worker picks them up (default
    /// 2048). A burst that fills it spills into larger buffers of the thread's own, within
    /// [`buffer_budget`](Self::buffer_budget); past that, new spans are dropped and counted (or
    /// wait, see [`on_full`](Self::on_full)).
    pub fn buffer_capacity(mut self, spans: usize) -> Self {
        self.buffer_capacity = spans;
        self
    }

    /// Bytes of span records the threads' buffers may hold together (default 64 MiB): what a
    /// burst can fill before spans are dropped. A record takes a fixed slot (a few hundred
    /// bytes, the same for every span) plus what it owns on the heap (captured content, up to
    /// the content limit per value). Every thread's first buffer is allocated even past the
    /// budget; zero turns spilling off.
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    ///
    /// // Room for bursts of about a million spans (of 240-byte records).
    /// let builder = llmtrace::init().buffer_budget(256 << 20);
    /// # drop(builder);
    /// ```
    pub fn buffer_budget(mut self, bytes: usize) -> Self {
        self.buffer_budget = bytes;
        self
    }

    /// What a span that ends while the buffers are full does (default: dropped and counted,
    /// never blocking). See [`Overflow`].
    pub fn on_full(mut self, overflow: Overflow) -> Self {
        self.on_full = overflow;
        self
    }

    /// Spans the export worker reads from the threads' buffers at a time (default 4096); the
    /// rest waits in the buffers, within their budget.
    pub fn max_queue(mut self, spans: usize) -> Self {
        self.max_queue = spans;
        self
    }

    /// Spans per export call at most (default 2048, else `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`). Over
    /// OTLP each call is one request.
    pub fn max_batch(mut self, spans: usize) -> Self {
        self.max_batch = spans;
        self.batch_in_code.max_batch = true;
        self
    }

    /// Encoded bytes per export call (default 512 KiB): a batch goes out as soon as its spans
    /// reach this size, whatever their count, so that a request of large spans (long prompts
    /// captured) stays within the body limit of the collector or proxy it goes to. A request is
    /// at most this plus one span. The OTLP/HTTP exporter measures its body exactly, and the
    /// JSONL file its line of JSON (so that a line stays far below the file's cap); OTLP/gRPC,
    /// OTLP/JSON and exporters given with `with_exporter` measure by an estimate of their
    /// protobuf size.
    ///
    /// ```no_run
    /// use llmtrace_runtime as llmtrace;
    ///
    /// let guard = llmtrace::init()
    ///     .otlp_endpoint(llmtrace::OtlpProtocol::HttpProtobuf, "http://127.0.0.1:4318/v1/traces")
    ///     .max_batch_bytes(4 << 20) // a collector that takes 4 MiB a request
    ///     .install();
    /// # drop(guard);
    /// ```
    pub fn max_batch_bytes(mut self, bytes: usize) -> Self {
        self.max_batch_bytes = bytes;
        self
    }

    /// How often the worker collects buffered spans when nothing wakes it (default 100 ms, else
    /// `OTEL_BSP_SCHEDULE_DELAY` in milliseconds); in the `tracing` and OTel-provider modes, how
    /// often ended spans are handed to the host.
    pub fn export_interval(mut self, interval: Duration) -> Self {
        self.tick = interval;
        self.batch_in_code.export_interval = true;
        self
    }

    /// How long one export call may take before it counts as failed (default 10 s, else
    /// `OTEL_BSP_EXPORT_TIMEOUT` in milliseconds). OTLP exporters retry transient failures
    /// (refused connections, timeouts, 429 and 503 with `Retry-After`) with backoff inside this
    /// time (or `OTEL_EXPORTER_OTLP_TIMEOUT`, when shorter); the application never waits for any
    /// of it.
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self.batch_in_code.export_timeout = true;
        self
    }

    /// How long the guard's drop waits for the final flush (default 5 s).
    pub fn flush_timeout(mut self, timeout: Duration) -> Self {
        self.flush_timeout = timeout;
        self
    }

    /// OpenTelemetry interop (off by default in native mode, on in OTel-provider mode): while an
    /// llmtrace span runs, it is the current OpenTelemetry span, so spans opened with the
    /// OpenTelemetry API inside it (an instrumented HTTP or database client, say) nest under it;
    /// and a span started with no llmtrace parent inside an OpenTelemetry span becomes its child.
    ///
    /// It costs an OpenTelemetry `Context::attach` each time a span is entered (every call of a
    /// function, every poll of a future).
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    ///
    /// let _guard = llmtrace::init().otel_context(true).install();
    /// ```
    pub fn otel_context(mut self, on: bool) -> Self {
        self.otel_context = Some(on);
        self
    }

    /// OTel-provider mode: spans go through `provider` (its sampler decides which are recorded,
    /// its processors export them) instead of llmtrace's own buffers and exporters, with the same
    /// attributes, redaction, cost and roll-up as native mode. Tail sampling and the exporters of
    /// this builder are not used. Turns [`otel_context`](Builder::otel_context) on unless it is
    /// set.
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    ///
    /// let provider = SdkTracerProvider::builder()
    ///     .with_simple_exporter(InMemorySpanExporter::default())
    ///     .build();
    /// let _guard = llmtrace::init().otel_provider(provider).install();
    /// ```
    pub fn otel_provider(mut self, provider: SdkTracerProvider) -> Self {
        self.mode = ModeChoice::OtelProvider(provider);
        self
    }

    /// OTel-provider mode through the global tracer provider (`opentelemetry::global`) as it is
    /// set when [`install`](Builder::install) runs; see [`otel_provider`](Builder::otel_provider).
    /// Flushing it is left to the application.
    pub fn otel_global_provider(mut self) -> Self {
        self.mode = ModeChoice::OtelGlobalProvider;
        self
    }

    /// In the `tracing` and OTel-provider modes, whether the host's spans end on a thread of
    /// llmtrace's instead of the thread that ends the llmtrace span. By default they do once
    /// the provider has shown it has llmtrace's [`otel::Processor`](crate::otel::Processor)
    /// (around the processor of the provider llmtrace's spans go through, or, in `tracing`
    /// mode, of tracing-opentelemetry's tracer), and end on the caller's thread otherwise. With
    /// [`otel_global_provider`](Builder::otel_global_provider) they end on the caller's thread
    /// by default: the global provider's spans hide their data, so the processor could not
    /// hand the queued ones over at the provider's shutdown.
    ///
    /// Ending a span in a host mode runs llmtrace's stages and mapper, sets the mapped
    /// attributes on the host's span and ends it (tracing-opentelemetry's conversion of every
    /// field, the provider's processors): about as much again as the host's span itself. Off
    /// the caller's thread, the ended record is queued and that work is done by llmtrace's host
    /// thread, at each [`export_interval`](Builder::export_interval), when 1,024 spans wait,
    /// and on [`force_flush`](crate::force_flush) or the provider's `force_flush`; the host's
    /// span keeps the time it ended at. The queue holds at most 65,536 spans; past it, spans
    /// end on the caller's thread.
    ///
    /// `false` ends every span on the caller's thread. `true` queues them even without the
    /// processor: then **flush llmtrace before the host** (call
    /// [`force_flush`](crate::force_flush) or drop the guard before the provider's
    /// `force_flush` or `shutdown`), or the spans still queued are lost.
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    /// use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    ///
    /// let provider = SdkTracerProvider::builder()
    ///     .with_simple_exporter(InMemorySpanExporter::default())
    ///     .build();
    /// let guard = llmtrace::init()
    ///     .otel_provider(provider.clone())
    ///     .end_host_spans_off_thread(true)
    ///     .install();
    /// // ... the application ...
    /// drop(guard); // ends the queued spans in the provider
    /// provider.shutdown().unwrap();
    /// ```
    pub fn end_host_spans_off_thread(mut self, on: bool) -> Self {
        self.host_end_off_thread = Some(on);
        self
    }

    /// `tracing` mode: spans go to the application's `tracing` subscriber as `tracing` spans
    /// (INFO level, target the function's module) whose fields are the span's summary
    /// attributes (operation, workflow or agent name, provider, request and response model,
    /// input and output tokens, `llm.cost.total`, response id, tool name, data source,
    /// `error.type`, and the function's own keys), declared up front, with `otel.name`,
    /// `otel.kind`, `otel.status_code` and `otel.status_description` for
    /// tracing-opentelemetry. The subscriber's filters decide which spans are recorded, its
    /// layers export them; redaction, cost and roll-up are the same as in native mode. Tail
    /// sampling and the exporters of this builder are not used.
    ///
    /// The other attributes (request parameters, content, the OpenInference and Langfuse keys,
    /// lists, keys set at run time) and the span's events go to tracing-opentelemetry directly:
    /// exported the same, not seen by other layers. (tracing-opentelemetry sizes each span's
    /// attribute list by its callsite's field count: every key as a field cost the caller 0.2×
    /// a `#[tracing::instrument]` span.) Wrap the processor of the provider behind
    /// tracing-opentelemetry's tracer in [`otel::Processor`](crate::otel::Processor) to have
    /// the spans end off the caller's thread (see
    /// [`end_host_spans_off_thread`](Builder::end_host_spans_off_thread)).
    #[cfg(feature = "tracing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
    pub fn tracing_mode(mut self) -> Self {
        self.mode = ModeChoice::Tracing;
        self
    }

    /// Records the GenAI client metrics (`gen_ai.client.token.usage`,
    /// `gen_ai.client.operation.duration` with `error.type`,
    /// `gen_ai.client.operation.time_to_first_chunk` and `.time_per_output_chunk` for streams,
    /// `gen_ai.execute_tool.duration`, `gen_ai.invoke_agent.*`) and llmtrace's
    /// `llmtrace.client.cost` and `llmtrace.client.unpriced_calls`, and exports them with
    /// `exporter` every `interval` and on [`force_flush`](crate::force_flush).
    ///
    /// In native mode they are recorded on the export thread, never on the application's, and
    /// every model and tool call counts, sampled or not: a call the head sampler drops keeps its
    /// times, usage (read from the return value) and error type in a small tally, handed to the
    /// export thread without a lock. In the `tracing` and OTel-provider modes they are recorded
    /// with the other stages on the thread that ends each span, for the spans the host records.
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    /// use std::time::Duration;
    ///
    /// let metrics = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
    /// let _guard = llmtrace::init()
    ///     .metrics_exporter(metrics.clone(), Duration::from_secs(60))
    ///     .install();
    /// ```
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn metrics_exporter<E>(mut self, exporter: E, interval: Duration) -> Self
    where
        E: opentelemetry_sdk::metrics::exporter::PushMetricExporter,
    {
        self.metrics = Some(Box::new(move |resource| {
            let reader = opentelemetry_sdk::metrics::PeriodicReader::builder(exporter)
                .with_interval(interval)
                .build();
            opentelemetry_sdk::metrics::SdkMeterProvider::builder()
                .with_resource(resource)
                .with_reader(reader)
                .build()
        }));
        self
    }

    /// Installs llmtrace for this process and returns a guard that flushes and shuts down when
    /// dropped. When llmtrace is already installed, or cannot start, this warns and returns an
    /// inert guard; an exporter that cannot be built is reported and left out.
    pub fn install(self) -> Guard {
        match self.start(Exporters::LeaveOutFailed) {
            Ok(guard) => guard,
            Err(e) => {
                warn::warn(format_args!("{e}"));
                Guard::inert()
            }
        }
    }

    /// Like [`install`](Builder::install), but returns the error, and fails with
    /// [`Error::Config`] rather than going on without an exporter given to this builder that
    /// cannot be built.
    pub fn try_install(self) -> Result<Guard, Error> {
        self.start(Exporters::AllOrNothing)
    }

    fn start(mut self, exporters: Exporters) -> Result<Guard, Error> {
        // One installation at a time: a second export worker must never start, even briefly (it
        // would drain the shared buffers when shut down).
        static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _installing = INSTALLING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state::get().is_some() {
            return Err(Error::AlreadyInstalled);
        }
        let env = EnvConfig::read(&*self.env);
        for w in &env.warnings {
            warn::warn(format_args!("{w}"));
        }
        self.batch_from_env(&env);
        clock::init();
        handoff::REGISTRY.set_capacity(self.buffer_capacity.max(settings::MIN_BUFFER_CAPACITY));
        handoff::REGISTRY.set_budget(self.buffer_budget);
        handoff::set_block(match self.on_full {
            Overflow::Block { max_wait } => max_wait,
            Overflow::Drop => Duration::ZERO,
        });
        let installed = match self.mode {
            ModeChoice::Native => self.start_native(env, exporters)?,
            _ => self.start_host(env),
        };
        match state::install(installed) {
            Ok(_) => Ok(Guard::active()),
            // Unreachable while `INSTALLING` is held; kept total rather than panicking.
            Err(_) => Err(Error::AlreadyInstalled),
        }
    }

    /// The `OTEL_BSP_*` settings, where the code chose none.
    fn batch_from_env(&mut self, env: &EnvConfig) {
        let code = self.batch_in_code;
        if let (false, Some(n)) = (code.max_batch, env.max_batch) {
            self.max_batch = n;
        }
        if let (false, Some(interval)) = (code.export_interval, env.export_interval) {
            self.tick = interval;
        }
        if let (false, Some(timeout)) = (code.export_timeout, env.export_timeout) {
            self.export_timeout = timeout;
        }
    }

    /// What every mode resolves the same way: the stages' and the mapper's settings.
    fn common(&mut self, env: &EnvConfig, place: Place) -> (StageConfig, Mapper, Common) {
        let resource = resource::build(
            self.service_name.take(),
            std::mem::take(&mut self.resource),
            env,
        );
        let content = self.content.or(env.content).unwrap_or_default();
        let content_limit = self
            .content_limit
            .or(env.content_limit)
            .unwrap_or(settings::DEFAULT_CONTENT_LIMIT)
            .max(settings::MIN_CONTENT_LIMIT);
        let conventions = self.conventions.unwrap_or_else(|| {
            Conventions::default()
                .legacy(env.legacy)
                .latest_experimental(env.latest)
        });
        let stages = StageConfig {
            prices: std::mem::take(&mut self.prices),
            prices_file: self.prices_file.take().or_else(|| env.prices_file.clone()),
            tail: match place {
                Place::ExportWorker => self.tail.take().or_else(|| env.tail.clone()),
                // Warned about in `start_host`.
                Place::EndingThread => None,
            },
            content_limit,
            redaction: self.redaction.take().unwrap_or_default(),
            #[cfg(feature = "metrics")]
            metrics: self.metrics.take().map(|build| build(resource.clone())),
            #[cfg(feature = "metrics")]
            latest_metrics: conventions.latest,
        };
        let mut interop = 0;
        let otel_default = !matches!(self.mode, ModeChoice::Native);
        if self.otel_context.unwrap_or(otel_default) {
            interop |= OTEL_CONTEXT;
        }
        if cfg!(feature = "tracing") {
            interop |= TRACING_PARENT;
        }
        (
            stages,
            Mapper::new(conventions, content, resource),
            Common {
                content,
                content_limit,
                interop,
                counters: Arc::new(Counters::default()),
            },
        )
    }

    /// Native mode: the export worker, with the exporters chosen here.
    fn start_native(mut self, env: EnvConfig, exporters: Exporters) -> Result<Installed, Error> {
        let from_code = !self.exporters.is_empty();
        let (specs, note) =
            exporters::select(std::mem::take(&mut self.exporters), self.no_exporters, &env);
        // Metrics go where the traces go: to the OTLP collector, over the traces' protocol
        // (unless `OTEL_METRICS_EXPORTER=none`), else next to the traces' JSONL file.
        #[cfg(all(feature = "metrics", any(feature = "otlp-http", feature = "otlp-grpc")))]
        if self.metrics.is_none() && !env.metrics_off {
            let otlp = specs.iter().find_map(|spec| match spec {
                ExporterSpec::Otlp { endpoint, protocol } => {
                    Some((endpoint.clone(), exporters::transport(*protocol)?))
                }
                _ => None,
            });
            if let Some((endpoint, transport)) = otlp {
                let timeout = env
                    .otlp_timeout
                    .map_or(self.export_timeout, |t| t.min(self.export_timeout));
                match crate::sinks::otlp_metrics::OtlpMetrics::new(
                    endpoint.as_deref(),
                    transport,
                    timeout,
                ) {
                    Ok(exporter) => {
                        let interval = env
                            .metric_interval
                            .unwrap_or(settings::DEFAULT_METRIC_EXPORT_INTERVAL);
                        self = self.metrics_exporter(exporter, interval);
                    }
                    Err(e) => warn::warn(format_args!("OTLP metrics not exported: {e}")),
                }
            }
        }
        #[cfg(all(feature = "metrics", feature = "jsonl"))]
        if self.metrics.is_none() && !env.metrics_off {
            // Metrics go next to the traces' JSONL file: `llmtrace-metrics.jsonl` in the
            // default setup.
            let beside = specs.iter().find_map(|spec| match spec {
                ExporterSpec::Jsonl(path) => Some(path.clone()),
                _ => None,
            });
            if let Some(traces) = beside {
                let path = crate::sinks::logs::jsonl::path_beside(&traces, "metrics");
                let interval = env
                    .metric_interval
                    .unwrap_or(settings::DEFAULT_METRIC_EXPORT_INTERVAL);
                self = self.metrics_exporter(
                    crate::sinks::jsonl_metrics::JsonlMetricsExporter::new(path),
                    interval,
                );
            }
        }
        #[cfg(feature = "metrics")]
        crate::sinks::summary::print_at_shutdown(
            self.metrics.is_some() && specs.iter().any(|s| matches!(s, ExporterSpec::Console)),
        );
        let (stages, mapper, common) = self.common(&env, Place::ExportWorker);
        // With a metrics exporter, sampled-out calls are counted too.
        #[cfg(feature = "metrics")]
        let tally = stages.metrics.is_some();
        #[cfg(not(feature = "metrics"))]
        let tally = false;
        let sampler = self
            .sampler
            .take()
            .or_else(|| env.sampler.clone())
            .unwrap_or_default();
        if let Some(note) = note {
            warn::info(format_args!("{note}"));
        }
        // One OTLP export, retries included, fits in the worker's export timeout.
        let otlp_budget = env
            .otlp_timeout
            .map_or(self.export_timeout, |t| t.min(self.export_timeout));
        let (factories, logs) = exporters::factories(specs, otlp_budget);
        let (worker, not_started) = WorkerHandle::start(
            WorkerConfig {
                factories,
                logs,
                stages: Stages::new(stages, Place::ExportWorker),
                mapper: Arc::new(mapper),
                counters: common.counters.clone(),
                tick: self.tick,
                max_batch: self.max_batch,
                max_batch_bytes: self.max_batch_bytes,
                max_queue: self.max_queue,
                export_timeout: self.export_timeout,
            },
            self.export_timeout,
        )?;
        if from_code && exporters == Exporters::AllOrNothing {
            if let Some(failed) = not_started.into_iter().next() {
                let _ = state::Sink::shutdown(&*worker, self.flush_timeout);
                return Err(Error::Config(ConfigError::new(
                    format!("{} could not be built", failed.exporter),
                    Some(failed.error),
                )));
            }
        } else {
            for failed in not_started {
                warn::warn(format_args!(
                    "exporter not started: {} could not be built: {}",
                    failed.exporter, failed.error
                ));
            }
        }
        Ok(Installed {
            sampler: if tally {
                HeadSampler::new(&sampler).counting_every_call()
            } else {
                HeadSampler::new(&sampler)
            },
            interop: common.interop,
            content: common.content,
            content_limit: common.content_limit,
            output: Output::Native(Box::new(worker)),
            counters: common.counters,
            flush_timeout: self.flush_timeout,
            tally,
        })
    }

    /// The `tracing` and OTel-provider modes: the host samples and exports; the stages run where
    /// spans end.
    fn start_host(mut self, env: EnvConfig) -> Installed {
        let mode = match &self.mode {
            ModeChoice::OtelProvider(_) | ModeChoice::OtelGlobalProvider => "OTel-provider",
            _ => "tracing",
        };
        let ignored = [
            (self.tail.is_some() || env.tail.is_some(), "tail sampling"),
            (!self.exporters.is_empty(), "exporters"),
            (self.sampler.is_some(), "a head sampler"),
        ];
        for (_, what) in ignored.iter().filter(|(set, _)| *set) {
            warn::warn(format_args!(
                "{what}: not used in {mode} mode, where the host samples and exports"
            ));
        }
        let (stages, mapper, common) = self.common(&env, Place::EndingThread);
        // With a metrics exporter, the calls the host samples out are counted too.
        #[cfg(feature = "metrics")]
        let tally = stages.metrics.is_some();
        #[cfg(not(feature = "metrics"))]
        let tally = false;
        let stages = Stages::new(stages, Place::EndingThread);
        let interop = common.interop | HOST;
        // The global provider's spans hide their data behind its boxed type: at the provider's
        // shutdown, queued spans could not be handed over, so they end where they end unless
        // asked otherwise.
        let global = matches!(self.mode, ModeChoice::OtelGlobalProvider);
        let off_thread = match self.host_end_off_thread {
            None if global => host::OffThread::Never,
            None => host::OffThread::WithProcessor,
            Some(true) => host::OffThread::Always,
            Some(false) => host::OffThread::Never,
        };
        let host = |system| {
            Box::new(HostExport::new(
                system,
                stages,
                mapper,
                common.counters.clone(),
                interop,
                off_thread,
                self.tick,
            ))
        };
        let output = match std::mem::take(&mut self.mode) {
            ModeChoice::OtelProvider(provider) => Output::OtelProvider(host(host::System::Otel(
                host::otel::Provider::sdk(provider),
            ))),
            ModeChoice::OtelGlobalProvider => {
                Output::OtelProvider(host(host::System::Otel(host::otel::Provider::global())))
            }
            #[cfg(feature = "tracing")]
            ModeChoice::Tracing => Output::Tracing(host(host::System::Tracing)),
            ModeChoice::Native => unreachable!("native mode starts the worker"),
        };
        Installed {
            sampler: HeadSampler::new(&Sampler::AlwaysOn),
            interop,
            content: common.content,
            content_limit: common.content_limit,
            output,
            counters: common.counters,
            flush_timeout: self.flush_timeout,
            // The host samples; what it drops is tallied where the host says so (`Host::start`)
            // and counted on the thread that ends it.
            tally,
        }
    }
}

/// What every mode installs alike.
struct Common {
    content: ContentCapture,
    content_limit: usize,
    interop: u8,
    counters: Arc<Counters>,
}

/// What to do with an exporter that cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exporters {
    /// Report it and go on without it (`install`).
    LeaveOutFailed,
    /// Fail the installation when it was given in code (`try_install`).
    AllOrNothing,
}

#[cfg(all(test, feature = "jsonl"))]
mod tests {
    use opentelemetry_sdk::trace::InMemorySpanExporter;

    use super::*;

    /// A `JsonlExporter` given to the builder takes the mapped spans as they are; any other
    /// exporter is called with `SpanData`.
    #[test]
    fn a_jsonl_exporter_given_in_code_skips_span_data() {
        let builder = init()
            .with_exporter(crate::sinks::jsonl::JsonlExporter::new("unused.jsonl"))
            .with_exporter(InMemorySpanExporter::default());
        let built: Vec<String> = builder
            .exporters
            .into_iter()
            .map(|spec| match spec {
                ExporterSpec::Custom(factory) => format!("{:?}", (factory.build)().unwrap()),
                _ => unreachable!("only exporters given in code"),
            })
            .collect();
        assert!(built[0].starts_with("JsonlExporter"), "{}", built[0]);
        assert!(built[1].starts_with("SpanDataExporter"), "{}", built[1]);
    }

    /// The `OTEL_BSP_*` variables give the batch settings the code did not choose.
    #[test]
    fn batch_settings_from_code_then_the_environment_then_the_defaults() {
        let env = |pairs: &[(&str, &str)]| -> std::collections::HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let bsp = [
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "512"),
            ("OTEL_BSP_SCHEDULE_DELAY", "5000"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "30000"),
        ];
        let resolved = |mut b: Builder| {
            let config = EnvConfig::read(&*b.env);
            b.batch_from_env(&config);
            (b.max_batch, b.tick, b.export_timeout)
        };
        let secs = Duration::from_secs;
        assert_eq!(
            resolved(init().env(env(&[]))),
            (2048, Duration::from_millis(100), secs(10))
        );
        assert_eq!(resolved(init().env(env(&bsp))), (512, secs(5), secs(30)));
        let code = init()
            .env(env(&bsp))
            .max_batch(64)
            .export_interval(secs(1))
            .export_timeout(secs(2));
        assert_eq!(resolved(code), (64, secs(1), secs(2)));
    }
}
