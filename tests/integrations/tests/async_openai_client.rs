//! `llmtrace::openai::Client` around the real `async-openai` client, against the mock server.

use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessage, ChatCompletionStreamOptions, ChatCompletionTool,
    ChatCompletionTools, CreateChatCompletionRequest, CreateChatCompletionRequestArgs,
    FunctionObject, ResponseFormat,
};
use async_openai::types::embeddings::CreateEmbeddingRequestArgs;
use async_openai::types::responses::{CreateResponse, CreateResponseArgs};
use futures_util::StreamExt;
use llmtrace::openai::{Client, ClientExt};
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_integration_tests::{MALFORMED, MockServer, RATE_LIMITED, TOO_LONG};
use llmtrace_runtime as llmtrace;
use serde_json::json;

fn client(server: &MockServer) -> Client<OpenAIConfig> {
    let config = OpenAIConfig::new()
        .with_api_base(server.base_url())
        .with_api_key("test-key");
    async_openai::Client::with_config(config).traced()
}

#[allow(deprecated)]
fn chat_request(model: &str) -> CreateChatCompletionRequest {
    CreateChatCompletionRequestArgs::default()
        .model(model)
        .messages([ChatCompletionRequestUserMessage::from("How long do refunds take?").into()])
        .temperature(0.2_f32)
        .top_p(0.9_f32)
        .max_completion_tokens(256_u32)
        .seed(7_i64)
        .stop(vec!["END".to_owned()])
        .presence_penalty(0.5_f32)
        .frequency_penalty(-0.25_f32)
        .n(2_u8)
        .response_format(ResponseFormat::JsonObject)
        .reasoning_effort(async_openai::types::chat::ReasoningEffort::Low)
        .tools(vec![ChatCompletionTools::Function(ChatCompletionTool {
            function: FunctionObject {
                name: "lookup_order".into(),
                description: Some("Find an order".into()),
                parameters: Some(json!({"type": "object"})),
                strict: Some(true),
            },
        })])
        .build()
        .unwrap()
}

#[llmtrace::workflow(name = "support", skip(client))]
async fn support(client: &Client<OpenAIConfig>, model: &str) -> Result<String, OpenAIError> {
    let reply = client.chat().create(chat_request(model)).await?;
    Ok(reply.choices[0].message.content.clone().unwrap_or_default())
}

#[tokio::test]
async fn chat_is_a_span_under_the_current_one_with_the_request_and_usage() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    let text = cap
        .instrument(support(&client, "gpt-4o-mini"))
        .await
        .unwrap();
    assert_eq!(text, "Refunds take 5 days.");

    let spans = cap.spans();
    let root = spans.by_name("invoke_workflow support");
    let chat = spans.by_name("chat gpt-4o-mini");
    assert_eq!(chat.parent_span_id, root.span_context.span_id());
    assert_eq!(
        chat.span_kind,
        llmtrace::otel::opentelemetry::trace::SpanKind::Client
    );
    assert_eq!(chat.str_attr("gen_ai.provider.name"), Some("openai"));
    assert_eq!(chat.str_attr("gen_ai.request.model"), Some("gpt-4o-mini"));
    // f32 parameters as written, not `0.20000000298023224`.
    assert_eq!(chat.f64_attr("gen_ai.request.temperature"), Some(0.2));
    assert_eq!(chat.f64_attr("gen_ai.request.top_p"), Some(0.9));
    assert_eq!(chat.f64_attr("gen_ai.request.presence_penalty"), Some(0.5));
    assert_eq!(
        chat.f64_attr("gen_ai.request.frequency_penalty"),
        Some(-0.25)
    );
    assert_eq!(chat.i64_attr("gen_ai.request.max_tokens"), Some(256));
    assert_eq!(chat.i64_attr("gen_ai.request.seed"), Some(7));
    assert_eq!(chat.i64_attr("gen_ai.request.choice.count"), Some(2));
    assert_eq!(
        chat.attr("gen_ai.request.stop_sequences")
            .map(|v| v.to_string()),
        Some("[\"END\"]".into())
    );
    assert_eq!(chat.str_attr("gen_ai.output.type"), Some("json"));
    assert_eq!(chat.str_attr("gen_ai.request.reasoning.level"), Some("low"));
    assert_eq!(chat.str_attr("server.address"), Some("127.0.0.1"));
    assert_eq!(chat.i64_attr("server.port"), Some(i64::from(server.port())));
    assert_eq!(
        chat.json_attr("gen_ai.tool.definitions"),
        Some(json!([{"type": "function", "name": "lookup_order",
            "description": "Find an order", "parameters": {"type": "object"}}]))
    );
    assert_eq!(
        chat.json_attr("gen_ai.input.messages"),
        Some(
            json!([{"role": "user", "parts": [{"type": "text", "content": "How long do refunds take?"}]}])
        )
    );
    // The response.
    assert_eq!(chat.i64_attr("gen_ai.usage.input_tokens"), Some(42));
    assert_eq!(chat.i64_attr("gen_ai.usage.output_tokens"), Some(7));
    assert_eq!(
        chat.i64_attr("gen_ai.usage.cache_read.input_tokens"),
        Some(10)
    );
    assert_eq!(
        chat.str_attr("gen_ai.response.model"),
        Some("gpt-4o-mini-2024-07-18")
    );
    assert_eq!(chat.str_attr("gen_ai.response.id"), Some("chatcmpl-mock-1"));
    assert!(chat.f64_attr("llm.cost.total").is_some_and(|c| c > 0.0));
    let output = chat.json_attr("gen_ai.output.messages").unwrap();
    assert_eq!(output[0]["finish_reason"], "stop");
    // The root's roll-up counts the call.
    assert_eq!(root.i64_attr("llmtrace.trace.input_tokens"), Some(42));
    // The request went out as built.
    let sent = &server.received()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.body["temperature"], json!(0.2));
}

