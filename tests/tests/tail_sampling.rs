//! Tail sampling through the real pipeline: with a 0% base rate, exactly the traces with an
//! error or over the latency threshold are exported, whole; late spans follow their trace.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use llmtrace::TailSampler;
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[llmtrace::tool(name = "lookup")]
fn lookup(fail: bool) -> Result<u32, String> {
    if fail {
        Err("not found".into())
    } else {
        Ok(1)
    }
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(slow: bool) -> String {
    if slow {
        std::thread::sleep(Duration::from_millis(80));
    }
    "ok".into()
}

/// A trace of three spans: the workflow, a tool call, a model call.
#[llmtrace::workflow(name = "answer")]
fn answer(fail: bool, slow: bool) -> String {
    // The tool's failure is handled: the trace still has an error span.
    let _ = lookup(fail);
    chat(slow)
}

#[llmtrace::workflow(name = "handoff")]
fn handoff() -> Box<dyn FnOnce() + Send> {
    let late = llmtrace::current().wrap(|| {
        let _ = lookup(true);
    });
    Box::new(late)
}

#[test]
fn zero_rate_keeps_exactly_failed_and_slow_traces_whole() {
    let exporter = InMemorySpanExporter::default();
    let _guard = llmtrace::init()
        .with_exporter(exporter.clone())
        .tail_sampling(TailSampler::keep_fraction(0.0).keep_slower_than(Duration::from_millis(50)))
        .install();

    // (fail, slow) for 12 traces: 3 failed, 2 slow, 1 both, 6 ordinary.
    let plan = [
        (false, false),
        (true, false),
        (false, true),
        (false, false),
        (true, true),
        (false, false),
        (true, false),
        (false, false),
        (false, true),
        (false, false),
        (false, false),
        (true, false),
    ];
    for (fail, slow) in plan {
        answer(fail, slow);
    }
    // A trace whose root ended before one of its spans: the late span, failing, does not
    // resurrect a trace already dropped.
    let late = handoff();
    late();
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();

    let spans = exporter.get_finished_spans().unwrap();
    let mut by_trace: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in &spans {
        by_trace
            .entry(s.span_context.trace_id().to_string())
            .or_default()
            .insert(s.name.to_string());
    }
    let kept = plan.iter().filter(|(f, s)| *f || *s).count();
    assert_eq!(by_trace.len(), kept, "{by_trace:#?}");
    for names in by_trace.values() {
        assert_eq!(
            names.iter().map(String::as_str).collect::<Vec<_>>(),
            [
                "chat gpt-4o",
                "execute_tool lookup",
                "invoke_workflow answer"
            ],
            "whole traces"
        );
    }
    let stats = llmtrace::stats();
    let dropped_traces = plan.len() - kept;
    // Three spans per dropped `answer` trace, and the two spans of the `handoff` trace.
    assert_eq!(
        stats.sampled_out as usize,
        dropped_traces * 3 + 2,
        "{stats:?}"
    );
    assert_eq!(stats.exported as usize, kept * 3, "{stats:?}");
    assert_eq!(
        stats.produced,
        stats.exported + stats.sampled_out + stats.dropped,
        "{stats:?}"
    );
}
