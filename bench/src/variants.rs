//! The measured variants: the same model call (6 attributes: model, provider, temperature,
//! input and output tokens, cost) recorded by each tracer, plus the baselines.

use std::cell::RefCell;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use llmtrace_runtime as llmtrace;
use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::{Context as OtelContext, KeyValue};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider, SpanData,
    SpanExporter,
};
use tracing_subscriber::layer::SubscriberExt;

/// Every variant, in report order.
pub(crate) const VARIANTS: &[&str] = &[
    "bare",
    "floor",
    "llmtrace",
    "llmtrace_default_capture",
    "llmtrace_async",
    "llmtrace_bare_call",
    "llmtrace_usage_cost",
    "llmtrace_response",
    "llmtrace_workflow",
    "llmtrace_step",
    "llmtrace_sampled_out",
    "llmtrace_sampled_out_metrics",
    "llmtrace_not_installed",
    "llmtrace_otel_context",
    "llmtrace_otel_context_async",
    "llmtrace_tracing_mode",
    "llmtrace_tracing_mode_on_thread",
    "llmtrace_otel_provider",
    "llmtrace_otel_provider_on_thread",
    "llmtrace_tracing_mode_genai",
    "llmtrace_otel_provider_genai",
    "otel_sdk",
    "otel_sdk_off",
    "tracing_otel",
    "tracing_none",
    "fastrace",
    "llmtrace_burst",
    "otel_sdk_burst",
    "llmtrace_sustained",
    "otel_sdk_sustained",
    "llmtrace_drain",
    "otel_sdk_drain",
    "llmtrace_drain_otlp",
    "otel_sdk_drain_otlp",
    "llmtrace_drain_jsonl",
    "llmtrace_drain_otlp_default_capture",
    "pair_step_workflow",
    "pair_usage_cost_bare_call",
    "pair_not_installed_bare",
];

/// Two calls measured in one process with one setup, batch by batch in turn: the ratio of two
/// calls a few nanoseconds apart, free of what moves between processes (where the code and the
/// buffers land, the machine's load from one minute to the next). Name, first call, second,
/// and the gate on first / second.
pub(crate) const PAIRS: &[(&str, &str, &str, f64)] = &[
    (
        "pair_step_workflow",
        "llmtrace_step",
        "llmtrace_workflow",
        1.2,
    ),
    (
        "pair_usage_cost_bare_call",
        "llmtrace_usage_cost",
        "llmtrace_bare_call",
        1.3,
    ),
    (
        "pair_not_installed_bare",
        "llmtrace_not_installed",
        "bare",
        2.0,
    ),
];

/// The two variants of a pair.
pub(crate) fn pair(name: &str) -> Option<(&'static str, &'static str)> {
    PAIRS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, a, b, _)| (*a, *b))
}

/// A pair's first variant set up, and the second's call, which runs under the same setup (the
/// pairs are chosen so that both variants set up the same way).
pub(crate) fn prepare_pair(name: &str, queue: usize) -> (Prepared, Call) {
    let (a, b) = pair(name).unwrap_or_else(|| panic!("unknown pair {name}"));
    let first = prepare(a, queue);
    let second: Call = match b {
        "llmtrace_workflow" => Box::new(workflow_span),
        "llmtrace_bare_call" => Box::new(llm_bare_call),
        "bare" => Box::new(bare),
        other => panic!("{other} is not the second of a pair"),
    };
    (first, second)
}

/// How a variant is driven (see `measure::run`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Load {
    /// Timed batches, each flushed before the next.
    Batches,
    /// One burst of [`BURST_SPANS`] back to back on one thread, then one flush.
    Burst,
    /// A tight loop for [`SUSTAINED_FOR`], then one flush.
    Sustained,
    /// [`DRAIN_SPANS`] back to back with buffers sized to hold them all, then one flush: how long
    /// until all are exported.
    Drain,
}

/// The spans of the drain load.
pub(crate) const DRAIN_SPANS: usize = 1_000_000;

