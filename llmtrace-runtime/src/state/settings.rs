//! Every setting's environment variable and default, named once. The builder and the
//! environment reader (`install`) use these; the hot path reads the values installed from them.

use std::time::Duration;

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

/// What a thread does with a span that ends while its buffer is full and the buffers' byte budget
/// ([`Builder::buffer_budget`](crate::Builder::buffer_budget)) is spent, set with
/// [`Builder::on_full`](crate::Builder::on_full).
///
/// The default, [`Overflow::Drop`], never blocks the application. A batch or evaluation job that
/// must not lose a span can ask to wait for the export worker instead (native mode: the host
/// modes hand spans to their host, which buffers them its own way):
///
/// ```
/// use std::time::Duration;
/// use llmtrace_runtime as llmtrace;
///
/// let builder = llmtrace::init().on_full(llmtrace::Overflow::Block {
///     max_wait: Duration::from_millis(200),
/// });
/// # drop(builder);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Overflow {
    /// Drop the span and count it in [`Stats::dropped_buffer_full`](crate::Stats).
    #[default]
    Drop,
    /// Wait for room, up to `max_wait` per span, then drop the span and count it as
    /// [`Overflow::Drop`] does. The wait happens on the thread that ends the span.
    Block {
        /// The longest one span's end waits for room.
        max_wait: std::time::Duration,
    },
}

// ---- the standard OpenTelemetry variables -----------------------------------------------

/// `service.name`.
pub(crate) const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Resource attributes, `key=value,...` (values percent-decoded).
pub(crate) const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// The head sampler; default `parentbased_always_on`.
pub(crate) const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// The ratio of the ratio samplers; default 1.0.
pub(crate) const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// `otlp`, `console`, `jsonl`, `none`, or a list.
pub(crate) const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// When set (and no exporter is chosen), export over OTLP. Read by opentelemetry-otlp.
pub(crate) const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// As [`OTEL_EXPORTER_OTLP_ENDPOINT`], for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// Spans per export call ([`DEFAULT_MAX_BATCH`]), as for the SDK's batch span processor.
pub(crate) const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Milliseconds between the worker's rounds ([`DEFAULT_EXPORT_INTERVAL`]), as for the SDK's batch
/// span processor.
pub(crate) const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// Milliseconds one export call may take ([`DEFAULT_EXPORT_TIMEOUT`]), as for the SDK's batch
/// span processor.
pub(crate) const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// `http/protobuf` (the default) or `grpc`.
pub(crate) const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// As [`OTEL_EXPORTER_OTLP_PROTOCOL`], for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// One OTLP export's time limit, retries included, in milliseconds (when shorter than
/// [`DEFAULT_EXPORT_TIMEOUT`]).
pub(crate) const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// As [`OTEL_EXPORTER_OTLP_TIMEOUT`], for traces only.
pub(crate) const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
/// `otlp` (the default: metrics go where the traces go) or `none`.
pub(crate) const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// How often metrics are exported, in milliseconds; default [`DEFAULT_METRIC_EXPORT_INTERVAL`].
pub(crate) const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
/// How often metrics are exported when `OTEL_METRIC_EXPORT_INTERVAL` is unset (the
/// OpenTelemetry default), besides every flush and at shutdown.
#[cfg_attr(
    not(all(feature = "metrics", any(feature = "jsonl", feature = "otlp-http"))),
    allow(dead_code)
)]
pub(crate) const DEFAULT_METRIC_EXPORT_INTERVAL: Duration = Duration::from_secs(60);
/// `NO_CONTENT`, `SPAN_ONLY`, `EVENT_ONLY` or `SPAN_AND_EVENT`; default (unset) `SPAN_ONLY`.
pub(crate) const OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: &str =
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";
/// The content limit in bytes; default [`DEFAULT_CONTENT_LIMIT`].
pub(crate) const OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str =
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// As [`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`], read when that is unset.
pub(crate) const OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// Contains `gen_ai_latest_experimental`: also emit the newest GenAI names.
pub(crate) const OTEL_SEMCONV_STABILITY_OPT_IN: &str = "OTEL_SEMCONV_STABILITY_OPT_IN";

