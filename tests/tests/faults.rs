//! Export survives collector faults: a collector that is down at start, goes down mid-run,
//! stalls, throttles (`503` / `429` with `Retry-After`) or closes connections mid-request never
//! blocks or slows instrumented code, and every span ends up counted exactly once, as exported
//! (acknowledged by the collector) or dropped with a reason. Every acknowledged span was received.
//!
//! Each fault lasts `FAULT` (S = 5 s) and runs in its own process (llmtrace installs once per
//! process): `export_survives_collector_faults` starts this test binary once per scenario, all at
//! once, filtered to `fault_scenario_child` with the scenario in `LLMTRACE_FAULT_SCENARIO`, and
//! checks each one's exit status and report. `fault_scenario_child` is ignored in ordinary runs.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

#[path = "support/fault_receiver.rs"]
mod fault_receiver;

use std::collections::HashSet;
use std::fs::File;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use fault_receiver::{FaultReceiver, Mode, Tally};
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// How long each fault lasts (S).
const FAULT: Duration = Duration::from_secs(5);
/// The whole time spent inside instrumented calls must stay under this (S/5)...
const MAX_WORKLOAD: Duration = Duration::from_secs(1);
/// ...and no single call may take longer than this (S/10).
const MAX_CALL: Duration = Duration::from_millis(500);
/// When a mid-run fault begins (once export works), and how long the workload goes on after
/// the fault cleared.
const FAULT_AT: Duration = Duration::from_secs(1);
const AFTER_FAULT: Duration = Duration::from_secs(2);
/// Instrumented threads, and the pace of each one's calls: about 6,400 calls over 8 s, before,
/// through and after the fault.
const THREADS: u64 = 4;
const PACE: Duration = Duration::from_millis(5);
/// The export timeout given to llmtrace (also what the OTLP exporter's retries fit into).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(2);
/// The deadline given to `llmtrace::shutdown`.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(5);
/// A handful of warnings for a whole fault: errors are reported once each, drops at most once
/// per 10 s; a warning per failed export (dozens of batches fail) would be far more.
const MAX_WARNINGS: u64 = 6;
/// A child that has not finished by then is killed and fails the test.
const CHILD_DEADLINE: Duration = Duration::from_secs(120);

const SCENARIO_VAR: &str = "LLMTRACE_FAULT_SCENARIO";
const REPORT_PREFIX: &str = "fault-report ";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    DownAtStart,
    GoesDown,
    Stalls,
    Unavailable503,
    TooManyRequests429,
    ClosesMidRequest,
}

impl Scenario {
    const ALL: [Scenario; 6] = [
        Scenario::DownAtStart,
        Scenario::GoesDown,
        Scenario::Stalls,
        Scenario::Unavailable503,
        Scenario::TooManyRequests429,
        Scenario::ClosesMidRequest,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::DownAtStart => "down_at_start",
            Scenario::GoesDown => "goes_down",
            Scenario::Stalls => "stalls",
            Scenario::Unavailable503 => "unavailable_503",
            Scenario::TooManyRequests429 => "too_many_requests_429",
            Scenario::ClosesMidRequest => "closes_mid_request",
        }
    }

    fn from_name(name: &str) -> Scenario {
        *Scenario::ALL
            .iter()
            .find(|s| s.name() == name)
            .unwrap_or_else(|| panic!("unknown scenario {name:?}"))
    }

    fn fault(self) -> Mode {
        match self {
            Scenario::DownAtStart | Scenario::GoesDown => Mode::Refusing,
            Scenario::Stalls => Mode::Stalling,
            Scenario::Unavailable503 => Mode::Unavailable,
            Scenario::TooManyRequests429 => Mode::TooManyRequests,
            Scenario::ClosesMidRequest => Mode::CloseMidRequest,
        }
    }

    /// The receiver saw the fault happen.
    fn fault_seen(self, tally: &Tally) -> bool {
        match self {
            // Refused connections leave no trace on the receiver; the failed exports show them.
            Scenario::DownAtStart => true,
            // The open connection was closed when the collector went down.
            Scenario::GoesDown => tally.closed_down > 0,
            Scenario::Stalls => tally.stalled > 0,
            Scenario::Unavailable503 => tally.unavailable > 0,
            Scenario::TooManyRequests429 => tally.too_many > 0,
            Scenario::ClosesMidRequest => tally.cut > 0,
        }
    }
}

