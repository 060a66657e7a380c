//! A collector that acknowledges a request but rejects some of its spans (an OTLP/HTTP
//! `partial_success` with `rejected_spans`): those spans are counted as dropped
//! (`dropped_rejected`), not exported, so that `produced == exported + dropped` still holds; the
//! collector's `error_message` is in a warning, printed once for several such answers.
//!
//! The exporting runs in a child process (this test binary, filtered to `partial_success_child`)
//! so that its stderr, where warnings go, can be read.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

#[path = "support/fault_receiver.rs"]
mod fault_receiver;

use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use fault_receiver::{FaultReceiver, Mode, REJECTION_MESSAGE};
use llmtrace_runtime as llmtrace;

const CHILD_VAR: &str = "LLMTRACE_PARTIAL_SUCCESS_CHILD";
const REPORT_PREFIX: &str = "partial-success-report ";
/// Batches exported, each flushed on its own, and the spans in each.
const BATCHES: u64 = 3;
const SPANS_PER_BATCH: u64 = 10;
/// A child that has not finished by then is killed and fails the test.
const CHILD_DEADLINE: Duration = Duration::from_secs(120);

#[test]
fn rejected_spans_are_dropped_and_the_collectors_message_reported() {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([
            "partial_success_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_VAR, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the child");
    let started = Instant::now();
    while child.try_wait().expect("wait for the child").is_none() {
        if started.elapsed() > CHILD_DEADLINE {
            let _ = child.kill();
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().expect("the child's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    assert!(output.status.success(), "child failed: {context}");
    // The child really ran: a filtered-out test succeeds too.
    assert!(
        stdout.contains(REPORT_PREFIX) && stdout.contains("1 passed"),
        "{context}"
    );

    let rejections: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("the collector rejected"))
        .collect();
    // Several answers rejected spans within the warning interval: one warning.
    assert_eq!(rejections.len(), 1, "{context}");
    assert!(
        rejections[0].starts_with("llmtrace: warning: "),
        "{context}"
    );
    assert!(rejections[0].contains(REJECTION_MESSAGE), "{context}");
    assert!(rejections[0].contains("dropped_rejected"), "{context}");
    // Nothing else went wrong: no other warning.
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.starts_with("llmtrace: warning:"))
            .count(),
        1,
        "{context}"
    );
}

#[llmtrace::tool(name = "lookup_order", description = "Find an order by id")]
fn lookup_order(order_id: u64) -> u64 {
    order_id * 2
}

/// The exporting side, in a process of its own.
#[test]
#[ignore = "run by `rejected_spans_are_dropped_and_the_collectors_message_reported` in a child process"]
fn partial_success_child() {
    assert_eq!(
        std::env::var(CHILD_VAR).as_deref(),
        Ok("1"),
        "run by the parent"
    );
    let receiver = FaultReceiver::start(Mode::RejectHalf, Duration::from_secs(60));
    let guard = llmtrace::init()
        .service_name("llmtrace-partial-success")
        .otlp_endpoint(llmtrace::OtlpProtocol::HttpProtobuf, receiver.endpoint())
        .export_timeout(Duration::from_secs(10))
        .install();
    // Returns once the worker has built its exporter.
    guard
        .force_flush(Duration::from_secs(30))
        .expect("the export worker starts");

    for batch in 0..BATCHES {
        for i in 0..SPANS_PER_BATCH {
            assert_eq!(lookup_order(batch * 100 + i), (batch * 100 + i) * 2);
        }
        guard
            .force_flush(Duration::from_secs(30))
            .expect("the batch is acknowledged");
    }
    llmtrace::shutdown(Duration::from_secs(10)).expect("shutdown");

    let stats = llmtrace::stats();
    let tally = receiver.tally();
    let received = receiver.received_ids().len() as u64;
    println!("{REPORT_PREFIX}{stats:?} receiver={tally:?} received={received}");

    let produced = BATCHES * SPANS_PER_BATCH;
    assert_eq!(stats.produced, produced, "{stats:?}");
    // Every span reached the collector, which answered each request with a partial success.
    assert_eq!(received, produced, "{stats:?} {tally:?}");
    assert!(tally.ok >= BATCHES, "{tally:?}");
    assert!(
        tally.rejected >= BATCHES * SPANS_PER_BATCH / 2 - BATCHES,
        "{tally:?}"
    );
    // What the collector rejected is dropped, the rest exported.
    assert_eq!(
        stats.dropped_rejected, tally.rejected,
        "{stats:?} {tally:?}"
    );
    assert_eq!(stats.exported, received - tally.rejected, "{stats:?}");
    assert_eq!(stats.dropped, stats.dropped_rejected, "{stats:?}");
    assert_eq!(
        stats.produced,
        stats.exported + stats.captured + stats.sampled_out + stats.dropped,
        "{stats:?}"
    );
    assert_eq!(stats.warnings, 1, "{stats:?}");
    drop(guard);
}
