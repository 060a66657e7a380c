//! Configuration: the [`init`] builder, [`Builder::install`] and the guard that flushes on drop.
//!
//! Settings made in code win over the environment; the environment wins over the defaults.

mod env;
mod exporters;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};

use env::EnvConfig;
pub use env::{EnvSource, OtlpProtocol, ProcessEnv};
pub use exporters::DEFAULT_JSONL_PATH;
use exporters::ExporterSpec;

use crate::cost::{CostStage, ModelPrice, PriceOverride};
use crate::export::content::ContentStage;
use crate::export::exporter::DynSpanExporter;
use crate::export::rollup::Rollup;
use crate::export::worker::Stage;
use crate::export::worker::{WorkerConfig, WorkerHandle};
use crate::interop::{self, Host, SyncExport};
use crate::pipeline::{self, Counters, Mode, Pipeline};
use crate::redact::Redaction;
use crate::sampling::{HeadSampler, Sampler, TailSampler, TailStage};
use crate::semconv::{Conventions, Mapper};

/// Where captured content (prompts, responses, arguments, documents) goes, as
/// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` defines it.
///
/// llmtrace's default is [`ContentCapture::SpanOnly`]: seeing the prompt is why people trace. Use
/// [`ContentCapture::NoContent`] to record no content at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContentCapture {
    /// Record no content.
    NoContent,
    /// Content as span attributes.
    #[default]
    SpanOnly,
    /// Content as span events only.
    EventOnly,
    /// Content as span attributes and span events.
    SpanAndEvent,
}

impl ContentCapture {
    /// Whether content is captured at all.
    #[inline]
    pub fn captures(self) -> bool {
        !matches!(self, ContentCapture::NoContent)
    }
}

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
    max_queue: usize,
    max_batch: usize,
    tick: Duration,
    export_timeout: Duration,
    flush_timeout: Duration,
    mode: ModeChoice,
    otel_context: Option<bool>,
}

