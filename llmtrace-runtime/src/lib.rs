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

mod capture;
mod clock;
mod config;
mod context;
mod cost;
mod diagnostics;
mod error;
pub mod export;
#[cfg(feature = "async-openai")]
mod integrations;
mod interop;
mod message;
mod pipeline;
pub mod propagation;
mod redact;
mod sampling;
pub mod schema;
pub mod semconv;
mod span;
pub mod stream;
pub mod testing;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod tracing;
mod usage;

#[doc(hidden)]
#[path = "private/mod.rs"]
pub mod __private;

pub use config::{
    Builder, ContentCapture, DEFAULT_JSONL_PATH, EnvSource, Guard, OtlpProtocol, ProcessEnv, init,
};
pub use context::{
    ContextGuard, CurrentSpan, FutureExt, ScopeBuilder, SpanId, TraceContext, TraceId, WithTrace,
    current, scope,
};
pub use cost::ModelPrice;
pub use error::Error;
pub use message::{Message, Messages, Modality, Part, Role};
pub use pipeline::{Stats, force_flush, shutdown, stats};
pub use redact::{Detector, InvalidPattern, Redaction, Sensitive};
pub use sampling::{Sampler, TailSampler};
pub use schema::{Document, ErrorType};
pub use semconv::Conventions;
pub use span::{Field, Kind, Value};
pub use stream::StreamChunk;
pub use usage::{LlmResponse, Usage};

#[cfg(feature = "macros")]
#[doc(inline)]
pub use llmtrace_macros::{llm_call, retrieval, tool, workflow};

/// The OpenTelemetry crates llmtrace is built on, at the versions it uses.
pub mod otel {
    pub use opentelemetry;
    pub use opentelemetry_sdk;
}
