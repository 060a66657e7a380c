//! Conventions profiles: full OpenInference duplicates, legacy names, newest experimental names.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::time::Duration;

use llmtrace::testing::SpanDataExt;
use llmtrace::Conventions;
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[llmtrace::llm_call(
    provider = "azure.ai.openai",
    model = "gpt-4o",
    temperature = 0.2,
    max_tokens = 99
)]
fn chat(prompt: &str) -> String {
    llmtrace::current().record_usage(
        llmtrace::Usage::new(1000, 300)
            .with_cache_read(400)
            .with_cache_write(100)
            .with_reasoning(120),
    );
    prompt.to_owned()
}

#[llmtrace::tool(name = "lookup", description = "Finds things")]
fn lookup(id: u32) -> u32 {
    id
}

#[test]
fn full_legacy_and_latest_profile() {
    let exporter = InMemorySpanExporter::default();
    let _guard = llmtrace::init()
        .conventions(
            Conventions::default()
                .openinference_full(true)
                .legacy(true)
                .latest_experimental(true),
        )
        .with_exporter(exporter.clone())
        .install();
    chat("hi");
    lookup(7);
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let s = spans.iter().find(|s| s.name == "chat gpt-4o").unwrap();
    // OpenInference duplicates for older Phoenix.
    assert_eq!(s.str_attr("llm.model_name"), Some("gpt-4o"));
    assert_eq!(s.str_attr("llm.provider"), Some("azure"));
    assert_eq!(s.str_attr("llm.system"), Some("openai"));
    assert_eq!(
        s.json_attr("llm.invocation_parameters").unwrap(),
        serde_json::json!({"temperature": 0.2, "max_tokens": 99})
    );
    assert_eq!(s.i64_attr("llm.token_count.prompt"), Some(1000));
    assert_eq!(s.i64_attr("llm.token_count.completion"), Some(300));
    assert_eq!(s.i64_attr("llm.token_count.total"), Some(1300));
    assert_eq!(
        s.i64_attr("llm.token_count.prompt_details.cache_read"),
        Some(400)
    );
    assert_eq!(
        s.i64_attr("llm.token_count.prompt_details.cache_write"),
        Some(100)
    );
    assert_eq!(
        s.i64_attr("llm.token_count.completion_details.reasoning"),
        Some(120)
    );
    // Legacy names.
    assert_eq!(s.str_attr("gen_ai.system"), Some("azure.ai.openai"));
    assert_eq!(s.i64_attr("gen_ai.usage.prompt_tokens"), Some(1000));
    assert_eq!(s.i64_attr("gen_ai.usage.completion_tokens"), Some(300));
    // Newest names, next to the ones backends read today.
    assert_eq!(
        s.i64_attr("gen_ai.usage.cache_write.input_tokens"),
        Some(100)
    );
    assert_eq!(
        s.i64_attr("gen_ai.usage.cache_creation.input_tokens"),
        Some(100)
    );
    assert_eq!(
        s.json_attr("langfuse.observation.usage_details").unwrap(),
        serde_json::json!({"input": 500, "output": 180, "input_cached_tokens": 400,
            "input_cache_creation": 100, "output_reasoning_tokens": 120, "total": 1300})
    );
    let t = spans
        .iter()
        .find(|s| s.name == "execute_tool lookup")
        .unwrap();
    assert_eq!(t.str_attr("tool.name"), Some("lookup"));
    assert_eq!(t.str_attr("tool.description"), Some("Finds things"));
    assert_eq!(t.str_attr("tool.parameters"), Some(r#"{"id":7}"#));
}