/// The export mode asked for (see DESIGN D6: native, `tracing`, OTel-provider).
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
            buffer_capacity: 2048,
            max_queue: 65_536,
            max_batch: 128,
            tick: Duration::from_millis(100),
            export_timeout: Duration::from_secs(10),
            flush_timeout: Duration::from_secs(5),
            mode: ModeChoice::Native,
            otel_context: None,
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
    pub fn with_exporter<E: SpanExporter + 'static>(mut self, exporter: E) -> Self {
        self.exporters.push(ExporterSpec::Custom(Box::new(move || {
            Ok(Box::new(exporter) as Box<dyn DynSpanExporter>)
        })));
        self
    }

    /// Adds an exporter built on the export thread, inside its runtime (for exporters that need
    /// a runtime when they are created).
    pub fn with_exporter_factory<E, F>(mut self, factory: F) -> Self
    where
        E: SpanExporter + 'static,
        F: FnOnce() -> Result<E, String> + Send + 'static,
    {
        self.exporters.push(ExporterSpec::Custom(Box::new(move || {
            factory().map(|e| Box::new(e) as Box<dyn DynSpanExporter>)
        })));
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
    /// [`Redaction::default`], every built-in detector). Runs on the export thread, on every
    /// captured value: messages, arguments and results, documents, custom attributes, status
    /// descriptions and event attributes. `Redaction::none()` turns it off.
    pub fn redaction(mut self, redaction: Redaction) -> Self {
        self.redaction = Some(redaction);
        self
    }

    /// The largest content attribute (prompt, response, arguments, documents), in bytes (else
    /// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT` or `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`, else 32
    /// KiB). Longer values are cut on the export thread, after redaction, and stay valid JSON;
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
    /// keys are errors. The file is read once, on the export thread, when llmtrace starts; a
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

    /// Spans each thread can hold before the export worker picks them up (default 2048). A full
    /// buffer drops new spans and counts them; it never blocks.
    pub fn buffer_capacity(mut self, spans: usize) -> Self {
        self.buffer_capacity = spans;
        self
    }

    /// Spans the export worker holds at most (default 65536).
    pub fn max_queue(mut self, spans: usize) -> Self {
        self.max_queue = spans;
        self
    }

    /// Spans per export call (default 128).
    pub fn max_batch(mut self, spans: usize) -> Self {
        self.max_batch = spans;
        self
    }

    /// How often the worker collects buffered spans when nothing wakes it (default 100 ms).
    pub fn export_interval(mut self, interval: Duration) -> Self {
        self.tick = interval;
        self
    }

    /// How long one export call may take before it counts as failed (default 10 s). OTLP
    /// exporters retry transient failures (refused connections, timeouts, 429 and 503 with
    /// `Retry-After`) with backoff inside this time (or `OTEL_EXPORTER_OTLP_TIMEOUT`, when
    /// shorter); the application never waits for any of it.
    pub fn export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
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

    /// `tracing` mode: spans go to the application's `tracing` subscriber as `tracing` spans
    /// (INFO level, target the function's module) whose fields are the span's attributes, all
    /// declared up front, with `otel.name`, `otel.kind`, `otel.status_code` and
    /// `otel.status_description` for tracing-opentelemetry. The subscriber's filters decide
    /// which spans are recorded, its layers export them; redaction, cost and roll-up are the same
    /// as in native mode. Tail sampling and the exporters of this builder are not used.
    ///
    /// Attributes that are lists, keys set at run time and the indexed retrieval keys have no
    /// `tracing` field: they and the span's events go to tracing-opentelemetry directly (other
    /// layers do not see them).
    #[cfg(feature = "tracing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
    pub fn tracing_mode(mut self) -> Self {
        self.mode = ModeChoice::Tracing;
        self
    }

    /// Installs llmtrace for this process and returns a guard that flushes and shuts down when
    /// dropped. When llmtrace is already installed, this warns and returns an inert guard.
    pub fn install(self) -> Guard {
        match self.try_install() {
            Ok(guard) => guard,
            Err(e) => {
                crate::diagnostics::warn(format_args!("{e}"));
                Guard { active: false }
            }
        }
    }

    /// Like [`install`](Builder::install), but returns the error.
    pub fn try_install(self) -> Result<Guard, crate::Error> {
        // One installation at a time: a second export worker must never start, even briefly (it
        // would drain the shared buffers when shut down).
        static INSTALLING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _installing = INSTALLING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pipeline::get().is_some() {
            return Err(crate::Error::AlreadyInstalled);
        }
        let env = EnvConfig::read(&*self.env);
        for w in &env.warnings {
            crate::diagnostics::warn(format_args!("{w}"));
        }
        crate::clock::init();
        crate::export::buffer::REGISTRY.set_capacity(self.buffer_capacity);

        let resource = resource(self.service_name, self.resource, &env);
        let content = self.content.or(env.content).unwrap_or_default();
        let content_limit = self
            .content_limit
            .or(env.content_limit)
            .unwrap_or(crate::capture::DEFAULT_CONTENT_LIMIT)
            // Room for a truncated value's closing brackets and mark.
            .max(64);
        let conventions = self.conventions.unwrap_or_else(|| {
            Conventions::default()
                .legacy(env.legacy)
                .latest_experimental(env.latest)
        });
        let prices_file = self.prices_file.or_else(|| env.prices_file.clone());
        let host = match self.mode {
            ModeChoice::Native => None,
            #[cfg(feature = "tracing")]
            ModeChoice::Tracing => Some((Mode::Tracing, Host::Tracing)),
            ModeChoice::OtelProvider(provider) => Some((
                Mode::OtelProvider,
                Host::Otel(interop::otel::Provider::sdk(provider)),
            )),
            ModeChoice::OtelGlobalProvider => Some((
                Mode::OtelProvider,
                Host::Otel(interop::otel::Provider::global()),
            )),
        };
        let mut interop_bits = 0;
        if self
            .otel_context
            .unwrap_or(matches!(host, Some((Mode::OtelProvider, _))))
        {
            interop_bits |= interop::OTEL_CONTEXT;
        }
        if cfg!(feature = "tracing") {
            interop_bits |= interop::TRACING_PARENT;
        }
        if let Some((mode, host)) = host {
            // The host samples and exports; the stages run where spans end.
            let ignored = [
                (self.tail.is_some() || env.tail.is_some(), "tail sampling"),
                (!self.exporters.is_empty(), "exporters"),
                (self.sampler.is_some(), "a head sampler"),
            ];
            for (_, what) in ignored.iter().filter(|(set, _)| *set) {
                crate::diagnostics::warn(format_args!(
                    "{what}: not used in {} mode, where the host samples and exports",
                    if mode == Mode::OtelProvider {
                        "OTel-provider"
                    } else {
                        "tracing"
                    }
                ));
            }
            let sync = SyncExport::new(
                CostStage::new(self.prices, prices_file),
                ContentStage::new(content_limit, self.redaction.unwrap_or_default()),
                Mapper::new(conventions, content, resource),
                host,
            );
            let installed = Pipeline {
                sampler: HeadSampler::new(&Sampler::AlwaysOn),
                mode,
                interop: interop_bits | interop::HOST,
                content,
                content_limit,
                worker: None,
                sync: Some(Box::new(sync)),
                counters: Arc::new(Counters::default()),
                flush_timeout: self.flush_timeout,
            };
            return match pipeline::install(installed) {
                Ok(_) => Ok(Guard { active: true }),
                Err(_) => Err(crate::Error::AlreadyInstalled),
            };
        }
        let sampler = self
            .sampler
            .or_else(|| env.sampler.clone())
            .unwrap_or_default();
        let (specs, note) = exporters::select(self.exporters, self.no_exporters, &env);
        if let Some(note) = note {
            crate::diagnostics::info(format_args!("{note}"));
        }

        // Cost first, as the roll-up totals costs; the tail sampler last, deciding on traces as
        // they will be exported.
        let mut stages: Vec<Box<dyn Stage>> = vec![
            Box::new(CostStage::new(self.prices, prices_file)),
            Box::new(Rollup::default()),
        ];
        if let Some(tail) = self.tail.or_else(|| env.tail.clone()) {
            stages.push(Box::new(TailStage::new(tail)));
        }
        // Redaction and the content limit last: only what is exported pays for them.
        stages.push(Box::new(ContentStage::new(
            content_limit,
            self.redaction.unwrap_or_default(),
        )));

        let mapper = Arc::new(Mapper::new(conventions, content, resource));
        let counters = Arc::new(Counters::default());
        let worker = WorkerHandle::start(WorkerConfig {
            // One OTLP export, retries included, fits in the worker's export timeout.
            factories: exporters::factories(
                specs,
                env.otlp_timeout
                    .map_or(self.export_timeout, |t| t.min(self.export_timeout)),
            ),
            stages,
            mapper,
            counters: counters.clone(),
            tick: self.tick,
            max_batch: self.max_batch,
            max_queue: self.max_queue,
            export_timeout: self.export_timeout,
        })
        .map_err(|e| crate::Error::Start(e.to_string()))?;
        let installed = Pipeline {
            sampler: HeadSampler::new(&sampler),
            mode: Mode::Native,
            interop: interop_bits,
            content,
            content_limit,
            worker: Some(worker),
            sync: None,
            counters,
            flush_timeout: self.flush_timeout,
        };
        match pipeline::install(installed) {
            Ok(_) => Ok(Guard { active: true }),
            // Unreachable while `INSTALLING` is held; kept total rather than panicking.
            Err(_) => Err(crate::Error::AlreadyInstalled),
        }
    }
}

