//! The current span of each thread, and how it follows the call tree.
//!
//! Native context is one `Cell` in a thread-local ([`thread`]): the ids of the innermost open
//! span, its sampling decision, a pointer to its live record (so the manual API can add to it;
//! for a sampled-out call counted in the metrics, to its tally) and a pointer to its scope (session, user, tags, test capture). Entering a span swaps the cell
//! and leaving restores it, so nesting follows the call stack; futures re-enter their span on
//! every poll, so it follows `.await`; [`TraceContext`] carries it into spawned tasks and
//! threads.

mod current;
pub(crate) mod external;
mod future;
mod handle;
mod ids;
mod scope;
mod text;
mod thread;

pub(crate) use current::add_event_to_open_span;
pub use current::{CurrentSpan, current};
pub use future::FutureExt;
#[doc(hidden)]
pub use future::Instrumented;
pub use handle::{ContextGuard, TraceContext, WithTrace};
pub use ids::{SpanId, TraceId};
pub use scope::{ScopeBuilder, scope};
pub use text::ParseTraceContextError;
#[cfg(feature = "tracing")]
pub(crate) use thread::enter;
pub(crate) use thread::{
    Ctx, DETACHED, Entered, HOOKED, REMOTE, SAMPLED, VALID, enter_record, enter_unrecorded, get,
    tally_of,
};
