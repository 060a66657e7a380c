//! `links = [..]` on the workflow, model call, retrieval and tool macros; links added at run
//! time (`current().add_link`), a retry's link to the failed attempt (`current().retry_of`) and
//! a step's link; all exported as span links.
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::TraceContext;
use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(name = "batch", links = [first, second])]
fn batch(first: &TraceContext, second: Option<TraceContext>, more: &[TraceContext]) -> usize {
    for request in more {
        llmtrace::current().add_link(request, [("app.reason", "fan_in")]);
    }
    1 + more.len()
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", links = [previous])]
fn chat(prompt: &str, previous: &TraceContext) -> String {
    prompt.to_uppercase()
}

#[llmtrace::retrieval(data_source = "kb", links = [previous], skip(previous))]
fn search(query: &str, previous: &TraceContext) -> Vec<String> {
    vec![query.to_owned()]
}

#[derive(Debug)]
struct Timeout(TraceContext);

#[llmtrace::tool(name = "notify", links = [previous])]
fn notify(channel: &str, previous: &TraceContext) -> usize {
    channel.len()
}

#[llmtrace::tool(name = "fetch", skip(prev))]
fn fetch(url: &str, prev: Option<&TraceContext>) -> Result<String, Timeout> {
    match prev {
        None => Err(Timeout(llmtrace::current().context())),
        Some(failed) => {
            llmtrace::current().retry_of(failed);
            Ok(format!("<html>{url}</html>"))
        }
    }
}

fn main() {
    let cap = Capture::new();
    let (first, second) = cap.in_scope(|| {
        let first = llmtrace::step("request_a").in_scope(|| llmtrace::current().context());
        let second = llmtrace::step("request_b").in_scope(|| llmtrace::current().context());
        (first, second)
    });
    cap.in_scope(|| {
        batch(&first, Some(second.clone()), &[first.clone()]);
        chat("hi", &first);
        search("tides", &second);
        notify("ops", &second);
        let failed = fetch("https://example.com", None).unwrap_err();
        fetch("https://example.com", Some(&failed.0)).unwrap();
        llmtrace::step("linked").link(&first).in_scope(|| ());
    });
    let spans = cap.spans();
    let a = spans.by_name("request_a").span_context.span_id();
    let b = spans.by_name("request_b").span_context.span_id();
    let linked = |name: &str| -> Vec<_> {
        spans.by_name(name).links.iter().map(|l| l.span_context.span_id()).collect()
    };
    assert_eq!(linked("invoke_workflow batch"), [a, b, a]);
    let fan_in = &spans.by_name("invoke_workflow batch").links[2];
    assert_eq!(fan_in.attributes[0].key.as_str(), "app.reason");
    assert_eq!(linked("chat gpt-4o"), [a]);
    assert_eq!(linked("retrieval kb"), [b]);
    assert_eq!(linked("execute_tool notify"), [b]);
    assert_eq!(linked("linked"), [a]);
    // The retry links to the failed attempt and says which attempt it is.
    let [failed, retry] = [0, 1].map(|i| spans.all("execute_tool fetch")[i]);
    assert!(failed.is_error() && failed.links.is_empty());
    assert_eq!(retry.links.len(), 1);
    assert_eq!(retry.links[0].span_context.span_id(), failed.span_context.span_id());
    assert_eq!(retry.links[0].attributes[0].value.as_str(), "retry_of");
    assert_eq!(retry.i64_attr("llmtrace.retry.attempt"), Some(2));
    assert!(failed.attr("llmtrace.retry.attempt").is_none());
    // A context passed as a parameter is captured as its `traceparent`.
    let input = spans.by_name("chat gpt-4o").json_attr("input.value").unwrap();
    assert!(input["previous"].as_str().unwrap().starts_with("00-"));
}
