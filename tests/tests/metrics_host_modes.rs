//! The GenAI metrics in the host modes: through an OpenTelemetry tracer provider (OTel-provider
//! mode) and through a `tracing` subscriber with tracing-opentelemetry (`tracing` mode), the
//! model and tool calls are counted as in native mode, with their tokens, `error.type` and a
//! cost counter equal to the trace's roll-up, and a flush of llmtrace exports them.
//!
//! A call the host samples out counts too: with an OpenTelemetry sampler that drops nine traces
//! in ten (OTel-provider mode) or all of them (`tracing` mode, behind tracing-opentelemetry), the
//! metrics count every call, with its run-time model, usage given by hand, and an agent's calls.
//!
//! llmtrace installs once per process, so each mode runs in a child process of this test
//! binary (the ignored `child` tests, run by the others).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::time::Duration;

use llmtrace::testing::SpanDataExt;
use llmtrace::{LlmResponse, Usage};
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::trace::{InMemorySpanExporter, Sampler, SdkTracerProvider};

#[path = "support/child_process.rs"]
mod child_process;
#[path = "support/fixtures.rs"]
mod fixtures;
#[path = "support/host_mode.rs"]
mod host_mode;

use fixtures::RateLimited;

struct Reply(u64);

impl LlmResponse for Reply {
    fn usage(&self) -> Option<Usage> {
        Some(Usage::new(self.0, self.0 / 10))
    }
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(n: u64, fail: bool) -> Result<Reply, RateLimited> {
    if fail {
        return Err(RateLimited);
    }
    Ok(Reply(n))
}

#[llmtrace::tool]
fn lookup(n: u64) -> u64 {
    n + 1
}

#[llmtrace::workflow(name = "support")]
fn support() -> u64 {
    let a = chat(1000, false).map_or(0, |r| r.0);
    let b = chat(200, false).map_or(0, |r| r.0);
    let _ = chat(0, true);
    lookup(a + b)
}

/// The last export of metric `name`.
fn find<'a>(exported: &'a [ResourceMetrics], name: &str) -> &'a Metric {
    exported
        .iter()
        .rev()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("{name} recorded"))
}

/// (count, sum) of a histogram's points, or (points, value) of a counter's, that carry
/// `key = value`.
fn total(m: &Metric, key: &str, value: &str) -> (u64, f64) {
    let with = |attrs: Vec<(String, String)>| attrs.iter().any(|(k, v)| k == key && v == value);
    let attrs = |it: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
        it.map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect::<Vec<_>>()
    };
    match m.data() {
        AggregatedMetrics::U64(MetricData::Histogram(h)) => h
            .data_points()
            .filter(|p| with(attrs(&mut p.attributes())))
            .fold((0, 0.0), |(c, s), p| (c + p.count(), s + p.sum() as f64)),
        AggregatedMetrics::F64(MetricData::Histogram(h)) => h
            .data_points()
            .filter(|p| with(attrs(&mut p.attributes())))
            .fold((0, 0.0), |(c, s), p| (c + p.count(), s + p.sum())),
        AggregatedMetrics::F64(MetricData::Sum(s)) => s
            .data_points()
            .filter(|p| with(attrs(&mut p.attributes())))
            .fold((0, 0.0), |(c, s), p| (c + 1, s + p.value())),
        other => panic!("{}: {other:?}", m.name()),
    }
}

/// Installs llmtrace in host mode `mode` over `provider`, with an in-memory metrics exporter
/// that only a flush exports to.
fn install(mode: &str, provider: &SdkTracerProvider) -> (InMemoryMetricExporter, llmtrace::Guard) {
    let metrics = InMemoryMetricExporter::default();
    let builder = llmtrace::init().metrics_exporter(metrics.clone(), Duration::from_secs(3600));
    (metrics, host_mode::install(builder, mode, provider))
}

#[test]
#[ignore = "run by the other tests in a child process"]
fn child() {
    let mode = child_process::mode();
    let app = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(app.clone())
        .build();
    let (metrics, _guard) = install(&mode, &provider);
    assert_eq!(support(), 1201);
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    provider.force_flush().unwrap();
    let spans = app.get_finished_spans().unwrap();
    let root = spans
        .iter()
        .find(|s| s.name == "invoke_workflow support")
        .expect("the root");
    let rolled_up = root.f64_attr("llmtrace.trace.cost_usd").expect("priced");

    let ex = metrics.get_finished_metrics().unwrap();
    let model = ("gen_ai.request.model", "gpt-4o");
    let duration = find(&ex, "gen_ai.client.operation.duration");
    assert_eq!(total(duration, model.0, model.1).0, 3);
    assert_eq!(total(duration, "error.type", "rate_limited").0, 1);
    let tokens = find(&ex, "gen_ai.client.token.usage");
    assert_eq!(total(tokens, "gen_ai.token.type", "input"), (2, 1200.0));
    assert_eq!(total(tokens, "gen_ai.token.type", "output"), (2, 120.0));
    let cost = total(find(&ex, "llmtrace.client.cost"), model.0, model.1).1;
    assert!(
        (cost - rolled_up).abs() < 1e-12,
        "cost counter {cost}, roll-up {rolled_up}"
    );
    let tool = find(&ex, "gen_ai.execute_tool.duration");
    assert_eq!(total(tool, "gen_ai.tool.name", "lookup").0, 1);
}

