//! Every call counts in the metrics, sampled or not: with nine traces in ten sampled out by the
//! head sampler, the metrics count every model call and tool call, with their tokens (read from
//! the return value, as for a recorded span), cost, `error.type` and stream timings, while only
//! the sampled traces are exported.
//!
//! One installation for the whole file (a test binary is its own process); the tests running at
//! the same time are told apart by their model or tool, which no two tests share.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use futures_util::stream;
use llmtrace::{LlmResponse, ModelPrice, Sampler, Usage};
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::{Chunk, RateLimited};

/// Traces of each test.
const TRACES: u64 = 400;

struct Exporters {
    spans: InMemorySpanExporter,
    metrics: InMemoryMetricExporter,
}

fn exporters() -> &'static Exporters {
    static EXPORTERS: OnceLock<Exporters> = OnceLock::new();
    EXPORTERS.get_or_init(|| {
        let spans = InMemorySpanExporter::default();
        let metrics = InMemoryMetricExporter::default();
        let guard = llmtrace::init()
            .service_name("metrics-head-sampled-test")
            .sampler(Sampler::TraceIdRatio(0.1))
            .with_exporter(spans.clone())
            .export_interval(Duration::from_millis(20))
            .provider_model_price(
                "openai",
                "m-priced",
                ModelPrice::per_million_tokens(1.0, 4.0),
            )
            // Long: only flushes export, so each read sees the totals so far.
            .metrics_exporter(metrics.clone(), Duration::from_secs(3600))
            .try_install()
            .expect("installs");
        std::mem::forget(guard);
        Exporters { spans, metrics }
    })
}

/// Every export so far, after a flush.
fn exported() -> Vec<ResourceMetrics> {
    let e = exporters();
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");
    e.metrics.get_finished_metrics().expect("metrics")
}

/// The last export of metric `name` (cumulative: the totals so far).
fn find<'a>(exported: &'a [ResourceMetrics], name: &str) -> &'a Metric {
    exported
        .iter()
        .rev()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .find(|m| m.name() == name)
        .unwrap_or_else(|| panic!("{name} recorded"))
}

fn has(attrs: &[(String, String)], key: &str, value: &str) -> bool {
    attrs.iter().any(|(k, v)| k == key && v == value)
}

/// A data point's attributes, as text.
type Attrs = Vec<(String, String)>;

/// (attributes, count, sum) of each data point of a histogram or the sum of a counter.
fn points(m: &Metric) -> Vec<(Attrs, u64, f64)> {
    fn attrs<'a>(it: impl Iterator<Item = &'a opentelemetry::KeyValue>) -> Attrs {
        it.map(|kv| (kv.key.to_string(), kv.value.to_string()))
            .collect()
    }
    match m.data() {
        AggregatedMetrics::U64(MetricData::Histogram(h)) => h
            .data_points()
            .map(|p| (attrs(p.attributes()), p.count(), p.sum() as f64))
            .collect(),
        AggregatedMetrics::F64(MetricData::Histogram(h)) => h
            .data_points()
            .map(|p| (attrs(p.attributes()), p.count(), p.sum()))
            .collect(),
        AggregatedMetrics::F64(MetricData::Sum(s)) => s
            .data_points()
            .map(|p| (attrs(p.attributes()), 0, p.value()))
            .collect(),
        AggregatedMetrics::U64(MetricData::Sum(s)) => s
            .data_points()
            .map(|p| (attrs(p.attributes()), 0, p.value() as f64))
            .collect(),
        other => panic!("{}: {other:?}", m.name()),
    }
}

/// (count, sum) over the data points with `key = value` and, when given, `filter`.
fn total(m: &Metric, key: &str, value: &str, filter: Option<(&str, &str)>) -> (u64, f64) {
    points(m)
        .into_iter()
        .filter(|(a, _, _)| has(a, key, value))
        .filter(|(a, _, _)| filter.is_none_or(|(k, v)| has(a, k, v)))
        .fold((0, 0.0), |(c, s), (_, n, v)| (c + n, s + v))
}

/// The trace ids exported so far whose spans include one named `name`.
fn exported_traces(name: &str) -> HashSet<String> {
    exporters()
        .spans
        .get_finished_spans()
        .expect("spans")
        .into_iter()
        .filter(|s| s.name == name)
        .map(|s| s.span_context.trace_id().to_string())
        .collect()
}

