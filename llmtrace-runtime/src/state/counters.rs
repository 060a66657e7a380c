//! What happened to spans, counted: [`Stats`] for the application, [`Counters`] for the
//! pipeline, and the rate limits of the warnings they raise.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::warn;
use crate::handoff;

/// Counts of what happened to spans, read with [`stats`](crate::stats).
///
/// After a flush or shutdown, `produced == exported + captured + sampled_out + dropped`.
/// (`produced` counts, after shutdown, the spans still open then, which `dropped` counts too.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Spans that ended while recording and reached the pipeline; after shutdown, also those
    /// still open then (`dropped_open_at_shutdown`).
    pub produced: u64,
    /// Spans accepted by the (first) exporter.
    pub exported: u64,
    /// Spans delivered to a test capture instead of the exporters.
    pub captured: u64,
    /// Spans a tail sampler decided not to keep.
    pub sampled_out: u64,
    /// Every dropped span, whatever the reason (the sum of the fields below).
    pub dropped: u64,
    /// Dropped because a thread's buffer was full and the buffers' byte budget was spent (the
    /// exporter fell behind; see [`Builder::buffer_budget`](crate::Builder::buffer_budget)),
    /// after waiting for room when [`Overflow::Block`](crate::Overflow::Block) asked for it.
    pub dropped_buffer_full: u64,
    /// Dropped because the worker's queue was full. Zero since the worker leaves what its queue
    /// cannot take in the threads' buffers (counted in `dropped_buffer_full` when they overflow);
    /// kept so that code reading it still compiles.
    pub dropped_queue_full: u64,
    /// Dropped because the exporter failed or timed out, or there was no exporter; in a host
    /// mode, also a span that ended after the provider was shut down (known when the provider
    /// has [`otel::Processor`](crate::otel::Processor)), which the provider drops.
    pub dropped_export_failed: u64,
    /// Rejected by the collector in an answer that acknowledged the rest of their batch (an
    /// OTLP/HTTP `partial_success` with `rejected_spans`): not counted as exported. The
    /// collector's `error_message` is in the warning (at most one per 10 s, with the spans
    /// rejected since the last one).
    pub dropped_rejected: u64,
    /// Dropped because they were still buffered when shutdown's deadline passed.
    pub dropped_at_shutdown: u64,
    /// Spans (of native mode) still open when llmtrace shut down: never exported, whenever
    /// they end.
    pub dropped_open_at_shutdown: u64,
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
    /// Request parameters and costs given as expressions that were not finite or out of range
    /// (`temperature = NaN`, `top_p = 7.5`, a negative cost): left out of their span. Each
    /// function that gave one is reported once on stderr.
    pub invalid_values: u64,
    /// Warnings llmtrace wrote to stderr (drops, export failures, configuration problems). Each
    /// distinct export error is reported once while export keeps failing, and at most once per
    /// 10 s when it fails on and off; drops at most once per 10 s.
    pub warnings: u64,
    /// Evaluation results of ended spans exported as log records (by the first log exporter).
    pub evaluations_logged: u64,
    /// Evaluation results of ended spans dropped: too many waiting for export, no log exporter
    /// (the default exporters have one: the JSONL logs file), or the export failed.
    pub evaluations_dropped: u64,
    /// Sampled-out calls left out of the metrics: their thread's buffer of sampled-out calls
    /// was full (the export worker fell behind), or the thread was exiting. (With a metrics
    /// exporter, sampled-out calls still count in the metrics; they are no spans, so not in
    /// `dropped`.)
    pub metrics_dropped: u64,
}

