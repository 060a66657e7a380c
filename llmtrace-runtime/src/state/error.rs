//! Errors of the installation and flush API.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong installing, flushing or shutting down llmtrace.
///
/// ```
/// use std::time::Duration;
/// use llmtrace_runtime as llmtrace;
///
/// match llmtrace::force_flush(Duration::from_secs(1)) {
///     Ok(()) => {}
///     Err(llmtrace::Error::NotInstalled) => {}
///     Err(llmtrace::Error::Timeout { .. }) => { /* the export goes on in the background */ }
///     Err(llmtrace::Error::Export(e)) => eprintln!("the exporter failed: {e}"),
///     Err(other) => eprintln!("{other}"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// llmtrace is already installed in this process.
    AlreadyInstalled,
    /// llmtrace is not installed.
    NotInstalled,
    /// The export worker could not be started (its thread or runtime).
    Start(String),
    /// The configuration cannot be used: an exporter given to the builder could not be built.
    /// Only [`Builder::try_install`](crate::Builder::try_install) reports it;
    /// [`Builder::install`](crate::Builder::install) warns and goes on without that exporter.
    Config(ConfigError),
    /// A flush or shutdown did not finish within its deadline. A flush goes on in the
    /// background; at shutdown, what was still unexported was dropped and counted in
    /// [`Stats::dropped_at_shutdown`](crate::Stats::dropped_at_shutdown).
    Timeout {
        /// What did not finish.
        operation: Operation,
        /// The deadline it was given.
        limit: Duration,
    },
    /// An exporter failed: it did not accept some spans (counted in
    /// [`Stats::dropped_export_failed`](crate::Stats::dropped_export_failed)), or its own flush
    /// or shutdown failed.
    Export(ExportError),
    /// The export worker has stopped (after a shutdown), so nothing more can be flushed.
    Stopped,
    /// A flush or shutdown failed.
    #[deprecated(
        since = "0.1.1",
        note = "no longer returned: matched by `Timeout`, `Export` and `Stopped`"
    )]
    Flush(String),
}

/// The operation a [`Error::Timeout`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// [`force_flush`](crate::force_flush) or [`Guard::force_flush`](crate::Guard::force_flush).
    Flush,
    /// [`shutdown`](crate::shutdown), or the guard's drop.
    Shutdown,
}

/// An exporter's failure, as the exporter described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportError {
    message: String,
}

impl ExportError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ExportError {
            message: message.into(),
        }
    }

    /// The exporter's description of the failure.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A configuration that cannot be used, with its cause.
#[derive(Debug, Clone)]
pub struct ConfigError {
    message: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl ConfigError {
    pub(crate) fn new(
        message: impl Into<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        ConfigError {
            message: message.into(),
            source: source.map(Arc::from),
        }
    }
}

impl PartialEq for ConfigError {
    fn eq(&self, other: &Self) -> bool {
        self.message == other.message
    }
}

impl Eq for ConfigError {}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExportError {}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Flush => "flush",
            Operation::Shutdown => "shutdown",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::AlreadyInstalled => f.write_str(
                "llmtrace is already installed in this process; keep the first guard alive instead of installing again",
            ),
            Error::NotInstalled => {
                f.write_str("llmtrace is not installed; call llmtrace::init().install() first")
            }
            Error::Start(e) => write!(f, "the export worker could not start: {e}"),
            Error::Config(e) => write!(f, "configuration error: {e}"),
            Error::Timeout {
                operation: Operation::Flush,
                limit,
            } => write!(
                f,
                "flush did not finish within {limit:?}; the export goes on in the background"
            ),
            Error::Timeout {
                operation: Operation::Shutdown,
                limit,
            } => write!(
                f,
                "shutdown did not finish within {limit:?}: spans not exported by then were dropped"
            ),
            Error::Export(e) => write!(f, "some spans could not be exported: {e}"),
            Error::Stopped => f.write_str("the export worker has stopped"),
            #[allow(deprecated)]
            Error::Flush(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(e) => Some(e),
            Error::Export(e) => Some(e),
            _ => None,
        }
    }
}
