//! Conventions: the attribute keys llmtrace emits, and the mapper that turns a record into them.

mod format;
pub mod keys;
mod mapper;

pub use mapper::Conventions;
pub(crate) use mapper::{CallsiteAttrs, Mapped, Mapper, span_kind};
