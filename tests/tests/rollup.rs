//! Roll-up: a trace's root carries the tokens and cost of every span of the trace that ended
//! before it, under `llmtrace.trace.*`; spans that end after the root are not counted.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use futures_core::Stream;
use futures_util::StreamExt;
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::Usage;
use llmtrace_runtime as llmtrace;

/// gpt-4o in the bundled genai-prices data: USD per million input and output tokens.
const GPT_4O: (f64, f64) = (2.5, 10.0);

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn priced(input: u64, output: u64) -> Usage {
    Usage::new(input, output)
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn recorded_cost() {
    llmtrace::current().record_usage(Usage::new(10, 10));
    llmtrace::current().record_cost_usd(0.5);
}

#[llmtrace::llm_call(provider = custom("acme"), model = "acme-large-1")]
fn unpriced() -> Usage {
    Usage::new(7, 3)
}

#[llmtrace::tool(name = "lookup")]
fn lookup() -> u32 {
    // A nested call: everything below the root counts.
    priced(100, 0);
    42
}

#[llmtrace::workflow(name = "answer")]
fn answer() -> u32 {
    priced(1_000, 200);
    recorded_cost();
    unpriced();
    lookup()
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
fn streamed() -> impl Stream<Item = String> {
    futures_util::stream::iter(vec!["a".to_owned(), "b".to_owned()])
}

#[llmtrace::workflow(name = "hands_off")]
fn hands_off() -> impl Stream<Item = String> {
    priced(50, 5);
    // The stream is read after this function returned: its span ends after the root.
    streamed()
}

#[test]
fn the_root_totals_its_trace() {
    let cap = Capture::new();
    cap.in_scope(answer);
    let spans = cap.spans();
    assert_eq!(spans.len(), 6);
    let root = spans.by_name("invoke_workflow answer");
    assert_eq!(
        root.i64_attr("llmtrace.trace.input_tokens"),
        Some(1_000 + 10 + 7 + 100)
    );
    assert_eq!(
        root.i64_attr("llmtrace.trace.output_tokens"),
        Some(200 + 10 + 3)
    );
    let expected = (1_100.0 * GPT_4O.0 + 200.0 * GPT_4O.1) / 1e6 + 0.5;
    let cost = root.f64_attr("llmtrace.trace.cost_usd").unwrap();
    assert!((cost - expected).abs() < 1e-12, "{cost} != {expected}");
    // The acme call has no price: the total is a lower bound, and says so.
    assert_eq!(root.i64_attr("llmtrace.trace.unpriced_calls"), Some(1));
    // Totals live on the root only, apart from the calls' own keys.
    for span in spans
        .iter()
        .filter(|s| s.parent_span_id != opentelemetry::trace::SpanId::INVALID)
    {
        assert!(
            span.attr("llmtrace.trace.input_tokens").is_none(),
            "{}",
            span.name
        );
    }
    // The call's own cost keys are untouched by the roll-up.
    let first = spans.all("chat gpt-4o")[0];
    assert_eq!(first.i64_attr("gen_ai.usage.input_tokens"), Some(1_000));
}

#[test]
fn late_children_are_not_counted() {
    let cap = Capture::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(cap.instrument(async {
        let s = hands_off();
        assert_eq!(s.count().await, 2);
    }));
    let spans = cap.spans();
    assert_eq!(spans.len(), 3);
    let root = spans.by_name("invoke_workflow hands_off");
    assert_eq!(root.i64_attr("llmtrace.trace.input_tokens"), Some(50));
    assert_eq!(root.i64_attr("llmtrace.trace.output_tokens"), Some(5));
    let late = spans
        .all("chat gpt-4o")
        .into_iter()
        .find(|s| s.bool_attr("gen_ai.request.stream") == Some(true))
        .unwrap();
    assert!(late.end_time > root.end_time);
    assert_eq!(spans.parent_of(late).unwrap().name, root.name);
}