/// Internal counters, shared by the worker and [`stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) drained: AtomicU64,
    pub(crate) exported: AtomicU64,
    pub(crate) captured: AtomicU64,
    pub(crate) sampled_out: AtomicU64,
    pub(crate) redactions: AtomicU64,
    pub(crate) invalid_values: AtomicU64,
    pub(crate) dropped_full_exited: AtomicU64,
    pub(crate) dropped_queue: AtomicU64,
    pub(crate) dropped_export: AtomicU64,
    pub(crate) dropped_rejected: AtomicU64,
    pub(crate) dropped_shutdown: AtomicU64,
    /// Set once, at shutdown.
    pub(crate) dropped_open: AtomicU64,
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
    last_rejection_warning: Option<Instant>,
    /// Spans rejected by collectors since the last warning about it.
    rejected_unreported: u64,
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
        let in_rings = handoff::dropped_full();
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let buffer_full = in_rings + load(&self.dropped_full_exited);
        let open = load(&self.dropped_open);
        let mut s = Stats {
            produced: load(&self.drained) + buffer_full + open,
            exported: load(&self.exported),
            captured: load(&self.captured),
            sampled_out: load(&self.sampled_out),
            dropped: 0,
            dropped_buffer_full: buffer_full,
            dropped_queue_full: load(&self.dropped_queue),
            dropped_export_failed: load(&self.dropped_export),
            dropped_rejected: load(&self.dropped_rejected),
            dropped_at_shutdown: load(&self.dropped_shutdown),
            dropped_open_at_shutdown: open,
            dropped_limits: load(&self.dropped_limits),
            dropped_no_exporter: load(&self.dropped_no_exporter),
            unpriced_spans: load(&self.unpriced),
            redactions: load(&self.redactions),
            invalid_values: load(&self.invalid_values),
            warnings: warn::WARNINGS.load(Ordering::Relaxed),
            evaluations_logged: super::evaluations::LOGGED.load(Ordering::Relaxed),
            evaluations_dropped: super::evaluations::DROPPED.load(Ordering::Relaxed),
            metrics_dropped: handoff::tally::dropped(),
        };
        s.dropped = s.dropped_buffer_full
            + s.dropped_queue_full
            + s.dropped_export_failed
            + s.dropped_rejected
            + s.dropped_at_shutdown
            + s.dropped_open_at_shutdown
            + s.dropped_limits
            + s.dropped_no_exporter;
        s
    }

    /// Warns (at most once per interval) when spans were dropped since the last warning.
    /// Spans a collector rejected have their own warning (`report_rejected`).
    pub(crate) fn warn_on_new_drops(&self) {
        let stats = self.snapshot();
        let dropped = stats.dropped - stats.dropped_no_exporter - stats.dropped_rejected;
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
        warn::warn(format_args!(
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
            warn::warn(format_args!(
                "export failed: {error} ({repeated} more failed exports not reported before)"
            ));
        } else {
            warn::warn(format_args!("export failed: {error}"));
        }
    }

    /// Reports what a collector rejected while acknowledging a batch of `batch` spans (OTLP's
    /// `partial_success`), with its message: at most once per interval, counting the spans
    /// rejected meanwhile.
    pub(crate) fn report_rejected(&self, batch: u64, rejected: u64, message: &str) {
        let now = Instant::now();
        let mut w = self.warned.lock().unwrap_or_else(PoisonError::into_inner);
        w.rejected_unreported += rejected;
        if w.last_rejection_warning
            .is_some_and(|t| now.duration_since(t) < WARN_INTERVAL)
        {
            return;
        }
        w.last_rejection_warning = Some(now);
        let earlier = std::mem::take(&mut w.rejected_unreported) - rejected;
        drop(w);
        let message = if message.is_empty() {
            "no reason given"
        } else {
            message
        };
        let earlier = if earlier > 0 {
            format!(" ({earlier} more spans rejected since the last warning)")
        } else {
            String::new()
        };
        if rejected > 0 {
            warn::warn(format_args!(
                "the collector rejected {rejected} of {batch} spans: {message}{earlier}; \
                 counted in llmtrace::stats().dropped_rejected"
            ));
        } else {
            warn::warn(format_args!(
                "the collector accepted {batch} spans with a warning: {message}{earlier}"
            ));
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
            warn::info(format_args!(
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
    fn rejections_are_warned_once_per_interval_with_the_spans_since() {
        let c = Counters::default();
        let before = warn::WARNINGS.load(Ordering::Relaxed);
        c.report_rejected(10, 4, "too long");
        c.report_rejected(10, 3, "too long");
        c.report_rejected(8, 2, "");
        // The first printed; the other five spans wait for the next warning.
        assert_eq!(c.warned.lock().unwrap().rejected_unreported, 5);
        assert!(warn::WARNINGS.load(Ordering::Relaxed) > before);
        if let Some(t) = c.warned.lock().unwrap().last_rejection_warning.as_mut() {
            *t -= WARN_INTERVAL;
        }
        c.report_rejected(10, 1, "too long");
        assert_eq!(c.warned.lock().unwrap().rejected_unreported, 0);
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
