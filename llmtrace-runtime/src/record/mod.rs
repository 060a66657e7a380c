//! The span record and its values: what one instrumented call observed, as plain data. The
//! lowest layer: it imports nothing else of the crate.
//!
//! A record stores *what* was observed (the model, a temperature, 120 input tokens) in
//! [`Field`]s, not the attribute keys of one convention: the mapper decides the keys.

mod bridge;
mod callsite;
pub(crate) mod captured;
pub(crate) mod clock;
mod evaluation;
mod field;
pub(crate) mod ids;
#[allow(clippy::module_inception)]
mod record;
mod scope;
mod tally;
mod tokens;
mod value;

pub(crate) use bridge::{Bridge, OtelSpan};
pub(crate) use callsite::CallsiteCache;
#[cfg(feature = "tracing")]
pub(crate) use callsite::TracingFields;
pub use callsite::{CAPTURE_INPUT, CAPTURE_OUTPUT, Callsite, HOSTED, Kind, TracingCallsite};
pub use captured::Captured;
pub(crate) use captured::Item;
#[cfg(any(feature = "jsonl", test))]
pub(crate) use captured::escape as escape_json;
pub(crate) use evaluation::EvaluationResult;
pub use field::Field;
pub use record::Record;
pub(crate) use record::{
    Event, FLAG_BRIDGED, FLAG_OTEL_CONTEXT, FLAG_PANIC, FLAG_PARENT_EXTERNAL, FLAG_PARENT_REMOTE,
    FLAG_SYNC_SCOPE, FLAG_TRUNCATED, Link, Status,
};
pub(crate) use scope::{AgentRef, CaptureSink, Scope};
pub(crate) use tally::Tally;
pub use tally::Target;
pub(crate) use tokens::Tokens;
pub(crate) use value::CAPTURE_FAILED;
pub use value::Value;
pub(crate) mod prefetch;
