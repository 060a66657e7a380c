//! Export calls are bounded in bytes as well as in spans: a batch of large spans (long prompts
//! captured) goes out once its encoded size reaches `max_batch_bytes`, so that a request stays
//! within the body limit of the collector or proxy it goes to, and a JSONL line far below the
//! file's cap. Over OTLP/HTTP the receiver on 127.0.0.1 measures every request body; through a
//! `SpanExporter` the test encodes each batch it is given as the OTLP protobuf request
//! opentelemetry-otlp would send, and measures that; the JSONL file's lines are read back.
//!
//! llmtrace installs once per process: each scenario runs in a child process, this test binary
//! started again filtered to `batch_bytes_child` with the scenario in `LLMTRACE_BATCH_SCENARIO`.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

#[path = "support/fault_receiver.rs"]
mod fault_receiver;

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fault_receiver::{FaultReceiver, Mode};
use llmtrace_runtime as llmtrace;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use prost::Message;

const SCENARIO: &str = "LLMTRACE_BATCH_SCENARIO";
/// Spans made in each scenario.
const SPANS: usize = 200;
/// The prompt each span captures: about 12 KB of JSON, so that the spans make some 2.5 MB.
const PROMPT_BYTES: usize = 12_000;
/// The byte limit set: the spans need about ten requests.
const LIMIT: usize = 256 * 1024;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini")]
fn answer(prompt: &str, n: usize) -> String {
    format!("answer {n} to a prompt of {} bytes", prompt.len())
}

fn make_spans() {
    // Each prompt differs, so that nothing along the way could share them.
    for n in 0..SPANS {
        let prompt = format!("{n:06} {}", "x".repeat(PROMPT_BYTES));
        answer(&prompt, n);
    }
}

fn run_child(scenario: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["batch_bytes_child", "--exact", "--ignored", "--nocapture"])
        .env(SCENARIO, scenario)
        .output()
        .expect("start the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{scenario} failed:\n{stdout}\n{stderr}"
    );
}

#[test]
fn otlp_http_requests_stay_within_max_batch_bytes() {
    run_child("otlp_http");
}

#[test]
fn span_exporter_batches_stay_within_max_batch_bytes() {
    run_child("span_exporter");
}

#[test]
fn jsonl_lines_stay_within_max_batch_bytes() {
    run_child("jsonl");
}

#[test]
fn otel_bsp_max_export_batch_size_sets_the_spans_per_call() {
    run_child("bsp_env");
}

#[test]
#[ignore = "run by the tests above, in a process of its own"]
fn batch_bytes_child() {
    match std::env::var(SCENARIO).as_deref() {
        Ok("otlp_http") => otlp_http(),
        Ok("span_exporter") => span_exporter(),
        Ok("jsonl") => jsonl(),
        Ok("bsp_env") => bsp_env(),
        other => panic!("unknown scenario {other:?}"),
    }
}

/// Checks a run's requests (body bytes, spans): every span went out, each request within the
/// limit plus one span, and the limit cut the spans into batches that fill it (not into single
/// spans, nor left them whole in one request of every span, the span limit allowing it).
fn check(requests: &[(usize, usize)]) {
    println!("requests (bytes, spans): {requests:?}");
    let spans: usize = requests.iter().map(|r| r.1).sum();
    assert_eq!(spans, SPANS, "{requests:?}");
    let one_span = PROMPT_BYTES + 2_000;
    for &(bytes, _) in requests {
        assert!(
            bytes <= LIMIT + one_span,
            "a request of {bytes} bytes: {requests:?}"
        );
    }
    assert!(requests.len() >= 8, "{requests:?}");
    // Every request but the flush's last reached the limit (give or take the estimate).
    for &(bytes, _) in &requests[..requests.len() - 1] {
        assert!(
            bytes >= LIMIT * 3 / 4,
            "a request of {bytes} bytes: {requests:?}"
        );
    }
}

/// Installs `builder` with the byte limit, makes the spans and flushes: all of them exported.
fn export_all(builder: llmtrace::Builder) {
    let guard = builder
        .max_batch_bytes(LIMIT)
        // No round of the worker while the spans are made: the only partial batch is the
        // flush's last.
        .export_interval(Duration::from_secs(60))
        .install();
    make_spans();
    llmtrace::force_flush(Duration::from_secs(30)).expect("flush");
    let stats = llmtrace::stats();
    assert_eq!(stats.exported, SPANS as u64, "{stats:?}");
    assert_eq!(stats.dropped, 0, "{stats:?}");
    drop(guard);
}

fn otlp_http() {
    let receiver = FaultReceiver::start(Mode::Healthy, Duration::from_secs(60));
    export_all(
        llmtrace::init().otlp_endpoint(llmtrace::OtlpProtocol::HttpProtobuf, receiver.endpoint()),
    );
    check(&receiver.requests());
}

/// Records each batch as the OTLP protobuf request it makes: its size and its spans.
#[derive(Debug, Clone, Default)]
struct Measuring {
    batches: Arc<Mutex<Vec<(usize, usize)>>>,
}

impl SpanExporter for Measuring {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len();
        let request = ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(
                batch,
                &ResourceAttributesWithSchema::default(),
            ),
        };
        let bytes = request.encoded_len();
        self.batches.lock().unwrap().push((bytes, spans));
        Ok(())
    }
}

fn span_exporter() {
    let exporter = Measuring::default();
    export_all(llmtrace::init().with_exporter(exporter.clone()));
    let batches = exporter.batches.lock().unwrap().clone();
    check(&batches);
}

/// The lines of the JSONL file: each line's length (newline included) and its spans.
fn jsonl() {
    let dir = std::env::temp_dir().join(format!("llmtrace-batch-bytes-{}", std::process::id()));
    let path = dir.join("traces.jsonl");
    export_all(llmtrace::init().jsonl(&path));
    let text = std::fs::read_to_string(&path).expect("the JSONL file");
    std::fs::remove_dir_all(&dir).expect("remove the test's directory");
    let lines: Vec<(usize, usize)> = text
        .split_inclusive('\n')
        .map(|line| {
            let request: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
                .as_array()
                .map_or(0, Vec::len);
            (line.len(), spans)
        })
        .collect();
    check(&lines);
}

/// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`, as the SDK's batch processor reads it, when the code sets no
/// batch size: batches of 16 spans, well within the byte limit.
fn bsp_env() {
    let exporter = Measuring::default();
    let env: std::collections::HashMap<String, String> =
        [("OTEL_BSP_MAX_EXPORT_BATCH_SIZE".to_owned(), "16".to_owned())].into();
    let guard = llmtrace::init()
        .env(env)
        .with_exporter(exporter.clone())
        .export_interval(Duration::from_secs(60))
        .install();
    make_spans();
    llmtrace::force_flush(Duration::from_secs(30)).expect("flush");
    drop(guard);
    let batches = exporter.batches.lock().unwrap().clone();
    let spans: Vec<usize> = batches.iter().map(|b| b.1).collect();
    assert_eq!(spans.iter().sum::<usize>(), SPANS, "{spans:?}");
    assert!(
        spans.iter().all(|&n| n == 16 || n == SPANS % 16),
        "{spans:?}"
    );
    assert_eq!(spans.len(), SPANS.div_ceil(16), "{spans:?}");
}
