//! OpenTelemetry interop: with the switch on, spans opened with the OpenTelemetry API inside an
//! llmtrace span nest under it, and an llmtrace span started inside an OpenTelemetry span nests
//! under that; in OTel-provider mode llmtrace spans go through a given `SdkTracerProvider`
//! (its sampler, its processors), parents right.
//!
//! llmtrace installs once per process, so each setting runs in a child process of this test
//! binary (the ignored `child` test, run by the others).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::time::Duration;

use llmtrace::testing::SpanDataExt;
use llmtrace::{current, Usage};
use llmtrace_runtime as llmtrace;
use opentelemetry::trace::{SpanId, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SdkTracer, SdkTracerProvider, SpanData,
};

#[path = "support/child_process.rs"]
mod child_process;
#[path = "support/tree.rs"]
mod tree;
use tree::{assert_child, by_name};

// ---- the instrumented application --------------------------------------------------------------

/// A workflow that calls a model, which calls an HTTP client instrumented with OpenTelemetry.
#[llmtrace::workflow(name = "answer", skip(tracer))]
fn answer(tracer: &SdkTracer, model: &str) -> u64 {
    let _ = search("refunds");
    chat(tracer, model);
    let _ = lookup("A-42");
    current().span_id().map_or(0, |id| id.0)
}

#[llmtrace::retrieval(data_source = "help_center")]
fn search(query: &str) -> Vec<String> {
    vec![format!("about {query}")]
}

#[llmtrace::llm_call(provider = "openai", model = model, skip(tracer))]
fn chat(tracer: &SdkTracer, model: &str) {
    let _ = model;
    tracer.in_span("POST /v1/chat/completions", |_| {});
    current().record_usage(Usage::new(1000, 100));
}

#[llmtrace::tool(name = "lookup_order")]
fn lookup(order_id: &str) -> Result<u32, String> {
    Err(format!("no order {order_id}"))
}

#[llmtrace::workflow(name = "answer_async", skip(tracer))]
async fn answer_async(tracer: &SdkTracer) {
    tokio::task::yield_now().await;
    // Opened after a yield: the context is attached on every poll.
    tracer.in_span("after a yield", |_| {});
}

fn run_async(tracer: &SdkTracer) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(answer_async(tracer));
}

// ---- helpers -----------------------------------------------------------------------------------

/// The span named `name` in the trace of `of`.
fn in_trace<'a>(spans: &'a [SpanData], name: &str, of: &SpanData) -> &'a SpanData {
    spans
        .iter()
        .find(|s| s.name == name && s.span_context.trace_id() == of.span_context.trace_id())
        .unwrap_or_else(|| panic!("no {name} in the trace of {}", of.name))
}

#[track_caller]
fn assert_root(span: &SpanData) {
    assert_eq!(
        span.parent_span_id,
        SpanId::INVALID,
        "{} is a root",
        span.name
    );
}

fn provider(exporter: &InMemorySpanExporter, sampler: Sampler) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_simple_exporter(exporter.clone())
        .build()
}

fn empty_env() -> HashMap<String, String> {
    HashMap::new()
}

// ---- the child ---------------------------------------------------------------------------------

