//! The scenario of the OTLP signal tests (HTTP and gRPC): a traced answer whose span is judged,
//! and the checks on what the collector received besides the traces: the GenAI metric names,
//! and one `gen_ai.evaluation.result` log record carrying the judged span's ids.

use std::time::Duration;

use llmtrace::{Recorded, TraceContext};
use llmtrace_runtime as llmtrace;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(prompt: &str) -> String {
    llmtrace::current().record_usage(llmtrace::Usage::new(120, 12));
    format!("echo: {prompt}")
}

#[llmtrace::workflow(name = "support_answer")]
fn answer(question: &str) -> (String, TraceContext) {
    (chat(question), llmtrace::current().context())
}

/// Runs the traced answer, judges its span and flushes; returns the judged span's context.
pub(crate) fn answer_and_judge() -> TraceContext {
    let (_, judged) = answer("where is my order?");
    let recorded = llmtrace::evaluation("relevance")
        .score(0.82)
        .label("relevant")
        .record_on(&judged);
    assert_eq!(recorded, Recorded::LogRecord);
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");
    judged
}

/// The metrics and the evaluation's log record the collector received.
pub(crate) fn check(
    metrics: &[ExportMetricsServiceRequest],
    logs: &[ExportLogsServiceRequest],
    judged: &TraceContext,
) {
    let metric_names: Vec<&str> = metrics
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

    let records: Vec<_> = logs
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
