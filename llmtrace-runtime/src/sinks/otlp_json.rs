//! The JSONL exporter's lines, written straight from the mapped spans as OTLP/JSON.
//!
//! Copying the spans into opentelemetry-proto's messages and serializing those with serde was
//! where the JSONL exporter's time went in the drain benchmark (a million spans into the default
//! file): serde_json escapes every key and string a byte at a time (16% of the process's
//! samples), and the copy into the messages came on top. Here the resource and the scope, the
//! same for every line, are serialized once by serde (the text before and after the spans), and
//! each span is written field by field, its strings escaped eight bytes at a time.
//!
//! The invariant: a line is serde_json's serialization of the messages the export worker used to
//! build for the same batch (opentelemetry-proto's field names and order, ids in lowercase hex,
//! 64-bit integers and times as strings, floats as serde_json writes them), byte for byte; the
//! tests check it against `SpanData` through opentelemetry-proto's transform.

use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanKind, Status};
use opentelemetry::{Array, KeyValue, Value};

use super::otlp_proto::{empty_request, span_flags};
use crate::mapper::MappedSpan;
use crate::record::escape_json as escape;

/// Writes batches of mapped spans as OTLP/JSON lines (see the module docs).
#[derive(Debug)]
pub(crate) struct JsonEncoder {
    /// The request up to its list of spans: `{"resourceSpans":[{"resource":…,"spans":[`.
    head: String,
    /// The rest, from the end of the list of spans, with the line's newline.
    tail: String,
    line: String,
}

impl Default for JsonEncoder {
    fn default() -> Self {
        JsonEncoder::new(
            &opentelemetry_sdk::Resource::builder_empty().build(),
            &opentelemetry::InstrumentationScope::default(),
        )
    }
}

impl JsonEncoder {
    pub(crate) fn new(
        resource: &opentelemetry_sdk::Resource,
        scope: &opentelemetry::InstrumentationScope,
    ) -> Self {
        // The request without spans, as serde writes it, cut where the spans go. Keys and
        // strings are quoted and escaped, so the first `"spans":[]` is the field itself.
        let empty = serde_json::to_string(&empty_request(resource, scope)).unwrap_or_default();
        const SPANS: &str = "\"spans\":[";
        let at = empty
            .find("\"spans\":[]")
            .map_or(empty.len(), |i| i + SPANS.len());
        debug_assert!(at < empty.len(), "no list of spans in {empty}");
        let mut tail = empty[at..].to_owned();
        tail.push('\n');
        JsonEncoder {
            head: empty[..at].to_owned(),
            tail,
            line: String::new(),
        }
    }

    /// The line of `batch`, newline included.
    #[cfg(test)]
    pub(crate) fn encode(&mut self, batch: &[MappedSpan]) -> &[u8] {
        self.clear();
        for span in batch {
            self.push(span);
        }
        self.finish()
    }

    /// Writes `span` into the line in progress: the exporter writes each span as it gets it,
    /// while it is in cache, and knows the line's length as it grows.
    pub(crate) fn push(&mut self, span: &MappedSpan) {
        let out = &mut self.line;
        if out.is_empty() {
            out.push_str(&self.head);
        } else {
            out.push(',');
        }
        write_span(out, span);
    }

    /// The length of the line in progress so far, in bytes.
    pub(crate) fn line_len(&self) -> usize {
        self.line.len()
    }

    /// Ends the line in progress and gives it, newline included (a line of no spans when none was
    /// pushed); [`JsonEncoder::clear`] then makes way for the next.
    pub(crate) fn finish(&mut self) -> &[u8] {
        if self.line.is_empty() {
            self.line.push_str(&self.head);
        }
        self.line.push_str(&self.tail);
        self.line.as_bytes()
    }

    /// Forgets the line in progress (keeping its buffer).
    pub(crate) fn clear(&mut self) {
        self.line.clear();
    }
}

fn write_span(out: &mut String, s: &MappedSpan) {
    let m = &s.mapped;
    out.push_str("{\"traceId\":\"");
    hex(out, &s.trace_id.to_be_bytes());
    out.push_str("\",\"spanId\":\"");
    hex(out, &s.span_id.to_be_bytes());
    out.push_str("\",\"traceState\":\"\",\"parentSpanId\":\"");
    if s.parent_id != 0 {
        hex(out, &s.parent_id.to_be_bytes());
    }
    out.push_str("\",\"flags\":");
    int(out, span_flags(s.parent_remote));
    out.push_str(",\"name\":");
    escape(&m.name, out);
    out.push_str(",\"kind\":");
    int(out, kind(&m.kind));
    out.push_str(",\"startTimeUnixNano\":\"");
    int(out, s.start);
    out.push_str("\",\"endTimeUnixNano\":\"");
    int(out, s.end);
    out.push_str("\",\"attributes\":");
    // The callsite's request attributes come first.
    attributes(out, s.request.iter().chain(&m.attributes));
    out.push_str(",\"droppedAttributesCount\":0,\"events\":[");
    for (i, event) in m.events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_event(out, event);
    }
    out.push_str("],\"droppedEventsCount\":0,\"links\":[");
    for (i, link) in m.links.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_link(out, link);
    }
    out.push_str("],\"droppedLinksCount\":0,\"status\":{\"message\":");
    let (message, code) = match &m.status {
        Status::Unset => ("", 0),
        Status::Ok => ("", 1),
        Status::Error { description } => (&**description, 2),
    };
    escape(message, out);
    out.push_str(",\"code\":");
    int(out, code);
    out.push_str("}}");
}