/// The spans of one burst.
pub(crate) const BURST_SPANS: usize = 100_000;
/// How long the sustained loop runs.
pub(crate) const SUSTAINED_FOR: Duration = Duration::from_secs(2);

/// How `variant` is driven.
pub(crate) fn load(variant: &str) -> Load {
    if variant.ends_with("_burst") {
        Load::Burst
    } else if variant.ends_with("_sustained") {
        Load::Sustained
    } else if variant.contains("_drain") {
        Load::Drain
    } else {
        Load::Batches
    }
}

/// Counts what an exporter received, then drops it.
#[derive(Debug, Clone, Default)]
pub(crate) struct DroppingExporter {
    pub(crate) received: Arc<AtomicU64>,
}

impl SpanExporter for DroppingExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.received
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Counts the spans of the batches its exporter acknowledged (the receiver answered `200`).
#[derive(Debug)]
struct Acknowledged<E> {
    inner: E,
    received: Arc<AtomicU64>,
}

impl<E: SpanExporter> SpanExporter for Acknowledged<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len() as u64;
        self.inner.export(batch).await?;
        self.received.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &opentelemetry_sdk::Resource) {
        self.inner.set_resource(resource);
    }
}

/// The JSONL file of `llmtrace_drain_jsonl`, removed (with its rotations) when the variant ends.
struct TempJsonl(std::path::PathBuf);

impl Drop for TempJsonl {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct DroppingReporter(Arc<AtomicU64>);

impl fastrace::collector::Reporter for DroppingReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        self.0.fetch_add(spans.len() as u64, Ordering::Relaxed);
    }
}

// ---- the instrumented functions ---------------------------------------------------------------

/// The same function without llmtrace: it computes the same values, records nothing.
#[inline(never)]
fn bare() -> u64 {
    black_box((black_box(1200_u64), black_box(80_u64)));
    black_box(0.0038_f64);
    black_box(42)
}

/// The conventions of a host-mode variant: by default the GenAI keys with the OpenInference and
/// Langfuse ones; `_genai`: the GenAI keys alone (cost stays, as `llm.cost.*`), the closest to
/// what the hosts' own spans carry.
fn conventions(variant: &str) -> llmtrace::Conventions {
    let all = llmtrace::Conventions::default();
    if variant.ends_with("_genai") {
        all.openinference(false).langfuse(false)
    } else {
        all
    }
}

#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    temperature = 0.3,
    skip_all,
    output = false
)]
#[inline(never)]
fn llm_sync() -> u64 {
    let span = llmtrace::current();
    span.record_usage(llmtrace::Usage::new(black_box(1200), black_box(80)));
    span.record_cost_usd(black_box(0.0038));
    black_box(42)
}

/// The same call with the macros' default capture: its two small parameters and its return
/// value captured as JSON (`skip_all` and `output = false` turn that off in the others).
#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = 0.3)]
#[inline(never)]
fn llm_default_capture(question: &str, max_tokens: u32) -> u64 {
    let span = llmtrace::current();
    span.record_usage(llmtrace::Usage::new(black_box(1200), black_box(80)));
    span.record_cost_usd(black_box(0.0038));
    black_box(question.len() as u64 + u64::from(max_tokens))
}

#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    temperature = 0.3,
    skip_all,
    output = false
)]
async fn llm_async() -> u64 {
    let span = llmtrace::current();
    span.record_usage(llmtrace::Usage::new(black_box(1200), black_box(80)));
    span.record_cost_usd(black_box(0.0038));
    black_box(42)
}

/// The same model call, recording no usage and no cost: the baseline of what usage and cost
/// capture add.
#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    temperature = 0.3,
    skip_all,
    output = false
)]
#[inline(never)]
fn llm_bare_call() -> u64 {
    black_box(42)
}

/// A workflow span with nothing to record: the baseline of a block span.
#[llmtrace::workflow(name = "flow", skip_all, output = false)]
#[inline(never)]
fn workflow_span() -> u64 {
    black_box(42)
}