#[test]
#[ignore = "run by the other tests in a child process"]
fn child() {
    let mode = child_process::mode();
    let app = InMemorySpanExporter::default();
    match mode.as_str() {
        "native" | "native_off" => {
            let provider = provider(&app, Sampler::AlwaysOn);
            let tracer = provider.tracer("app");
            let ours = InMemorySpanExporter::default();
            let _guard = llmtrace::init()
                .env(empty_env())
                .with_exporter(ours.clone())
                .otel_context(mode == "native")
                .install();
            answer(&tracer, "gpt-4o");
            tracer.in_span("GET /answer", |_| answer(&tracer, "gpt-4o-mini"));
            run_async(&tracer);
            llmtrace::force_flush(Duration::from_secs(10)).unwrap();
            let (app, ours) = (
                app.get_finished_spans().unwrap(),
                ours.get_finished_spans().unwrap(),
            );
            let http = |parent: &SpanData| {
                app.iter()
                    .find(|s| {
                        s.name == "POST /v1/chat/completions"
                            && s.span_context.trace_id() == parent.span_context.trace_id()
                    })
                    .cloned()
            };
            let first = ours
                .iter()
                .find(|s| s.name == "invoke_workflow answer" && s.parent_span_id == SpanId::INVALID)
                .unwrap();
            let chat = by_name(&ours, "chat gpt-4o");
            let request = by_name(&app, "GET /answer");
            let second = ours.iter().find(|s| {
                s.name == "invoke_workflow answer" && s.parent_span_id != SpanId::INVALID
            });
            if mode == "native" {
                // An OpenTelemetry span inside an llmtrace span is its child.
                assert_child(&http(chat).expect("the HTTP span in the trace"), chat);
                assert_child(
                    by_name(&app, "after a yield"),
                    by_name(&ours, "invoke_workflow answer_async"),
                );
                // An llmtrace span inside an OpenTelemetry span is its child, and still the root
                // of its trace for llmtrace: it carries the trace's totals, and is no Langfuse
                // trace root.
                let second = second.expect("the workflow inside the request span");
                assert_child(second, request);
                assert_eq!(second.i64_attr("llmtrace.trace.input_tokens"), Some(1000));
                assert_eq!(second.str_attr("langfuse.trace.name"), None);
                assert_child(by_name(&ours, "chat gpt-4o-mini"), second);
                assert_eq!(first.str_attr("langfuse.trace.name"), Some("answer"));
            } else {
                // Off by default: nothing crosses.
                assert!(http(chat).is_none());
                assert_root(by_name(&app, "after a yield"));
                assert!(second.is_none());
                assert_eq!(
                    ours.iter()
                        .filter(|s| s.name == "invoke_workflow answer")
                        .count(),
                    2
                );
            }
        }
        "provider" | "global" => {
            let provider = provider(&app, Sampler::AlwaysOn);
            let builder = llmtrace::init().env(empty_env());
            let _guard = if mode == "provider" {
                builder.otel_provider(provider.clone()).install()
            } else {
                opentelemetry::global::set_tracer_provider(provider.clone());
                builder
                    .otel_global_provider()
                    .end_host_spans_off_thread(true)
                    .install()
            };
            let tracer = provider.tracer("app");
            let id = answer(&tracer, "gpt-4o");
            tracer.in_span("GET /answer", |_| answer(&tracer, "gpt-4o-mini"));
            run_async(&tracer);
            let returned = std::time::SystemTime::now();
            llmtrace::force_flush(Duration::from_secs(10)).unwrap();
            provider.force_flush().unwrap();
            let spans = app.get_finished_spans().unwrap();
            // With the global provider, ended on llmtrace's host thread at the flush; either way
            // with the times they ended at.
            for span in spans
                .iter()
                .filter(|s| s.instrumentation_scope.name() == "llmtrace")
            {
                assert!(span.end_time <= returned, "{} ended late", span.name);
            }

            let workflow = spans
                .iter()
                .find(|s| s.name == "invoke_workflow answer" && s.parent_span_id == SpanId::INVALID)
                .unwrap();
            // The SDK's ids are the span's, in llmtrace's context too.
            assert_eq!(workflow.span_context.span_id(), SpanId::from(id));
            assert_eq!(workflow.instrumentation_scope.name(), "llmtrace");
            let chat = by_name(&spans, "chat gpt-4o");
            assert_child(chat, workflow);
            assert_child(
                in_trace(&spans, "retrieval help_center", workflow),
                workflow,
            );
            let tool = in_trace(&spans, "execute_tool lookup_order", workflow);
            assert_child(tool, workflow);
            assert!(tool.is_error());
            assert_eq!(tool.str_attr("error.type"), Some("String"));
            assert!(tool.events.iter().any(|e| e.name == "exception"));
            // Mapped as in native mode: usage, cost, roll-up, conventions, kind.
            assert_eq!(chat.i64_attr("gen_ai.usage.input_tokens"), Some(1000));
            assert!(chat.f64_attr("llm.cost.total").unwrap() > 0.0);
            assert_eq!(chat.span_kind, opentelemetry::trace::SpanKind::Client);
            assert_eq!(workflow.i64_attr("llmtrace.trace.input_tokens"), Some(1000));
            assert!(workflow.end_time >= chat.end_time && chat.start_time >= workflow.start_time);
            // OpenTelemetry spans nest under llmtrace spans, and the other way round.
            assert_child(
                spans
                    .iter()
                    .find(|s| {
                        s.name == "POST /v1/chat/completions"
                            && s.span_context.trace_id() == chat.span_context.trace_id()
                    })
                    .unwrap(),
                chat,
            );
            let request = by_name(&spans, "GET /answer");
            let second = spans
                .iter()
                .find(|s| s.name == "invoke_workflow answer" && s.parent_span_id != SpanId::INVALID)
                .unwrap();
            assert_child(second, request);
            assert_eq!(second.i64_attr("llmtrace.trace.input_tokens"), Some(1000));
            // A name that depends on an argument is set when the span ends.
            assert_child(by_name(&spans, "chat gpt-4o-mini"), second);
            assert_child(
                by_name(&spans, "after a yield"),
                by_name(&spans, "invoke_workflow answer_async"),
            );
            let stats = llmtrace::stats();
            assert_eq!(stats.exported, 9, "{stats:?}");
            assert_eq!(stats.produced, stats.exported, "{stats:?}");
        }
        "provider_sampled_out" => {
            let provider = provider(&app, Sampler::AlwaysOff);
            let _guard = llmtrace::init()
                .env(empty_env())
                .otel_provider(provider.clone())
                .install();
            let tracer = provider.tracer("app");
            #[llmtrace::workflow(name = "sampled_out", skip(tracer))]
            fn sampled_out(tracer: &SdkTracer) -> (bool, bool) {
                tracer.in_span("inside", |_| {});
                (current().is_recording(), current().trace_id().is_some())
            }
            // The provider's sampler decides: not recorded, but the trace goes on.
            assert_eq!(sampled_out(&tracer), (false, true));
            llmtrace::force_flush(Duration::from_secs(10)).unwrap();
            assert!(app.get_finished_spans().unwrap().is_empty());
            assert_eq!(llmtrace::stats().produced, 0);
        }
        other => panic!("unknown mode {other}"),
    }
}

// ---- the tests ---------------------------------------------------------------------------------

fn run(mode: &str) {
    child_process::run_child("child", mode);
}

#[test]
fn switch_on_nests_both_ways() {
    run("native");
}

#[test]
fn switch_off_by_default() {
    run("native_off");
}

#[test]
fn provider_mode_exports_through_the_provider() {
    run("provider");
}

#[test]
fn global_provider_mode_exports_through_the_global_provider() {
    run("global");
}

#[test]
fn provider_mode_follows_the_providers_sampler() {
    run("provider_sampled_out");
}