fn write_event(out: &mut String, event: &Event) {
    out.push_str("{\"timeUnixNano\":\"");
    int(out, nanos(event.timestamp));
    out.push_str("\",\"name\":");
    escape(&event.name, out);
    out.push_str(",\"attributes\":");
    attributes(out, &event.attributes);
    out.push_str(",\"droppedAttributesCount\":");
    int(out, event.dropped_attributes_count);
    out.push('}');
}

fn write_link(out: &mut String, link: &Link) {
    let context = &link.span_context;
    out.push_str("{\"traceId\":\"");
    hex(out, &context.trace_id().to_bytes());
    out.push_str("\",\"spanId\":\"");
    hex(out, &context.span_id().to_bytes());
    out.push_str("\",\"traceState\":");
    escape(&context.trace_state().header(), out);
    out.push_str(",\"attributes\":");
    attributes(out, &link.attributes);
    out.push_str(",\"droppedAttributesCount\":");
    int(out, link.dropped_attributes_count);
    out.push_str(",\"flags\":");
    // As opentelemetry-proto builds a link's flags.
    let mut flags = u32::from(context.trace_flags().to_u8()) | 0x100;
    if context.is_remote() {
        flags |= 0x200;
    }
    int(out, flags);
    out.push('}');
}

fn attributes<'a>(out: &mut String, kvs: impl IntoIterator<Item = &'a KeyValue>) {
    out.push('[');
    for (i, kv) in kvs.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"key\":");
        escape(kv.key.as_str(), out);
        out.push_str(",\"value\":");
        value(out, &kv.value);
        out.push('}');
    }
    out.push(']');
}

/// An `AnyValue`, as opentelemetry-proto's serializer writes it (`intValue` as a string).
fn value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => {
            out.push_str("{\"stringValue\":");
            escape(s.as_str(), out);
        }
        Value::Bool(b) => {
            out.push_str("{\"boolValue\":");
            out.push_str(if *b { "true" } else { "false" });
        }
        Value::I64(n) => {
            out.push_str("{\"intValue\":\"");
            int(out, *n);
            out.push('"');
        }
        Value::F64(f) => {
            out.push_str("{\"doubleValue\":");
            double(out, *f);
        }
        Value::Array(array) => {
            out.push_str("{\"arrayValue\":{\"values\":[");
            match array {
                Array::Bool(items) => list(out, items, |out, b| value(out, &Value::Bool(*b))),
                Array::I64(items) => list(out, items, |out, n| value(out, &Value::I64(*n))),
                Array::F64(items) => list(out, items, |out, f| value(out, &Value::F64(*f))),
                Array::String(items) => list(out, items, |out, s| {
                    out.push_str("{\"stringValue\":");
                    escape(s.as_str(), out);
                    out.push('}');
                }),
                // Kinds added to opentelemetry's arrays later: through serde, as they are.
                _ => serde_fallback(out, v),
            }
            out.push_str("]}");
        }
        // Values opentelemetry added later (maps, bytes): through serde, as they are.
        _ => {
            serde_fallback(out, v);
            return;
        }
    }
    out.push('}');
}

fn list<T>(out: &mut String, items: &[T], mut each: impl FnMut(&mut String, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(out, item);
    }
}

/// A value this writer does not spell out, as opentelemetry-proto converts and serde writes it.
fn serde_fallback(out: &mut String, v: &Value) {
    let any = opentelemetry_proto::tonic::common::v1::AnyValue::from(v.clone());
    out.push_str(&serde_json::to_string(&any).unwrap_or_else(|_| "{}".into()));
}

fn int(out: &mut String, n: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// A float as serde_json writes it: shortest round trip, `null` when not finite.
fn double(out: &mut String, f: f64) {
    if f.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(f));
    } else {
        out.push_str("null");
    }
}

fn hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
}

/// The protobuf enum's number of a span kind.
fn kind(kind: &SpanKind) -> i32 {
    super::otlp_proto::kind(kind) as i32
}

fn nanos(time: SystemTime) -> u64 {
    super::otlp_proto::nanos(time)
}

#[cfg(all(test, feature = "jsonl"))]
mod tests {
    use super::*;

    #[test]
    fn values_of_every_kind_as_serde_writes_them() {
        let kvs = vec![
            KeyValue::new("s", "a \"quoted\"\nline é ✓ \u{1}"),
            KeyValue::new("b", true),
            KeyValue::new("i", -42_i64),
            KeyValue::new("f", 0.1_f64),
            KeyValue::new("big", 1e300_f64),
            KeyValue::new("nan", f64::NAN),
            KeyValue::new(
                "strings",
                Value::Array(Array::String(vec!["x".into(), "\"y\"".into()])),
            ),
            KeyValue::new("ints", Value::Array(Array::I64(vec![1, -2]))),
            KeyValue::new("floats", Value::Array(Array::F64(vec![0.5, 2.0]))),
            KeyValue::new("bools", Value::Array(Array::Bool(vec![false]))),
            KeyValue::new("empty", Value::Array(Array::String(Vec::new()))),
        ];
        let mut ours = String::new();
        attributes(&mut ours, &kvs);
        let theirs = opentelemetry_proto::transform::common::tonic::Attributes::from(kvs).0;
        assert_eq!(ours, serde_json::to_string(&theirs).unwrap());
    }
}
