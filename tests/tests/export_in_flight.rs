//! The export worker keeps one batch in flight: it redacts and maps the next batch while the
//! exporter sends one, never sends two at once, and counts each batch once, when its answer comes.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// An exporter that holds every batch until the test opens its gate (or 20 s pass, so that a
/// failing test still ends).
#[derive(Debug, Default)]
struct Gate {
    open: AtomicBool,
    /// Exports in progress now, and the most at once.
    running: AtomicUsize,
    most: AtomicUsize,
    /// The size of each batch answered, in order.
    answered: Mutex<Vec<usize>>,
}

#[derive(Debug, Clone)]
struct GatedExporter(Arc<Gate>);

impl SpanExporter for GatedExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let gate = &self.0;
        let now = gate.running.fetch_add(1, Ordering::SeqCst) + 1;
        gate.most.fetch_max(now, Ordering::SeqCst);
        let start = Instant::now();
        while !gate.open.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(20) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        gate.answered.lock().unwrap().push(batch.len());
        gate.running.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

#[llmtrace::tool(name = "notify")]
fn notify(to: &str) -> usize {
    to.len()
}

/// Waits (at most 10 s) until `done` holds.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "gave up waiting for {what}: {:?}",
            llmtrace::stats()
        );
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn the_next_batch_is_prepared_while_one_is_in_flight() {
    let gate = Arc::new(Gate::default());
    let _guard = llmtrace::init()
        .with_exporter(GatedExporter(gate.clone()))
        // Nothing is read before the flush below: it reads the 30 spans 10 at a time.
        .export_interval(Duration::from_secs(60))
        .buffer_capacity(1024)
        .max_queue(10)
        .max_batch(10)
        .export_timeout(Duration::from_secs(30))
        .install();

    // Each span's argument is an e-mail address: one redaction a span, made by the worker just
    // before it maps the span.
    for _ in 0..30 {
        notify("ann.lee@example.com");
    }
    let flush = thread::spawn(|| llmtrace::force_flush(Duration::from_secs(30)));

    wait_for("the first batch to reach the exporter", || {
        gate.running.load(Ordering::SeqCst) == 1
    });
    // While the first batch is in flight, the second is redacted and mapped...
    wait_for("the second batch to be prepared", || {
        llmtrace::stats().redactions >= 20
    });
    // ... and the third waits for the first batch's answer: one batch in flight, one prepared.
    thread::sleep(Duration::from_millis(200));
    let stats = llmtrace::stats();
    assert_eq!(stats.redactions, 20, "{stats:?}");
    // A batch is counted when it is answered.
    assert_eq!(stats.exported, 0, "{stats:?}");
    assert_eq!(gate.running.load(Ordering::SeqCst), 1);

    gate.open.store(true, Ordering::SeqCst);
    flush.join().unwrap().unwrap();
    let stats = llmtrace::stats();
    assert_eq!(stats.produced, 30, "{stats:?}");
    assert_eq!(stats.exported, 30, "{stats:?}");
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.redactions, 30, "{stats:?}");
    assert_eq!(*gate.answered.lock().unwrap(), [10, 10, 10]);
    assert_eq!(
        gate.most.load(Ordering::SeqCst),
        1,
        "two batches sent at once"
    );
}
