//! llmtrace's own warnings (export failures, drops, configuration problems), written to stderr.
//! Callers rate-limit them; a warning never fails or blocks the application.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Warnings written so far (read through `llmtrace::stats()`).
pub(crate) static WARNINGS: AtomicU64 = AtomicU64::new(0);

pub(crate) fn warn(message: fmt::Arguments<'_>) {
    WARNINGS.fetch_add(1, Ordering::Relaxed);
    let _ = writeln!(std::io::stderr().lock(), "llmtrace: warning: {message}");
}

/// A one-time notice (where the default exporters write).
pub(crate) fn info(message: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "llmtrace: {message}");
}
