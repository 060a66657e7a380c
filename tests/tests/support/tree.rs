//! Finding exported spans and checking their parents, for the tests that mix llmtrace with other
//! tracing systems.

use opentelemetry_sdk::trace::SpanData;

/// The one span named `name`.
#[track_caller]
pub(crate) fn by_name<'a>(spans: &'a [SpanData], name: &str) -> &'a SpanData {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(
        found.len(),
        1,
        "one span named {name:?}; spans: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    found[0]
}

/// `child` is a local child of `parent`, in its trace.
#[track_caller]
pub(crate) fn assert_child(child: &SpanData, parent: &SpanData) {
    assert_eq!(
        child.parent_span_id,
        parent.span_context.span_id(),
        "{} should be a child of {}",
        child.name,
        parent.name
    );
    assert_eq!(
        child.span_context.trace_id(),
        parent.span_context.trace_id()
    );
    assert!(!child.parent_span_is_remote, "{}", child.name);
}
