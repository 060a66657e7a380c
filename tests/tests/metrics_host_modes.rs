//! The GenAI metrics in the host modes: through an OpenTelemetry tracer provider (OTel-provider
//! mode) and through a `tracing` subscriber with tracing-opentelemetry (`tracing` mode), the
//! model and tool calls are counted as in native mode, with their tokens, `error.type` and a
//! cost counter equal to the trace's roll-up, and a flush of llmtrace exports them.
//!
//! llmtrace installs once per process, so each mode runs in a child process of this test
//! binary (the ignored `child` test, run by the others).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use llmtrace::testing::SpanDataExt;
use llmtrace::{LlmResponse, Usage};
use llmtrace_runtime as llmtrace;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt;

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::RateLimited;

const MODE: &str = "LLMTRACE_TEST_HOST_MODE";

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

#[test]
#[ignore = "run by the other tests in a child process"]
fn child() {
    let mode = std::env::var(MODE).expect("run by the other tests");
    let app = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(app.clone())
        .build();
    let metrics = InMemoryMetricExporter::default();
    let env = HashMap::<String, String>::new();
    let builder = llmtrace::init()
        .env(env)
        // Long: only the flush exports.
        .metrics_exporter(metrics.clone(), Duration::from_secs(3600));
    let _guard = match mode.as_str() {
        "provider" => builder.otel_provider(provider.clone()).install(),
        "tracing" => {
            let layer = tracing_opentelemetry::layer()
                .with_tracer(provider.tracer("app"))
                .with_location(false)
                .with_threads(false)
                .with_tracked_inactivity(false);
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::set_global_default(subscriber).unwrap();
            builder.tracing_mode().install()
        }
        other => panic!("unknown mode {other}"),
    };
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

fn run(mode: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--ignored", "--nocapture"])
        .env(MODE, mode)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "mode {mode}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn provider_mode() {
    run("provider");
}

#[test]
fn tracing_mode() {
    run("tracing");
}
