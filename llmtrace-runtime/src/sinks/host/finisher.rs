//! Ends host spans off the application's thread (see `Builder::end_host_spans_off_thread`).
//!
//! What a host mode does when a span ends (the stages, the mapper, setting a dozen attributes
//! on the host's span, and the host's own end: tracing-opentelemetry's conversion of every
//! field, the provider's processors) cost the caller about as much again as the host's span
//! itself. The ended record, which owns the host's span, is queued instead, and a thread of
//! llmtrace's does that work, as the export worker does in native mode.
//!
//! Nothing the host records changes: an OpenTelemetry span ends with the record's end time
//! (`end_with_timestamp`), and tracing-opentelemetry takes a `tracing` span's end time from its
//! last exit, which happened on the application's thread. What changes is when the host sees
//! the span end: at the next round of the thread (the export interval, or sooner when the
//! queue fills), or on [`crate::force_flush`], which waits for the queue to be drained before
//! it flushes the host. A host flushed or shut down by the application before llmtrace is
//! flushed would miss what is still queued: hence on by default only once the provider has shown
//! llmtrace's processor ([`super::processor`]), which drains the queue first.
//!
//! The queue is bounded: past [`MAX_QUEUED`] records, the span is ended on the caller's thread
//! as before, so a burst costs time, never a span.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

use crate::record::Record;

/// Records queued at most; past it, spans end on the caller's thread.
pub(crate) const MAX_QUEUED: usize = 65_536;

/// Queued records that wake the thread before its next round.
const WAKE_AT: usize = 1_024;

/// Longest wait for the thread at shutdown: a host whose processors hang (an exporter called
/// synchronously against a collector that does not answer) must not hang the application.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// The queue and the thread that drains it.
#[derive(Debug)]
pub(crate) struct Finisher {
    shared: Arc<Shared>,
    thread: Thread,
    handle: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Vec<Record>>,
    /// Flushes asked for, and the last one whose records have all been ended.
    requested: AtomicU64,
    completed: Mutex<u64>,
    progressed: Condvar,
    stop: AtomicBool,
}

