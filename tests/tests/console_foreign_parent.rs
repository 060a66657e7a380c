//! The console under an HTTP server: llmtrace spans inside a `tracing` request span (as an
//! axum or tower `TraceLayer` makes) print as a tree as soon as the outermost llmtrace span
//! ends, while the request span is still open, and the tree says its parent is foreign.
//! (Its own test binary: llmtrace installs once per process.)
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use llmtrace::export::ConsoleExporter;
use llmtrace_runtime as llmtrace;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<u8>>>);

impl Write for Screen {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[llmtrace::workflow(name = "support_answer")]
fn answer(question: &str) -> Result<String, String> {
    chat(question)
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(prompt: &str) -> Result<String, String> {
    llmtrace::current().record_usage(llmtrace::Usage::new(3200, 450));
    Ok(format!("{} chars read", prompt.len()))
}

#[test]
fn tree_prints_when_the_local_root_ends_under_a_foreign_parent() {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(InMemorySpanExporter::default())
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("server")));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let screen = Screen::default();
    let _guard = llmtrace::init()
        .env(std::collections::HashMap::<String, String>::new())
        .with_exporter(ConsoleExporter::with_writer(screen.clone()))
        .install();

    // The server's request span stays open while the handler's llmtrace spans end.
    let request = tracing::info_span!("POST /answer");
    let entered = request.enter();
    answer("refund?").unwrap();
    // Within 1 s of the local root ending (the flush's deadline), the tree is printed.
    llmtrace::force_flush(Duration::from_secs(1)).unwrap();
    let out = String::from_utf8(screen.0.lock().unwrap().clone()).unwrap();
    drop(entered);

    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "the root and its child:\n{out}");
    assert!(lines[0].starts_with("support_answer "), "{out}");
    assert!(lines[0].contains("(foreign parent)"), "{out}");
    assert!(lines[1].starts_with("└─ chat gpt-4o "), "{out}");
    assert!(lines[1].contains("3,200 in / 450 out tokens"), "{out}");
}
