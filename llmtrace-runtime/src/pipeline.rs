//! The installed pipeline: global state read by the hot path, the counters, and the dispatch
//! point where a finished record goes to its export mode.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use crate::config::ContentCapture;
use crate::export::buffer::REGISTRY;
use crate::export::worker::WorkerHandle;
use crate::interop::SyncExport;
use crate::sampling::HeadSampler;
use crate::span::Record;

/// Set once a pipeline is installed, cleared at shutdown. The only thing the hot path reads when
/// llmtrace is not installed.
static ENABLED: AtomicBool = AtomicBool::new(false);
static PIPELINE: OnceLock<Pipeline> = OnceLock::new();

/// Where finished records go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Own buffers and export worker.
    Native,
    /// Into the application's `tracing` subscriber (`Builder::tracing_mode`).
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    Tracing,
    /// Through an OpenTelemetry tracer provider (`Builder::otel_provider`).
    OtelProvider,
}

#[derive(Debug)]
pub(crate) struct Pipeline {
    pub(crate) sampler: HeadSampler,
    pub(crate) mode: Mode,
    /// What spans need beyond the native path: `interop::{OTEL_CONTEXT, TRACING_PARENT, HOST}`.
    /// Zero keeps `Span::start` on the native path.
    pub(crate) interop: u8,
    pub(crate) content: ContentCapture,
    /// Largest content attribute, in bytes.
    pub(crate) content_limit: usize,
    /// The export worker, in native mode.
    pub(crate) worker: Option<Arc<WorkerHandle>>,
    /// The stages, mapper and host of the other modes, run where spans end.
    pub(crate) sync: Option<Box<SyncExport>>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) flush_timeout: Duration,
}

#[inline]
pub(crate) fn is_enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

#[inline]
pub(crate) fn get() -> Option<&'static Pipeline> {
    PIPELINE.get()
}

/// The content capture setting in effect (D1: span attributes unless configured otherwise).
#[inline]
pub(crate) fn content() -> ContentCapture {
    PIPELINE
        .get()
        .map_or(ContentCapture::SpanOnly, |p| p.content)
}

/// The content limit in effect: the largest content attribute, in bytes.
#[inline]
pub(crate) fn content_limit() -> usize {
    PIPELINE
        .get()
        .map_or(crate::capture::DEFAULT_CONTENT_LIMIT, |p| p.content_limit)
}

/// Installs the pipeline. Fails when one is already installed in this process.
pub(crate) fn install(pipeline: Pipeline) -> Result<&'static Pipeline, Pipeline> {
    let mut pipeline = Some(pipeline);
    let installed = PIPELINE.get_or_init(|| pipeline.take().expect("taken once"));
    match pipeline {
        Some(rejected) => Err(rejected),
        None => {
            ENABLED.store(true, Ordering::Release);
            Ok(installed)
        }
    }
}

/// Stops recording new spans.
pub(crate) fn disable() {
    ENABLED.store(false, Ordering::Release);
}

/// The dispatch point: a finished record leaves the caller's hands here, to the export mode.
///
/// # Safety
/// `record` must point to a valid record that the caller treats as moved out afterwards.
#[inline]
pub(crate) unsafe fn dispatch(record: *mut Record) {
    match PIPELINE.get() {
        // SAFETY: forwarded from the caller.
        Some(p) if p.mode == Mode::Native => unsafe { crate::export::buffer::push_from(record) },
        // SAFETY: forwarded from the caller.
        other => unsafe { dispatch_elsewhere(record, other) },
    }
}

/// Outside native mode, or not installed: out of line, so that the native path stays small.
///
/// # Safety
/// As for [`dispatch`].
#[inline(never)]
unsafe fn dispatch_elsewhere(record: *mut Record, pipeline: Option<&'static Pipeline>) {
    match pipeline {
        // SAFETY: forwarded from the caller.
        Some(p) => unsafe { crate::interop::finish(record, p) },
        // SAFETY: forwarded from the caller: dropped here, once.
        None => unsafe { std::ptr::drop_in_place(record) },
    }
}

/// Exports everything recorded so far and flushes the exporters, waiting at most `timeout`.
///
/// Returns an error when llmtrace is not installed, the exporters failed, or the deadline passed
/// (the export goes on in the background).
pub fn force_flush(timeout: Duration) -> Result<(), crate::Error> {
    let p = get().ok_or(crate::Error::NotInstalled)?;
    p.flush(timeout)
}

/// Flushes, shuts the exporters down and stops recording, waiting at most `timeout`. What is
/// still unexported at the deadline is counted as dropped.
pub fn shutdown(timeout: Duration) -> Result<(), crate::Error> {
    let p = get().ok_or(crate::Error::NotInstalled)?;
    disable();
    match &p.worker {
        Some(worker) => worker.shutdown(timeout).map_err(crate::Error::Flush),
        // The host's provider or subscriber belongs to the application: flushed, not shut down.
        None => p.flush(timeout),
    }
}

