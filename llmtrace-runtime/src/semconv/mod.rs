//! Conventions: the attribute keys llmtrace emits, which span kinds emit them, and which sets of
//! them to emit.

mod conventions;
mod derived;
pub mod keys;
pub mod table;

pub use conventions::Conventions;
pub(crate) use derived::{name, operation, operation_value};