/// The same span as a block span: `step("flow").in_scope(..)`.
#[inline(never)]
fn step_span() -> u64 {
    llmtrace::step("flow").in_scope(|| black_box(42))
}

/// What a client returns: usage with cached and reasoning tokens.
struct Completion {
    prompt_tokens: u64,
    cached_tokens: u64,
    completion_tokens: u64,
    reasoning_tokens: u64,
}

impl llmtrace::LlmResponse for Completion {
    fn usage(&self) -> Option<llmtrace::Usage> {
        Some(
            llmtrace::Usage::new(self.prompt_tokens, self.completion_tokens)
                .with_cache_read(self.cached_tokens)
                .with_reasoning(self.reasoning_tokens),
        )
    }
}

fn completion() -> Completion {
    Completion {
        prompt_tokens: black_box(1200),
        cached_tokens: black_box(1024),
        completion_tokens: black_box(80),
        reasoning_tokens: black_box(20),
    }
}

/// The same call, returning the response: usage captured from the return value, cost computed
/// from the price database on the export thread.
#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    temperature = 0.3,
    skip_all,
    output = false
)]
#[inline(never)]
fn llm_usage_cost() -> Completion {
    completion()
}

/// A response that also names the answering model, its id and the finish reason.
struct FullCompletion {
    id: &'static str,
    completion: Completion,
}

impl llmtrace::LlmResponse for FullCompletion {
    fn usage(&self) -> Option<llmtrace::Usage> {
        self.completion.usage()
    }
    fn response_model(&self) -> Option<&str> {
        Some("gpt-4o-2024-08-06")
    }
    fn response_id(&self) -> Option<&str> {
        Some(self.id)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        vec!["stop"]
    }
}

/// The same call with every response detail: usage, response model and id, finish reason.
#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    temperature = 0.3,
    skip_all,
    output = false
)]
#[inline(never)]
fn llm_response() -> FullCompletion {
    FullCompletion {
        id: black_box("chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"),
        completion: completion(),
    }
}

#[inline(never)]
fn otel_call(tracer: &SdkTracer) -> u64 {
    let span = tracer
        .span_builder("chat gpt-4o")
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("gen_ai.request.model", "gpt-4o"),
            KeyValue::new("gen_ai.provider.name", "openai"),
            KeyValue::new("gen_ai.request.temperature", 0.3),
        ])
        .start(tracer);
    let cx = OtelContext::current_with_span(span);
    let guard = cx.clone().attach();
    let r = {
        let span = cx.span();
        span.set_attribute(KeyValue::new(
            "gen_ai.usage.input_tokens",
            black_box(1200_i64),
        ));
        span.set_attribute(KeyValue::new(
            "gen_ai.usage.output_tokens",
            black_box(80_i64),
        ));
        span.set_attribute(KeyValue::new("llm.cost.total", black_box(0.0038)));
        black_box(42)
    };
    drop(guard);
    cx.span().end();
    r
}

#[tracing::instrument(
    name = "chat gpt-4o",
    skip_all,
    fields(
        otel.kind = "client",
        gen_ai.request.model = "gpt-4o",
        gen_ai.provider.name = "openai",
        gen_ai.request.temperature = 0.3,
        gen_ai.usage.input_tokens = tracing::field::Empty,
        gen_ai.usage.output_tokens = tracing::field::Empty,
        llm.cost.total = tracing::field::Empty,
    )
)]
#[inline(never)]
fn tracing_call() -> u64 {
    let span = tracing::Span::current();
    span.record("gen_ai.usage.input_tokens", black_box(1200_i64));
    span.record("gen_ai.usage.output_tokens", black_box(80_i64));
    span.record("llm.cost.total", black_box(0.0038));
    black_box(42)
}

#[inline(never)]
fn fastrace_call() -> u64 {
    let root = fastrace::Span::root("chat gpt-4o", fastrace::collector::SpanContext::random())
        .with_properties(|| {
            [
                ("gen_ai.request.model", "gpt-4o"),
                ("gen_ai.provider.name", "openai"),
                ("gen_ai.request.temperature", "0.3"),
            ]
        });
    let _guard = root.set_local_parent();
    root.add_properties(|| {
        [
            ("gen_ai.usage.input_tokens", black_box(1200_i64).to_string()),
            ("gen_ai.usage.output_tokens", black_box(80_i64).to_string()),
            ("llm.cost.total", black_box(0.0038_f64).to_string()),
        ]
    });
    black_box(42)
}