// ---- llmtrace's own variables ------------------------------------------------------------

/// `legacy`: also emit deprecated GenAI names.
pub(crate) const LLMTRACE_SEMCONV: &str = "LLMTRACE_SEMCONV";
/// A JSON file of model prices.
pub(crate) const LLMTRACE_PRICES_FILE: &str = "LLMTRACE_PRICES_FILE";
/// The prefix of the tail sampling variables (`RATE` turns it on; `LATENCY_MS`, `TOKENS`,
/// `COST_USD`, `KEEP_WHEN`, `KEEP_ERRORS`, `MAX_TRACES`, `MAX_SPANS_PER_TRACE`, `MAX_AGE_MS`).
pub(crate) const LLMTRACE_TAIL_SAMPLING_PREFIX: &str = "LLMTRACE_TAIL_SAMPLING_";

// ---- defaults ----------------------------------------------------------------------------

/// The largest content attribute, in bytes of JSON.
pub(crate) const DEFAULT_CONTENT_LIMIT: usize = 32 * 1024;
/// The smallest content limit: room for a cut value's closing brackets and mark.
pub(crate) const MIN_CONTENT_LIMIT: usize = 64;
/// Spans each thread's ring holds before the export worker reads it.
pub(crate) const DEFAULT_BUFFER_CAPACITY: usize = crate::handoff::DEFAULT_CAPACITY;
/// Bytes of span records the threads' buffers hold together at most, spill rings included.
pub(crate) const DEFAULT_BUFFER_BUDGET: usize = crate::handoff::DEFAULT_BUDGET;
/// The smallest ring.
pub(crate) const MIN_BUFFER_CAPACITY: usize = 16;
/// Spans the export worker reads from the rings at a time. Every stage makes a pass over a read
/// (and the mapping one more): 4,096 records are about 1 MB, which stays in a core's cache from
/// one pass to the next, where a read of 65,536 (16 MB) went to memory on every pass (the
/// drain of 1M spans with a dropping exporter took 12% less CPU per span). What is not read yet
/// waits in the rings, within their budget.
pub(crate) const DEFAULT_MAX_QUEUE: usize = 4_096;
/// Spans per export call at most. Over OTLP each call is a request, whose round trip the worker
/// waits for and whose sending and reading cost both ends about as much as encoding a few hundred
/// spans: a drain of 1M spans into a receiver on 127.0.0.1 took 22% less time and 20% less CPU
/// with 2,048 than with the OpenTelemetry SDK's 512 (and 512 had taken a quarter of 128's
/// requests). [`DEFAULT_MAX_BATCH_BYTES`] keeps such a batch of large spans within what
/// collectors and proxies accept.
pub(crate) const DEFAULT_MAX_BATCH: usize = 2_048;
/// Encoded bytes of spans per export call, past which the batch goes out whatever its count,
/// as each exporter measures it (OTLP/HTTP its body, the JSONL file its line of JSON, OTLP/gRPC
/// and `SpanExporter`s an estimate of their protobuf): a request or line is then at most this
/// plus one span. Half of nginx's default body limit
/// (1 MiB), a quarter of gRPC's default message limit (4 MiB): a span with two content
/// attributes at the default content limit (32 KiB each) still fits.
pub(crate) const DEFAULT_MAX_BATCH_BYTES: usize = 512 * 1024;
/// How often the worker reads the rings when nothing wakes it.
pub(crate) const DEFAULT_EXPORT_INTERVAL: Duration = Duration::from_millis(100);
/// How long one export call may take.
pub(crate) const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the guard's drop waits for the final flush.
pub(crate) const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);
/// The JSONL file written when nothing is configured.
pub const DEFAULT_JSONL_PATH: &str = "llmtrace-traces.jsonl";
