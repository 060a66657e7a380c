//! llmtrace's own warnings (export failures, drops, configuration problems), written to stderr.
//! Callers rate-limit them; a warning never fails or blocks the application.

use std::fmt;
use std::io::Write;

pub(crate) fn warn(message: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "llmtrace: warning: {message}");
}
