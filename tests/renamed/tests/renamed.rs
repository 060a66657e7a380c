//! `crate = path` and edition 2024.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use tracer::testing::{Capture, SpanDataExt};

#[tokio::test]
async fn renamed_runtime_crate() {
    let cap = Capture::new();
    assert_eq!(
        cap.in_scope(|| llmtrace_renamed_tests::bare::chat("hi")),
        Ok("hi".into())
    );
    assert!(
        cap.in_scope(|| llmtrace_renamed_tests::bare::chat(""))
            .is_err()
    );
    assert_eq!(
        cap.instrument(llmtrace_renamed_tests::bare::lookup(1))
            .await,
        Some(2)
    );
    assert_eq!(
        cap.in_scope(|| llmtrace_renamed_tests::bare::chat_found_by_name("yo")),
        "yo"
    );
    let spans = cap.spans();
    assert_eq!(spans.all("chat gpt-4o-mini").len(), 1);
    assert_eq!(spans.all("chat gpt-4o").len(), 2);
    assert!(spans.all("chat gpt-4o")[1].is_error());
    assert_eq!(
        spans
            .by_name("execute_tool lookup")
            .str_attr("output.value"),
        Some("2")
    );
    let handoff = cap.in_scope(|| tracer::step("before").in_scope(|| tracer::current().context()));
    assert_eq!(
        cap.in_scope(|| llmtrace_renamed_tests::bare::plan("tides", &handoff)),
        "tides"
    );
    assert!(
        cap.instrument(llmtrace_renamed_tests::bare::check_async("x"))
            .await
    );
    assert_eq!(
        cap.instrument(llmtrace_renamed_tests::bare::think("tides"))
            .await,
        5
    );
    let spans = cap.spans();
    let plan = spans.by_name("invoke_agent planner");
    assert_eq!(plan.links.len(), 1);
    assert_eq!(plan.i64_attr("llmtrace.agent.steps"), Some(1));
    for name in [
        "think",
        "think_async",
        "embeddings text-embedding-3-small",
        "rerank rerank-v3.5",
        "guardrail check",
        "guardrail check_async",
    ] {
        spans.by_name(name);
    }
}
