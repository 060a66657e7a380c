//! Errors of the configuration and flush API.

use std::fmt;

/// What went wrong installing, flushing or shutting down llmtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// llmtrace is already installed in this process.
    AlreadyInstalled,
    /// llmtrace is not installed.
    NotInstalled,
    /// The export worker could not be started.
    Start(String),
    /// A flush or shutdown failed or did not finish before its deadline.
    Flush(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AlreadyInstalled => f.write_str(
                "llmtrace is already installed in this process; keep the first guard alive instead of installing again",
            ),
            Error::NotInstalled => f.write_str("llmtrace is not installed; call llmtrace::init().install() first"),
            Error::Start(e) => write!(f, "the export worker could not start: {e}"),
            Error::Flush(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for Error {}
