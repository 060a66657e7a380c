//! The span guard: what the expansions open around an instrumented call, and what hands the
//! finished record off.

mod guard;

pub use guard::{Span, SpanScope, call_sync};
