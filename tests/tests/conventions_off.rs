//! Conventions profile with the OpenInference and Langfuse keys switched off: only the GenAI
//! conventions remain, with the generic `session.id` / `user.id` and the cost (`llm.cost.*`, as
//! the GenAI conventions have no cost attribute).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::time::Duration;

use llmtrace::testing::SpanDataExt;
use llmtrace::Conventions;
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[llmtrace::workflow(name = "ask")]
fn ask(prompt: &str) -> String {
    chat(prompt)
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = 0.2)]
fn chat(prompt: &str) -> String {
    llmtrace::current().record_usage(llmtrace::Usage::new(1000, 300).with_cache_read(400));
    prompt.to_owned()
}

#[test]
fn openinference_and_langfuse_keys_switched_off() {
    let exporter = InMemorySpanExporter::default();
    let _guard = llmtrace::init()
        .conventions(Conventions::default().openinference(false).langfuse(false))
        .with_exporter(exporter.clone())
        .install();
    llmtrace::scope()
        .session_id("s-1")
        .user_id("u-1")
        .tag("beta")
        .metadata("plan", "pro")
        .in_scope(|| ask("hi"));
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), 2);
    for s in &spans {
        for kv in &s.attributes {
            let key = kv.key.as_str();
            let vendor = [
                "openinference.",
                "llm.",
                "langfuse.",
                "tag.",
                "input.",
                "output.",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || key == "metadata";
            let kept = key.starts_with("llm.cost.");
            assert!(
                !vendor || kept,
                "{key} on {} with the vendor keys off",
                s.name
            );
        }
        assert_eq!(s.str_attr("session.id"), Some("s-1"));
        assert_eq!(s.str_attr("user.id"), Some("u-1"));
    }
    let chat = spans.iter().find(|s| s.name == "chat gpt-4o").unwrap();
    assert_eq!(chat.i64_attr("gen_ai.usage.input_tokens"), Some(1000));
    assert_eq!(
        chat.i64_attr("gen_ai.usage.cache_read.input_tokens"),
        Some(400)
    );
    assert_eq!(chat.f64_attr("gen_ai.request.temperature"), Some(0.2));
    assert!(chat.f64_attr("llm.cost.total").is_some_and(|c| c > 0.0));
    let root = spans
        .iter()
        .find(|s| s.name == "invoke_workflow ask")
        .unwrap();
    assert_eq!(root.i64_attr("llmtrace.trace.input_tokens"), Some(1000));
}
