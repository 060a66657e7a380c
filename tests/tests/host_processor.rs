//! `llmtrace::otel::Processor` in the host modes: with it around the provider's processor, spans
//! end on llmtrace's host thread, the provider's own `force_flush` delivers them (llmtrace's
//! queue is drained first), its `shutdown` hands the spans still queued to the wrapped processor,
//! and a span that ends after the provider's shutdown is counted as dropped. Without it, and
//! with the global provider, spans end on the caller's thread.
//!
//! llmtrace installs once per process, so each case runs in a child process of this test
//! binary (the ignored `child` test, run by the others).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use llmtrace::testing::SpanDataExt;
use llmtrace_runtime as llmtrace;
use opentelemetry::Context;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SdkTracerProvider, Span, SpanData, SpanProcessor};

#[path = "support/child_process.rs"]
mod child_process;
#[path = "support/host_mode.rs"]
mod host_mode;

/// A span given to the processor, and the name of the thread that gave it.
type Ended = (SpanData, Option<String>);

/// The application's processor: keeps every span it is given, with the thread that gave it.
#[derive(Clone, Debug, Default)]
struct Recorder {
    ended: Arc<Mutex<Vec<Ended>>>,
    shut: Arc<Mutex<bool>>,
}

impl Recorder {
    fn spans(&self) -> Vec<SpanData> {
        self.ended
            .lock()
            .unwrap()
            .iter()
            .map(|(s, _)| s.clone())
            .collect()
    }

    fn threads(&self) -> Vec<Option<String>> {
        self.ended
            .lock()
            .unwrap()
            .iter()
            .map(|(_, t)| t.clone())
            .collect()
    }
}

impl SpanProcessor for Recorder {
    fn on_start(&self, _: &mut Span, _: &Context) {}

    fn on_end(&self, span: SpanData) {
        assert!(!*self.shut.lock().unwrap(), "a span after shutdown");
        let thread = thread::current().name().map(str::to_owned);
        self.ended.lock().unwrap().push((span, thread));
    }

    /// As the SDK's processors do once shut down.
    fn force_flush(&self) -> OTelSdkResult {
        match *self.shut.lock().unwrap() {
            true => Err(OTelSdkError::AlreadyShutdown),
            false => Ok(()),
        }
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        *self.shut.lock().unwrap() = true;
        Ok(())
    }
}

#[llmtrace::workflow(name = "answer")]
fn answer(question: &str) -> usize {
    lookup(question)
}

#[llmtrace::tool(name = "lookup")]
fn lookup(question: &str) -> usize {
    question.len()
}

/// A span that is still open when the provider shuts down.
#[llmtrace::workflow(name = "outlive", skip_all)]
fn outlive(provider: &SdkTracerProvider) {
    provider.shutdown().unwrap();
}

fn by_name<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<&SpanData> = spans.iter().filter(|s| s.name == name).collect();
    let names: Vec<&str> = spans.iter().map(|s| &*s.name).collect();
    assert_eq!(found.len(), 1, "{name} in {names:?}");
    found[0]
}

/// The workflow and its tool, as every mode must export them.
fn check_pair(spans: &[SpanData]) {
    let workflow = by_name(spans, "invoke_workflow answer");
    let tool = by_name(spans, "execute_tool lookup");
    assert_eq!(tool.parent_span_id, workflow.span_context.span_id());
    assert_eq!(
        tool.span_context.trace_id(),
        workflow.span_context.trace_id()
    );
    assert_eq!(tool.str_attr("gen_ai.tool.name"), Some("lookup"));
    assert_eq!(tool.str_attr("gen_ai.operation.name"), Some("execute_tool"));
    for span in [workflow, tool] {
        assert!(span.end_time >= span.start_time, "{}", span.name);
    }
    assert!(tool.end_time <= workflow.end_time);
}

#[test]
#[ignore = "run by the other tests in a child process"]
fn child() {
    let case = child_process::mode();
    let (mode, wrapped) = case.split_once('-').unwrap();
    let recorder = Recorder::default();
    let provider = match wrapped {
        "wrapped" => SdkTracerProvider::builder()
            .with_span_processor(llmtrace::otel::Processor::new(recorder.clone()))
            .build(),
        _ => SdkTracerProvider::builder()
            .with_span_processor(recorder.clone())
            .build(),
    };
    // An export interval of an hour: the host thread ends spans at a flush only.
    let builder = llmtrace::init().export_interval(Duration::from_secs(3600));
    let _guard = match mode {
        "global" => {
            opentelemetry::global::set_tracer_provider(provider.clone());
            builder
                .env(HashMap::<String, String>::new())
                .otel_global_provider()
                .install()
        }
        _ => host_mode::install(builder, mode, &provider),
    };
    let here = thread::current().name().map(str::to_owned);

    // The global provider's spans cannot be handed over at its shutdown: they end on the
    // caller's thread, processor or not.
    if wrapped != "wrapped" || mode == "global" {
        // No processor of llmtrace's: the spans end on the caller's thread, at once.
        assert_eq!(answer("tides"), 5);
        check_pair(&recorder.spans());
        assert!(recorder.threads().iter().all(|t| *t == here));
        return;
    }

    // Another provider of the application's, with the processor too, shut down: not the one
    // llmtrace's spans go through, so nothing changes for them.
    let other = SdkTracerProvider::builder()
        .with_span_processor(llmtrace::otel::Processor::new(Recorder::default()))
        .build();
    other.shutdown().unwrap();

    // Queued on llmtrace's host thread until the provider's flush.
    assert_eq!(answer("tides"), 5);
    assert!(recorder.spans().is_empty(), "ended at once");
    provider.force_flush().unwrap();
    check_pair(&recorder.spans());
    assert!(
        recorder
            .threads()
            .iter()
            .all(|t| t.as_deref() == Some("llmtrace-host")),
        "{:?}",
        recorder.threads()
    );

    // The provider shut down before llmtrace: the spans queued reach the application's
    // processor all the same, before it shuts down; the workflow open during the shutdown ends
    // after it, and is counted as dropped.
    recorder.ended.lock().unwrap().clear();
    assert_eq!(answer("moons"), 5);
    outlive(&provider);
    check_pair(&recorder.spans());
    assert!(*recorder.shut.lock().unwrap());
    // llmtrace knows the provider is shut down: its flush does not ask it again.
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    let stats = llmtrace::stats();
    assert_eq!(stats.exported, 4, "{stats:?}");
    assert_eq!(stats.dropped_export_failed, 1, "{stats:?}");
    assert_eq!(stats.dropped, 1, "{stats:?}");
    assert_eq!(stats.produced, stats.exported + stats.dropped, "{stats:?}");
}

fn run(case: &str) {
    child_process::run_child("child", case);
}

#[test]
fn provider_mode_with_the_processor() {
    run("provider-wrapped");
}

#[test]
fn provider_mode_without_it_ends_spans_on_the_callers_thread() {
    run("provider-plain");
}

#[test]
fn tracing_mode_with_the_processor() {
    run("tracing-wrapped");
}

#[test]
fn tracing_mode_without_it_ends_spans_on_the_callers_thread() {
    run("tracing-plain");
}

#[test]
fn global_provider_mode_ends_spans_on_the_callers_thread_even_with_the_processor() {
    run("global-wrapped");
}
