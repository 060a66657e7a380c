//! rig-core against the mock server: its `rig::completions` `tracing` spans (GenAI fields, no
//! `otel.name`) recorded by `llmtrace::tracing::GenAiLayer` under an llmtrace workflow.

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::tracing::GenAiLayer;
use llmtrace_integration_tests::MockServer;
use llmtrace_runtime as llmtrace;
use rig_core::providers::openai::OpenAIConfig;
use tracing_subscriber::layer::SubscriberExt;

#[llmtrace::workflow(name = "rig_support")]
async fn support(base_url: String) -> Result<Option<u64>, rig_core::ProviderError> {
    let model = OpenAIConfig::new("test-key")
        .with_base_url(base_url)
        .client()
        .chat("gpt-4o-mini");
    let response = model.call("How long do refunds take?").await?;
    Ok(response.usage.output_tokens)
}

#[test]
fn a_rig_chat_is_a_model_call_span_under_the_workflow() {
    let server = MockServer::start();
    let cap = Capture::new();
    let subscriber = tracing_subscriber::registry().with(GenAiLayer::new());
    let output_tokens = tracing::subscriber::with_default(subscriber, || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(cap.instrument(support(server.base_url())))
            .map_err(|e| e.to_string())
    })
    .unwrap();
    assert_eq!(output_tokens, Some(7));

    let spans = cap.spans();
    let root = spans.by_name("invoke_workflow rig_support");
    let chat = spans.by_name("chat gpt-4o-mini");
    assert_eq!(chat.parent_span_id, root.span_context.span_id());
    assert_eq!(chat.str_attr("gen_ai.operation.name"), Some("chat"));
    assert_eq!(chat.str_attr("gen_ai.provider.name"), Some("openai"));
    assert_eq!(chat.i64_attr("gen_ai.usage.input_tokens"), Some(42));
    assert_eq!(chat.i64_attr("gen_ai.usage.output_tokens"), Some(7));
    assert_eq!(
        chat.str_attr("gen_ai.response.model"),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert!(chat.f64_attr("llm.cost.total").is_some_and(|c| c > 0.0));
    assert_eq!(root.i64_attr("llmtrace.trace.input_tokens"), Some(42));
}
