//! Content controls: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` decides where prompts
//! and responses go (span attributes, span events, both, nowhere; an unknown value means nowhere,
//! with a warning), and the content limit cuts long values to valid JSON that says it was cut.
//!
//! The pipeline is installed once per process, so each setting runs in a child process of this
//! test binary (the `child` test, ignored unless run by `modes`).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use llmtrace::testing::SpanDataExt;
use llmtrace::{Message, Usage};
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

const MODE: &str = "LLMTRACE_TEST_CONTENT_MODE";
const CONTENT_EVENT: &str = "gen_ai.client.inference.operation.details";

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", messages = [Message::user(prompt)])]
fn chat(prompt: &str) -> Usage {
    let _ = prompt;
    Usage::new(12, 3)
}

#[llmtrace::tool(name = "lookup")]
fn lookup(order_id: &str) -> String {
    format!("order {order_id} shipped")
}

fn event_attr<'a>(span: &'a SpanData, key: &str) -> Option<&'a opentelemetry::Value> {
    span.events
        .iter()
        .find(|e| e.name == CONTENT_EVENT)?
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// Runs in a child process: installs with the mode given and checks the spans.
#[test]
#[ignore = "run by `modes` in a child process"]
fn child() {
    let mode = std::env::var(MODE).expect("run by `modes`");
    let exporter = InMemorySpanExporter::default();
    let mut env = HashMap::new();
    if mode != "unset" {
        env.insert(
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT".to_owned(),
            mode.clone(),
        );
    }
    let _guard = llmtrace::init()
        .env(env)
        .with_exporter(exporter.clone())
        .content_limit(256)
        .install();
    chat("Where is my order A-42?");
    chat(&"long question ".repeat(100));
    lookup("A-42");
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let short = spans.iter().find(|s| s.name == "chat gpt-4o").unwrap();
    let long = spans
        .iter()
        .filter(|s| s.name == "chat gpt-4o")
        .nth(1)
        .unwrap();
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool lookup")
        .unwrap();

    // Usage is not content: always there.
    assert_eq!(short.i64_attr("gen_ai.usage.input_tokens"), Some(12));
    let (on_span, on_event) = match mode.as_str() {
        "unset" | "SPAN_ONLY" | "span_only" => (true, false),
        "EVENT_ONLY" => (false, true),
        "SPAN_AND_EVENT" => (true, true),
        _ => (false, false),
    };
    assert_eq!(
        short.attr("gen_ai.input.messages").is_some(),
        on_span,
        "{mode}"
    );
    assert_eq!(short.attr("input.value").is_some(), on_span, "{mode}");
    assert_eq!(
        tool.attr("gen_ai.tool.call.arguments").is_some(),
        on_span,
        "{mode}"
    );
    assert_eq!(
        event_attr(short, "gen_ai.input.messages").is_some(),
        on_event,
        "{mode}"
    );
    assert_eq!(
        event_attr(tool, "gen_ai.tool.call.result").is_some(),
        on_event,
        "{mode}"
    );
    if on_span {
        let messages = short.json_attr("gen_ai.input.messages").unwrap();
        assert_eq!(
            messages[0]["parts"][0]["content"],
            "Where is my order A-42?"
        );
        // Cut to the limit, still valid JSON, and marked.
        let cut = long.str_attr("gen_ai.input.messages").unwrap();
        assert!(cut.len() <= 300, "{} bytes", cut.len());
        let parsed: serde_json::Value = serde_json::from_str(cut).unwrap();
        assert!(parsed[0]["parts"][0]["content"]
            .as_str()
            .unwrap()
            .ends_with('…'));
        assert_eq!(long.bool_attr("llmtrace.content.truncated"), Some(true));
        assert_eq!(short.attr("llmtrace.content.truncated"), None);
    }
    let warnings = llmtrace::stats().warnings;
    if mode == "bogus" || mode == "true" {
        assert!(warnings >= 1, "an unknown value warns");
    } else {
        assert_eq!(warnings, 0, "{mode}");
    }
}

#[test]
fn modes() {
    let exe = std::env::current_exe().unwrap();
    for mode in [
        "unset",
        "span_only",
        "SPAN_ONLY",
        "EVENT_ONLY",
        "SPAN_AND_EVENT",
        "NO_CONTENT",
        "bogus",
        "true",
    ] {
        let out = Command::new(&exe)
            .args(["--exact", "child", "--ignored", "--nocapture"])
            .env(MODE, mode)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mode {mode}:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // The child really ran (and was not filtered out).
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("1 passed"),
            "mode {mode}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
