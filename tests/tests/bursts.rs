//! Bursts are absorbed: one thread making 100,000 spans back to back, faster than the exporter
//! takes them, loses none with the default settings (its buffer spills into larger ones within the
//! byte budget); past the budget spans are dropped and counted; `Overflow::Block` waits for room
//! instead, for at most its `max_wait`.
//!
//! llmtrace installs once per process: each scenario runs in a child process, this test binary
//! started again filtered to `burst_scenario_child` with the scenario in
//! `LLMTRACE_BURST_SCENARIO`; the parent test checks its exit status.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

const SCENARIO: &str = "LLMTRACE_BURST_SCENARIO";

/// Takes `pause` per batch, then counts it as received; stalls for good while `stalled`.
#[derive(Debug, Clone, Default)]
struct PacedExporter {
    received: Arc<AtomicU64>,
    pause: Duration,
}

impl SpanExporter for PacedExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        tokio::time::sleep(self.pause).await;
        self.received
            .fetch_add(batch.len() as u64, Ordering::SeqCst);
        Ok(())
    }
}

#[llmtrace::tool(name = "chunk")]
fn chunk(i: u64) -> u64 {
    i + 1
}

fn run_child(scenario: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "burst_scenario_child",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(SCENARIO, scenario)
        .output()
        .expect("start the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{scenario}:\n{stdout}\n{stderr}");
    assert!(
        out.status.success(),
        "{scenario} failed:\n{stdout}\n{stderr}"
    );
    // A filter that matched nothing would pass without running the scenario.
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[test]
fn a_burst_of_100k_spans_is_delivered_whole_with_the_default_settings() {
    run_child("burst");
}

#[test]
fn past_the_budget_spans_are_dropped_and_counted() {
    run_child("budget");
}

#[test]
fn block_waits_for_room_and_loses_nothing() {
    run_child("block");
}

#[test]
fn block_gives_up_after_max_wait_and_counts_the_drop() {
    run_child("block_timeout");
}

#[test]
fn a_span_still_open_at_shutdown_is_counted() {
    run_child("open_at_shutdown");
}

#[test]
#[ignore = "run by the tests above, in a process of its own"]
fn burst_scenario_child() {
    match std::env::var(SCENARIO).as_deref() {
        Ok("burst") => burst(),
        Ok("budget") => budget(),
        Ok("block") => block(),
        Ok("block_timeout") => block_timeout(),
        Ok("open_at_shutdown") => open_at_shutdown(),
        other => panic!("unknown scenario {other:?}"),
    }
}

/// Default settings; the exporter takes 32 ms per batch of 2,048 (the default batch), about 1.6 s
/// for the burst, which the thread makes in a small fraction of that.
fn burst() {
    const SPANS: u64 = 100_000;
    let exporter = PacedExporter {
        pause: Duration::from_millis(32),
        ..Default::default()
    };
    let _guard = llmtrace::init().with_exporter(exporter.clone()).install();
    let started = Instant::now();
    for i in 0..SPANS {
        chunk(i);
    }
    let made_in = started.elapsed();
    let early = exporter.received.load(Ordering::SeqCst);
    llmtrace::force_flush(Duration::from_secs(60)).unwrap();
    let stats = llmtrace::stats();
    println!("made in {made_in:?}, {early} exported by then; {stats:?}");
    // The burst outran the exporter: most of it waited in the buffers.
    assert!(early < SPANS / 2, "{early} of {SPANS} already exported");
    assert_eq!(stats.produced, SPANS, "{stats:?}");
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.exported, SPANS, "{stats:?}");
    assert_eq!(exporter.received.load(Ordering::SeqCst), SPANS);
}

/// A budget of 1 MiB and an exporter slower than the thread: spans past the budget are dropped
/// and counted, the others delivered, and the counts add up.
fn budget() {
    const SPANS: u64 = 50_000;
    let exporter = PacedExporter {
        pause: Duration::from_millis(20),
        ..Default::default()
    };
    let _guard = llmtrace::init()
        .with_exporter(exporter.clone())
        .buffer_capacity(256)
        .buffer_budget(1 << 20)
        .install();
    for i in 0..SPANS {
        chunk(i);
    }
    llmtrace::force_flush(Duration::from_secs(60)).unwrap();
    let stats = llmtrace::stats();
    println!("{stats:?}");
    assert_eq!(stats.produced, SPANS, "{stats:?}");
    assert!(stats.dropped_buffer_full > 0, "{stats:?}");
    assert_eq!(stats.dropped, stats.dropped_buffer_full, "{stats:?}");
    assert_eq!(stats.exported + stats.dropped, stats.produced, "{stats:?}");
    assert_eq!(stats.exported, exporter.received.load(Ordering::SeqCst));
    // The spill rings held more than the first ring alone would have.
    assert!(stats.exported > 1_000, "{stats:?}");
}

