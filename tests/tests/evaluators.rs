//! `#[evaluator]` through the pipeline: an LLM judge called inside an evaluator is its child,
//! marked as part of an evaluation; its tokens and cost are totalled on the evaluator and never
//! in the judged trace's roll-up nor in the totals of the agent that ran the evaluator.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;
use llmtrace_tests::assert_parent;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
async fn answer(question: &str) -> String {
    tokio::task::yield_now().await;
    llmtrace::current().record_usage(llmtrace::Usage::new(100, 10));
    llmtrace::current().record_cost_usd(0.5);
    format!("re: {question}")
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini")]
async fn judge(answer: &str) -> f64 {
    tokio::task::yield_now().await;
    llmtrace::current().record_usage(llmtrace::Usage::new(40, 2));
    llmtrace::current().record_cost_usd(0.25);
    if answer.is_empty() {
        0.0
    } else {
        0.75
    }
}

#[llmtrace::tool(name = "lookup_reference")]
fn lookup_reference(question: &str) -> usize {
    question.len()
}

#[llmtrace::llm_call(provider = "anthropic", model = "claude-haiku")]
fn judge_sync(answer: &str) -> bool {
    llmtrace::current().record_usage(llmtrace::Usage::new(7, 1));
    llmtrace::current().record_cost_usd(0.125);
    !answer.is_empty()
}

#[llmtrace::evaluator(name = "relevance")]
async fn relevance(question: &str, answer: &str) -> f64 {
    lookup_reference(question);
    // Two judges, one of them synchronous.
    let score = judge(answer).await;
    if judge_sync(answer) {
        score
    } else {
        0.0
    }
}

#[llmtrace::agent(name = "responder")]
async fn responder(question: &str) -> (String, f64) {
    let reply = answer(question).await;
    let score = relevance(question, &reply).await;
    (reply, score)
}

#[llmtrace::workflow(name = "support")]
async fn support(question: &str) -> (String, f64) {
    responder(question).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_judge_counts_for_its_evaluator_not_for_the_trace_or_the_agent() {
    let cap = Capture::new();
    let (reply, score) = cap.instrument(support("where is my order")).await;
    // Tracing changes nothing the functions return.
    assert_eq!(reply, "re: where is my order");
    assert_eq!(score, 0.75);
    let spans = cap.spans();

    // The evaluator: its own kind, a child of the agent that ran it, with its judges' totals.
    let evaluator = spans.by_name("evaluate relevance");
    assert_parent(&spans, "evaluate relevance", "invoke_agent responder");
    assert_eq!(
        evaluator.str_attr("gen_ai.operation.name"),
        Some("evaluate")
    );
    assert_eq!(
        evaluator.str_attr("openinference.span.kind"),
        Some("EVALUATOR")
    );
    assert_eq!(
        evaluator.str_attr("langfuse.observation.type"),
        Some("evaluator")
    );
    assert_eq!(
        evaluator.i64_attr("llmtrace.evaluator.input_tokens"),
        Some(47)
    );
    assert_eq!(
        evaluator.i64_attr("llmtrace.evaluator.output_tokens"),
        Some(3)
    );
    assert_eq!(
        evaluator.f64_attr("llmtrace.evaluator.cost_usd"),
        Some(0.375)
    );
    assert!(evaluator.attr("llmtrace.evaluation").is_none());
    // Not usage of its own: backends would add it to the judges'.
    assert!(evaluator.attr("gen_ai.usage.input_tokens").is_none());

    // The judges and the evaluator's tool: its children, marked, naming no agent.
    for name in [
        "chat gpt-4o-mini",
        "chat claude-haiku",
        "execute_tool lookup_reference",
    ] {
        assert_parent(&spans, name, "evaluate relevance");
        let span = spans.by_name(name);
        assert_eq!(span.bool_attr("llmtrace.evaluation"), Some(true), "{name}");
        assert!(span.attr("gen_ai.agent.name").is_none(), "{name}");
    }
    // The judges keep their own usage.
    assert_eq!(
        spans
            .by_name("chat gpt-4o-mini")
            .i64_attr("gen_ai.usage.input_tokens"),
        Some(40)
    );

    // The judged call is not marked and runs for the agent.
    let call = spans.by_name("chat gpt-4o");
    assert!(call.attr("llmtrace.evaluation").is_none());
    assert_eq!(call.str_attr("gen_ai.agent.name"), Some("responder"));

    // The agent totals its own call only: not the judges.
    let agent = spans.by_name("invoke_agent responder");
    assert_eq!(agent.i64_attr("llmtrace.agent.inference_calls"), Some(1));
    assert_eq!(agent.i64_attr("llmtrace.agent.tool_calls"), Some(0));
    assert_eq!(agent.i64_attr("gen_ai.usage.input_tokens"), Some(100));
    assert_eq!(agent.i64_attr("gen_ai.usage.output_tokens"), Some(10));
    assert_eq!(agent.f64_attr("llmtrace.agent.cost_usd"), Some(0.5));

    // The trace's roll-up: the answer's tokens and cost, not the judges'.
    let root = spans.by_name("invoke_workflow support");
    assert_eq!(root.i64_attr("llmtrace.trace.input_tokens"), Some(100));
    assert_eq!(root.i64_attr("llmtrace.trace.output_tokens"), Some(10));
    assert_eq!(root.f64_attr("llmtrace.trace.cost_usd"), Some(0.5));
}

#[llmtrace::evaluator]
fn exact_match(expected: &str, actual: &str) -> Result<bool, std::fmt::Error> {
    if actual.is_empty() {
        return Err(std::fmt::Error);
    }
    Ok(judge_sync(actual) && expected == actual)
}

#[test]
fn a_sync_evaluator_is_named_after_its_function_and_fails_as_any_span() {
    let cap = Capture::new();
    let (ok, failed) = cap.in_scope(|| (exact_match("a", "a"), exact_match("a", "")));
    assert_eq!(ok, Ok(true));
    assert_eq!(failed, Err(std::fmt::Error));
    let spans = cap.spans();
    let evaluators = spans.all("evaluate exact_match");
    assert_eq!(evaluators.len(), 2);
    let ok = evaluators
        .iter()
        .find(|s| s.attr("error.type").is_none())
        .expect("the successful evaluation");
    assert_eq!(ok.i64_attr("llmtrace.evaluator.input_tokens"), Some(7));
    assert_eq!(ok.f64_attr("llmtrace.evaluator.cost_usd"), Some(0.125));
    let failed = evaluators
        .iter()
        .find(|s| s.attr("error.type").is_some())
        .expect("the failed evaluation");
    // No model call inside it: no totals.
    assert!(failed.attr("llmtrace.evaluator.input_tokens").is_none());
    // An evaluator that is its trace's root: its judge still counts for it, and the trace
    // gets no roll-up of the judge.
    assert!(ok.attr("llmtrace.trace.input_tokens").is_none());
    let judge = spans.by_name("chat claude-haiku");
    assert_eq!(judge.bool_attr("llmtrace.evaluation"), Some(true));
}
