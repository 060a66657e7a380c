//! genai (feature `otel`) against the mock server, its `tracing` spans recorded by
//! `llmtrace::tracing::GenAiLayer`, alone and nested with llmtrace's own spans.

use futures_util::StreamExt;
use genai::adapter::AdapterKind;
use genai::chat::{ChatMessage, ChatOptions, ChatRequest, ChatStreamEvent};
use genai::resolver::{AuthData, Endpoint, ServiceTargetResolver};
use genai::{Client, ModelIden, ServiceTarget};
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::tracing::GenAiLayer;
use llmtrace_integration_tests::{MockServer, RATE_LIMITED};
use llmtrace_runtime as llmtrace;
use tracing_subscriber::layer::SubscriberExt;

/// A genai client that sends every model to the mock server as an OpenAI-compatible one.
fn client(server: &MockServer) -> Client {
    let base = format!("{}/", server.base_url());
    let resolver = ServiceTargetResolver::from_resolver_fn(
        move |target: ServiceTarget| -> Result<ServiceTarget, genai::resolver::Error> {
            Ok(ServiceTarget {
                endpoint: Endpoint::from_owned(base.clone()),
                auth: AuthData::from_single("test-key"),
                model: ModelIden::new(AdapterKind::OpenAI, target.model.model_name),
            })
        },
    );
    Client::builder()
        .with_service_target_resolver(resolver)
        .build()
        .expect("client")
}

/// Runs `f` with the layer as this thread's subscriber (the tests run on current-thread
/// runtimes, so every span of a test is opened on its thread).
fn with_layer<R>(f: impl FnOnce() -> R) -> R {
    let subscriber = tracing_subscriber::registry().with(GenAiLayer::new());
    tracing::subscriber::with_default(subscriber, f)
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn question() -> ChatRequest {
    ChatRequest::new(vec![ChatMessage::user("How long do refunds take?")])
}

#[llmtrace::workflow(name = "support", skip(client))]
async fn support(client: &Client) -> Result<String, genai::Error> {
    let options = ChatOptions::default()
        .with_temperature(0.2)
        .with_max_tokens(256);
    let reply = client
        .exec_chat("gpt-4o-mini", question(), Some(&options))
        .await?;
    Ok(reply.first_text().unwrap_or_default().to_owned())
}

#[test]
fn a_genai_chat_is_a_model_call_span_under_the_workflow() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    let text = with_layer(|| block_on(cap.instrument(support(&client)))).unwrap();
    assert_eq!(text, "Refunds take 5 days.");

    let spans = cap.spans();
    let root = spans.by_name("invoke_workflow support");
    let chat = spans.by_name("chat gpt-4o-mini");
    assert_eq!(chat.parent_span_id, root.span_context.span_id());
    assert_eq!(chat.span_context.trace_id(), root.span_context.trace_id());
    assert_eq!(chat.str_attr("gen_ai.operation.name"), Some("chat"));
    assert_eq!(chat.str_attr("gen_ai.provider.name"), Some("openai"));
    assert_eq!(chat.f64_attr("gen_ai.request.temperature"), Some(0.2));
    assert_eq!(chat.i64_attr("gen_ai.request.max_tokens"), Some(256));
    assert_eq!(chat.str_attr("server.address"), Some("127.0.0.1"));
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
    // Cost from llmtrace's price database, and the roll-up into the workflow.
    assert!(chat.f64_attr("llm.cost.total").is_some_and(|c| c > 0.0));
    assert_eq!(root.i64_attr("llmtrace.trace.input_tokens"), Some(42));
    assert!(
        root.f64_attr("llmtrace.trace.cost_usd")
            .is_some_and(|c| c > 0.0)
    );
}

