//! Agents, steps and the new kinds through the pipeline: an agent totals only its own calls
//! (not its sub-agents', not those that end after it), its name goes onto its calls, block
//! spans nest across `.await`, `join!` and spawned tasks, embeddings never export vectors, a
//! failed guardrail is no failed span, retries count their attempts.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use llmtrace::testing::{Capture, CapturedSpans, SpanDataExt};
use llmtrace::{FutureExt, TraceContext};
use llmtrace_runtime as llmtrace;
use llmtrace_tests::assert_parent;
use opentelemetry_sdk::trace::SpanData;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
async fn chat(prompt: &str) -> String {
    tokio::task::yield_now().await;
    llmtrace::current().record_usage(llmtrace::Usage::new(100, 10));
    llmtrace::current().record_cost_usd(0.5);
    format!("re: {prompt}")
}

#[llmtrace::llm_call(provider = "anthropic", model = "claude-sonnet-4")]
fn chat_sync(prompt: &str) -> String {
    llmtrace::current().record_usage(llmtrace::Usage::new(1000, 100));
    llmtrace::current().record_cost_usd(5.0);
    prompt.to_owned()
}

#[llmtrace::tool(name = "lookup")]
fn lookup(key: &str) -> usize {
    key.len()
}

#[llmtrace::tool(name = "lookup", agent = "explicit")]
fn lookup_for(key: &str) -> usize {
    key.len()
}

#[llmtrace::agent(name = "researcher")]
async fn researcher(topic: &str) -> String {
    // Two calls of its own, and one in a task it spawns (its context goes along).
    let a = chat(topic).await;
    let b = tokio::spawn(async { chat_sync("spawned") }.in_current_trace())
        .await
        .unwrap();
    lookup(topic);
    format!("{a} {b}")
}

#[llmtrace::agent(name = "planner")]
async fn planner(goal: &str) -> (String, TraceContext) {
    let plan = chat(goal).await;
    let found = researcher(goal).await;
    lookup(goal);
    lookup_for(goal);
    llmtrace::step("summarize").in_scope(|| plan.len() + found.len());
    // A context that outlives the agent: what runs in it after the agent ended is late.
    (found, llmtrace::current().context())
}

#[llmtrace::workflow(name = "research")]
async fn research(goal: &str) -> TraceContext {
    let (_, ctx) = planner(goal).await;
    ctx
}

