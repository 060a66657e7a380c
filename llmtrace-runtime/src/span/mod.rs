//! Spans: the record an instrumented call fills, and the guard that opens and ends it.

mod field;
mod guard;
pub(crate) mod ids;
mod record;
mod tokens;
mod value;

pub use field::Field;
pub(crate) use guard::forced;
pub use guard::{Span, SpanScope, call_sync};
pub use record::{CAPTURE_INPUT, CAPTURE_OUTPUT, Callsite, Kind, Record};
pub(crate) use record::{
    Event, FLAG_BRIDGED, FLAG_OTEL_CONTEXT, FLAG_PANIC, FLAG_PARENT_EXTERNAL, FLAG_PARENT_REMOTE,
    FLAG_SYNC_SCOPE, FLAG_TRUNCATED, Status,
};
pub(crate) use tokens::Tokens;
pub use value::Value;
