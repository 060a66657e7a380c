//! The JSONL file and a `SpanExporter` installed together: the worker encodes the file's spans
//! straight into OTLP/JSON and hands the other exporter `SpanData`, and both say the same.
//! (A test binary of its own: llmtrace is installed once per process.)
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use llmtrace_runtime as llmtrace;
use serde_json::Value;

#[path = "support/jsonl_file.rs"]
mod jsonl_file;

use jsonl_file::{answer, requests, str_attr};

/// Every span of every line of the file.
fn spans(path: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for request in requests(path) {
        for rs in request["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                out.extend(ss["spans"].as_array().unwrap().iter().cloned());
            }
        }
    }
    out
}

/// The file's spans are the spans the other exporter receives: ids, names, times, attributes,
/// events and status alike.
#[test]
fn the_file_holds_what_a_span_exporter_receives() {
    use opentelemetry::trace::Status;
    use opentelemetry_sdk::trace::InMemorySpanExporter;

    let dir = std::env::temp_dir().join(format!("llmtrace-jsonl-both-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path: PathBuf = dir.join("traces.jsonl");
    let memory = InMemorySpanExporter::default();
    let guard = llmtrace::init()
        .service_name("jsonl-both")
        .jsonl(&path)
        .with_exporter(memory.clone())
        .install();

    answer("weather?").unwrap();
    let _ = failing();
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");

    let from_file = spans(&path);
    let from_memory = memory.get_finished_spans().unwrap();
    assert_eq!(from_file.len(), 4, "{from_file:?}");
    assert_eq!(from_memory.len(), 4);
    for data in &from_memory {
        let id = format!(
            "{:016x}",
            u64::from_be_bytes(data.span_context.span_id().to_bytes())
        );
        let line = from_file
            .iter()
            .find(|s| s["spanId"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} is not in the file"));
        assert_eq!(
            line["traceId"],
            format!(
                "{:032x}",
                u128::from_be_bytes(data.span_context.trace_id().to_bytes())
            )
        );
        assert_eq!(line["name"], data.name.as_ref());
        let nanos = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                .to_string()
        };
        assert_eq!(line["startTimeUnixNano"], nanos(data.start_time));
        assert_eq!(line["endTimeUnixNano"], nanos(data.end_time));
        let keys: Vec<&str> = line["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| kv["key"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = data.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, expected, "{}", data.name);
        for kv in &data.attributes {
            if let opentelemetry::Value::String(s) = &kv.value {
                assert_eq!(str_attr(line, kv.key.as_str()), s.as_str());
            }
        }
        let events: Vec<&str> = line["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        let expected: Vec<&str> = data.events.iter().map(|e| e.name.as_ref()).collect();
        assert_eq!(events, expected, "{}", data.name);
        match &data.status {
            Status::Error { description } => {
                assert_eq!(line["status"]["code"], 2);
                assert_eq!(line["status"]["message"], description.as_ref());
            }
            _ => assert_eq!(line["status"]["code"], 0),
        }
    }
    // The failed call is in both, with its error.
    let failed: Vec<_> = from_file
        .iter()
        .filter(|s| s["name"] == "execute_tool failing")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["status"]["code"], 2);
    let chat = from_file
        .iter()
        .find(|s| s["name"] == "chat gpt-4o")
        .unwrap();
    assert_eq!(chat["events"][0]["name"], "retry");

    let stats = llmtrace::stats();
    assert_eq!(stats.exported, 4, "{stats:?}");
    drop(guard);
    let _ = std::fs::remove_dir_all(&dir);
}

#[llmtrace::tool]
fn failing() -> Result<(), String> {
    Err("no route".into())
}