/// No spilling (budget 0), small rings, a slow exporter: with `Overflow::Block` the thread waits
/// for room, and every span is delivered.
fn block() {
    const SPANS: u64 = 5_000;
    let exporter = PacedExporter {
        pause: Duration::from_millis(5),
        ..Default::default()
    };
    let _guard = llmtrace::init()
        .with_exporter(exporter.clone())
        .buffer_capacity(64)
        .buffer_budget(0)
        .max_batch(32)
        .on_full(llmtrace::Overflow::Block {
            max_wait: Duration::from_secs(10),
        })
        .install();
    let started = Instant::now();
    for i in 0..SPANS {
        chunk(i);
    }
    let took = started.elapsed();
    llmtrace::force_flush(Duration::from_secs(60)).unwrap();
    let stats = llmtrace::stats();
    println!("made in {took:?}; {stats:?}");
    // The exporter paced the thread: 5,000 spans at 32 per 5 ms take at least 0.7 s.
    assert!(took > Duration::from_millis(500), "{took:?}");
    assert_eq!(stats.produced, SPANS, "{stats:?}");
    assert_eq!(stats.dropped, 0, "{stats:?}");
    assert_eq!(stats.exported, SPANS, "{stats:?}");

    // Once shut down, nothing reads the buffers: spans that end later fill them, then are
    // dropped at once instead of waiting for room that never comes.
    llmtrace::shutdown(Duration::from_secs(30)).unwrap();
    let started = Instant::now();
    for i in 0..200 {
        chunk(i);
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "{took:?} for 200 spans after shutdown"
    );
}

/// An exporter that stalls for longer than `max_wait` many times over: each span that finds no
/// room waits about `max_wait`, then is dropped and counted.
fn block_timeout() {
    const SPANS: u64 = 200;
    const MAX_WAIT: Duration = Duration::from_millis(10);
    let exporter = PacedExporter {
        pause: Duration::from_secs(3),
        ..Default::default()
    };
    let _guard = llmtrace::init()
        .with_exporter(exporter.clone())
        .buffer_capacity(16)
        .buffer_budget(0)
        .max_batch(16)
        .export_timeout(Duration::from_secs(20))
        .on_full(llmtrace::Overflow::Block { max_wait: MAX_WAIT })
        .install();
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    for i in 0..SPANS {
        let call = Instant::now();
        chunk(i);
        slowest = slowest.max(call.elapsed());
    }
    let took = started.elapsed();
    let stats = llmtrace::stats();
    println!("made in {took:?}, slowest call {slowest:?}; {stats:?}");
    // The first batch is stalled in the exporter and the ring is full: most spans wait, then
    // drop.
    assert!(stats.dropped_buffer_full > 100, "{stats:?}");
    // Each waited about `max_wait`, never much longer.
    assert!(slowest >= MAX_WAIT, "slowest call {slowest:?}");
    assert!(slowest < MAX_WAIT * 20, "slowest call {slowest:?}");
    assert!(
        took >= MAX_WAIT * (stats.dropped_buffer_full as u32),
        "{took:?} for {} drops",
        stats.dropped_buffer_full
    );
    llmtrace::force_flush(Duration::from_secs(60)).unwrap();
    let stats = llmtrace::stats();
    assert_eq!(stats.produced, SPANS, "{stats:?}");
    assert_eq!(stats.exported + stats.dropped, stats.produced, "{stats:?}");
}

/// A job that shuts llmtrace down from inside its own span: that span is still open at shutdown,
/// so it is counted as dropped there, and the counts add up.
#[llmtrace::workflow(name = "job")]
fn job() -> (llmtrace::Stats, Result<(), llmtrace::Error>) {
    for i in 0..10 {
        chunk(i);
    }
    let shutdown = llmtrace::shutdown(Duration::from_secs(30));
    (llmtrace::stats(), shutdown)
}

fn open_at_shutdown() {
    let exporter = PacedExporter::default();
    let _guard = llmtrace::init().with_exporter(exporter.clone()).install();
    // A span on another thread, still open too.
    let (hold, release) = std::sync::mpsc::channel::<()>();
    let (opened, wait_opened) = std::sync::mpsc::channel::<()>();
    let other = std::thread::spawn(move || {
        llmtrace::step("held").in_scope(|| {
            opened.send(()).unwrap();
            let _ = release.recv();
        })
    });
    wait_opened.recv().unwrap();
    let (stats, shutdown) = job();
    shutdown.unwrap();
    hold.send(()).unwrap();
    other.join().unwrap();
    println!("{stats:?}");
    assert_eq!(stats.exported, 10, "{stats:?}");
    assert_eq!(stats.dropped_open_at_shutdown, 2, "{stats:?}");
    assert_eq!(stats.dropped, 2, "{stats:?}");
    assert_eq!(stats.produced, 12, "{stats:?}");
    assert_eq!(stats.exported + stats.dropped, stats.produced, "{stats:?}");
    assert_eq!(exporter.received.load(Ordering::SeqCst), 10);
    // The two spans end after shutdown: nothing changes.
    assert_eq!(llmtrace::stats(), stats);
}