fn agent<'a>(spans: &'a CapturedSpans, name: &str) -> &'a SpanData {
    spans.by_name(&format!("invoke_agent {name}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_totals_its_own_calls_only() {
    let cap = Capture::new();
    let after = cap.instrument(research("tides")).await;
    // A model call in the planner's context after the planner ended: not its own any more.
    after.in_scope(|| chat_sync("late"));
    let spans = cap.spans();

    let planner = agent(&spans, "planner");
    assert_eq!(planner.i64_attr("llmtrace.agent.inference_calls"), Some(1));
    assert_eq!(planner.i64_attr("llmtrace.agent.tool_calls"), Some(2));
    assert_eq!(planner.i64_attr("llmtrace.agent.steps"), Some(1));
    assert_eq!(planner.i64_attr("gen_ai.usage.input_tokens"), Some(100));
    assert_eq!(planner.i64_attr("gen_ai.usage.output_tokens"), Some(10));
    assert_eq!(planner.f64_attr("llmtrace.agent.cost_usd"), Some(0.5));
    // The one model its own calls used.
    assert_eq!(planner.str_attr("gen_ai.request.model"), Some("gpt-4o"));
    // Not `llm.cost.total`: backends would add it to the calls' costs.
    assert!(planner.attr("llm.cost.total").is_none());

    let researcher = agent(&spans, "researcher");
    assert_parent(&spans, "invoke_agent researcher", "invoke_agent planner");
    assert_eq!(
        researcher.i64_attr("llmtrace.agent.inference_calls"),
        Some(2)
    );
    assert_eq!(researcher.i64_attr("llmtrace.agent.tool_calls"), Some(1));
    assert_eq!(researcher.i64_attr("llmtrace.agent.steps"), Some(0));
    assert_eq!(researcher.i64_attr("gen_ai.usage.input_tokens"), Some(1100));
    assert_eq!(researcher.f64_attr("llmtrace.agent.cost_usd"), Some(5.5));
    // Two models: none is the agent's.
    assert!(researcher.attr("gen_ai.request.model").is_none());

    // The calls name the agent they ran for, unless they name their own.
    let agents_of = |name: &str| -> Vec<String> {
        let mut v: Vec<String> = spans
            .all(name)
            .iter()
            .map(|s| s.str_attr("gen_ai.agent.name").unwrap_or("-").to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(agents_of("chat gpt-4o"), ["planner", "researcher"]);
    assert_eq!(
        agents_of("chat claude-sonnet-4"),
        ["planner", "researcher"],
        "the late call still names its agent"
    );
    assert_eq!(
        agents_of("execute_tool lookup"),
        ["explicit", "planner", "researcher"]
    );
    assert!(
        spans
            .by_name("summarize")
            .attr("gen_ai.agent.name")
            .is_none(),
        "a step is no model call or tool"
    );

    // The trace's roll-up counts each call once (the late one not at all): the agents' sums
    // are not added again.
    let root = spans.by_name("invoke_workflow research");
    assert_eq!(root.i64_attr("llmtrace.trace.input_tokens"), Some(1200));
    assert_eq!(root.f64_attr("llmtrace.trace.cost_usd"), Some(6.0));
    let trees = llmtrace::export::tree::build(spans.iter());
    let own = trees
        .iter()
        .find(|t| {
            t.root()
                .is_some_and(|r| r.name() == "invoke_workflow research")
        })
        .unwrap();
    assert_eq!(own.totals().input_tokens, Some(1200));
    // Without the roll-up, summing the spans gives the same: the agents' sums are skipped.
    let without_rollup: Vec<SpanData> = spans
        .iter()
        .filter(|s| s.span_context.trace_id() == root.span_context.trace_id())
        .filter(|s| s.name != "invoke_workflow research")
        .filter(|s| s.end_time <= root.end_time)
        .cloned()
        .collect();
    let trees = llmtrace::export::tree::build(without_rollup.iter());
    assert_eq!(trees[0].totals().input_tokens, Some(1200));
}

#[llmtrace::tool(name = "fetch")]
async fn fetch(part: &str) -> usize {
    tokio::time::sleep(Duration::from_millis(1)).await;
    part.len()
}

#[llmtrace::workflow(name = "pipeline")]
async fn pipeline() -> usize {
    llmtrace::step("outer")
        .instrument(async {
            tokio::task::yield_now().await;
            let (a, b) = tokio::join!(
                llmtrace::step("a").instrument(fetch("a")),
                llmtrace::step("b").instrument(fetch("bb")),
            );
            let spawned = tokio::spawn(
                llmtrace::step("spawned")
                    .instrument(fetch("ccc"))
                    .in_current_trace(),
            );
            let c = spawned.await.unwrap();
            let d = llmtrace::step!("block", { lookup("dddd") });
            let e = llmtrace::step!("async_block", async { fetch("eeeee").await }).await;
            a + b + c + d + e
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steps_nest_across_await_join_and_spawn() {
    let cap = Capture::new();
    assert_eq!(cap.instrument(pipeline()).await, 15);
    let spans = cap.spans();
    assert_parent(&spans, "outer", "invoke_workflow pipeline");
    for step in ["a", "b", "spawned", "block", "async_block"] {
        assert_parent(&spans, step, "outer");
        let s = spans.by_name(step);
        assert_eq!(s.str_attr("openinference.span.kind"), Some("CHAIN"));
        let children = spans.children_of(s);
        assert_eq!(children.len(), 1, "{step}");
        assert!(children[0].name.starts_with("execute_tool"), "{step}");
    }
    assert_eq!(spans.by_name("block").str_attr("output.value"), Some("4"));
    assert_eq!(
        spans.by_name("async_block").str_attr("output.value"),
        Some("5")
    );
    assert_eq!(spans.roots().len(), 1);
}

#[tokio::test]
async fn steps_record_errors_panics_and_cancellation() {
    let cap = Capture::new();
    cap.in_scope(|| {
        let parsed: Result<u32, _> = llmtrace::step("parse").try_in_scope(|| "x".parse::<u32>());
        assert!(parsed.is_err());
        let panicked = std::panic::catch_unwind(|| {
            llmtrace::step("boom").in_scope(|| panic!("deliberate"));
        });
        assert!(panicked.is_err());
    });
    let slow = llmtrace::step("slow").instrument(tokio::time::sleep(Duration::from_secs(60)));
    let timed_out = cap
        .instrument(tokio::time::timeout(Duration::from_millis(5), slow))
        .await;
    assert!(timed_out.is_err());
    let failed: Result<(), std::io::Error> = cap
        .instrument(
            llmtrace::step("io").try_instrument(async { Err(std::io::Error::other("disk")) }),
        )
        .await;
    assert!(failed.is_err());
    let spans = cap.spans();
    let parse = spans.by_name("parse");
    assert!(parse.is_error());
    assert_eq!(parse.str_attr("error.type"), Some("ParseIntError"));
    let boom = spans.by_name("boom");
    assert!(boom.is_error());
    assert_eq!(boom.str_attr("error.type"), Some("panic"));
    let slow = spans.by_name("slow");
    assert_eq!(slow.bool_attr("llmtrace.cancelled"), Some(true));
    assert!(!slow.is_error());
    assert_eq!(
        spans.by_name("io").str_attr("error.type"),
        Some("io::Error")
    );
}

#[test]
fn step_kinds_record_as_their_macros_do() {
    use llmtrace::step::{Rerank, Retrieval, Tool};
    let cap = Capture::new();
    cap.in_scope(|| {
        llmtrace::step("search")
            .kind(Retrieval::new().data_source("kb").top_k(3).query("tides"))
            .attribute("app.index", "v2")
            .in_scope(|| ());
        llmtrace::step("lookup_order")
            .kind(Tool::new().description("Find an order").call_id("call_1"))
            .in_scope(|| ());
        llmtrace::step("rerank")
            .kind(Rerank::model("rerank-v3.5").provider("cohere").top_k(2))
            .in_scope(|| ());
    });
    let spans = cap.spans();
    let s = spans.by_name("retrieval kb");
    assert_eq!(s.str_attr("openinference.span.kind"), Some("RETRIEVER"));
    assert_eq!(s.i64_attr("gen_ai.retrieval.top_k"), Some(3));
    assert_eq!(s.str_attr("gen_ai.retrieval.query.text"), Some("tides"));
    assert_eq!(s.str_attr("app.index"), Some("v2"));
    let t = spans.by_name("execute_tool lookup_order");
    assert_eq!(t.str_attr("gen_ai.tool.name"), Some("lookup_order"));
    assert_eq!(t.str_attr("gen_ai.tool.call.id"), Some("call_1"));
    let r = spans.by_name("rerank rerank-v3.5");
    assert_eq!(r.str_attr("openinference.span.kind"), Some("RERANKER"));
    assert_eq!(r.str_attr("gen_ai.provider.name"), Some("cohere"));
    assert_eq!(r.i64_attr("reranker.top_k"), Some(2));
    assert_eq!(
        r.span_kind,
        llmtrace::otel::opentelemetry::trace::SpanKind::Client
    );
}

#[llmtrace::embeddings(provider = "openai", model = "text-embedding-3-small")]
fn embed(texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
    llmtrace::current().record_usage(llmtrace::Usage::new(12, 0));
    Ok(texts.iter().map(|_| vec![0.123_456_7; 8]).collect())
}

#[test]
fn embeddings_never_export_vectors() {
    let cap = Capture::new();
    cap.in_scope(|| {
        // The vectors set as the output by hand are not exported either.
        embed(&["a tide table", "moon phases"]).unwrap();
    });
    let spans = cap.spans();
    let e = spans.by_name("embeddings text-embedding-3-small");
    assert_eq!(e.i64_attr("llmtrace.embeddings.count"), Some(2));
    assert_eq!(e.i64_attr("gen_ai.embeddings.dimension.count"), Some(8));
    assert_eq!(e.i64_attr("gen_ai.usage.input_tokens"), Some(12));
    assert!(e.str_attr("input.value").unwrap().contains("a tide table"));
    let everything = format!("{:?} {:?}", e.attributes, e.events);
    assert!(!everything.contains("0.123"), "{everything}");
    assert!(e.attr("output.value").is_none());
}

#[llmtrace::guardrail(name = "no_email")]
fn no_email(text: &str) -> Result<llmtrace::Verdict, String> {
    match text {
        "" => Err("empty".into()),
        t if t.contains('@') => Ok(llmtrace::Verdict::fail("quotes an email address")),
        _ => Ok(llmtrace::Verdict::pass()),
    }
}

#[test]
fn a_failed_guardrail_is_no_failed_span() {
    let cap = Capture::new();
    cap.in_scope(|| {
        let _ = no_email("write to me@example.com");
        let _ = no_email("");
    });
    let spans = cap.spans();
    let [failed, erred] = [0, 1].map(|i| spans.all("guardrail no_email")[i]);
    assert_eq!(failed.bool_attr("llmtrace.guardrail.passed"), Some(false));
    assert!(!failed.is_error());
    assert_eq!(
        failed.str_attr("llmtrace.guardrail.reason"),
        Some("quotes an email address")
    );
    assert!(erred.is_error());
}

static FLAKY_CALLS: AtomicU32 = AtomicU32::new(0);

/// Fails twice, then answers.
#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini")]
fn flaky(previous: Option<&TraceContext>) -> Result<String, TraceContext> {
    if let Some(failed) = previous {
        llmtrace::current().retry_of(failed);
    }
    if FLAKY_CALLS.fetch_add(1, Ordering::Relaxed) < 2 {
        return Err(llmtrace::current().context());
    }
    Ok("done".into())
}

#[test]
fn retries_count_their_attempts_and_link_to_the_failed_one() {
    let cap = Capture::new();
    cap.in_scope(|| {
        let mut previous = None;
        loop {
            match flaky(previous.as_ref()) {
                Ok(_) => break,
                Err(failed) => previous = Some(failed),
            }
        }
    });
    let spans = cap.spans();
    let attempts = spans.all("chat gpt-4o-mini");
    assert_eq!(attempts.len(), 3);
    let numbers: Vec<Option<i64>> = attempts
        .iter()
        .map(|s| s.i64_attr("llmtrace.retry.attempt"))
        .collect();
    assert_eq!(numbers, [None, Some(2), Some(3)]);
    for pair in attempts.windows(2) {
        assert_eq!(pair[1].links.len(), 1);
        assert_eq!(
            pair[1].links[0].span_context.span_id(),
            pair[0].span_context.span_id()
        );
    }
}

#[llmtrace::agent(name = "writer", links = [handoff])]
fn writer(topic: &str, handoff: &TraceContext) -> String {
    format!("notes on {topic}")
}

#[llmtrace::agent(name = "editor")]
fn editor(topic: &str) -> String {
    let here = llmtrace::current().context();
    here.new_trace().in_scope(|| writer(topic, &here))
}

#[test]
fn a_handoff_to_a_new_trace_links_back_and_is_not_the_agents_own() {
    let cap = Capture::new();
    cap.in_scope(|| editor("tides"));
    let spans = cap.spans();
    let editor = agent(&spans, "editor");
    let writer = agent(&spans, "writer");
    assert_ne!(
        writer.span_context.trace_id(),
        editor.span_context.trace_id()
    );
    assert!(spans.parent_of(writer).is_none());
    assert_eq!(writer.links.len(), 1);
    assert_eq!(
        writer.links[0].span_context.trace_id(),
        editor.span_context.trace_id()
    );
    assert_eq!(
        writer.links[0].span_context.span_id(),
        editor.span_context.span_id()
    );
    // Work handed off to another trace is not the editor's own.
    assert_eq!(editor.i64_attr("llmtrace.agent.inference_calls"), Some(0));
    // The new trace is named after its root agent in Langfuse.
    assert_eq!(writer.str_attr("langfuse.trace.name"), Some("writer"));
}