impl Pipeline {
    fn flush(&self, timeout: Duration) -> Result<(), crate::Error> {
        let result = match (&self.worker, &self.sync) {
            (Some(worker), _) => worker.flush(timeout),
            (None, Some(sync)) => sync.flush(),
            (None, None) => Ok(()),
        };
        result.map_err(crate::Error::Flush)
    }
}

/// Counts of what happened to spans, read with [`stats`].
///
/// After a flush or shutdown, `produced == exported + captured + sampled_out + dropped`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Spans that ended while recording and reached the pipeline.
    pub produced: u64,
    /// Spans accepted by the (first) exporter.
    pub exported: u64,
    /// Spans delivered to a test capture instead of the exporters.
    pub captured: u64,
    /// Spans a tail sampler decided not to keep.
    pub sampled_out: u64,
    /// Every dropped span, whatever the reason (the sum of the fields below).
    pub dropped: u64,
    /// Dropped because a thread's buffer was full (the exporter fell behind).
    pub dropped_buffer_full: u64,
    /// Dropped because the worker's queue was full.
    pub dropped_queue_full: u64,
    /// Dropped because the exporter failed or timed out, or there was no exporter.
    pub dropped_export_failed: u64,
    /// Dropped because they were still buffered when shutdown's deadline passed.
    pub dropped_at_shutdown: u64,
    /// Dropped by the tail sampler's memory limits.
    pub dropped_limits: u64,
    /// Not exported because no exporter is configured (not warned about: it was asked for).
    pub dropped_no_exporter: u64,
    /// Model calls with token usage but no known price: their cost is unknown (marked
    /// `llmtrace.cost.unpriced`), not zero. Give their prices with
    /// [`Builder::model_price`](crate::Builder::model_price) or a prices file.
    pub unpriced_spans: u64,
    /// Secrets and personal data replaced by a redaction marker in captured content (see
    /// [`Redaction`](crate::Redaction)).
    pub redactions: u64,
    /// Warnings llmtrace wrote to stderr (drops, export failures, configuration problems). Each
    /// distinct export error is reported once while export keeps failing, and at most once per
    /// 10 s when it fails on and off; drops at most once per 10 s.
    pub warnings: u64,
}

/// The pipeline's counters. All zero when llmtrace is not installed.
pub fn stats() -> Stats {
    get().map(|p| p.counters.snapshot()).unwrap_or_default()
}

/// Internal counters, shared by the worker and [`stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) drained: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) captured: AtomicU64,
    pub(crate) sampled_out: AtomicU64,
    pub(crate) redactions: AtomicU64,
    pub(crate) dropped_full_exited: AtomicU64,
    pub(crate) dropped_queue: AtomicU64,
    pub(crate) dropped_export: AtomicU64,
    pub(crate) dropped_shutdown: AtomicU64,
    pub(crate) dropped_limits: AtomicU64,
    pub(crate) dropped_no_exporter: AtomicU64,
    pub(crate) unpriced: AtomicU64,
    warned: Mutex<WarnState>,
}

#[derive(Debug, Default)]
struct WarnState {
    dropped_seen: u64,
    last_drop_warning: Option<Instant>,
    /// Export errors reported lately; repeats are counted, not printed.
    reported: Vec<ReportedError>,
    errors_suppressed: u64,
}

/// An export error that was printed.
#[derive(Debug)]
struct ReportedError {
    exporter: usize,
    error: String,
    at: Instant,
    /// The exporter has succeeded since.
    recovered: bool,
}

/// Export errors remembered at most (the oldest is forgotten first).
const REPORTED_ERRORS: usize = 16;

/// At most one warning of each sort per this interval.
const WARN_INTERVAL: Duration = Duration::from_secs(10);

impl Counters {
    pub(crate) fn snapshot(&self) -> Stats {
        let rings = REGISTRY
            .rings
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let live_full: u64 = rings
            .iter()
            .map(|r| r.shared.dropped_full.load(Ordering::Relaxed))
            .sum();
        drop(rings);
        let no_buffer = REGISTRY.dropped_no_buffer.load(Ordering::Relaxed);
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let buffer_full = live_full + load(&self.dropped_full_exited) + no_buffer;
        let mut s = Stats {
            produced: load(&self.drained) + buffer_full,
            exported: load(&self.exported),
            captured: load(&self.captured),
            sampled_out: load(&self.sampled_out),
            dropped: 0,
            dropped_buffer_full: buffer_full,
            dropped_queue_full: load(&self.dropped_queue),
            dropped_export_failed: load(&self.dropped_export),
            dropped_at_shutdown: load(&self.dropped_shutdown),
            dropped_limits: load(&self.dropped_limits),
            dropped_no_exporter: load(&self.dropped_no_exporter),
            unpriced_spans: load(&self.unpriced),
            redactions: load(&self.redactions),
            warnings: crate::diagnostics::WARNINGS.load(Ordering::Relaxed),
        };
        s.dropped = s.dropped_buffer_full
            + s.dropped_queue_full
            + s.dropped_export_failed
            + s.dropped_at_shutdown
            + s.dropped_limits
            + s.dropped_no_exporter;
        s
    }

