//! Typed reads of a received span's attributes. A missing or differently typed attribute panics
//! with the span's name and the key, which is the message a failing assertion needs.

// Each test binary includes this module and reads the types it needs.
#![allow(dead_code)]

// One path per item: the two editions that format this file (it is also included by
// tests/tests/links_otlp.rs) sort `KeyValue` and `any_value` differently.
use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::trace::v1::Span;

/// The value of `key` in `attrs`, if present.
pub(crate) fn attr<'a>(
    attrs: &'a [common::KeyValue],
    key: &str,
) -> Option<&'a common::any_value::Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

/// The string attribute `key` of `span`.
pub(crate) fn str_attr<'a>(span: &'a Span, key: &str) -> &'a str {
    match attr(&span.attributes, key) {
        Some(common::any_value::Value::StringValue(s)) => s,
        other => panic!("{}: {key} = {other:?}", span.name),
    }
}

/// The integer attribute `key` of `span`.
pub(crate) fn int_attr(span: &Span, key: &str) -> i64 {
    match attr(&span.attributes, key) {
        Some(common::any_value::Value::IntValue(i)) => *i,
        other => panic!("{}: {key} = {other:?}", span.name),
    }
}

/// The float attribute `key` of `span`.
pub(crate) fn float_attr(span: &Span, key: &str) -> f64 {
    match attr(&span.attributes, key) {
        Some(common::any_value::Value::DoubleValue(f)) => *f,
        other => panic!("{}: {key} = {other:?}", span.name),
    }
}
