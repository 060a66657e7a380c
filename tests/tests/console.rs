//! The console exporter behind the real pipeline: the spans the macros produce print as one
//! tree per trace. (The layout itself is pinned by the snapshot tests in the runtime crate.)
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use llmtrace::export::ConsoleExporter;
use llmtrace_runtime as llmtrace;

/// What the exporter printed.
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
fn answer(question: &str) -> Result<(String, String), String> {
    let trace_id = llmtrace::current().trace_id().unwrap().to_string();
    let docs = search(question)?;
    let _ = lookup_order("B-7");
    let reply = chat(&format!("{question}\n{}", docs.join("\n")))?;
    Ok((reply, trace_id))
}

#[llmtrace::retrieval(data_source = "help_center", top_k = 2)]
fn search(query: &str) -> Result<Vec<String>, String> {
    Ok(vec![
        format!("Refunds take 5 days ({query})"),
        "Orders ship in 2 days.".to_owned(),
    ])
}

#[llmtrace::tool(name = "lookup_order")]
fn lookup_order(order_id: &str) -> Result<u32, String> {
    Err(format!("no order {order_id}"))
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(prompt: &str) -> Result<String, String> {
    llmtrace::current().record_usage(llmtrace::Usage::new(3200, 450));
    Ok(format!("{} chars read", prompt.len()))
}

#[test]
fn macro_spans_print_as_one_tree() {
    let screen = Screen::default();
    let guard = llmtrace::init()
        .service_name("console-test")
        .with_exporter(ConsoleExporter::with_writer(screen.clone()))
        .install();
    let (_, trace_id) = answer("refund?").unwrap();
    // Flushes the pipeline and shuts the exporter down.
    drop(guard);

    let out = String::from_utf8(screen.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "one root and three children:\n{out}");
    let expect = [
        ("support_answer ", "3,200 in / 450 out tokens"),
        ("├─ retrieval help_center ", "(2 docs)"),
        ("├─ execute_tool lookup_order ", "✗ String: no order B-7"),
        ("└─ chat gpt-4o ", "3,200 in / 450 out tokens"),
    ];
    for (line, (start, detail)) in lines.iter().zip(expect) {
        assert!(line.starts_with(start), "{start:?} first in:\n{out}");
        assert!(line.contains(detail), "{detail:?} in {line:?}:\n{out}");
    }
    assert!(
        lines[0].ends_with(&format!("trace {}", &trace_id[..16])),
        "short trace id on the root line:\n{out}"
    );
}