#[test]
fn a_genai_stream_records_time_to_first_chunk_and_usage() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    let text = with_layer(|| {
        block_on(cap.instrument(async {
            let options = ChatOptions::default().with_capture_usage(true);
            let mut res = client
                .exec_chat_stream("gpt-4o-mini", question(), Some(&options))
                .await
                .unwrap();
            let mut text = String::new();
            while let Some(event) = res.stream.next().await {
                if let ChatStreamEvent::Chunk(chunk) = event.unwrap() {
                    text.push_str(&chunk.content);
                }
            }
            text
        }))
    });
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
    assert!(chat.f64_attr("llm.cost.total").is_some_and(|c| c > 0.0));
}

#[test]
fn a_rate_limited_genai_call_is_an_error_span() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    let result =
        with_layer(|| block_on(cap.instrument(client.exec_chat(RATE_LIMITED, question(), None))));
    assert!(result.is_err());
    let spans = cap.spans();
    let chat = spans.by_name(&format!("chat {RATE_LIMITED}"));
    assert!(chat.is_error());
    assert!(chat.str_attr("error.type").is_some());
}

#[llmtrace::tool(name = "lookup_order")]
fn lookup_order(id: &str) -> String {
    format!("order {id}: shipped")
}

/// `#[workflow]` > genai's `invoke_agent` span > (genai chat, `#[tool]`): one trace, each span
/// under the right parent, whichever system opened it.
#[llmtrace::workflow(name = "shop", skip(client))]
async fn shop(client: &Client) -> Result<String, genai::Error> {
    let agent = genai::otel::agent::AgentSpan::invoke_agent()
        .internal()
        .with_name("helper")
        .start();
    let work = async {
        let reply = client.exec_chat("gpt-4o-mini", question(), None).await?;
        let order = lookup_order("A-42");
        Ok(format!(
            "{} {order}",
            reply.first_text().unwrap_or_default()
        ))
    };
    // Called by path: imported, `Instrument` would shadow `Capture::instrument` in the tests.
    tracing::Instrument::instrument(work, agent).await
}

#[test]
fn mixed_trees_are_one_trace_with_correct_parents() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    with_layer(|| block_on(cap.instrument(shop(&client)))).unwrap();
    let spans = cap.spans();
    let root = spans.by_name("invoke_workflow shop");
    let agent = spans.by_name("invoke_agent helper");
    let chat = spans.by_name("chat gpt-4o-mini");
    let tool = spans.by_name("execute_tool lookup_order");
    assert_eq!(agent.parent_span_id, root.span_context.span_id());
    assert_eq!(chat.parent_span_id, agent.span_context.span_id());
    assert_eq!(tool.parent_span_id, agent.span_context.span_id());
    for span in [agent, chat, tool] {
        assert_eq!(span.span_context.trace_id(), root.span_context.trace_id());
    }
    assert_eq!(
        agent.str_attr("gen_ai.operation.name"),
        Some("invoke_agent")
    );
    assert_eq!(agent.str_attr("openinference.span.kind"), Some("AGENT"));
    assert_eq!(agent.str_attr("gen_ai.agent.name"), Some("helper"));
    // The agent's own calls name it and count towards its totals.
    assert_eq!(chat.str_attr("gen_ai.agent.name"), Some("helper"));
    assert_eq!(tool.str_attr("gen_ai.agent.name"), Some("helper"));
    assert_eq!(agent.i64_attr("llmtrace.agent.inference_calls"), Some(1));
    assert_eq!(agent.i64_attr("llmtrace.agent.tool_calls"), Some(1));
    assert_eq!(agent.i64_attr("gen_ai.usage.input_tokens"), Some(42));
    assert_eq!(root.i64_attr("llmtrace.trace.input_tokens"), Some(42));
}

#[test]
fn without_the_layer_genai_spans_are_not_recorded() {
    let server = MockServer::start();
    let client = client(&server);
    let cap = Capture::new();
    block_on(cap.instrument(support(&client))).unwrap();
    assert_eq!(cap.spans().names(), vec!["invoke_workflow support"]);
}
