//! The span guard: what the expansions open around an instrumented call, and what hands the
//! finished record off.

mod capture;
mod guard;

pub(crate) use capture::{Capture, Tallying};
pub use guard::{Span, SpanScope, call_sync, call_sync_tallying};
