//! /!\ WARNING: This is *not* a stable API! /!\
//!
//! What the attribute macros' expansions call. Everything here may change in any release; use
//! the documented API instead.

pub mod stream;
mod tracing_callsite;

/// `tracing_callsite!(Kind, "fn_name", "custom.key", ..)`: the function's `tracing` callsite
/// (with the `tracing` feature), else `None`.
pub use crate::__llmtrace_tracing_callsite as tracing_callsite;
pub use crate::capture::InputWriter;
pub use crate::capture::ret;
pub use crate::context::Instrumented;
pub use crate::record::{
    CAPTURE_INPUT, CAPTURE_OUTPUT, Callsite, Field, HOSTED, Kind, Record, Target, TracingCallsite,
    Value,
};
pub use crate::span::{Span, SpanScope, call_sync, call_sync_tallying};
pub use crate::stages::redact::{Redacted, Redactor};
#[cfg(feature = "tracing")]
pub use ::tracing;
#[cfg(feature = "tracing")]
pub use tracing_callsite::{tracing_field_count, tracing_fields};

/// Whether parameters of this callsite are captured now (content capture on).
#[inline]
pub fn capture_input(callsite: &Callsite) -> bool {
    callsite.options & CAPTURE_INPUT != 0 && crate::state::content().captures()
}

/// Whether a sampled-out call's tally keeps `field` when an expansion records it (the
/// expansions' list of such fields is checked against this).
pub fn tally_keeps(field: Field) -> bool {
    crate::record::Tally::keeps(field) && field != Field::CostTotal
}

/// Whether return values are captured now.
#[inline]
pub fn capture_output() -> bool {
    crate::state::content().captures()
}