struct Reply {
    input: u64,
    output: u64,
}

impl LlmResponse for Reply {
    fn usage(&self) -> Option<Usage> {
        Some(Usage::new(self.input, self.output))
    }
    fn response_model(&self) -> Option<&str> {
        Some("m-priced-2026")
    }
}

#[llmtrace::llm_call(provider = "openai", model = "m-priced")]
fn chat(n: u64, fail: bool) -> Result<Reply, RateLimited> {
    if fail {
        return Err(RateLimited);
    }
    Ok(Reply {
        input: n,
        output: n / 10,
    })
}

#[llmtrace::llm_call(provider = "openai", model = "m-priced")]
async fn chat_async(n: u64) -> Reply {
    Reply {
        input: n,
        output: 3,
    }
}

#[llmtrace::tool]
fn lookup_order(n: u64) -> Result<u64, RateLimited> {
    Ok(n)
}

#[llmtrace::workflow(name = "support")]
async fn support(n: u64) -> Result<u64, RateLimited> {
    let reply = chat(n, false)?;
    let more = chat_async(n + 1).await;
    let _ = chat(n, n.is_multiple_of(4));
    lookup_order(reply.input + more.input)
}

#[tokio::test]
async fn every_call_counts_with_nine_traces_in_ten_sampled_out() {
    exporters();
    let (mut input, mut output, mut failed) = (0u64, 0u64, 0u64);
    for n in 1..=TRACES {
        support(n * 10).await.expect("answered");
        // chat(n), chat_async(n + 1), then chat(n) again unless it failed.
        input += n * 10 + (n * 10 + 1);
        output += n + 3;
        if (n * 10).is_multiple_of(4) {
            failed += 1;
        } else {
            input += n * 10;
            output += n;
        }
    }
    let ex = exported();

    // Most traces were sampled out: only their metrics are left.
    let kept = exported_traces("invoke_workflow support").len() as u64;
    assert!(kept < TRACES / 2, "{kept} of {TRACES} traces exported");

    let calls = TRACES * 3;
    let duration = find(&ex, "gen_ai.client.operation.duration");
    let model = ("gen_ai.request.model", "m-priced");
    assert_eq!(
        total(duration, model.0, model.1, None).0,
        calls,
        "every model call has a duration"
    );
    assert_eq!(
        total(
            duration,
            model.0,
            model.1,
            Some(("error.type", "rate_limited"))
        )
        .0,
        failed,
        "the failed calls carry their error type"
    );
    assert_eq!(
        total(
            duration,
            model.0,
            model.1,
            Some(("gen_ai.response.model", "m-priced-2026"))
        )
        .0,
        calls - failed,
        "the answering model, read from the response"
    );

    let tokens = find(&ex, "gen_ai.client.token.usage");
    let in_tokens = total(
        tokens,
        model.0,
        model.1,
        Some(("gen_ai.token.type", "input")),
    );
    let out_tokens = total(
        tokens,
        model.0,
        model.1,
        Some(("gen_ai.token.type", "output")),
    );
    assert_eq!(
        in_tokens,
        (calls - failed, input as f64),
        "every call's input tokens"
    );
    assert_eq!(
        out_tokens,
        (calls - failed, output as f64),
        "every call's output tokens"
    );

    // Priced like the spans: $1 per million input tokens, $4 per million output tokens.
    let cost = total(find(&ex, "llmtrace.client.cost"), model.0, model.1, None).1;
    let expected = (input as f64 + 4.0 * output as f64) / 1e6;
    assert!(
        (cost - expected).abs() < 1e-9 * expected,
        "cost {cost} of every call, expected {expected}"
    );

    let tool = find(&ex, "gen_ai.execute_tool.duration");
    assert_eq!(
        total(tool, "gen_ai.tool.name", "lookup_order", None).0,
        TRACES,
        "every tool call"
    );

    let summary = llmtrace::metrics_summary();
    let row = summary
        .rows()
        .iter()
        .find(|r| r.model == "m-priced-2026")
        .expect("a row for the answering model");
    assert_eq!(row.calls, calls - failed);
    assert_eq!(llmtrace::stats().metrics_dropped, 0);
}

#[llmtrace::llm_call(provider = "openai", model = "m-stream", stream)]
fn streamed() -> impl futures_core::Stream<Item = Chunk> {
    stream::iter(vec![
        Chunk(Some("It "), None),
        Chunk(Some("rains"), None),
        Chunk(Some("."), None),
        Chunk(None, Some(Usage::new(22, 29))),
    ])
}

