//! The console exporter: a `SpanExporter` that hands each batch to the pending traces and
//! writes what they print.

use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use opentelemetry::trace::TraceId;

use super::pending::{Limits, PendingTraces};
use crate::evaluation::console_text;
use crate::record::EvaluationResult;

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// How often the timer looks for traces that waited too long for their root, when no batch
/// arrives to do it (an idle server).
const EXPIRY_TICK: Duration = Duration::from_secs(1);

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
    state: Arc<Mutex<State>>,
    clock: Clock,
    pub(super) limits: Limits,
    /// Whether the exporter is on the expiry timer's list (from its first export).
    on_timer: AtomicBool,
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
            state: Arc::new(Mutex::new(State {
                out: Box::new(writer),
                traces: PendingTraces::default(),
                shut_down: false,
            })),
            clock: Arc::new(SystemTime::now),
            limits: Limits::default(),
            on_timer: AtomicBool::new(false),
        }
    }

    /// Replaces the clock that decides when a trace has waited too long for its root (60 s).
    /// The clock never appears in the output.
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Prints the traces that have waited too long for their root. The exporter does it on
    /// every batch and on `force_flush`, and a timer shared by every console exporter does it
    /// each second, so an idle application still prints them.
    pub(super) fn expire_now(&self) {
        expire(&self.state, &self.clock, &self.limits);
    }

    fn export_now(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if !self.on_timer.swap(true, Ordering::Relaxed) {
            timer_add(Entry {
                state: Arc::downgrade(&self.state),
                clock: self.clock.clone(),
                limits: self.limits,
            });
        }
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

impl ConsoleExporter {
    /// Where this exporter shows evaluations that arrive as log records: under their trace's
    /// tree while it waits for its root, else on a line of their own.
    pub(crate) fn evaluations(&self) -> ConsoleEvaluations {
        ConsoleEvaluations {
            state: self.state.clone(),
        }
    }
}

/// Shows evaluation results on a [`ConsoleExporter`]'s output; see
/// [`ConsoleExporter::evaluations`].
pub(crate) struct ConsoleEvaluations {
    state: Arc<Mutex<State>>,
}

impl fmt::Debug for ConsoleEvaluations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsoleEvaluations")
    }
}

impl ConsoleEvaluations {
    /// Shows each result: `★ relevance 0.82 (relevant)`.
    pub(crate) fn show(&self, results: &[EvaluationResult]) {
        let mut state = lock(&self.state);
        if state.shut_down {
            return;
        }
        let mut text = String::new();
        for r in results {
            let line = console_text(&r.name, r.score, r.label.as_deref());
            state
                .traces
                .evaluation(TraceId::from(r.trace_id), line, &mut text);
        }
        state.write(&text);
    }
}

impl SpanExporter for ConsoleExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        // Printing never waits on anything but the writer, so the work is done before returning.
        std::future::ready(self.export_now(batch))
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Pending traces stay pending (their roots may still be running), unless they waited
        // too long.
        self.expire_now();
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

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic elsewhere while printing leaves the state consistent enough to keep going.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn expire(state: &Mutex<State>, clock: &Clock, limits: &Limits) {
    let now = clock();
    let mut state = lock(state);
    if state.shut_down || state.traces.len() == 0 {
        return;
    }
    let mut text = String::new();
    state.traces.expire(now, limits, &mut text);
    state.write(&text);
}

/// An exporter on the expiry timer's list; dropped from it once the exporter is gone.
struct Entry {
    state: Weak<Mutex<State>>,
    clock: Clock,
    limits: Limits,
}

/// One thread for every console exporter of the process: a timer that expires their pending
/// traces when no batch comes. Started with the first export.
fn timer_add(entry: Entry) {
    static ENTRIES: OnceLock<Mutex<Vec<Entry>>> = OnceLock::new();
    let mut started = false;
    let entries = ENTRIES.get_or_init(|| {
        started = true;
        Mutex::new(Vec::new())
    });
    entries
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(entry);
    if started {
        let spawned = std::thread::Builder::new()
            .name("llmtrace-console-expiry".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(EXPIRY_TICK);
                    let mut list = entries.lock().unwrap_or_else(PoisonError::into_inner);
                    list.retain(|e| match e.state.upgrade() {
                        Some(state) => {
                            expire(&state, &e.clock, &e.limits);
                            true
                        }
                        None => false,
                    });
                }
            });
        // Without the thread, batches and flushes still expire pending traces.
        drop(spawned);
    }
}
