//! Metrics count every call the export thread receives, including those of traces the tail
//! sampler then drops: with a tail sampler keeping nothing, no span is exported and every call
//! is in the metrics. (Calls the head sampler drops count too: `metrics_head_sampled.rs`.)
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::time::Duration;

use llmtrace::TailSampler;
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(n: u64) -> String {
    llmtrace::current().record_usage(llmtrace::Usage::new(n, 1));
    "ok".into()
}

#[llmtrace::workflow(name = "answer")]
fn answer(n: u64) -> String {
    chat(n)
}

#[test]
fn calls_of_dropped_traces_still_count() {
    let spans = InMemorySpanExporter::default();
    let metrics = InMemoryMetricExporter::default();
    let _guard = llmtrace::init()
        .with_exporter(spans.clone())
        .tail_sampling(TailSampler::keep_fraction(0.0).keep_errors(false))
        .metrics_exporter(metrics.clone(), Duration::from_secs(3600))
        .install();
    for n in 1..=10 {
        answer(n * 100);
    }
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    assert!(spans.get_finished_spans().unwrap().is_empty());
    assert_eq!(llmtrace::stats().sampled_out, 20);

    let exported = metrics.get_finished_metrics().unwrap();
    let usage = exported
        .iter()
        .rev()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .find(|m| m.name() == "gen_ai.client.token.usage")
        .expect("token usage");
    let input = match usage.data() {
        AggregatedMetrics::U64(MetricData::Histogram(h)) => h
            .data_points()
            .find(|p| {
                p.attributes().any(|kv| {
                    kv.key.as_str() == "gen_ai.token.type" && kv.value.as_str() == "input"
                })
            })
            .map(|p| (p.count(), p.sum()))
            .unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(input, (10, 5500), "every call, every token");
    let summary = llmtrace::metrics_summary();
    assert_eq!(summary.rows()[0].calls, 10);
}
