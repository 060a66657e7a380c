//! The guard `install` returns.

use std::time::Duration;

use crate::state::{self, Error, settings, warn};

/// Keeps llmtrace installed; flushes and shuts it down (within the flush timeout) when dropped.
#[derive(Debug)]
#[must_use = "dropping the guard shuts llmtrace down at once"]
pub struct Guard {
    active: bool,
}

impl Guard {
    pub(super) fn active() -> Guard {
        Guard { active: true }
    }

    /// A guard that does nothing (llmtrace was not installed by this call).
    pub(super) fn inert() -> Guard {
        Guard { active: false }
    }

    /// Flushes what was recorded so far, waiting at most `timeout`.
    pub fn force_flush(&self, timeout: Duration) -> Result<(), Error> {
        state::force_flush(timeout)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if !self.active {
            return;
        }
        let timeout = state::get().map_or(settings::DEFAULT_FLUSH_TIMEOUT, |p| p.flush_timeout);
        if let Err(e) = state::shutdown(timeout) {
            warn::warn(format_args!("shutdown: {e}"));
        }
        #[cfg(feature = "metrics")]
        crate::sinks::summary::print_if_asked();
    }
}