#[llmtrace::llm_call(provider = "openai", model = "m-stream")]
fn not_streamed() -> Usage {
    Usage::new(5, 1)
}

#[llmtrace::workflow(name = "streaming")]
async fn streaming() {
    use futures_util::StreamExt;
    let chunks: Vec<Chunk> = streamed().collect().await;
    assert_eq!(chunks.len(), 4);
    not_streamed();
}

#[tokio::test]
async fn sampled_out_streams_record_their_chunk_timings() {
    exporters();
    for _ in 0..TRACES {
        streaming().await;
    }
    let ex = exported();
    let kept = exported_traces("invoke_workflow streaming").len() as u64;
    assert!(kept < TRACES / 2, "{kept} of {TRACES} traces exported");

    let model = ("gen_ai.request.model", "m-stream");
    let ttfc = find(&ex, "gen_ai.client.operation.time_to_first_chunk");
    assert_eq!(
        total(ttfc, model.0, model.1, None).0,
        TRACES,
        "every stream, only streams"
    );
    let tpoc = find(&ex, "gen_ai.client.operation.time_per_output_chunk");
    assert_eq!(
        total(tpoc, model.0, model.1, None).0,
        TRACES,
        "every stream, only streams"
    );
    let duration = find(&ex, "gen_ai.client.operation.duration");
    assert_eq!(total(duration, model.0, model.1, None).0, 2 * TRACES);
    let tokens = find(&ex, "gen_ai.client.token.usage");
    let in_tokens = total(
        tokens,
        model.0,
        model.1,
        Some(("gen_ai.token.type", "input")),
    );
    assert_eq!(in_tokens, (2 * TRACES, (22 + 5) as f64 * TRACES as f64));
}

/// A response that names no answering model (the tests above count the calls answered by
/// `m-priced-2026`).
struct Answer {
    input: u64,
    output: u64,
}

impl LlmResponse for Answer {
    fn usage(&self) -> Option<Usage> {
        Some(Usage::new(self.input, self.output))
    }
}

/// The request model as a run-time expression: evaluated into a sampled-out call's tally too.
#[llmtrace::llm_call(provider = "openai", model = model, server_address = host)]
fn chat_dynamic(model: &str, host: &str, n: u64) -> Answer {
    Answer {
        input: n,
        output: 1,
    }
}

#[llmtrace::workflow(name = "dynamic")]
fn dynamic(n: u64) -> u64 {
    chat_dynamic("m-dynamic", "api.example.test", n).input
}

#[tokio::test]
async fn sampled_out_calls_carry_their_run_time_model() {
    exporters();
    for n in 1..=TRACES {
        dynamic(n);
    }
    let ex = exported();
    let kept = exported_traces("invoke_workflow dynamic").len() as u64;
    assert!(kept < TRACES / 2, "{kept} of {TRACES} traces exported");

    let model = ("gen_ai.request.model", "m-dynamic");
    let duration = find(&ex, "gen_ai.client.operation.duration");
    assert_eq!(
        total(
            duration,
            model.0,
            model.1,
            Some(("server.address", "api.example.test"))
        )
        .0,
        TRACES,
        "every call under its request model and server"
    );
    let tokens = find(&ex, "gen_ai.client.token.usage");
    let input = (1..=TRACES).sum::<u64>() as f64;
    assert_eq!(
        total(
            tokens,
            model.0,
            model.1,
            Some(("gen_ai.token.type", "input"))
        ),
        (TRACES, input)
    );
}

/// Usage and cost given by hand, not returned: counted whether the call is recorded or not.
#[llmtrace::llm_call(provider = "openai", model = "m-manual")]
fn chat_manual(n: u64) -> String {
    llmtrace::current().record_usage(Usage::new(n, 2));
    llmtrace::current().record_cost_usd(0.001);
    format!("answer {n}")
}

#[llmtrace::workflow(name = "manual")]
fn manual(n: u64) -> usize {
    chat_manual(n).len()
}