impl Finisher {
    /// Starts the thread; `finish` ends one record (the host's own path, run on that thread).
    /// `None` when the thread cannot be started: spans then end where they end.
    pub(crate) fn start(
        interval: Duration,
        finish: impl Fn(Record) + Send + 'static,
    ) -> Option<Finisher> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Vec::new()),
            requested: AtomicU64::new(0),
            completed: Mutex::new(0),
            progressed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let for_thread = shared.clone();
        let handle = thread::Builder::new()
            .name("llmtrace-host".into())
            .spawn(move || run(&for_thread, interval, finish))
            .ok()?;
        Some(Finisher {
            shared,
            thread: handle.thread().clone(),
            handle: Mutex::new(Some(handle)),
        })
    }

    /// Queues an ended record; gives it back when the queue is full or the thread stopped.
    #[inline]
    #[must_use = "a record given back is ended by the caller"]
    pub(crate) fn push(&self, rec: Record) -> Option<Record> {
        let mut queue = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if queue.len() >= MAX_QUEUED || self.shared.stop.load(Ordering::Relaxed) {
            return Some(rec);
        }
        queue.push(rec);
        let wake = queue.len() == WAKE_AT;
        drop(queue);
        if wake {
            self.thread.unpark();
        }
        None
    }

    /// Waits until every record queued before this call has been ended, at most `timeout`;
    /// false when it timed out.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        // Called from the host's own code on this thread (a processor that flushes llmtrace):
        // the records queued are ended after it returns, and waiting would never end.
        if thread::current().id() == self.thread.id() {
            return false;
        }
        // Stopped: the thread ended what was queued before it returned, and takes no more.
        if self.shared.stop.load(Ordering::Relaxed) {
            return true;
        }
        let ticket = self.shared.requested.fetch_add(1, Ordering::AcqRel) + 1;
        self.thread.unpark();
        let deadline = Instant::now() + timeout;
        let mut completed = self
            .shared
            .completed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *completed < ticket {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            completed = self
                .shared
                .progressed
                .wait_timeout(completed, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Ends what is queued, then stops the thread (waiting for it a bounded time).
    pub(crate) fn stop(&self, timeout: Duration) {
        if self.shared.stop.load(Ordering::Relaxed) {
            return;
        }
        let drained = self.flush(timeout.min(SHUTDOWN_WAIT));
        self.shared.stop.store(true, Ordering::Relaxed);
        self.thread.unpark();
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // A thread still busy ending spans is left to finish on its own rather than waited
        // for without bound.
        if let (true, Some(handle)) = (drained, handle) {
            let _ = handle.join();
        }
    }
}

impl Drop for Finisher {
    fn drop(&mut self) {
        self.stop(SHUTDOWN_WAIT);
    }
}

fn run(shared: &Shared, interval: Duration, finish: impl Fn(Record)) {
    let mut batch = Vec::new();
    loop {
        // Read before the queue: whatever was queued before this flush was asked for is in
        // the batch taken below.
        let requested = shared.requested.load(Ordering::Acquire);
        std::mem::swap(
            &mut batch,
            &mut *shared.queue.lock().unwrap_or_else(PoisonError::into_inner),
        );
        for rec in batch.drain(..) {
            finish(rec);
        }
        {
            let mut completed = shared
                .completed
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if *completed < requested {
                *completed = requested;
                shared.progressed.notify_all();
            }
        }
        if shared.stop.load(Ordering::Relaxed) {
            // Records pushed after the last round are refused once `stop` is set: end any
            // that slipped in between.
            let rest =
                std::mem::take(&mut *shared.queue.lock().unwrap_or_else(PoisonError::into_inner));
            rest.into_iter().for_each(&finish);
            return;
        }
        if shared.requested.load(Ordering::Acquire) == requested
            && shared.queue.lock().map_or(0, |q| q.len()) < WAKE_AT
        {
            thread::park_timeout(interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;

    use super::*;
    use crate::record::{Callsite, Kind};

    static CALL: Callsite = Callsite::new(Kind::Tool, "t", "m", &[], &[], 0);

    fn record(span_id: u64) -> Record {
        Record::new(&CALL, 1, span_id, 0, None, 0)
    }

    /// A host that stops taking spans: the queue fills, the records past its bound are given
    /// back (the caller ends them itself), a flush times out; once the host takes spans again,
    /// every record queued is ended, in order.
    #[test]
    fn a_full_queue_gives_records_back_and_loses_none() {
        let (release, blocked) = mpsc::channel::<()>();
        let blocked = Mutex::new(blocked);
        let ended = Arc::new(Mutex::new(Vec::new()));
        let seen = ended.clone();
        let finisher = Finisher::start(Duration::from_secs(3600), move |rec| {
            // The first record holds the thread until released.
            if rec.span_id == 0 {
                let _ = blocked.lock().unwrap().recv();
            }
            seen.lock().unwrap().push(rec.span_id);
        })
        .expect("thread starts");

        let mut accepted = 0_u64;
        let mut given_back = None;
        for id in 0..(2 * MAX_QUEUED as u64) {
            match finisher.push(record(id)) {
                None => accepted += 1,
                Some(rec) => {
                    given_back = Some(rec.span_id);
                    break;
                }
            }
        }
        assert_eq!(
            given_back,
            Some(accepted),
            "the record past the bound comes back"
        );
        assert!(accepted >= MAX_QUEUED as u64, "{accepted} queued");
        assert!(
            !finisher.flush(Duration::from_millis(50)),
            "the host is stuck"
        );

        release.send(()).unwrap();
        assert!(finisher.flush(Duration::from_secs(60)));
        let ended = ended.lock().unwrap();
        assert_eq!(ended.len() as u64, accepted);
        assert!(
            ended.windows(2).all(|w| w[0] < w[1]),
            "in the order they ended"
        );
    }

    /// Without a flush or a full batch the thread waits for its interval; a flush ends what
    /// was queued before it, on the host thread; after `stop`, records are given back.
    #[test]
    fn records_end_on_the_host_thread_at_a_flush() {
        let ended = Arc::new(AtomicUsize::new(0));
        let threads = Arc::new(Mutex::new(Vec::new()));
        let (count, names) = (ended.clone(), threads.clone());
        let finisher = Finisher::start(Duration::from_secs(3600), move |_| {
            count.fetch_add(1, Ordering::Relaxed);
            names
                .lock()
                .unwrap()
                .push(thread::current().name().map(str::to_owned));
        })
        .expect("thread starts");
        for id in 0..10 {
            assert!(finisher.push(record(id)).is_none());
        }
        assert!(finisher.flush(Duration::from_secs(60)));
        assert_eq!(ended.load(Ordering::Relaxed), 10);
        let names = threads.lock().unwrap().clone();
        assert!(names.iter().all(|n| n.as_deref() == Some("llmtrace-host")));

        finisher.stop(Duration::from_secs(60));
        assert!(
            finisher.push(record(99)).is_some(),
            "stopped: the caller ends it"
        );
        assert_eq!(ended.load(Ordering::Relaxed), 10);
    }
}
