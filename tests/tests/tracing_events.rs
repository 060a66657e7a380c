//! `llmtrace::tracing::EventsLayer`: in native mode, `tracing` events emitted inside an llmtrace
//! span become its span events (named after the message, with `level`, `target` and the fields
//! as attributes, as tracing-opentelemetry records them).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;
use opentelemetry::Value;
use opentelemetry_sdk::trace::SpanData;
use tracing_subscriber::layer::SubscriberExt;

#[llmtrace::tool(name = "lookup_order")]
fn lookup(order_id: &str) -> Result<u32, String> {
    tracing::info!(
        order_id,
        attempt = 1_i64,
        cached = false,
        "looking the order up"
    );
    tracing::warn!(target: "billing", retries = 3_u64, ratio = 0.5, "slow billing lookup");
    tracing::debug!(note = ?order_id.len());
    Ok(42)
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
async fn chat(prompt: &str) -> String {
    tokio::task::yield_now().await;
    tracing::info!("after a yield");
    prompt.to_uppercase()
}

fn with_layer<R>(f: impl FnOnce() -> R) -> R {
    let subscriber = tracing_subscriber::registry().with(llmtrace::tracing::EventsLayer::new());
    tracing::subscriber::with_default(subscriber, f)
}

fn attr<'a>(event: &'a opentelemetry::trace::Event, key: &str) -> Option<&'a Value> {
    event
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn event<'a>(span: &'a SpanData, name: &str) -> &'a opentelemetry::trace::Event {
    span.events
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no event {name:?} on {}: {:?}", span.name, span.events))
}

#[test]
fn tracing_events_inside_a_span_become_its_events() {
    let capture = Capture::new();
    with_layer(|| capture.in_scope(|| lookup("A-42"))).unwrap();
    let spans = capture.spans();
    let tool = spans.by_name("execute_tool lookup_order");
    assert_eq!(tool.events.len(), 3, "{:?}", tool.events);

    let info = event(tool, "looking the order up");
    assert_eq!(attr(info, "level"), Some(&Value::from("INFO")));
    assert_eq!(attr(info, "target"), Some(&Value::from("tracing_events")));
    assert_eq!(attr(info, "order_id"), Some(&Value::from("A-42")));
    assert_eq!(attr(info, "attempt"), Some(&Value::I64(1)));
    assert_eq!(attr(info, "cached"), Some(&Value::Bool(false)));
    assert_eq!(attr(info, "message"), None);

    let warn = event(tool, "slow billing lookup");
    assert_eq!(attr(warn, "level"), Some(&Value::from("WARN")));
    assert_eq!(attr(warn, "target"), Some(&Value::from("billing")));
    // As tracing-opentelemetry records them: unsigned integers as text.
    assert_eq!(attr(warn, "retries"), Some(&Value::from("3")));
    assert_eq!(attr(warn, "ratio"), Some(&Value::F64(0.5)));

    // No message: the event's callsite name.
    let debug = tool
        .events
        .iter()
        .find(|e| e.name.starts_with("event "))
        .expect("the event without a message");
    assert_eq!(attr(debug, "note"), Some(&Value::from("4")));
    // The span is otherwise as without the layer.
    assert_eq!(tool.str_attr("gen_ai.tool.name"), Some("lookup_order"));
}

#[test]
fn events_follow_the_span_across_await() {
    let capture = Capture::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let reply = with_layer(|| runtime.block_on(capture.instrument(chat("hi"))));
    assert_eq!(reply, "HI");
    let spans = capture.spans();
    event(spans.by_name("chat gpt-4o"), "after a yield");
}

#[test]
fn events_outside_llmtrace_spans_are_left_alone() {
    let capture = Capture::new();
    with_layer(|| {
        capture.in_scope(|| tracing::info!("no span here"));
        tracing::info!("nor here");
    });
    assert!(capture.spans().is_empty());
}

#[test]
fn event_content_is_redacted() {
    let capture = Capture::new();
    with_layer(|| {
        capture.in_scope(|| {
            #[llmtrace::workflow(name = "notify")]
            fn notify(to: &str) {
                tracing::info!(to, "mail sent");
            }
            notify("ann@example.com");
        })
    });
    let spans = capture.spans();
    let sent = event(spans.by_name("invoke_workflow notify"), "mail sent");
    assert_eq!(attr(sent, "to"), Some(&Value::from("[REDACTED:email]")));
}