#[test]
fn export_survives_collector_faults() {
    let exe = std::env::current_exe().expect("test binary");
    let dir = std::env::temp_dir();
    let started = Instant::now();
    let mut children: Vec<(Scenario, Child, std::path::PathBuf, std::path::PathBuf)> =
        Scenario::ALL
            .iter()
            .map(|&scenario| {
                let stem = format!("llmtrace-faults-{}-{}", std::process::id(), scenario.name());
                let out = dir.join(format!("{stem}.out"));
                let err = dir.join(format!("{stem}.err"));
                let child = Command::new(&exe)
                    .args([
                        "fault_scenario_child",
                        "--exact",
                        "--ignored",
                        "--nocapture",
                        "--test-threads=1",
                    ])
                    .env(SCENARIO_VAR, scenario.name())
                    .stdin(Stdio::null())
                    .stdout(File::create(&out).expect("stdout file"))
                    .stderr(File::create(&err).expect("stderr file"))
                    .spawn()
                    .expect("start a scenario");
                (scenario, child, out, err)
            })
            .collect();

    let mut failures = Vec::new();
    for (scenario, child, out, err) in &mut children {
        let status = loop {
            match child.try_wait().expect("wait for a scenario") {
                Some(status) => break Some(status),
                None if started.elapsed() > CHILD_DEADLINE => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                None => thread::sleep(Duration::from_millis(50)),
            }
        };
        let stdout = std::fs::read_to_string(&*out).unwrap_or_default();
        let stderr = std::fs::read_to_string(&*err).unwrap_or_default();
        let _ = std::fs::remove_file(&*out);
        let _ = std::fs::remove_file(&*err);
        let report = stdout
            .lines()
            .find_map(|l| Some(l.split_once(REPORT_PREFIX)?.1));
        println!(
            "{:<22} {}",
            scenario.name(),
            report.unwrap_or("(no report)")
        );
        // The child really ran its scenario: a child whose test was filtered out, or that
        // returned before running, exits with success too.
        let ran = report.is_some() && stdout.contains("1 passed");
        match status {
            Some(s) if s.success() && ran => {}
            Some(s) if s.success() => failures.push(format!(
                "{}: the child did not run its scenario (no report, or its test did not run)\n\
                 --- stdout\n{stdout}\n--- stderr\n{stderr}",
                scenario.name()
            )),
            Some(s) => failures.push(format!(
                "{}: {s}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                scenario.name()
            )),
            None => failures.push(format!(
                "{}: killed after {CHILD_DEADLINE:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
                scenario.name()
            )),
        }
    }
    println!("all scenarios took {:?}", started.elapsed());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// One scenario, in a process of its own (see the module docs).
#[test]
#[ignore = "run by `export_survives_collector_faults` in a child process"]
fn fault_scenario_child() {
    let Ok(name) = std::env::var(SCENARIO_VAR) else {
        return;
    };
    run_scenario(Scenario::from_name(&name));
}

fn span_id() -> u64 {
    llmtrace::current().span_id().map_or(0, |id| id.0)
}

#[llmtrace::tool(name = "lookup_order", description = "Find an order by id")]
fn lookup_order(order_id: u64) -> u64 {
    let _ = order_id;
    span_id()
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = 0.3)]
fn chat(prompt: &str) -> Result<u64, String> {
    let _ = prompt;
    Ok(span_id())
}

