//! /!\ WARNING: This is *not* a stable API! /!\
//!
//! What the attribute macros' expansions call. Everything here may change in any release; use
//! the documented API instead.

mod question_mark;
pub mod ret;
pub mod stream;
mod tracing_callsite;

/// `tracing_callsite!(Kind, "fn_name", "custom.key", ..)`: the function's `tracing` callsite
/// (with the `tracing` feature), else `None`.
pub use crate::__llmtrace_tracing_callsite as tracing_callsite;
pub use crate::capture::InputWriter;
pub use crate::context::Instrumented;
pub use crate::redact::{Redacted, Redactor};
pub use crate::span::{
    CAPTURE_INPUT, CAPTURE_OUTPUT, Callsite, Field, Kind, Record, Span, SpanScope, Value, call_sync,
};
#[cfg(feature = "tracing")]
pub use ::tracing;
pub use question_mark::{Branch, FromResidual, from_residual, try_branch};
pub use tracing_callsite::TracingCallsite;

/// Whether parameters of this callsite are captured now (content capture on).
#[inline]
pub fn capture_input(callsite: &Callsite) -> bool {
    callsite.options & CAPTURE_INPUT != 0 && crate::pipeline::content().captures()
}

/// Whether return values are captured now.
#[inline]
pub fn capture_output() -> bool {
    crate::pipeline::content().captures()
}
