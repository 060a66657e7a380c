//! Every `#[llm_call]` argument as a literal, and the attributes it produces.
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(
    crate = ::llmtrace_runtime,
    provider = "anthropic",
    model = "claude-sonnet-4",
    operation = "chat",
    temperature = 0.5,
    max_tokens = 256,
    top_p = 0.9,
    top_k = 40,
    frequency_penalty = 0.1,
    presence_penalty = -0.2,
    seed = 7,
    stop_sequences = ["END", "STOP"],
    choice_count = 2,
    reasoning_level = "high",
    output_type = "json",
    prompt_name = "triage",
    prompt_version = "v3",
    conversation_id = "conv-1",
    agent = "triage_agent",
    server_address = "api.anthropic.com",
    server_port = 443,
    skip(api_base),
    redact(customer),
    output = true,
    attributes(app.tier = "pro", app.retries = 2, app.beta = true, app.ratio = 0.5, app.tags = ["a", "b"], gen_ai.conversation.compacted = true)
)]
fn chat(prompt: &str, api_base: &str, customer: &str) -> String {
    let _ = customer;
    format!("{api_base}: {prompt}")
}

#[llmtrace::llm_call(provider = custom("acme_llm"), model = "acme-1", operation = "text_completion", skip_all, output = false)]
fn complete(text: &str) -> String {
    text.to_uppercase()
}

fn main() {
    let cap = Capture::new();
    cap.in_scope(|| {
        chat("hi", "https://example.test", "ann@example.com");
        complete("hi");
    });
    let spans = cap.spans();
    let s = spans.by_name("chat claude-sonnet-4");
    let str_of = |k: &str| s.str_attr(k).unwrap_or_else(|| panic!("{k}"));
    assert_eq!(str_of("gen_ai.operation.name"), "chat");
    assert_eq!(str_of("gen_ai.provider.name"), "anthropic");
    assert_eq!(str_of("gen_ai.request.model"), "claude-sonnet-4");
    assert_eq!(s.f64_attr("gen_ai.request.temperature"), Some(0.5));
    assert_eq!(s.i64_attr("gen_ai.request.max_tokens"), Some(256));
    assert_eq!(s.f64_attr("gen_ai.request.top_p"), Some(0.9));
    assert_eq!(s.i64_attr("gen_ai.request.top_k"), Some(40));
    assert_eq!(s.f64_attr("gen_ai.request.frequency_penalty"), Some(0.1));
    assert_eq!(s.f64_attr("gen_ai.request.presence_penalty"), Some(-0.2));
    assert_eq!(s.i64_attr("gen_ai.request.seed"), Some(7));
    assert_eq!(
        s.attr("gen_ai.request.stop_sequences").map(ToString::to_string).as_deref(),
        Some(r#"["END","STOP"]"#)
    );
    assert_eq!(s.i64_attr("gen_ai.request.choice.count"), Some(2));
    assert_eq!(str_of("gen_ai.request.reasoning.level"), "high");
    assert_eq!(str_of("gen_ai.output.type"), "json");
    assert_eq!(str_of("gen_ai.prompt.name"), "triage");
    assert_eq!(str_of("gen_ai.prompt.version"), "v3");
    assert_eq!(str_of("langfuse.observation.prompt.name"), "triage");
    assert_eq!(str_of("langfuse.observation.prompt.version"), "v3");
    assert_eq!(str_of("gen_ai.conversation.id"), "conv-1");
    assert_eq!(str_of("gen_ai.agent.name"), "triage_agent");
    assert_eq!(str_of("server.address"), "api.anthropic.com");
    assert_eq!(s.i64_attr("server.port"), Some(443));
    assert_eq!(str_of("input.value"), r#"{"prompt":"hi","customer":"[REDACTED]"}"#);
    assert_eq!(str_of("output.value"), r#""https://example.test: hi""#);
    assert_eq!(str_of("app.tier"), "pro");
    assert_eq!(s.i64_attr("app.retries"), Some(2));
    assert_eq!(s.bool_attr("app.beta"), Some(true));
    assert_eq!(s.f64_attr("app.ratio"), Some(0.5));
    assert_eq!(s.attr("app.tags").map(ToString::to_string).as_deref(), Some(r#"["a","b"]"#));
    assert_eq!(s.bool_attr("gen_ai.conversation.compacted"), Some(true));

    let e = spans.by_name("text_completion acme-1");
    assert_eq!(e.str_attr("gen_ai.operation.name"), Some("text_completion"));
    assert_eq!(e.str_attr("gen_ai.provider.name"), Some("acme_llm"));
    assert_eq!(e.str_attr("openinference.span.kind"), Some("LLM"));
    assert!(e.attr("input.value").is_none() && e.attr("output.value").is_none());
}
