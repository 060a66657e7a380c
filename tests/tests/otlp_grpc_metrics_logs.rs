//! With OTLP/gRPC trace export on, the metrics and the evaluations of ended spans go to the same
//! collector over gRPC: a loopback tonic receiver gets the traces, the GenAI metrics and the
//! `gen_ai.evaluation.result` log record with the judged span's ids.
#![cfg(feature = "otlp-grpc")]
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::time::{Duration, Instant};

use llmtrace::{OtlpProtocol, Recorded, TraceContext};
use llmtrace_runtime as llmtrace;

#[path = "support/grpc_collector.rs"]
mod grpc_collector;

use grpc_collector::GrpcCollector;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(prompt: &str) -> String {
    llmtrace::current().record_usage(llmtrace::Usage::new(120, 12));
    format!("echo: {prompt}")
}

#[llmtrace::workflow(name = "support_answer")]
fn answer(question: &str) -> (String, TraceContext) {
    (chat(question), llmtrace::current().context())
}

#[test]
fn metrics_and_evaluation_logs_follow_the_traces_over_grpc() {
    let collector = GrpcCollector::start();

    let guard = llmtrace::init()
        .service_name("otlp-grpc-signals")
        .otlp_endpoint(OtlpProtocol::Grpc, collector.endpoint.clone())
        .install();

    let (_, judged) = answer("where is my order?");
    let recorded = llmtrace::evaluation("relevance")
        .score(0.82)
        .label("relevant")
        .record_on(&judged);
    assert_eq!(recorded, Recorded::LogRecord);
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");

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

    let metric_names: Vec<&str> = got
        .metrics
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .map(|m| m.name.as_str())
        .collect();
    for name in [
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "llmtrace.client.cost",
    ] {
        assert!(
            metric_names.contains(&name),
            "{name} not received: {metric_names:?}"
        );
    }

    let records: Vec<_> = got
        .logs
        .iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    let record = records[0];
    assert_eq!(record.event_name, "gen_ai.evaluation.result");
    assert_eq!(
        record.trace_id,
        judged.trace_id().unwrap().0.to_be_bytes().to_vec()
    );
    assert_eq!(
        record.span_id,
        judged.span_id().unwrap().0.to_be_bytes().to_vec()
    );
    let names: Vec<&str> = record.attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(
        names,
        [
            "gen_ai.evaluation.name",
            "gen_ai.evaluation.score.value",
            "gen_ai.evaluation.score.label"
        ]
    );
}
