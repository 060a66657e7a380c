//! Compile-time diagnostics of the llmtrace macros; see `tests/ui.rs`.