#[tokio::test]
async fn a_stream_span_records_time_to_first_chunk_and_the_final_usage() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    let text = cap
        .instrument(async {
            let mut request = chat_request("gpt-4o-mini");
            request.n = None;
            request.stream_options = Some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: None,
            });
            let mut stream = client.chat().create_stream(request).await.unwrap();
            let mut text = String::new();
            while let Some(chunk) = stream.next().await {
                for choice in chunk.unwrap().choices {
                    text.push_str(choice.delta.content.as_deref().unwrap_or_default());
                }
            }
            text
        })
        .await;
    assert_eq!(text, "Refunds take 5 days.");
    let spans = cap.spans();
    let chat = spans.by_name("chat gpt-4o-mini");
    assert_eq!(chat.bool_attr("gen_ai.request.stream"), Some(true));
    assert!(
        chat.f64_attr("gen_ai.response.time_to_first_chunk")
            .is_some_and(|t| t >= 0.0)
    );
    assert_eq!(chat.i64_attr("gen_ai.usage.input_tokens"), Some(30));
    assert_eq!(chat.i64_attr("gen_ai.usage.output_tokens"), Some(5));
    assert_eq!(chat.i64_attr("llmtrace.stream.chunks"), Some(5));
    assert!(chat.f64_attr("llm.cost.total").is_some_and(|c| c > 0.0));
    assert_eq!(
        chat.json_attr("gen_ai.output.messages").unwrap()[0]["parts"][0]["content"],
        "Refunds take 5 days."
    );
    assert!(!chat.is_error());
}

#[tokio::test]
async fn errors_map_to_error_type() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    cap.instrument(async {
        let e = client
            .chat()
            .create(chat_request(RATE_LIMITED))
            .await
            .unwrap_err();
        assert!(matches!(e, OpenAIError::ApiError(_)), "{e:?}");
        let mut streamed = chat_request(RATE_LIMITED);
        streamed.n = None;
        assert!(client.chat().create_stream(streamed).await.is_err());
        assert!(client.chat().create(chat_request(TOO_LONG)).await.is_err());
        let e = client
            .chat()
            .create(chat_request(MALFORMED))
            .await
            .unwrap_err();
        assert!(matches!(e, OpenAIError::JSONDeserialize(..)), "{e:?}");
    })
    .await;
    let spans = cap.spans();
    let limited = spans.all(&format!("chat {RATE_LIMITED}"));
    assert_eq!(limited.len(), 2);
    for span in limited {
        assert!(span.is_error());
        assert_eq!(span.str_attr("error.type"), Some("rate_limited"));
        assert_eq!(span.bool_attr("llmtrace.usage.missing"), Some(true));
    }
    let too_long = spans.by_name(&format!("chat {TOO_LONG}"));
    assert_eq!(
        too_long.str_attr("error.type"),
        Some("api_error.context_length_exceeded")
    );
    let malformed = spans.by_name(&format!("chat {MALFORMED}"));
    assert_eq!(malformed.str_attr("error.type"), Some("invalid_response"));
}

