//! The console exporter: a `SpanExporter` that hands each batch to the pending traces and
//! writes what they print.

use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::pending::{Limits, PendingTraces};

type Clock = Box<dyn Fn() -> SystemTime + Send + Sync>;

/// Prints each finished trace as an indented tree: one line per span with its duration, token
/// usage, cost, retrieved documents, time to first chunk, and errors or cancellation; totals
/// and the trace id on the root's line; the slowest child of each span marked.
///
/// Writes to stderr unless built [`with_writer`](Self::with_writer). Spans are buffered per
/// trace until the root span ends; the buffer is bounded: a trace whose root never comes is
/// printed as an incomplete tree when it gets too old, when too many are pending, or at
/// shutdown. The output holds no wall-clock time, only durations, so it is reproducible from
/// the spans alone. The trees and their text are [`export::tree`](crate::export::tree), for
/// printing spans read back from a file the same way.
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// let _guard = llmtrace::init()
///     .with_exporter(llmtrace::export::ConsoleExporter::new())
///     .install();
/// ```
pub struct ConsoleExporter {
    state: Mutex<State>,
    clock: Clock,
    pub(super) limits: Limits,
}

impl fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ConsoleExporter");
        // `try_lock`: formatting must not wait for (or deadlock with) an export in progress.
        if let Ok(state) = self.state.try_lock() {
            d.field("pending_traces", &state.traces.len());
        }
        d.field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleExporter {
    /// A console exporter writing to stderr, timing pending traces by the system clock.
    pub fn new() -> Self {
        Self::with_writer(io::stderr())
    }

    /// A console exporter writing to `writer` (a file, a buffer in a test, ...). Write errors
    /// are ignored: the console is not worth failing an export for.
    pub fn with_writer(writer: impl Write + Send + 'static) -> Self {
        ConsoleExporter {
            state: Mutex::new(State {
                out: Box::new(writer),
                traces: PendingTraces::default(),
                shut_down: false,
            }),
            clock: Box::new(SystemTime::now),
            limits: Limits::default(),
        }
    }

    /// Replaces the clock that decides when a trace has waited too long for its root (60 s).
    /// The clock never appears in the output.
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while printing leaves the state consistent enough to keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn export_now(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let now = (self.clock)();
        let mut state = self.lock();
        if state.shut_down {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let mut text = String::new();
        state.traces.receive(batch, now, &self.limits, &mut text);
        state.write(&text);
        Ok(())
    }
}

impl SpanExporter for ConsoleExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        // Printing never waits on anything but the writer, so the work is done before returning.
        std::future::ready(self.export_now(batch))
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Pending traces stay pending: their roots may still be running.
        let _ = self.lock().out.flush();
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        let mut state = self.lock();
        if state.shut_down {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        state.shut_down = true;
        let mut text = String::new();
        state.traces.drain(&self.limits, &mut text);
        state.write(&text);
        Ok(())
    }
}

/// What the exporter keeps between batches.
pub(super) struct State {
    out: Box<dyn Write + Send>,
    pub(super) traces: PendingTraces,
    shut_down: bool,
}

impl State {
    fn write(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}