thread_local! {
    static FLOOR_BUF: RefCell<Vec<[u8; 64]>> = RefCell::new(Vec::with_capacity(4096));
}

/// The physical floor of recording a span: two clock reads, a random id, a 64-byte
/// thread-local push.
#[inline(never)]
fn floor() -> u64 {
    let start = Instant::now();
    let id = fastrand::u64(..);
    let r = black_box(42);
    let end = Instant::now();
    FLOOR_BUF.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() == b.capacity() {
            b.clear();
        }
        let mut rec = [0u8; 64];
        rec[..8].copy_from_slice(&id.to_le_bytes());
        rec[8..16].copy_from_slice(&(end - start).as_nanos().to_le_bytes()[..8]);
        b.push(rec);
    });
    r
}

// Always inlined: otherwise whether the compiler inlines it (and so whether each call moves the
// whole future, record included, into this frame) changes with the size of the future's code.
#[inline(always)]
fn poll_ready<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the benchmarked future never waits"),
    }
}

// ---- setup ------------------------------------------------------------------------------------

pub(crate) type Call = Box<dyn FnMut() -> u64 + Send>;
pub(crate) type Flush = Box<dyn FnMut() + Send>;
type Keep = Box<dyn std::any::Any + Send>;

/// A prepared variant: the call to time, how to flush, and how many spans were delivered.
pub(crate) struct Prepared {
    pub(crate) call: Box<dyn FnMut() -> u64 + Send>,
    pub(crate) flush: Flush,
    pub(crate) delivered: Arc<AtomicU64>,
    /// Whether this variant records spans (delivery is checked).
    pub(crate) records: bool,
    /// Whether bytes per buffered span are measured for this variant.
    pub(crate) measure_memory: bool,
    /// Bytes of a preallocated buffer slot not seen by the allocator during the measurement.
    pub(crate) slot_bytes: usize,
    /// Keeps the pipeline alive.
    _keep: Box<dyn std::any::Any + Send>,
}

fn otel_provider(sampler: Sampler, delivered: &Arc<AtomicU64>, queue: usize) -> SdkTracerProvider {
    let exporter = DroppingExporter {
        received: delivered.clone(),
    };
    otel_provider_with(sampler, exporter, queue)
}

/// The provider of a host mode: `otel_provider`'s, with its processor wrapped in llmtrace's as
/// the README sets a provider up for the host modes (what the wrapper costs is counted to
/// llmtrace: the hosts' own variants run without it).
fn host_provider(delivered: &Arc<AtomicU64>, queue: usize) -> SdkTracerProvider {
    let exporter = DroppingExporter {
        received: delivered.clone(),
    };
    SdkTracerProvider::builder()
        .with_sampler(Sampler::AlwaysOn)
        .with_span_processor(llmtrace::otel::Processor::new(batch_processor(
            exporter, queue,
        )))
        .build()
}

/// The SDK's batch processor around `exporter` (batches of 512, the given queue).
fn otel_provider_with<E: SpanExporter + 'static>(
    sampler: Sampler,
    exporter: E,
    queue: usize,
) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_span_processor(batch_processor(exporter, queue))
        .build()
}

fn batch_processor<E: SpanExporter + 'static>(exporter: E, queue: usize) -> BatchSpanProcessor {
    BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(queue)
                .with_max_export_batch_size(512)
                .with_scheduled_delay(Duration::from_millis(100))
                .build(),
        )
        .build()
}

fn llmtrace_install(
    sampler: llmtrace::Sampler,
    delivered: &Arc<AtomicU64>,
    capacity: usize,
) -> llmtrace::Guard {
    llmtrace::init()
        .service_name("bench")
        .sampler(sampler)
        .buffer_capacity(capacity)
        .with_exporter(DroppingExporter {
            received: delivered.clone(),
        })
        .install()
}