/// A second exporter that tells which batches the first one (OTLP) acknowledged.
///
/// The worker calls the exporters of a batch in order and counts the batch once all have
/// returned: exported when the first acknowledged it, dropped otherwise. So at each call this
/// exporter reads `stats().exported`, which then covers every earlier batch but not this one;
/// the next reading (or the final count) tells whether this batch was acknowledged: it grew by
/// the batch's size or not at all (anything else fails the test).
#[derive(Clone, Debug, Default)]
struct AckRecorder {
    batches: Arc<Mutex<Vec<Batch>>>,
}

/// A batch the recorder saw, and the exported count just before it was counted.
#[derive(Debug)]
struct Batch {
    ids: Vec<u64>,
    exported_before: u64,
}

impl SpanExporter for AckRecorder {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let exported_before = llmtrace::stats().exported;
        let ids = batch
            .iter()
            .map(|s| u64::from_be_bytes(s.span_context.span_id().to_bytes()))
            .collect();
        self.batches.lock().unwrap().push(Batch {
            ids,
            exported_before,
        });
        Ok(())
    }
}

impl AckRecorder {
    /// The ids of the spans the first exporter acknowledged, given the final exported count.
    fn acked(&self, exported: u64) -> HashSet<u64> {
        let batches = self.batches.lock().unwrap();
        let mut acked = HashSet::new();
        for (
            k,
            Batch {
                ids,
                exported_before,
            },
        ) in batches.iter().enumerate()
        {
            let after = batches
                .get(k + 1)
                .map_or(exported, |next| next.exported_before);
            let grew = after - exported_before;
            assert!(
                grew == 0 || grew == ids.len() as u64,
                "batch {k} of {} spans: exported grew by {grew}",
                ids.len()
            );
            if grew > 0 {
                acked.extend(ids);
            }
        }
        acked
    }
}

/// What one thread of the workload did.
#[derive(Default)]
struct Work {
    calls: u64,
    in_calls: Duration,
    slowest: Duration,
    /// Span ids of the calls that started after the fault cleared.
    after_fault: Vec<u64>,
}

/// Calls instrumented functions every `PACE` until `stop`, timing each call.
fn workload(thread: u64, fault_cleared: &OnceLock<Instant>, stop: &AtomicBool) -> Work {
    let mut work = Work::default();
    let t0 = Instant::now();
    for i in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if let Some(wait) = (t0 + PACE * i).checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
        let started = Instant::now();
        let id = if (u64::from(i) + thread).is_multiple_of(2) {
            lookup_order(u64::from(i))
        } else {
            chat("Where is my order?").unwrap()
        };
        let took = started.elapsed();
        work.calls += 1;
        work.in_calls += took;
        work.slowest = work.slowest.max(took);
        if fault_cleared
            .get()
            .is_some_and(|cleared| started > *cleared)
        {
            work.after_fault.push(id);
        }
    }
    work
}

