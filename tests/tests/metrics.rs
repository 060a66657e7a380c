//! The GenAI client metrics against an in-memory metric exporter, with exact values: token
//! histograms that sum to the spans' tokens, a cost counter equal to the roll-up's total,
//! `error.type` on failed durations only, time to first chunk for streams only, tool and agent
//! metrics, and the conventions' units and bucket boundaries.
//!
//! One installation for the whole file (a test binary is its own process); every call of a test
//! is in a capture, and the metrics of tests running at the same time are told apart by their
//! model (or tool, or agent), which no two tests share.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::stream;
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::Usage;
use llmtrace_runtime as llmtrace;
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, HistogramDataPoint, Metric, MetricData, ResourceMetrics,
};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::{Chunk, RateLimited};

fn exporter() -> &'static InMemoryMetricExporter {
    static EXPORTER: OnceLock<InMemoryMetricExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemoryMetricExporter::default();
        let guard = llmtrace::init()
            .service_name("metrics-test")
            .without_exporters()
            .export_interval(Duration::from_millis(20))
            // Long: only flushes export, so each read sees the totals so far.
            .metrics_exporter(exporter.clone(), Duration::from_secs(3600))
            .try_install()
            .expect("installs");
        std::mem::forget(guard);
        exporter
    })
}

/// Every export so far, after a flush.
fn exported() -> Vec<ResourceMetrics> {
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");
    exporter().get_finished_metrics().expect("metrics")
}

/// The last export of metric `name` (cumulative: the totals so far).
fn find<'a>(exported: &'a [ResourceMetrics], name: &str) -> Option<&'a Metric> {
    exported
        .iter()
        .rev()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .find(|m| m.name() == name)
}

fn has<'a>(mut attrs: impl Iterator<Item = &'a KeyValue>, key: &str, value: &str) -> bool {
    attrs.any(|kv| kv.key.as_str() == key && kv.value.as_str() == value)
}