    /// Warns (at most once per interval) when spans were dropped since the last warning.
    pub(crate) fn warn_on_new_drops(&self) {
        let stats = self.snapshot();
        let dropped = stats.dropped - stats.dropped_no_exporter;
        let mut w = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        if dropped <= w.dropped_seen {
            return;
        }
        let now = Instant::now();
        if w.last_drop_warning
            .is_some_and(|t| now.duration_since(t) < WARN_INTERVAL)
        {
            return;
        }
        crate::diagnostics::warn(format_args!(
            "{} spans dropped so far ({} new); see llmtrace::stats() for the reasons",
            dropped,
            dropped - w.dropped_seen
        ));
        w.dropped_seen = dropped;
        w.last_drop_warning = Some(now);
    }

    /// Reports an export error: each distinct error once while the exporter keeps failing, even
    /// when errors alternate (a timeout, then a refused connection); again after the exporter
    /// recovered, but not within the warning interval, so that a flapping collector does not
    /// get a warning per failure. Repeats are counted.
    pub(crate) fn report_export_error(&self, exporter: usize, error: &str) {
        let now = Instant::now();
        let mut w = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = w
            .reported
            .iter()
            .position(|r| r.exporter == exporter && r.error == error);
        if let Some(r) = seen.map(|i| &w.reported[i]) {
            if !r.recovered || now.duration_since(r.at) < WARN_INTERVAL {
                w.errors_suppressed += 1;
                return;
            }
        }
        match seen {
            Some(i) => {
                let r = &mut w.reported[i];
                r.at = now;
                r.recovered = false;
            }
            None => {
                if w.reported.len() == REPORTED_ERRORS {
                    let oldest = (0..w.reported.len())
                        .min_by_key(|&i| w.reported[i].at)
                        .unwrap_or(0);
                    w.reported.swap_remove(oldest);
                }
                w.reported.push(ReportedError {
                    exporter,
                    error: error.to_owned(),
                    at: now,
                    recovered: false,
                });
            }
        }
        let repeated = std::mem::take(&mut w.errors_suppressed);
        drop(w);
        if repeated > 0 {
            crate::diagnostics::warn(format_args!(
                "export failed: {error} ({repeated} more failed exports not reported before)"
            ));
        } else {
            crate::diagnostics::warn(format_args!("export failed: {error}"));
        }
    }

    /// Notes a successful export: after a reported failure, says that export recovered.
    pub(crate) fn report_export_ok(&self, exporter: usize) {
        let mut w = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        let mut was_failing = false;
        for r in w.reported.iter_mut().filter(|r| r.exporter == exporter) {
            was_failing |= !r.recovered;
            r.recovered = true;
        }
        if was_failing {
            let repeated = std::mem::take(&mut w.errors_suppressed);
            drop(w);
            crate::diagnostics::info(format_args!(
                "export recovered ({repeated} more failed exports not reported before)"
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suppressed(c: &Counters) -> u64 {
        c.warned.lock().unwrap().errors_suppressed
    }

    #[test]
    fn export_errors_are_reported_once_each_even_alternating_or_flapping() {
        let c = Counters::default();
        for _ in 0..5 {
            c.report_export_error(0, "export timed out after 2s");
            c.report_export_error(0, "connection refused");
        }
        // Each error printed once; the other eight counted.
        assert_eq!(suppressed(&c), 8);
        // Another exporter's error is its own.
        c.report_export_error(1, "connection refused");
        assert_eq!(suppressed(&c), 0);

        c.report_export_ok(0);
        assert!(
            c.warned
                .lock()
                .unwrap()
                .reported
                .iter()
                .all(|r| r.exporter != 0 || r.recovered)
        );
        // Failing again right after recovering: not printed again within the interval.
        c.report_export_error(0, "connection refused");
        c.report_export_ok(0);
        c.report_export_error(0, "connection refused");
        assert_eq!(suppressed(&c), 2);
        // Past the interval, it is printed again.
        c.warned
            .lock()
            .unwrap()
            .reported
            .iter_mut()
            .for_each(|r| r.at -= WARN_INTERVAL);
        c.report_export_error(0, "connection refused");
        assert_eq!(suppressed(&c), 0);
    }
}