#[tokio::test]
async fn usage_recorded_by_hand_counts_when_sampled_out() {
    exporters();
    for n in 1..=TRACES {
        manual(n);
    }
    let ex = exported();
    let kept = exported_traces("invoke_workflow manual").len() as u64;
    assert!(kept < TRACES / 2, "{kept} of {TRACES} traces exported");

    let model = ("gen_ai.request.model", "m-manual");
    let tokens = find(&ex, "gen_ai.client.token.usage");
    let input = (1..=TRACES).sum::<u64>() as f64;
    let in_tokens = total(
        tokens,
        model.0,
        model.1,
        Some(("gen_ai.token.type", "input")),
    );
    assert_eq!(in_tokens, (TRACES, input), "every call's input tokens");
    let out_tokens = total(
        tokens,
        model.0,
        model.1,
        Some(("gen_ai.token.type", "output")),
    );
    assert_eq!(out_tokens, (TRACES, 2.0 * TRACES as f64));
    let cost = total(find(&ex, "llmtrace.client.cost"), model.0, model.1, None).1;
    let expected = 0.001 * TRACES as f64;
    assert!(
        (cost - expected).abs() < 1e-9,
        "cost {cost} given by hand, expected {expected}"
    );
}

#[llmtrace::llm_call(provider = "openai", model = "m-agent")]
fn agent_chat(n: u64) -> Answer {
    Answer {
        input: n,
        output: 1,
    }
}

#[llmtrace::tool]
fn agent_lookup(n: u64) -> u64 {
    // A model call inside a tool is still the agent's own.
    agent_chat(n).input
}

#[llmtrace::retrieval]
fn agent_search(n: u64) -> Vec<String> {
    // Inside a span of a kind with no metrics of its own: still the agent's.
    vec![format!("doc {}", agent_chat(n).input)]
}

/// A sub-agent, named at run time: its calls count for it, not for the planner.
#[llmtrace::agent(name = helper_name)]
fn helper(helper_name: &str, n: u64) -> u64 {
    agent_chat(n).input + agent_chat(n).input + agent_lookup(n)
}

/// Per invocation: model calls 1 (its own) + 1 (in the tool) + 1 (in the retrieval) = 3, one
/// tool, and the helper's three model calls and one tool counted for the helper.
#[llmtrace::agent(name = "planner")]
async fn planner(n: u64) -> u64 {
    let a = agent_chat(n).input;
    let b = agent_lookup(n);
    let c = agent_search(n).len() as u64;
    a + b + c + helper("helper", n)
}

#[tokio::test]
async fn sampled_out_agents_count_their_own_calls() {
    exporters();
    for n in 1..=TRACES {
        planner(n).await;
    }
    let ex = exported();
    let kept = exported_traces("invoke_agent planner").len() as u64;
    assert!(kept < TRACES / 2, "{kept} of {TRACES} traces exported");

    let planner = ("gen_ai.agent.name", "planner");
    let helper = ("gen_ai.agent.name", "helper");
    let duration = find(&ex, "gen_ai.invoke_agent.duration");
    assert_eq!(total(duration, planner.0, planner.1, None).0, TRACES);
    assert_eq!(total(duration, helper.0, helper.1, None).0, TRACES);
    let inference = find(&ex, "gen_ai.invoke_agent.inference_calls");
    assert_eq!(
        total(
            inference,
            planner.0,
            planner.1,
            Some(("gen_ai.request.model", "m-agent"))
        ),
        (TRACES, 3.0 * TRACES as f64),
        "the planner's own model calls, not the helper's, under the one model they used"
    );
    assert_eq!(
        total(inference, helper.0, helper.1, None),
        (TRACES, 3.0 * TRACES as f64)
    );
    let tools = find(&ex, "gen_ai.invoke_agent.tool_calls");
    assert_eq!(
        total(tools, planner.0, planner.1, None),
        (TRACES, TRACES as f64)
    );
    assert_eq!(
        total(tools, helper.0, helper.1, None),
        (TRACES, TRACES as f64)
    );
    // Each agent's tool carries its name (the helper's given at run time), recorded or not.
    let tool = find(&ex, "gen_ai.execute_tool.duration");
    for agent in [planner, helper] {
        assert_eq!(
            total(tool, "gen_ai.tool.name", "agent_lookup", Some(agent)).0,
            TRACES,
            "{agent:?}"
        );
    }
    let model_calls = find(&ex, "gen_ai.client.operation.duration");
    assert_eq!(
        total(model_calls, "gen_ai.request.model", "m-agent", None).0,
        6 * TRACES
    );
}