fn attr<'a>(attrs: impl Iterator<Item = &'a KeyValue>, key: &str) -> Option<String> {
    attrs
        .into_iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

/// The data points of a `u64` histogram whose request model is `model`.
fn u64_points(m: &Metric, model: &str) -> Vec<HistogramDataPoint<u64>> {
    match m.data() {
        AggregatedMetrics::U64(MetricData::Histogram(h)) => h
            .data_points()
            .filter(|p| has(p.attributes(), "gen_ai.request.model", model))
            .cloned()
            .collect(),
        other => panic!("{} is not a u64 histogram: {other:?}", m.name()),
    }
}

fn f64_points(m: &Metric, key: &str, value: &str) -> Vec<HistogramDataPoint<f64>> {
    match m.data() {
        AggregatedMetrics::F64(MetricData::Histogram(h)) => h
            .data_points()
            .filter(|p| has(p.attributes(), key, value))
            .cloned()
            .collect(),
        other => panic!("{} is not an f64 histogram: {other:?}", m.name()),
    }
}

fn f64_sum(m: &Metric, model: &str) -> f64 {
    match m.data() {
        AggregatedMetrics::F64(MetricData::Sum(s)) => s
            .data_points()
            .filter(|p| has(p.attributes(), "gen_ai.request.model", model))
            .map(|p| p.value())
            .sum(),
        other => panic!("{} is not an f64 sum: {other:?}", m.name()),
    }
}

#[llmtrace::workflow(name = "answer")]
fn answer(input: u64) -> Result<String, RateLimited> {
    let first = chat(input, false)?;
    let second = chat(input * 2, false)?;
    Ok(first + &second)
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(input: u64, fail: bool) -> Result<String, RateLimited> {
    if fail {
        return Err(RateLimited);
    }
    llmtrace::current().record_usage(Usage::new(input, input / 10));
    Ok(format!("{input} read"))
}

#[llmtrace::llm_call(provider = "anthropic", model = "claude-sonnet-4-5")]
fn claude(fail: bool) -> Result<String, RateLimited> {
    if fail {
        return Err(RateLimited);
    }
    llmtrace::current().record_usage(Usage::new(100, 10));
    Ok("ok".into())
}

#[test]
fn token_histograms_sum_to_the_spans_tokens_and_cost_to_the_roll_up() {
    exporter();
    let capture = Capture::new();
    capture.in_scope(|| {
        answer(400).unwrap();
        answer(1000).unwrap();
    });
    let spans = capture.spans();
    let chats = spans.all("chat gpt-4o");
    assert_eq!(chats.len(), 4);
    let tokens = |key: &str| -> u64 { chats.iter().map(|s| s.i64_attr(key).unwrap() as u64).sum() };
    let (input, output) = (
        tokens("gen_ai.usage.input_tokens"),
        tokens("gen_ai.usage.output_tokens"),
    );
    assert_eq!(
        (input, output),
        (400 + 800 + 1000 + 2000, 40 + 80 + 100 + 200)
    );

    let ex = exported();
    let usage = find(&ex, "gen_ai.client.token.usage").expect("token usage recorded");
    assert_eq!(usage.unit(), "{token}");
    let points = u64_points(usage, "gpt-4o");
    assert_eq!(points.len(), 2, "one series per token type: {points:?}");
    for point in &points {
        let token_type = attr(point.attributes(), "gen_ai.token.type").unwrap();
        let expected = if token_type == "input" { input } else { output };
        assert_eq!(point.sum(), expected, "{token_type}");
        assert_eq!(point.count(), 4, "one record per call and direction");
        assert_eq!(
            attr(point.attributes(), "gen_ai.operation.name").as_deref(),
            Some("chat")
        );
        assert_eq!(
            attr(point.attributes(), "gen_ai.provider.name").as_deref(),
            Some("openai")
        );
        assert_eq!(
            point.bounds().collect::<Vec<_>>(),
            [
                1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0,
                4194304.0, 16777216.0, 67108864.0
            ]
        );
    }

    // The cost counter adds what the roll-up totals on the roots.
    let roll_up: f64 = spans
        .all("invoke_workflow answer")
        .iter()
        .map(|s| s.f64_attr("llmtrace.trace.cost_usd").unwrap())
        .sum();
    let cost = find(&ex, "llmtrace.client.cost").expect("cost recorded");
    assert_eq!(cost.unit(), "USD");
    let counted = f64_sum(cost, "gpt-4o");
    assert!(roll_up > 0.0);
    assert!((counted - roll_up).abs() < 1e-12, "{counted} vs {roll_up}");

    // The latest experimental set only with the opt-in (`tests/metrics_latest.rs`).
    assert!(find(&ex, "gen_ai.client.inference.duration").is_none());
    assert!(find(&ex, "gen_ai.client.inference.usage.input_tokens").is_none());
    // Not streamed: no time to first chunk for these calls.
    if let Some(ttfc) = find(&ex, "gen_ai.client.operation.time_to_first_chunk") {
        assert!(f64_points(ttfc, "gen_ai.request.model", "gpt-4o").is_empty());
    }
}

#[test]
fn failed_calls_carry_error_type_on_their_duration() {
    exporter();
    let capture = Capture::new();
    capture.in_scope(|| {
        claude(false).unwrap();
        claude(false).unwrap();
        claude(true).unwrap_err();
    });
    let spans = capture.spans();
    let calls = spans.all("chat claude-sonnet-4-5");
    assert_eq!(calls.len(), 3);

    let ex = exported();
    let duration = find(&ex, "gen_ai.client.operation.duration").expect("durations recorded");
    assert_eq!(duration.unit(), "s");
    let points = f64_points(duration, "gen_ai.request.model", "claude-sonnet-4-5");
    assert_eq!(points.len(), 2, "ok and failed series: {points:?}");
    let failed: Vec<_> = points
        .iter()
        .filter(|p| attr(p.attributes(), "error.type").is_some())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        attr(failed[0].attributes(), "error.type").as_deref(),
        Some("rate_limited")
    );
    assert_eq!(failed[0].count(), 1);
    let ok = points
        .iter()
        .find(|p| attr(p.attributes(), "error.type").is_none())
        .unwrap();
    assert_eq!(ok.count(), 2);
    // The durations are the spans' durations.
    let span_seconds: f64 = calls
        .iter()
        .map(|s| {
            s.end_time
                .duration_since(s.start_time)
                .unwrap()
                .as_secs_f64()
        })
        .sum();
    let metric_seconds = ok.sum() + failed[0].sum();
    assert!(
        (span_seconds - metric_seconds).abs() < 1e-6,
        "{span_seconds} vs {metric_seconds}"
    );
    assert_eq!(
        ok.bounds().collect::<Vec<_>>(),
        [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
    );
    // The summary table's row for the model counts the same calls.
    let summary = llmtrace::metrics_summary();
    let row = summary
        .rows()
        .iter()
        .find(|r| r.model == "claude-sonnet-4-5")
        .expect("a row for the model");
    assert_eq!(row.provider, "anthropic");
    assert_eq!((row.calls, row.errors, row.rate_limited), (3, 1, 1));
    assert_eq!((row.input_tokens, row.output_tokens), (200, 20));
    assert!(row.latency_p50.is_some() && row.ttft_p50.is_none());
    assert!(summary.to_string().contains("claude-sonnet-4-5"));
    // Tokens only for the calls that returned usage.
    let usage = find(&ex, "gen_ai.client.token.usage").unwrap();
    let input = u64_points(usage, "claude-sonnet-4-5")
        .into_iter()
        .find(|p| attr(p.attributes(), "gen_ai.token.type").as_deref() == Some("input"))
        .unwrap();
    assert_eq!((input.count(), input.sum()), (2, 200));
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini", stream)]
fn streamed() -> impl futures_core::Stream<Item = Chunk> {
    stream::iter(vec![
        Chunk(Some("It "), None),
        Chunk(Some("rains."), None),
        Chunk(None, Some(Usage::new(22, 29))),
    ])
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini")]
fn not_streamed() -> String {
    "It rains.".into()
}

#[tokio::test]
async fn time_to_first_chunk_only_for_streams() {
    use futures_util::StreamExt;
    exporter();
    let capture = Capture::new();
    capture
        .instrument(async {
            let chunks: Vec<Chunk> = streamed().collect().await;
            assert_eq!(chunks.len(), 3);
            not_streamed();
        })
        .await;
    let spans = capture.spans();
    let calls = spans.all("chat gpt-4o-mini");
    assert_eq!(calls.len(), 2);
    let stream_span = calls
        .iter()
        .find(|s| s.bool_attr("gen_ai.request.stream") == Some(true))
        .unwrap();
    let ttfc_span = stream_span
        .f64_attr("gen_ai.response.time_to_first_chunk")
        .unwrap();

    let ex = exported();
    let ttfc = find(&ex, "gen_ai.client.operation.time_to_first_chunk").expect("recorded");
    assert_eq!(ttfc.unit(), "s");
    let points = f64_points(ttfc, "gen_ai.request.model", "gpt-4o-mini");
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].count(), 1, "the stream only");
    assert_eq!(points[0].sum(), ttfc_span);
    // Two chunks with content: one gap after the first, recorded on the span and in the metric.
    let tpoc_span = stream_span
        .f64_attr("llmtrace.stream.time_per_output_chunk")
        .unwrap();
    assert!(tpoc_span >= 0.0);
    let tpoc = find(&ex, "gen_ai.client.operation.time_per_output_chunk").expect("recorded");
    assert_eq!(tpoc.unit(), "s");
    let points = f64_points(tpoc, "gen_ai.request.model", "gpt-4o-mini");
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].count(), 1, "the stream only");
    assert_eq!(points[0].sum(), tpoc_span);
    let duration = find(&ex, "gen_ai.client.operation.duration").unwrap();
    let calls_counted: u64 = f64_points(duration, "gen_ai.request.model", "gpt-4o-mini")
        .iter()
        .map(|p| p.count())
        .sum();
    assert_eq!(calls_counted, 2, "both calls have a duration");
}

