//! Typed reads of a received span's attributes. A missing or differently typed attribute panics
//! with the span's name and the key, which is the message a failing assertion needs.

// Each test binary includes this module and reads the types it needs.
#![allow(dead_code)]

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;

/// The value of `key` in `attrs`, if present.
pub(crate) fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

/// The string attribute `key` of `span`.
pub(crate) fn str_attr<'a>(span: &'a Span, key: &str) -> &'a str {
    match attr(&span.attributes, key) {
        Some(Value::StringValue(s)) => s,
        other => panic!("{}: {key} = {other:?}", span.name),
    }
}

/// The integer attribute `key` of `span`.
pub(crate) fn int_attr(span: &Span, key: &str) -> i64 {
    match attr(&span.attributes, key) {
        Some(Value::IntValue(i)) => *i,
        other => panic!("{}: {key} = {other:?}", span.name),
    }
}

/// The float attribute `key` of `span`.
pub(crate) fn float_attr(span: &Span, key: &str) -> f64 {
    match attr(&span.attributes, key) {
        Some(Value::DoubleValue(f)) => *f,
        other => panic!("{}: {key} = {other:?}", span.name),
    }
}