/// Traces of the sampled modes.
const TRACES: u64 = 200;

#[llmtrace::llm_call(provider = "openai", model = model)]
fn chat_dynamic(model: &str) -> String {
    llmtrace::current().record_usage(Usage::new(50, 5));
    model.to_owned()
}

#[llmtrace::agent(name = "planner")]
fn planner() -> u64 {
    let a = chat(1000, false).map_or(0, |r| r.0);
    let b = chat_dynamic("gpt-4o-mini").len() as u64;
    lookup(a + b)
}

#[test]
#[ignore = "run by the other tests in a child process"]
fn child_sampled() {
    let mode = child_process::mode();
    let app = InMemorySpanExporter::default();
    let sampler = match mode.as_str() {
        "provider" => Sampler::TraceIdRatioBased(0.1),
        _ => Sampler::AlwaysOff,
    };
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_simple_exporter(app.clone())
        .build();
    let (metrics, _guard) = install(&mode, &provider);
    for _ in 0..TRACES {
        assert_eq!(support(), 1201);
        assert_eq!(planner(), 1012);
    }
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    provider.force_flush().unwrap();
    let spans = app.get_finished_spans().unwrap();
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "invoke_workflow support")
        .collect();
    assert!(
        (roots.len() as u64) < TRACES / 2,
        "{} of {TRACES} traces exported",
        roots.len()
    );
    // The provider samples one trace in ten: some are recorded (their cost is compared below).
    assert_eq!(mode == "provider", !roots.is_empty());

    let ex = metrics.get_finished_metrics().unwrap();
    let model = ("gen_ai.request.model", "gpt-4o");
    let duration = find(&ex, "gen_ai.client.operation.duration");
    // Three calls in `support`, one in `planner`.
    assert_eq!(total(duration, model.0, model.1).0, 4 * TRACES);
    assert_eq!(total(duration, "error.type", "rate_limited").0, TRACES);
    assert_eq!(
        total(duration, "gen_ai.request.model", "gpt-4o-mini").0,
        TRACES,
        "the run-time model"
    );
    let tokens = find(&ex, "gen_ai.client.token.usage");
    assert_eq!(
        total(tokens, "gen_ai.token.type", "input"),
        (4 * TRACES, (1200 + 1000 + 50) as f64 * TRACES as f64),
        "returned usage and usage given by hand"
    );
    let tool = find(&ex, "gen_ai.execute_tool.duration");
    assert_eq!(total(tool, "gen_ai.tool.name", "lookup").0, 2 * TRACES);
    let agent = ("gen_ai.agent.name", "planner");
    assert_eq!(
        total(find(&ex, "gen_ai.invoke_agent.duration"), agent.0, agent.1).0,
        TRACES
    );
    assert_eq!(
        total(
            find(&ex, "gen_ai.invoke_agent.inference_calls"),
            agent.0,
            agent.1
        ),
        (TRACES, 2.0 * TRACES as f64)
    );
    assert_eq!(
        total(
            find(&ex, "gen_ai.invoke_agent.tool_calls"),
            agent.0,
            agent.1
        ),
        (TRACES, TRACES as f64)
    );
    // Every trace of `support` costs the same: 1,000 and 200 input tokens (output a tenth),
    // priced linearly, so `planner`'s call of 1,000 costs 5/6 of it. The counter holds them all.
    if let Some(root) = roots.first() {
        let rolled_up = root.f64_attr("llmtrace.trace.cost_usd").expect("priced");
        let cost = total(find(&ex, "llmtrace.client.cost"), model.0, model.1).1;
        let expected = rolled_up * (1.0 + 5.0 / 6.0) * TRACES as f64;
        assert!(
            (cost - expected).abs() < 1e-9 * expected,
            "cost counter {cost}, expected {expected}"
        );
    }
}

fn run(mode: &str) {
    child_process::run_child("child", mode);
}

#[test]
fn provider_mode() {
    run("provider");
}

#[test]
fn tracing_mode() {
    run("tracing");
}

#[test]
fn provider_mode_counts_what_the_provider_samples_out() {
    child_process::run_child("child_sampled", "provider");
}

#[test]
fn tracing_mode_counts_what_the_provider_samples_out() {
    child_process::run_child("child_sampled", "tracing");
}