/// The agent's own model, which no other test uses (the metrics are the process's).
#[llmtrace::llm_call(provider = "openai", model = "gpt-4.1-nano")]
fn agent_chat() -> String {
    llmtrace::current().record_usage(Usage::new(10, 1));
    "plan".into()
}

#[llmtrace::agent(name = "researcher")]
fn research(fail_tool: bool) -> Result<String, String> {
    agent_chat();
    lookup("tides").map_err(|e| e.to_string())?;
    if fail_tool {
        lookup("").map_err(|e| e.to_string())?;
    }
    Ok("done".into())
}

#[llmtrace::tool(name = "lookup")]
fn lookup(query: &str) -> Result<String, RateLimited> {
    if query.is_empty() {
        return Err(RateLimited);
    }
    Ok(format!("about {query}"))
}

#[test]
fn tool_and_agent_metrics() {
    exporter();
    let capture = Capture::new();
    capture.in_scope(|| {
        research(false).unwrap();
        research(true).unwrap_err();
    });
    assert_eq!(capture.spans().all("execute_tool lookup").len(), 3);

    let ex = exported();
    let tools = find(&ex, "gen_ai.execute_tool.duration").expect("tool durations");
    let points = f64_points(tools, "gen_ai.tool.name", "lookup");
    let count = |failed: bool| -> u64 {
        points
            .iter()
            .filter(|p| attr(p.attributes(), "error.type").is_some() == failed)
            .map(|p| p.count())
            .sum()
    };
    assert_eq!((count(false), count(true)), (2, 1));
    for p in &points {
        assert_eq!(
            attr(p.attributes(), "gen_ai.agent.name").as_deref(),
            Some("researcher")
        );
    }

    let inference = find(&ex, "gen_ai.invoke_agent.inference_calls").expect("agent calls");
    assert_eq!(inference.unit(), "{inference_call}");
    let agent_points = match inference.data() {
        AggregatedMetrics::U64(MetricData::Histogram(h)) => h
            .data_points()
            .filter(|p| has(p.attributes(), "gen_ai.agent.name", "researcher"))
            .cloned()
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(agent_points.len(), 1);
    assert_eq!((agent_points[0].count(), agent_points[0].sum()), (2, 2));
    let tool_calls = find(&ex, "gen_ai.invoke_agent.tool_calls").unwrap();
    let sum: u64 = match tool_calls.data() {
        AggregatedMetrics::U64(MetricData::Histogram(h)) => h
            .data_points()
            .filter(|p| has(p.attributes(), "gen_ai.agent.name", "researcher"))
            .map(|p| p.sum())
            .sum(),
        other => panic!("{other:?}"),
    };
    assert_eq!(sum, 3, "1 + 2 tool calls");
    let agents = find(&ex, "gen_ai.invoke_agent.duration").unwrap();
    let failed = f64_points(agents, "gen_ai.agent.name", "researcher")
        .into_iter()
        .filter(|p| attr(p.attributes(), "error.type").as_deref() == Some("String"))
        .count();
    assert_eq!(failed, 1);
}

#[llmtrace::llm_call(provider = "openai", model = "m-many-servers", server_address = host)]
fn many_servers(host: &str, fail: bool) -> Result<String, RateLimited> {
    if fail {
        return Err(RateLimited);
    }
    llmtrace::current().record_usage(Usage::new(7, 3));
    Ok(host.to_owned())
}

/// The metrics stage binds at most 256 attribute sets to their aggregators; calls of further
/// sets are recorded with their attribute lists. Both must count the same. (300 servers: 600
/// token-usage series with the other tests', under the SDK's limit of 2,000 per instrument; one
/// model, so one row of the summary.)
#[test]
fn attribute_sets_past_the_bound_ones_count_the_same() {
    exporter();
    const SERVERS: usize = 300;
    let capture = Capture::new();
    capture.in_scope(|| {
        for i in 0..SERVERS {
            let host = format!("h{i}.example");
            many_servers(&host, false).unwrap();
            many_servers(&host, false).unwrap();
            many_servers(&host, i % 2 == 0).ok();
        }
    });
    assert_eq!(capture.spans().len(), SERVERS * 3);

    let ex = exported();
    let usage = find(&ex, "gen_ai.client.token.usage").expect("token usage recorded");
    let duration = find(&ex, "gen_ai.client.operation.duration").expect("durations recorded");
    for i in [0, 1, 100, 254, 255, 256, 257, 298, 299] {
        let host = format!("h{i}.example");
        let points: Vec<_> = u64_points(usage, "m-many-servers")
            .into_iter()
            .filter(|p| has(p.attributes(), "server.address", &host))
            .collect();
        assert_eq!(points.len(), 2, "{host}: one series per token type");
        for point in &points {
            let token_type = attr(point.attributes(), "gen_ai.token.type").unwrap();
            let calls = if i % 2 == 0 { 2 } else { 3 };
            let per_call = if token_type == "input" { 7 } else { 3 };
            assert_eq!(point.count(), calls, "{host} {token_type}");
            assert_eq!(point.sum(), calls * per_call, "{host} {token_type}");
        }
        let durations = f64_points(duration, "server.address", &host);
        let failed: Vec<_> = durations
            .iter()
            .filter(|p| attr(p.attributes(), "error.type").is_some())
            .collect();
        assert_eq!(
            durations.iter().map(|p| p.count()).sum::<u64>(),
            3,
            "{host}: every call"
        );
        assert_eq!(failed.len(), usize::from(i % 2 == 0), "{host}");
        if let Some(failed) = failed.first() {
            assert_eq!(failed.count(), 1);
            assert_eq!(
                attr(failed.attributes(), "error.type").as_deref(),
                Some("rate_limited")
            );
        }
    }
}