/// The resource: code over `OTEL_SERVICE_NAME` over `OTEL_RESOURCE_ATTRIBUTES`, plus the
/// `telemetry.sdk.*` attributes.
fn resource(code_name: Option<String>, code_attrs: Vec<KeyValue>, env: &EnvConfig) -> Resource {
    let mut attrs: Vec<KeyValue> = env
        .resource
        .iter()
        .filter(|(k, _)| !code_attrs.iter().any(|kv| kv.key.as_str() == k.as_str()))
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    attrs.extend(code_attrs);
    let from_attrs = attrs
        .iter()
        .find(|kv| kv.key.as_str() == "service.name")
        .map(|kv| kv.value.to_string());
    let name = code_name
        .or_else(|| env.service_name.clone())
        .or(from_attrs)
        .unwrap_or_else(default_service_name);
    Resource::builder_empty()
        .with_detector(Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        ))
        .with_attributes(attrs)
        .with_service_name(name)
        .build()
}

fn default_service_name() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
    match exe {
        Some(name) => format!("unknown_service:{name}"),
        None => "unknown_service".into(),
    }
}

/// Keeps llmtrace installed; flushes and shuts it down (within the flush timeout) when dropped.
#[derive(Debug)]
#[must_use = "dropping the guard shuts llmtrace down at once"]
pub struct Guard {
    active: bool,
}

impl Guard {
    /// Flushes what was recorded so far, waiting at most `timeout`.
    pub fn force_flush(&self, timeout: Duration) -> Result<(), crate::Error> {
        pipeline::force_flush(timeout)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.active {
            return;
        }
        let timeout = pipeline::get().map_or(Duration::from_secs(5), |p| p.flush_timeout);
        if let Err(e) = pipeline::shutdown(timeout) {
            crate::diagnostics::warn(format_args!("shutdown: {e}"));
        }
    }
}
