//! Head sampling: ratio by trace id for roots, children following their parent, remote parents.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashSet;
use std::time::Duration;

use llmtrace::{Sampler, SpanId, TraceContext, TraceId};
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::trace::InMemorySpanExporter;

#[llmtrace::tool(name = "child")]
fn child() -> bool {
    llmtrace::current().is_recording()
}

#[llmtrace::workflow(name = "root")]
fn root() -> (bool, bool) {
    (llmtrace::current().is_recording(), child())
}

#[test]
fn ratio_sampling_keeps_whole_traces() {
    let exporter = InMemorySpanExporter::default();
    let _guard = llmtrace::init()
        .sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatio(0.5))))
        .with_exporter(exporter.clone())
        .install();

    let mut recorded = 0;
    for _ in 0..1000 {
        let (root_recorded, child_recorded) = root();
        assert_eq!(root_recorded, child_recorded, "a child follows its root");
        recorded += usize::from(root_recorded);
    }
    assert!(
        (350..650).contains(&recorded),
        "{recorded} of 1000 traces kept"
    );

    // A remote parent's decision is followed either way.
    let remote = TraceContext::remote(TraceId(0xabc), SpanId(0x123), true);
    assert!(remote.in_scope(child));
    let remote_off = TraceContext::remote(TraceId(0xabd), SpanId(0x124), false);
    assert!(!remote_off.in_scope(child));

    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(spans.len(), recorded * 2 + 1);
    let ids: HashSet<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
    for s in spans.iter().filter(|s| s.name == "execute_tool child") {
        if s.parent_span_is_remote {
            assert_eq!(s.parent_span_id, opentelemetry::trace::SpanId::from(0x123));
            assert_eq!(
                s.span_context.trace_id(),
                opentelemetry::trace::TraceId::from(0xabc)
            );
        } else {
            assert!(ids.contains(&s.parent_span_id), "no orphan children");
        }
    }
}
