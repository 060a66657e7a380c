//! What the JSONL tests share: a small instrumented app (a workflow calling a tool and a model
//! call that records usage and an event), and the file's lines read back as JSON.

use std::path::Path;

use llmtrace_runtime as llmtrace;
use serde_json::Value;

#[llmtrace::workflow(name = "answer")]
pub(crate) fn answer(question: &str) -> Result<String, String> {
    let weather = lookup_weather("Paris")?;
    chat(&format!("{question} ({weather})"))
}

#[llmtrace::tool]
fn lookup_weather(city: &str) -> Result<String, String> {
    Ok(format!("sunny in {city}"))
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(prompt: &str) -> Result<String, String> {
    llmtrace::current().record_usage(llmtrace::Usage::new(412, 38));
    llmtrace::current().add_event("retry", [("attempt", 2)]);
    Ok(format!("answer to {prompt}"))
}

/// Every line of the file as JSON, each checked to be one terminated OTLP/JSON request.
pub(crate) fn requests(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("the JSONL file exists");
    assert!(text.ends_with('\n'), "every line is terminated");
    text.lines()
        .map(|line| {
            let request: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line is not JSON ({e}): {line}"));
            assert!(
                request["resourceSpans"].is_array(),
                "not an ExportTraceServiceRequest: {line}"
            );
            request
        })
        .collect()
}

/// The value of attribute `key` in an OTLP/JSON attribute list.
pub(crate) fn attr<'a>(attributes: &'a Value, key: &str) -> &'a Value {
    attributes
        .as_array()
        .and_then(|kvs| kvs.iter().find(|kv| kv["key"] == key))
        .map(|kv| &kv["value"])
        .unwrap_or_else(|| panic!("no attribute {key} in {attributes}"))
}

/// The string value of a span's attribute `key`.
pub(crate) fn str_attr<'a>(span: &'a Value, key: &str) -> &'a str {
    attr(&span["attributes"], key)["stringValue"]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {span}"))
}
