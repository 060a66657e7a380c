//! Conventions: the attribute keys llmtrace emits, and which sets of them to emit.

mod conventions;
pub mod keys;

pub use conventions::Conventions;
