//! The JSONL exporter behind the real pipeline: instrumented calls end up as OTLP/JSON lines
//! (one `ExportTraceServiceRequest` per export) that read back with the right spans.
//!
//! The lines are read as `serde_json::Value`: this package does not depend on
//! `opentelemetry-proto`, and checking the raw JSON also checks the OTLP/JSON encoding itself
//! (hex ids, 64-bit integers as strings, enums as integers).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use llmtrace_runtime as llmtrace;
use serde_json::Value;

#[path = "support/jsonl_file.rs"]
mod jsonl_file;

use jsonl_file::{answer, attr, requests, str_attr};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("llmtrace-jsonl-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Spans of every request, with the resource's `service.name` checked on the way.
fn spans(requests: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for request in requests {
        for resource_spans in request["resourceSpans"].as_array().unwrap() {
            let resource = &resource_spans["resource"]["attributes"];
            assert_eq!(attr(resource, "service.name")["stringValue"], "jsonl-test");
            for scope_spans in resource_spans["scopeSpans"].as_array().unwrap() {
                assert_eq!(scope_spans["scope"]["name"], "llmtrace");
                out.extend(scope_spans["spans"].as_array().unwrap().iter().cloned());
            }
        }
    }
    out
}

fn named<'a>(spans: &'a [Value], name: &str) -> Vec<&'a Value> {
    spans.iter().filter(|s| s["name"] == name).collect()
}

fn is_hex(value: &Value, len: usize) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[test]
fn instrumented_calls_are_written_as_otlp_json_lines() {
    let dir = TempDir::new();
    let path = dir.0.join("nested").join("traces.jsonl");
    let guard = llmtrace::init()
        .service_name("jsonl-test")
        .with_exporter(llmtrace::export::JsonlExporter::new(&path))
        .install();

    // Two flushes: at least two exports, hence two lines.
    answer("weather?").unwrap();
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");
    answer("again?").unwrap();
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");

    let requests = requests(&path);
    assert!(requests.len() >= 2, "one line per export: {requests:?}");
    let spans = spans(&requests);
    let workflows = named(&spans, "invoke_workflow answer");
    let chats = named(&spans, "chat gpt-4o");
    let tools = named(&spans, "execute_tool lookup_weather");
    assert_eq!((workflows.len(), chats.len(), tools.len()), (2, 2, 2));

    for span in &spans {
        assert!(is_hex(&span["traceId"], 32), "hex trace id: {span}");
        assert!(is_hex(&span["spanId"], 16), "hex span id: {span}");
        assert!(span["startTimeUnixNano"].is_string(), "{span}");
        assert!(span["endTimeUnixNano"].is_string(), "{span}");
    }
    for workflow in &workflows {
        assert_eq!(
            workflow["parentSpanId"].as_str().unwrap_or(""),
            "",
            "a root"
        );
        assert_eq!(workflow["kind"], 1, "INTERNAL");
        assert_eq!(
            str_attr(workflow, "gen_ai.operation.name"),
            "invoke_workflow"
        );
        assert_eq!(str_attr(workflow, "gen_ai.workflow.name"), "answer");
        // Each workflow has its own chat and tool children, in its own trace.
        for children in [&chats, &tools] {
            let mine: Vec<_> = children
                .iter()
                .filter(|c| c["parentSpanId"] == workflow["spanId"])
                .collect();
            assert_eq!(mine.len(), 1, "one child of {workflow}");
            assert_eq!(mine[0]["traceId"], workflow["traceId"]);
        }
    }
    assert_ne!(workflows[0]["traceId"], workflows[1]["traceId"]);
    for chat in &chats {
        assert_eq!(chat["kind"], 3, "CLIENT");
        assert_eq!(str_attr(chat, "gen_ai.operation.name"), "chat");
        assert_eq!(str_attr(chat, "gen_ai.provider.name"), "openai");
        assert_eq!(str_attr(chat, "gen_ai.request.model"), "gpt-4o");
        // 64-bit integers are strings in OTLP/JSON.
        assert_eq!(
            attr(&chat["attributes"], "gen_ai.usage.input_tokens")["intValue"],
            "412"
        );
        assert_eq!(
            attr(&chat["attributes"], "gen_ai.usage.output_tokens")["intValue"],
            "38"
        );
    }
    for tool in &tools {
        assert_eq!(str_attr(tool, "gen_ai.operation.name"), "execute_tool");
        assert_eq!(str_attr(tool, "gen_ai.tool.name"), "lookup_weather");
    }

    let stats = llmtrace::stats();
    assert_eq!(stats.exported, 6, "{stats:?}");
    drop(guard);
}