fn responses_request() -> CreateResponse {
    CreateResponseArgs::default()
        .model("gpt-4o-mini")
        .input("How long do refunds take?")
        .instructions("Be brief.")
        .temperature(0.7_f32)
        .max_output_tokens(128_u32)
        .build()
        .unwrap()
}

#[tokio::test]
async fn responses_plain_and_streamed() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    cap.instrument(async {
        let response = client
            .responses()
            .create(responses_request())
            .await
            .unwrap();
        assert_eq!(response.id, "resp_mock_1");
        let mut stream = client
            .responses()
            .create_stream(responses_request())
            .await
            .unwrap();
        let mut events = 0;
        while let Some(event) = stream.next().await {
            event.unwrap();
            events += 1;
        }
        assert_eq!(events, 4);
    })
    .await;
    let spans = cap.spans();
    let calls = spans.all("chat gpt-4o-mini");
    assert_eq!(calls.len(), 2);
    for span in &calls {
        assert_eq!(span.f64_attr("gen_ai.request.temperature"), Some(0.7));
        assert_eq!(span.i64_attr("gen_ai.request.max_tokens"), Some(128));
        assert_eq!(span.i64_attr("gen_ai.usage.input_tokens"), Some(20));
        assert_eq!(span.i64_attr("gen_ai.usage.output_tokens"), Some(6));
        assert_eq!(
            span.i64_attr("gen_ai.usage.reasoning.output_tokens"),
            Some(2)
        );
        assert_eq!(span.str_attr("gen_ai.response.id"), Some("resp_mock_1"));
        assert_eq!(
            span.json_attr("gen_ai.system_instructions"),
            Some(json!([{"type": "text", "content": "Be brief."}]))
        );
        assert!(span.f64_attr("llm.cost.total").is_some_and(|c| c > 0.0));
    }
    let streamed = calls
        .iter()
        .find(|s| s.bool_attr("gen_ai.request.stream") == Some(true))
        .expect("the streamed call");
    assert!(
        streamed
            .f64_attr("gen_ai.response.time_to_first_chunk")
            .is_some()
    );
}

#[tokio::test]
async fn embeddings_are_an_embeddings_span() {
    let server = MockServer::start();
    let client = Client::new(async_openai::Client::with_config(
        OpenAIConfig::new().with_api_base(server.base_url()),
    ));
    let cap = Capture::new();
    let request = CreateEmbeddingRequestArgs::default()
        .model("text-embedding-3-small")
        .input("refund policy")
        .build()
        .unwrap();
    let response = cap
        .instrument(client.embeddings().create(request))
        .await
        .unwrap();
    assert_eq!(response.data[0].embedding.len(), 3);
    let spans = cap.spans();
    let span = spans.by_name("embeddings text-embedding-3-small");
    assert_eq!(span.str_attr("gen_ai.operation.name"), Some("embeddings"));
    assert_eq!(span.i64_attr("gen_ai.usage.input_tokens"), Some(8));
    assert!(span.f64_attr("llm.cost.total").is_some_and(|c| c > 0.0));
}

/// A hand-written `#[llm_call]` function gets the same `error.type` through `ErrorType`.
#[llmtrace::llm_call(provider = "openai", model = req.model.as_str(), messages = req, temperature = req.temperature, skip(client))]
async fn hand_written(
    client: &async_openai::Client<OpenAIConfig>,
    req: CreateChatCompletionRequest,
) -> Result<async_openai::types::chat::CreateChatCompletionResponse, OpenAIError> {
    client.chat().create(req).await
}

#[tokio::test]
async fn hand_written_llm_call_gets_the_same_error_type() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    let _ = cap
        .instrument(hand_written(client.inner(), chat_request(RATE_LIMITED)))
        .await;
    let _ = cap
        .instrument(hand_written(client.inner(), chat_request("gpt-4o-mini")))
        .await;
    let spans = cap.spans();
    let limited = spans.by_name(&format!("chat {RATE_LIMITED}"));
    assert_eq!(limited.str_attr("error.type"), Some("rate_limited"));
    let ok = spans.by_name("chat gpt-4o-mini");
    // An f32 expression is recorded as the decimal written.
    assert_eq!(ok.f64_attr("gen_ai.request.temperature"), Some(0.2));
}