/// Sets up a variant. `queue` bounds the buffered spans of the recording tracers.
pub(crate) fn prepare(name: &str, queue: usize) -> Prepared {
    let delivered = Arc::new(AtomicU64::new(0));
    let none = || Box::new(|| {}) as Box<dyn FnMut() + Send>;
    let llmtrace_flush = || {
        Box::new(|| {
            llmtrace::force_flush(Duration::from_secs(30)).expect("flush");
        }) as Box<dyn FnMut() + Send>
    };
    let (call, flush, records, keep): (Call, Flush, bool, Keep) = match name {
        "bare" => (Box::new(bare), none(), false, Box::new(())),
        "floor" => (Box::new(floor), none(), false, Box::new(())),
        "llmtrace" => {
            let g = llmtrace_install(llmtrace::Sampler::AlwaysOn, &delivered, queue);
            (Box::new(llm_sync), llmtrace_flush(), true, Box::new(g))
        }
        "llmtrace_default_capture" => {
            let g = llmtrace_install(llmtrace::Sampler::AlwaysOn, &delivered, queue);
            (
                Box::new(|| {
                    llm_default_capture(black_box("What is the refund policy?"), black_box(256))
                }),
                llmtrace_flush(),
                true,
                Box::new(g),
            )
        }
        "llmtrace_async" => {
            let g = llmtrace_install(llmtrace::Sampler::AlwaysOn, &delivered, queue);
            (
                Box::new(|| poll_ready(llm_async())),
                llmtrace_flush(),
                true,
                Box::new(g),
            )
        }
        "llmtrace_bare_call" => {
            let g = llmtrace_install(llmtrace::Sampler::AlwaysOn, &delivered, queue);
            (Box::new(llm_bare_call), llmtrace_flush(), true, Box::new(g))
        }
        "llmtrace_usage_cost" => {
            let g = llmtrace_install(llmtrace::Sampler::AlwaysOn, &delivered, queue);
            (
                Box::new(|| black_box(llm_usage_cost()).completion_tokens),
                llmtrace_flush(),
                true,
                Box::new(g),
            )
        }
        "llmtrace_response" => {
            let g = llmtrace_install(llmtrace::Sampler::AlwaysOn, &delivered, queue);
            (
                Box::new(|| black_box(llm_response()).completion.completion_tokens),
                llmtrace_flush(),
                true,
                Box::new(g),
            )
        }
        "llmtrace_workflow" => {
            let g = llmtrace_install(llmtrace::Sampler::AlwaysOn, &delivered, queue);
            (Box::new(workflow_span), llmtrace_flush(), true, Box::new(g))
        }
        "llmtrace_step" => {
            let g = llmtrace_install(llmtrace::Sampler::AlwaysOn, &delivered, queue);
            (Box::new(step_span), llmtrace_flush(), true, Box::new(g))
        }
        "llmtrace_sampled_out" => {
            let g = llmtrace_install(llmtrace::Sampler::AlwaysOff, &delivered, queue);
            (Box::new(llm_sync), llmtrace_flush(), false, Box::new(g))
        }
        "llmtrace_sampled_out_metrics" => {
            let g = crate::sampled_out_metrics::install(&delivered, queue);
            (
                Box::new(crate::sampled_out_metrics::call),
                llmtrace_flush(),
                false,
                Box::new(g),
            )
        }
        "llmtrace_not_installed" => (Box::new(llm_sync), none(), false, Box::new(())),
        // Default settings: what a user gets without sizing anything.
        "llmtrace_burst" | "llmtrace_sustained" => {
            let g = llmtrace::init()
                .service_name("bench")
                .with_exporter(DroppingExporter {
                    received: delivered.clone(),
                })
                .install();
            (Box::new(llm_sync), llmtrace_flush(), true, Box::new(g))
        }
        // Buffers that hold the whole drain load: what is measured is the export side alone.
        "llmtrace_drain" => {
            let g = llmtrace::init()
                .service_name("bench")
                // 512 MiB: a million records of 240 bytes, with room to spare.
                .buffer_budget((DRAIN_SPANS * 300).next_power_of_two())
                .with_exporter(DroppingExporter {
                    received: delivered.clone(),
                })
                .install();
            (Box::new(llm_sync), llmtrace_flush(), true, Box::new(g))
        }
        // The built-in exporters, as a user gets them: OTLP/HTTP protobuf into a receiver on
        // 127.0.0.1 (the other side: the SDK's batch processor with opentelemetry-otlp's
        // exporter), and the default JSONL file. Delivered: what the exporter acknowledged.
        //
        // `_default_capture`: the call with the macros' default capture, whose parameters and
        // return value the export side redacts and writes as JSON (the SDK's spans carry none).
        "llmtrace_drain_otlp" | "llmtrace_drain_jsonl" | "llmtrace_drain_otlp_default_capture" => {
            let builder = llmtrace::init()
                .service_name("bench")
                .buffer_budget((DRAIN_SPANS * 300).next_power_of_two());
            let (builder, keep): (_, Keep) = if name.starts_with("llmtrace_drain_otlp") {
                let receiver = crate::receiver::start();
                (
                    builder.otlp_endpoint(llmtrace::OtlpProtocol::HttpProtobuf, receiver.endpoint),
                    Box::new(receiver.bytes),
                )
            } else {
                let dir =
                    std::env::temp_dir().join(format!("llmtrace-bench-{}", std::process::id()));
                (
                    builder.jsonl(dir.join("traces.jsonl")),
                    Box::new(TempJsonl(dir)),
                )
            };
            let g = builder.install();
            let d = delivered.clone();
            let call: Call = if name.ends_with("_default_capture") {
                Box::new(|| {
                    llm_default_capture(black_box("What is the refund policy?"), black_box(256))
                })
            } else {
                Box::new(llm_sync)
            };
            (
                call,
                Box::new(move || {
                    llmtrace::force_flush(Duration::from_secs(60)).expect("flush");
                    d.store(llmtrace::stats().exported, Ordering::Relaxed);
                }),
                true,
                Box::new((g, keep)),
            )
        }
        "otel_sdk_drain_otlp" => {
            let receiver = crate::receiver::start();
            use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
            // The blocking client, which the batch processor's thread (no async runtime) needs;
            // opentelemetry-otlp would pick the async one that llmtrace's feature brings in.
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_http_client(reqwest::blocking::Client::new())
                .with_endpoint(receiver.endpoint)
                .build()
                .expect("OTLP exporter");
            let provider = otel_provider_with(
                Sampler::AlwaysOn,
                Acknowledged {
                    inner: exporter,
                    received: delivered.clone(),
                },
                DRAIN_SPANS,
            );
            let tracer = provider.tracer("bench");
            let p = provider.clone();
            (
                Box::new(move || otel_call(&tracer)),
                Box::new(move || p.force_flush().expect("flush")),
                true,
                Box::new((provider, receiver.bytes)),
            )
        }
        "otel_sdk_drain" => {
            let provider = otel_provider(Sampler::AlwaysOn, &delivered, DRAIN_SPANS);
            let tracer = provider.tracer("bench");
            let p = provider.clone();
            (
                Box::new(move || otel_call(&tracer)),
                Box::new(move || p.force_flush().expect("flush")),
                true,
                Box::new(provider),
            )
        }
        // The batch processor's default queue (2048 spans), with the scheduled delay of the other
        // SDK variants.
        "otel_sdk_burst" | "otel_sdk_sustained" => {
            let provider = otel_provider(Sampler::AlwaysOn, &delivered, 2048);
            let tracer = provider.tracer("bench");
            let p = provider.clone();
            (
                Box::new(move || otel_call(&tracer)),
                Box::new(move || p.force_flush().expect("flush")),
                true,
                Box::new(provider),
            )
        }
        // Native mode with the OpenTelemetry context attached on every enter.
        "llmtrace_otel_context" | "llmtrace_otel_context_async" => {
            let g = llmtrace::init()
                .service_name("bench")
                .buffer_capacity(queue)
                .otel_context(true)
                .with_exporter(DroppingExporter {
                    received: delivered.clone(),
                })
                .install();
            let call: Call = if name == "llmtrace_otel_context" {
                Box::new(llm_sync)
            } else {
                Box::new(|| poll_ready(llm_async()))
            };
            (call, llmtrace_flush(), true, Box::new(g))
        }
        // `tracing` mode into the same subscriber stack as `tracing_otel`: the host's spans end
        // on llmtrace's host thread, which the provider's flush drains (`_on_thread`: on the
        // caller's).
        "llmtrace_tracing_mode"
        | "llmtrace_tracing_mode_on_thread"
        | "llmtrace_tracing_mode_genai" => {
            let provider = match name.ends_with("_on_thread") {
                true => otel_provider(Sampler::AlwaysOn, &delivered, queue),
                false => host_provider(&delivered, queue),
            };
            let layer = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("bench"))
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false);
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
            let mut b = llmtrace::init()
                .service_name("bench")
                .conventions(conventions(name))
                .tracing_mode();
            if name.ends_with("_on_thread") {
                b = b.end_host_spans_off_thread(false);
            }
            let g = b.install();
            let p = provider.clone();
            (
                Box::new(llm_sync),
                Box::new(move || p.force_flush().expect("flush")),
                true,
                Box::new((g, provider)),
            )
        }
        // OTel-provider mode through the same provider as `otel_sdk` (`_on_thread` as above).
        "llmtrace_otel_provider"
        | "llmtrace_otel_provider_on_thread"
        | "llmtrace_otel_provider_genai" => {
            let provider = match name.ends_with("_on_thread") {
                true => otel_provider(Sampler::AlwaysOn, &delivered, queue),
                false => host_provider(&delivered, queue),
            };
            let mut b = llmtrace::init()
                .service_name("bench")
                .conventions(conventions(name))
                .otel_provider(provider.clone());
            if name.ends_with("_on_thread") {
                b = b.end_host_spans_off_thread(false);
            }
            let g = b.install();
            let p = provider.clone();
            (
                Box::new(llm_sync),
                Box::new(move || p.force_flush().expect("flush")),
                true,
                Box::new(g),
            )
        }
        "otel_sdk" | "otel_sdk_off" => {
            let sampler = if name == "otel_sdk" {
                Sampler::AlwaysOn
            } else {
                Sampler::AlwaysOff
            };
            let provider = otel_provider(sampler, &delivered, queue);
            let tracer = provider.tracer("bench");
            let p = provider.clone();
            (
                Box::new(move || otel_call(&tracer)),
                Box::new(move || p.force_flush().expect("flush")),
                name == "otel_sdk",
                Box::new(provider),
            )
        }
        "tracing_otel" => {
            let provider = otel_provider(Sampler::AlwaysOn, &delivered, queue);
            let layer = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("bench"))
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false);
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
            let p = provider.clone();
            (
                Box::new(tracing_call),
                Box::new(move || p.force_flush().expect("flush")),
                true,
                Box::new(provider),
            )
        }
        "tracing_none" => (Box::new(tracing_call), none(), false, Box::new(())),
        "fastrace" => {
            fastrace::set_reporter(
                DroppingReporter(delivered.clone()),
                fastrace::collector::Config::default().report_interval(Duration::from_millis(100)),
            );
            (
                Box::new(fastrace_call),
                Box::new(fastrace::flush),
                true,
                Box::new(()),
            )
        }
        other => panic!("unknown variant {other}"),
    };
    let (measure_memory, slot_bytes) = match name {
        "llmtrace" | "llmtrace_async" => (true, 0),
        "otel_sdk" | "tracing_otel" => (true, size_of::<SpanData>()),
        _ => (false, 0),
    };
    Prepared {
        call,
        flush,
        delivered,
        records,
        measure_memory,
        slot_bytes,
        _keep: keep,
    }
}
