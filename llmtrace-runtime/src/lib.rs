//! Trace LLM applications: add one attribute to a function and every call becomes a nested
//! OpenTelemetry GenAI span carrying the prompt and response, model and parameters, token usage,
//! cost, latency, errors and session context.
//!
//! ```
//! use llmtrace_runtime as llmtrace;
//!
//! #[llmtrace::workflow(name = "support_answer")]
//! fn answer(question: &str) -> Result<String, String> {
//!     let docs = search(question)?;
//!     chat(&format!("{question}\n{}", docs.join("\n")))
//! }
//!
//! #[llmtrace::retrieval(data_source = "help_center", top_k = 2)]
//! fn search(query: &str) -> Result<Vec<String>, String> {
//!     Ok(vec!["Refunds take 5 days.".into(), "Orders ship in 2 days.".into()])
//! }
//!
//! #[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = 0.3)]
//! fn chat(prompt: &str) -> Result<String, String> {
//!     llmtrace::current().record_usage(llmtrace::Usage::new(412, 38));
//!     Ok("Refunds take 5 days.".into())
//! }
//!
//! let _guard = llmtrace::init().service_name("support-bot").install();
//! assert_eq!(answer("refund?").unwrap(), "Refunds take 5 days.");
//! ```
//!
//! Without [`init`]`().install()`, instrumented functions run as if they were not instrumented,
//! at the cost of one relaxed atomic load.
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, lowest first; each imports only from those before it (ARCHITECTURE.md, and the
// layering test in `tests/tests/layering.rs`).
// The span record and its values; the names they take.
mod record;
pub mod semconv;
// The hand-off: per-thread rings.
mod handoff;
// What the hot path reads: installed settings, counters, the sinks behind traits.
mod state;
// The hot path: the guard, context, capture, streams.
mod capture;
mod context;
pub mod evaluation;
mod message;
pub mod propagation;
pub mod schema;
mod span;
pub mod stream;
mod usage;
// The stages: cost, roll-up, tail sampling, content and redaction.
mod stages;
// The mapper: a record to attributes and `SpanData`.
mod mapper;
// The sinks: the export worker, the host modes, the exporters.
mod sinks;
// Installation: the builder, the environment, the exporters chosen.
mod install;
// The facade: what users and the expansions reach.
#[cfg(feature = "async-openai")]
mod integrations;
pub mod step;
pub mod testing;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod tracing;

/// A traced [`async-openai`](https://docs.rs/async-openai) client: every chat completion,
/// Responses API and embeddings call is a span, with no function to write.
///
/// ```no_run
/// # async fn run(request: async_openai::types::chat::CreateChatCompletionRequest)
/// # -> Result<(), async_openai::error::OpenAIError> {
/// use llmtrace_runtime as llmtrace;
/// use llmtrace::openai::ClientExt;
///
/// let client = async_openai::Client::new().traced(); // or llmtrace::openai::Client::new(..)
/// let reply = client.chat().create(request).await?;   // a `chat {model}` span
/// # let _ = reply;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "async-openai-client")]
#[cfg_attr(docsrs, doc(cfg(feature = "async-openai-client")))]
pub mod openai {
    pub use crate::integrations::async_openai::client::{
        Chat, Client, ClientExt, Embeddings, Responses,
    };
}

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

/// Getting finished spans out of the process: the console tree and JSONL file exporters, and the
/// `opentelemetry_sdk` exporter types every exporter implements.
pub mod export {
    pub use crate::sinks::console::ConsoleExporter;
    #[cfg(feature = "jsonl")]
    pub use crate::sinks::jsonl::{JsonlExporter, JsonlExporterBuilder};
    #[cfg(all(feature = "jsonl", feature = "metrics"))]
    #[cfg_attr(docsrs, doc(cfg(all(feature = "jsonl", feature = "metrics"))))]
    pub use crate::sinks::jsonl_metrics::JsonlMetricsExporter;
    pub use opentelemetry_sdk::trace::{SpanData, SpanExporter};

    /// Trace trees, as the [`ConsoleExporter`] prints them, from any set of spans: spans read
    /// back from a JSONL file, a collector's file output, or a test's capture.
    ///
    /// [`build`](tree::build) groups spans by trace and arranges each trace under its root; a
    /// [`Tree`](tree::Tree) holds the spans ([`Node`](tree::Node)) with their durations, usage,
    /// cost, errors, slowest children and the trace's totals, and displays as the console's text
    /// ([`TreeText`](tree::TreeText) adds notes to its first line). The number formats the
    /// console uses are here too.
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    /// use llmtrace::export::tree;
    /// use llmtrace::testing::Capture;
    ///
    /// #[llmtrace::workflow(name = "support_answer")]
    /// fn answer(question: &str) -> Result<String, String> {
    ///     chat(question)
    /// }
    ///
    /// #[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
    /// fn chat(prompt: &str) -> Result<String, String> {
    ///     llmtrace::current().record_usage(llmtrace::Usage::new(3200, 450));
    ///     Ok(format!("{} chars read", prompt.len()))
    /// }
    ///
    /// let capture = Capture::new();
    /// capture.in_scope(|| answer("refund?")).unwrap();
    ///
    /// for trace in tree::build(capture.spans().iter()) {
    ///     assert_eq!(trace.totals().input_tokens, Some(3200));
    ///     // support_answer  1.2ms  3,200 in / 450 out tokens  trace 4bf92f3577b34da6
    ///     // └─ chat gpt-4o  1.1ms  3,200 in / 450 out tokens
    ///     print!("{trace}");
    /// }
    /// ```
    pub mod tree {
        pub use crate::sinks::console::render::{
            TreeText, format_cost, format_count, format_duration,
        };
        pub use crate::sinks::console::tree::{
            AgentCounts, Node, SpanLink, Tree, UsageCost, build,
        };
    }
}

pub use context::{
    ContextGuard, CurrentSpan, FutureExt, ParseTraceContextError, ScopeBuilder, SpanId,
    TraceContext, TraceId, WithTrace, current, scope,
};
pub use evaluation::{Evaluation, Feedback, Recorded, evaluation, feedback};
pub use install::{Builder, EnvSource, Guard, OtlpProtocol, ProcessEnv, init};
pub use message::{Message, Messages, Modality, Part, Role};
pub use record::{Captured, Field, Kind, Value};
pub use schema::{Document, EmbeddingVectors, ErrorType, GuardrailOutcome, Verdict};
pub use semconv::Conventions;
#[cfg(feature = "metrics")]
#[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
pub use sinks::summary::{MetricsSummary, SummaryRow, metrics_summary};
pub use stages::cost::ModelPrice;
pub use stages::redact::{DEFAULT_SECRET_FIELDS, Detector, InvalidPattern, Redaction, Sensitive};
pub use stages::tail::TailSampler;
pub use state::settings::DEFAULT_JSONL_PATH;
pub use state::{
    ConfigError, ContentCapture, Error, ExportError, Operation, Overflow, Sampler, Stats,
    force_flush, shutdown, stats,
};
pub use step::{Step, StepFuture, StepKind, step};
pub use stream::StreamChunk;
pub use usage::{LlmResponse, Usage};

#[cfg(feature = "macros")]
#[doc(inline)]
pub use llmtrace_macros::{
    agent, embeddings, evaluator, guardrail, llm_call, rerank, retrieval, tool, workflow,
};

#[cfg(feature = "macros")]
#[doc(inline)]
pub use llmtrace_macros::step;

/// The OpenTelemetry crates llmtrace is built on, at the versions it uses, and the span processor
/// of the OTel-provider and `tracing` modes.
pub mod otel {
    pub use crate::sinks::host::Processor;
    pub use opentelemetry;
    pub use opentelemetry_sdk;
}