fn run_scenario(scenario: Scenario) {
    let receiver = FaultReceiver::start(
        if scenario == Scenario::DownAtStart {
            Mode::Refusing
        } else {
            Mode::Healthy
        },
        Duration::from_secs(60),
    );
    let recorder = AckRecorder::default();
    let guard = llmtrace::init()
        .service_name("llmtrace-faults")
        .otlp_endpoint(llmtrace::OtlpProtocol::HttpProtobuf, receiver.endpoint())
        .with_exporter(recorder.clone())
        .export_timeout(EXPORT_TIMEOUT)
        .install();
    // Nothing to export yet: this returns once the worker has built its exporters (slow in a
    // debug build on a busy machine), so that the schedule below is the collector's, not that.
    llmtrace::force_flush(Duration::from_secs(30)).expect("the export worker starts");

    let fault_cleared = Arc::new(OnceLock::new());
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (fault_cleared, stop) = (fault_cleared.clone(), stop.clone());
            thread::spawn(move || workload(t, &fault_cleared, &stop))
        })
        .collect();

    // The fault, on schedule. A mid-run fault starts once export works (a connection is open).
    if scenario != Scenario::DownAtStart {
        thread::sleep(FAULT_AT);
        let deadline = Instant::now() + Duration::from_secs(20);
        while receiver.tally().ok == 0 {
            assert!(Instant::now() < deadline, "no export before the fault");
            thread::sleep(Duration::from_millis(10));
        }
    }
    receiver.set_mode(scenario.fault());
    thread::sleep(FAULT);
    receiver.set_mode(Mode::Healthy);
    fault_cleared.set(Instant::now()).unwrap();
    thread::sleep(AFTER_FAULT);
    stop.store(true, Ordering::Relaxed);

    let work: Vec<Work> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let shutdown_started = Instant::now();
    let shutdown = llmtrace::shutdown(SHUTDOWN_DEADLINE);
    let shutdown_took = shutdown_started.elapsed();
    drop(guard); // already shut down: does nothing
    let stats = llmtrace::stats();
    let received = receiver.received_ids();
    let tally = receiver.tally();
    drop(receiver);

    let calls: u64 = work.iter().map(|w| w.calls).sum();
    let in_calls: Duration = work.iter().map(|w| w.in_calls).sum();
    let slowest = work.iter().map(|w| w.slowest).max().unwrap_or_default();
    let after_fault: Vec<u64> = work.iter().flat_map(|w| w.after_fault.clone()).collect();
    let acked = recorder.acked(stats.exported);
    let acked_after_fault = after_fault.iter().filter(|id| acked.contains(id)).count();
    let acked_not_received = acked.difference(&received).count();

    println!(
        "\n{REPORT_PREFIX}calls={calls} in_calls={in_calls:.1?} slowest_call={slowest:.1?} \
         produced={} exported={} dropped={} (export_failed={} at_shutdown={} buffer_full={} \
         queue_full={}) received_unique={} acked={} acked_not_received={acked_not_received} \
         acked_after_fault={acked_after_fault} warnings={} receiver={tally:?} \
         shutdown={shutdown:?} in {shutdown_took:.1?}",
        stats.produced,
        stats.exported,
        stats.dropped,
        stats.dropped_export_failed,
        stats.dropped_at_shutdown,
        stats.dropped_buffer_full,
        stats.dropped_queue_full,
        received.len(),
        acked.len(),
        stats.warnings,
    );

    // Instrumented code is never blocked or slowed by the collector.
    assert!(in_calls < MAX_WORKLOAD, "time in calls: {in_calls:?}");
    assert!(slowest < MAX_CALL, "slowest call: {slowest:?}");
    // Every span is counted exactly once.
    assert_eq!(stats.produced, calls, "{stats:?}");
    assert_eq!(stats.captured + stats.sampled_out, 0, "{stats:?}");
    assert_eq!(stats.exported + stats.dropped, stats.produced, "{stats:?}");
    // Acknowledged implies received.
    assert_eq!(
        acked.len() as u64,
        stats.exported,
        "acked ids vs exported count"
    );
    assert_eq!(
        acked_not_received, 0,
        "acknowledged spans the receiver never got"
    );
    // The fault happened, cost spans, and export recovered after it.
    assert!(scenario.fault_seen(&tally), "fault not seen: {tally:?}");
    assert!(stats.dropped_export_failed > 0, "{stats:?}");
    assert!(
        acked_after_fault > 0,
        "nothing exported after the fault cleared"
    );
    // Failures are reported, rate-limited.
    assert!(stats.warnings >= 1, "{stats:?}");
    assert!(stats.warnings <= MAX_WARNINGS, "{stats:?}");
    // Shutdown kept its deadline.
    assert!(
        shutdown_took < SHUTDOWN_DEADLINE,
        "shutdown took {shutdown_took:?}"
    );
}
