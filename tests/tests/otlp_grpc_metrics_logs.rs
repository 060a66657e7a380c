//! With OTLP/gRPC trace export on, the metrics and the evaluations of ended spans go to the same
//! collector over gRPC: a loopback tonic receiver gets the traces, the GenAI metrics and the
//! `gen_ai.evaluation.result` log record with the judged span's ids.
#![cfg(feature = "otlp-grpc")]
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use llmtrace::OtlpProtocol;
use llmtrace_runtime as llmtrace;

#[path = "support/grpc_collector.rs"]
mod grpc_collector;
#[path = "support/signals.rs"]
mod signals;

use grpc_collector::GrpcCollector;

#[test]
fn metrics_and_evaluation_logs_follow_the_traces_over_grpc() {
    let collector = GrpcCollector::start();
    let guard = llmtrace::init()
        .service_name("otlp-grpc-signals")
        .otlp_endpoint(OtlpProtocol::Grpc, collector.endpoint.clone())
        .install();

    let judged = signals::answer_and_judge();

    // Bounded wait for the three signals (the metrics reader exports on its own thread).
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let got = collector.received();
        if !got.traces.is_empty() && !got.metrics.is_empty() && !got.logs.is_empty() {
            break;
        }
        drop(got);
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(guard);
    let got = collector.stop();
    assert!(!got.traces.is_empty(), "no traces");
    signals::check(&got.metrics, &got.logs, &judged);
}
