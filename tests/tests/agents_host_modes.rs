//! Agents, steps and links in the host modes: through an OpenTelemetry tracer provider
//! (OTel-provider mode) and through a `tracing` subscriber with tracing-opentelemetry (`tracing`
//! mode), the spans come out as in native mode: the agent's totals and name, the steps, the
//! links (a handoff's and a retry's).
//!
//! llmtrace installs once per process, so each mode runs in a child process of this test
//! binary (the ignored `child` test, run by the others).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::time::Duration;

use llmtrace::testing::SpanDataExt;
use llmtrace::TraceContext;
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};

#[path = "support/child_process.rs"]
mod child_process;
#[path = "support/host_mode.rs"]
mod host_mode;

#[llmtrace::agent(name = "planner")]
fn planner(topic: &str) -> String {
    let plan = chat(topic);
    let here = llmtrace::current().context();
    let notes = here.new_trace().in_scope(|| writer(topic, &here));
    let failed = fetch(None).unwrap_err();
    let page = fetch(Some(&failed)).unwrap();
    llmtrace::step("summarize").in_scope(|| format!("{plan} {notes} {page}"))
}

#[llmtrace::agent(name = "writer", links = [handoff])]
fn writer(topic: &str, handoff: &TraceContext) -> String {
    llmtrace::step!("outline", { format!("notes on {topic}") })
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(prompt: &str) -> String {
    llmtrace::current().record_usage(llmtrace::Usage::new(100, 10));
    prompt.to_uppercase()
}

#[llmtrace::tool(name = "fetch_page")]
fn fetch(retry_of: Option<&TraceContext>) -> Result<String, TraceContext> {
    match retry_of {
        None => Err(llmtrace::current().context()),
        Some(failed) => {
            llmtrace::current().retry_of(failed);
            Ok("<html/>".into())
        }
    }
}

fn by_name<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<&SpanData> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "{name} in {:?}", names(spans));
    found[0]
}

fn names(spans: &[SpanData]) -> Vec<&str> {
    spans.iter().map(|s| &*s.name).collect()
}

/// What every mode must show.
fn check(spans: &[SpanData]) {
    let planner = by_name(spans, "invoke_agent planner");
    let writer = by_name(spans, "invoke_agent writer");
    assert_eq!(planner.i64_attr("llmtrace.agent.inference_calls"), Some(1));
    assert_eq!(planner.i64_attr("llmtrace.agent.tool_calls"), Some(2));
    assert_eq!(planner.i64_attr("llmtrace.agent.steps"), Some(1));
    assert_eq!(planner.i64_attr("gen_ai.usage.input_tokens"), Some(100));
    assert_eq!(
        by_name(spans, "chat gpt-4o").str_attr("gen_ai.agent.name"),
        Some("planner")
    );
    assert_eq!(
        by_name(spans, "summarize").str_attr("openinference.span.kind"),
        Some("CHAIN")
    );
    assert_eq!(
        by_name(spans, "outline").parent_span_id,
        writer.span_context.span_id()
    );
    // The handoff's link, to the planner's span in another trace.
    assert_ne!(
        writer.span_context.trace_id(),
        planner.span_context.trace_id()
    );
    let handoff: Vec<_> = writer
        .links
        .iter()
        .map(|l| l.span_context.span_id())
        .collect();
    assert_eq!(handoff, [planner.span_context.span_id()]);
    // The retry's link, to the failed attempt.
    let fetches: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.name == "execute_tool fetch_page")
        .collect();
    assert_eq!(fetches.len(), 2);
    let retry = fetches.iter().find(|s| !s.links.is_empty()).unwrap();
    let failed = fetches.iter().find(|s| s.links.is_empty()).unwrap();
    assert_eq!(
        retry.links[0].span_context.span_id(),
        failed.span_context.span_id()
    );
    assert_eq!(retry.i64_attr("llmtrace.retry.attempt"), Some(2));
}

#[test]
#[ignore = "run by the other tests in a child process"]
fn child() {
    let mode = child_process::mode();
    let app = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(app.clone())
        .build();
    let _guard = host_mode::install(llmtrace::init(), &mode, &provider);
    assert!(planner("tides").contains("<html/>"));
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    provider.force_flush().unwrap();
    check(&app.get_finished_spans().unwrap());
}

fn run(mode: &str) {
    child_process::run_child("child", mode);
}

#[test]
fn provider_mode() {
    run("provider");
}

#[test]
fn tracing_mode() {
    run("tracing");
}
