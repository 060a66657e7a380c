//! Helpers shared by the behaviour tests.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use llmtrace_runtime::otel::opentelemetry_sdk::trace::SpanData;
use llmtrace_runtime::testing::{CapturedSpans, SpanDataExt};

/// Asserts that `child`'s parent is `parent`.
#[track_caller]
pub fn assert_parent(spans: &CapturedSpans, child: &str, parent: &str) {
    let c = spans.by_name(child);
    let p = spans.by_name(parent);
    assert_eq!(
        c.parent_span_id,
        p.span_context.span_id(),
        "{child} should be a child of {parent}"
    );
    assert_eq!(c.span_context.trace_id(), p.span_context.trace_id());
}

/// The span's duration.
pub fn duration(span: &SpanData) -> std::time::Duration {
    span.end_time
        .duration_since(span.start_time)
        .unwrap_or_default()
}

/// The attribute as a string, panicking with the span's attributes when missing.
#[track_caller]
pub fn str_attr<'a>(span: &'a SpanData, key: &str) -> &'a str {
    span.str_attr(key).unwrap_or_else(|| {
        panic!(
            "{} has no string attribute {key}; attributes: {:?}",
            span.name, span.attributes
        )
    })
}
