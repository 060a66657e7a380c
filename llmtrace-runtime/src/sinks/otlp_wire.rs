//! The OTLP/HTTP exporter's protobuf body, written straight from the mapped spans.
//!
//! Copying the spans into opentelemetry-proto's messages and letting prost encode them was about
//! a quarter of the process's time in the drain benchmark (a million spans into a receiver on
//! 127.0.0.1): the copy of every string into the messages, and prost's lengths, which it computes
//! again at every level of nesting (resource spans, scope spans, span, attribute, value), so that
//! each attribute was sized three or four times. Here a first pass sizes each nested message once,
//! into a list of lengths that is kept between batches, and a second writes the bytes with prost's
//! encoding primitives into a buffer of the exact size. The resource and the scope are the same
//! for every batch: they are encoded once, when the exporter gets them.
//!
//! The invariant: the bytes are prost's encoding of the messages `otlp_proto::Encoder` builds for
//! the same batch, byte for byte (fields in tag order, the proto3 defaults left out where prost
//! leaves them out, a oneof's value written even when it is the default). The tests check it on
//! every shape of span and attribute value the mapper makes.

use opentelemetry::trace::{Event, Link, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};

use super::otlp_proto::{empty_request, kind, nanos, span_flags};
use crate::mapper::MappedSpan;

/// Writes batches of mapped spans as one protobuf `ExportTraceServiceRequest` each, under one
/// resource and scope (see the module docs).
#[derive(Debug)]
pub(crate) struct WireEncoder {
    /// `ResourceSpans.resource`, with its key and length.
    resource: Vec<u8>,
    /// `ResourceSpans.schema_url`, with its key and length; empty when the field is.
    resource_schema: Vec<u8>,
    /// `ScopeSpans.scope`, with its key and length.
    scope: Vec<u8>,
    /// `ScopeSpans.schema_url`, with its key and length; empty when the field is.
    scope_schema: Vec<u8>,
    /// The batch's message lengths, in the order the writing pass writes them.
    lens: Vec<u32>,
    /// The trace states of the batch's links, one after the other.
    states: String,
}

impl Default for WireEncoder {
    fn default() -> Self {
        WireEncoder::new(
            &opentelemetry_sdk::Resource::builder_empty().build(),
            &opentelemetry::InstrumentationScope::default(),
        )
    }
}

impl WireEncoder {
    pub(crate) fn new(
        resource: &opentelemetry_sdk::Resource,
        scope: &opentelemetry::InstrumentationScope,
    ) -> Self {
        // The fields around the spans, as prost's derived encoding writes them.
        let request = empty_request(resource, scope);
        let resource_spans = &request.resource_spans[0];
        let scope_spans = &resource_spans.scope_spans[0];
        let mut encoder = WireEncoder {
            resource: Vec::new(),
            resource_schema: Vec::new(),
            scope: Vec::new(),
            scope_schema: Vec::new(),
            lens: Vec::new(),
            states: String::new(),
        };
        if let Some(resource) = &resource_spans.resource {
            prost::encoding::message::encode(1, resource, &mut encoder.resource);
        }
        put_str(3, &resource_spans.schema_url, &mut encoder.resource_schema);
        if let Some(scope) = &scope_spans.scope {
            prost::encoding::message::encode(1, scope, &mut encoder.scope);
        }
        put_str(3, &scope_spans.schema_url, &mut encoder.scope_schema);
        encoder
    }

    /// The encoded `ExportTraceServiceRequest` of `batch`.
    pub(crate) fn encode(&mut self, batch: &[MappedSpan]) -> Vec<u8> {
        self.lens.clear();
        self.states.clear();
        let mut spans = 0;
        for span in batch {
            spans += field(2, size_span(span, &mut self.lens, &mut self.states));
        }
        let scope_spans = self.scope.len() + spans + self.scope_schema.len();
        let resource_spans =
            self.resource.len() + field(2, scope_spans) + self.resource_schema.len();
        let total = field(1, resource_spans);

        let mut buf = Vec::with_capacity(total);
        put_len(1, resource_spans, &mut buf);
        buf.extend_from_slice(&self.resource);
        put_len(2, scope_spans, &mut buf);
        buf.extend_from_slice(&self.scope);
        let mut lens = Lens {
            lens: self.lens.iter(),
            states: &self.states,
        };
        for span in batch {
            write_span(span, &mut lens, &mut buf);
        }
        buf.extend_from_slice(&self.scope_schema);
        buf.extend_from_slice(&self.resource_schema);
        debug_assert!(lens.lens.next().is_none() && lens.states.is_empty());
        debug_assert_eq!(buf.len(), total);
        buf
    }
}

/// The sizing pass's results, read back in the order it left them.
struct Lens<'a> {
    lens: std::slice::Iter<'a, u32>,
    /// The trace states not written yet.
    states: &'a str,
}

impl<'a> Lens<'a> {
    fn next(&mut self) -> usize {
        self.lens.next().map_or(0, |&n| n as usize)
    }

    fn state(&mut self) -> &'a str {
        let (state, rest) = self.states.split_at(self.next());
        self.states = rest;
        state
    }
}

// Sizing: each function returns the length of a message's content and leaves it in `lens` (a
// slot taken before its children's, so that the writing pass finds it first). Lengths fit in a
// `u32`: protobuf messages are limited to 2 GiB.

fn reserve(lens: &mut Vec<u32>) -> usize {
    lens.push(0);
    lens.len() - 1
}

fn set(lens: &mut [u32], slot: usize, len: usize) -> usize {
    lens[slot] = len as u32;
    len
}

fn size_span(span: &MappedSpan, lens: &mut Vec<u32>, states: &mut String) -> usize {
    let slot = reserve(lens);
    let m = &span.mapped;
    let mut n = field(1, 16) + field(2, 8);
    if span.parent_id != 0 {
        n += field(4, 8);
    }
    n += str_len(5, &m.name)
        + varint_len(6, kind(&m.kind) as i32 as u64)
        + fixed_len(7, 8, nanos(span.start))
        + fixed_len(8, 8, nanos(span.end));
    for kv in &m.attributes {
        n += field(9, size_key_value(kv, lens));
    }
    for event in &m.events {
        n += field(11, size_event(event, lens));
    }
    for link in &m.links {
        n += field(13, size_link(link, lens, states));
    }
    n += field(15, size_status(&m.status, lens));
    n += fixed_len(16, 4, span_flags(span.parent_remote).into());
    set(lens, slot, n)
}

fn size_key_value(kv: &KeyValue, lens: &mut Vec<u32>) -> usize {
    let slot = reserve(lens);
    let n = str_len(1, kv.key.as_str()) + field(2, size_value(&kv.value, lens));
    set(lens, slot, n)
}

/// An `AnyValue`'s content.
fn size_value(value: &Value, lens: &mut Vec<u32>) -> usize {
    let slot = reserve(lens);
    let n = match any(value) {
        Any::Scalar(scalar) => scalar.len(),
        Any::Array(array) => {
            let inner = reserve(lens);
            let mut n = 0;
            each(array, |element| {
                lens.push(element.len() as u32);
                n += field(1, element.len());
            });
            field(5, set(lens, inner, n))
        }
        Any::Unknown => 0,
    };
    set(lens, slot, n)
}

fn size_event(event: &Event, lens: &mut Vec<u32>) -> usize {
    let slot = reserve(lens);
    let mut n = fixed_len(1, 8, nanos(event.timestamp)) + str_len(2, &event.name);
    for kv in &event.attributes {
        n += field(3, size_key_value(kv, lens));
    }
    n += varint_len(4, event.dropped_attributes_count.into());
    set(lens, slot, n)
}

fn size_link(link: &Link, lens: &mut Vec<u32>, states: &mut String) -> usize {
    let slot = reserve(lens);
    // `TraceState` shows its entries only as a header; an empty one allocates nothing.
    let state = link.span_context.trace_state().header();
    states.push_str(&state);
    lens.push(state.len() as u32);
    let mut n = field(1, 16) + field(2, 8) + str_len(3, &state);
    for kv in &link.attributes {
        n += field(4, size_key_value(kv, lens));
    }
    n += varint_len(5, link.dropped_attributes_count.into())
        + fixed_len(6, 4, link_flags(link).into());
    set(lens, slot, n)
}

fn size_status(status: &Status, lens: &mut Vec<u32>) -> usize {
    let (code, message) = code_and_message(status);
    let n = str_len(2, message) + varint_len(3, code as i32 as u64);
    lens.push(n as u32);
    n
}

// Writing: the same walk, each message's length read from `lens`.

fn write_span(span: &MappedSpan, lens: &mut Lens<'_>, buf: &mut Vec<u8>) {
    put_len(2, lens.next(), buf);
    let m = &span.mapped;
    put_bytes(1, &span.trace_id.to_be_bytes(), buf);
    put_bytes(2, &span.span_id.to_be_bytes(), buf);
    if span.parent_id != 0 {
        put_bytes(4, &span.parent_id.to_be_bytes(), buf);
    }
    put_str(5, &m.name, buf);
    put_varint(6, kind(&m.kind) as i32 as u64, buf);
    put_fixed64(7, nanos(span.start), buf);
    put_fixed64(8, nanos(span.end), buf);
    for kv in &m.attributes {
        write_key_value(9, kv, lens, buf);
    }
    for event in &m.events {
        write_event(event, lens, buf);
    }
    for link in &m.links {
        write_link(link, lens, buf);
    }
    write_status(&m.status, lens, buf);
    put_fixed32(16, span_flags(span.parent_remote), buf);
}

fn write_key_value(tag: u32, kv: &KeyValue, lens: &mut Lens<'_>, buf: &mut Vec<u8>) {
    put_len(tag, lens.next(), buf);
    put_str(1, kv.key.as_str(), buf);
    put_len(2, lens.next(), buf);
    match any(&kv.value) {
        Any::Scalar(scalar) => scalar.write(buf),
        Any::Array(array) => {
            put_len(5, lens.next(), buf);
            each(array, |element| {
                put_len(1, lens.next(), buf);
                element.write(buf);
            });
        }
        Any::Unknown => {}
    }
}

fn write_event(event: &Event, lens: &mut Lens<'_>, buf: &mut Vec<u8>) {
    put_len(11, lens.next(), buf);
    put_fixed64(1, nanos(event.timestamp), buf);
    put_str(2, &event.name, buf);
    for kv in &event.attributes {
        write_key_value(3, kv, lens, buf);
    }
    put_varint(4, event.dropped_attributes_count.into(), buf);
}

fn write_link(link: &Link, lens: &mut Lens<'_>, buf: &mut Vec<u8>) {
    put_len(13, lens.next(), buf);
    let context = &link.span_context;
    put_bytes(1, &context.trace_id().to_bytes(), buf);
    put_bytes(2, &context.span_id().to_bytes(), buf);
    put_str(3, lens.state(), buf);
    for kv in &link.attributes {
        write_key_value(4, kv, lens, buf);
    }
    put_varint(5, link.dropped_attributes_count.into(), buf);
    put_fixed32(6, link_flags(link), buf);
}

fn write_status(status: &Status, lens: &mut Lens<'_>, buf: &mut Vec<u8>) {
    put_len(15, lens.next(), buf);
    let (code, message) = code_and_message(status);
    put_str(2, message, buf);
    put_varint(3, code as i32 as u64, buf);
}

// What the message path converts, read in place.

/// An attribute value as an `AnyValue` holds it.
enum Any<'a> {
    Scalar(Scalar<'a>),
    Array(&'a Array),
    /// A value type opentelemetry 0.33 does not have. opentelemetry-proto's conversion panics on
    /// one; an empty `AnyValue` does not take the export thread down.
    Unknown,
}

/// The content of an `AnyValue` that is not an array (an attribute's value or an element of one).
#[derive(Clone, Copy)]
enum Scalar<'a> {
    Bool(bool),
    Int(i64),
    Double(f64),
    String(&'a str),
}

fn any(value: &Value) -> Any<'_> {
    match value {
        Value::Bool(b) => Any::Scalar(Scalar::Bool(*b)),
        Value::I64(i) => Any::Scalar(Scalar::Int(*i)),
        Value::F64(f) => Any::Scalar(Scalar::Double(*f)),
        Value::String(s) => Any::Scalar(Scalar::String(s.as_str())),
        Value::Array(a @ (Array::Bool(_) | Array::I64(_) | Array::F64(_) | Array::String(_))) => {
            Any::Array(a)
        }
        _ => Any::Unknown,
    }
}

/// Calls `f` with each element of `array`, a type `any` knows.
fn each(array: &Array, mut f: impl FnMut(Scalar<'_>)) {
    match array {
        Array::Bool(v) => v.iter().for_each(|&b| f(Scalar::Bool(b))),
        Array::I64(v) => v.iter().for_each(|&i| f(Scalar::Int(i))),
        Array::F64(v) => v.iter().for_each(|&x| f(Scalar::Double(x))),
        Array::String(v) => v.iter().for_each(|s| f(Scalar::String(s.as_str()))),
        _ => {}
    }
}

impl Scalar<'_> {
    /// A oneof's field is written even when it holds its type's default.
    fn len(self) -> usize {
        match self {
            Scalar::String(s) => field(1, s.len()),
            Scalar::Bool(_) => key_len(2) + 1,
            Scalar::Int(i) => key_len(3) + encoded_len_varint(i as u64),
            Scalar::Double(_) => key_len(4) + 8,
        }
    }

    fn write(self, buf: &mut Vec<u8>) {
        match self {
            Scalar::String(s) => {
                put_len(1, s.len(), buf);
                buf.extend_from_slice(s.as_bytes());
            }
            Scalar::Bool(b) => {
                encode_key(2, WireType::Varint, buf);
                encode_varint(u64::from(b), buf);
            }
            Scalar::Int(i) => {
                encode_key(3, WireType::Varint, buf);
                encode_varint(i as u64, buf);
            }
            Scalar::Double(x) => {
                encode_key(4, WireType::SixtyFourBit, buf);
                buf.extend_from_slice(&x.to_le_bytes());
            }
        }
    }
}

/// As opentelemetry-proto sets a link's flags: its trace flags, and whether it is remote.
fn link_flags(link: &Link) -> u32 {
    let context = &link.span_context;
    let mut flags = u32::from(context.trace_flags().to_u8()) | HAS_IS_REMOTE;
    if context.is_remote() {
        flags |= IS_REMOTE;
    }
    flags
}

const HAS_IS_REMOTE: u32 =
    opentelemetry_proto::tonic::trace::v1::SpanFlags::ContextHasIsRemoteMask as u32;
const IS_REMOTE: u32 = opentelemetry_proto::tonic::trace::v1::SpanFlags::ContextIsRemoteMask as u32;

fn code_and_message(status: &Status) -> (StatusCode, &str) {
    match status {
        Status::Unset => (StatusCode::Unset, ""),
        Status::Ok => (StatusCode::Ok, ""),
        Status::Error { description } => (StatusCode::Error, description),
    }
}

// Field sizes and writers. Fields at their proto3 default are left out, as prost leaves them out.

/// A length-delimited field holding `len` bytes.
const fn field(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

fn str_len(tag: u32, s: &str) -> usize {
    if s.is_empty() { 0 } else { field(tag, s.len()) }
}

/// A varint field (`uint32`, an enum).
fn varint_len(tag: u32, value: u64) -> usize {
    if value == 0 {
        0
    } else {
        key_len(tag) + encoded_len_varint(value)
    }
}

/// A `fixed32` or `fixed64` field of `width` bytes.
fn fixed_len(tag: u32, width: usize, value: u64) -> usize {
    if value == 0 { 0 } else { key_len(tag) + width }
}

fn put_len(tag: u32, len: usize, buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(len as u64, buf);
}

fn put_bytes(tag: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    put_len(tag, bytes.len(), buf);
    buf.extend_from_slice(bytes);
}

fn put_str(tag: u32, s: &str, buf: &mut Vec<u8>) {
    if !s.is_empty() {
        put_bytes(tag, s.as_bytes(), buf);
    }
}

fn put_varint(tag: u32, value: u64, buf: &mut Vec<u8>) {
    if value != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(value, buf);
    }
}

fn put_fixed64(tag: u32, value: u64, buf: &mut Vec<u8>) {
    if value != 0 {
        encode_key(tag, WireType::SixtyFourBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

fn put_fixed32(tag: u32, value: u32, buf: &mut Vec<u8>) {
    if value != 0 {
        encode_key(tag, WireType::ThirtyTwoBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use opentelemetry::trace::{SpanContext, SpanId, SpanKind, TraceFlags, TraceId, TraceState};
    use opentelemetry::{Array, StringValue};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value;
    use prost::Message;

    use super::*;
    use crate::mapper::{Mapped, Mapper};
    use crate::record::Record;
    use crate::semconv::Conventions;
    use crate::sinks::otlp_proto::Encoder;
    use crate::sinks::otlp_proto::test_records::{CONTENT_MODES, records, resource, sites};

    /// Encodes `batch` both ways: the bytes must be prost's encoding of the messages, and decode
    /// back to them.
    fn check(
        wire: &mut WireEncoder,
        messages: &mut Encoder,
        batch: &[MappedSpan],
    ) -> ExportTraceServiceRequest {
        let bytes = wire.encode(batch);
        let (expected, request) =
            messages.encode(batch.to_vec(), |r| (r.encode_to_vec(), r.clone()));
        assert_eq!(bytes, expected);
        let decoded = ExportTraceServiceRequest::decode(&bytes[..]).unwrap();
        assert_eq!(decoded, request);
        decoded
    }

    #[test]
    fn mapped_records_are_written_as_prost_writes_their_messages() {
        let resource = resource();
        for content in CONTENT_MODES {
            let mapper = Mapper::new(Conventions::default(), content, resource.clone());
            let sites = sites();
            let mut scratch = Vec::new();
            let start = crate::record::clock::now();
            let mut wire = WireEncoder::new(&resource, mapper.scope());
            let mut messages = Encoder::new(&resource, mapper.scope());
            // One encoder for batches of other shapes and sizes, none included.
            let mut last = None;
            for pick in [
                &[0, 1, 2, 3][..],
                &[],
                &[3, 2, 1, 0],
                &[1, 0],
                &[2, 3, 0, 1],
            ] {
                let mut all: Vec<_> = records(&sites, start).into_iter().map(Some).collect();
                let batch: Vec<_> = pick
                    .iter()
                    .map(|&i| all[i].take().unwrap())
                    .collect::<Vec<Record>>()
                    .iter_mut()
                    .map(|r| mapper.finish(r, &mut scratch))
                    .collect();
                let request = check(&mut wire, &mut messages, &batch);
                let spans = &request.resource_spans[0].scope_spans[0].spans;
                assert_eq!(spans.len(), pick.len(), "{content:?} {pick:?}");
                last = Some(request);
            }

            // And the request says what it should (so that equal does not mean equally empty).
            let request = last.unwrap();
            let resource_spans = &request.resource_spans[0];
            assert_eq!(
                resource_spans.schema_url,
                "https://opentelemetry.io/schemas/1.0"
            );
            let scope = resource_spans.scope_spans[0].scope.as_ref().unwrap();
            assert_eq!(scope.name, "llmtrace");
            let spans = &resource_spans.scope_spans[0].spans;
            let chat = &spans[2];
            assert_eq!(chat.status.as_ref().unwrap().message, "429: slow down");
            assert_eq!(chat.flags, 0x301, "sampled, remote parent");
            assert_eq!(chat.parent_span_id, 0x10u64.to_be_bytes());
            assert_eq!(chat.links.len(), 2);
            assert_eq!(chat.links[0].attributes[0].key, "link.kind");
            assert!(chat.events.iter().any(|e| e.name == "retry"));
            assert!(chat.attributes.iter().any(|kv| {
                kv.value.as_ref().and_then(|v| v.value.as_ref())
                    == Some(&any_value::Value::IntValue(120))
            }));
            let root = &spans[1];
            assert!(root.parent_span_id.is_empty());
            assert_eq!(root.flags, 0x101);
            let tool = &spans[3];
            // The tool's output, on the span or on an event, as the content mode says.
            let output = Some(any_value::Value::StringValue("found 3".into()));
            let on_events = tool.events.iter().flat_map(|e| &e.attributes);
            let found = tool
                .attributes
                .iter()
                .chain(on_events)
                .any(|kv| kv.value.as_ref().map(|v| &v.value) == Some(&output));
            assert_eq!(found, content.captures(), "{content:?}");
        }
    }

    fn at(nanos: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(nanos)
    }

    fn span(span_id: u64, parent_id: u64, parent_remote: bool, mapped: Mapped) -> MappedSpan {
        MappedSpan {
            trace_id: 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c,
            span_id,
            parent_id,
            parent_remote,
            start: at(1_700_000_000_000_000_000),
            end: at(1_700_000_000_000_500_000),
            mapped,
        }
    }

    fn mapped(name: &'static str, kind: SpanKind, status: Status) -> Mapped {
        Mapped {
            name: name.into(),
            kind,
            attributes: Vec::new(),
            events: Vec::new(),
            links: Vec::new(),
            status,
        }
    }

    /// Every value type, with the defaults a oneof still writes (false, 0, 0.0, "", empty
    /// arrays).
    fn every_value() -> Vec<KeyValue> {
        vec![
            KeyValue::new("bool.true", true),
            KeyValue::new("bool.false", false),
            KeyValue::new("int.zero", 0i64),
            KeyValue::new("int.negative", -1i64),
            KeyValue::new("int.max", i64::MAX),
            KeyValue::new("int.min", i64::MIN),
            KeyValue::new("double.zero", 0.0),
            KeyValue::new("double.negative_zero", -0.0),
            KeyValue::new("double", -2.5e300),
            KeyValue::new("string.empty", ""),
            KeyValue::new("string", "é ✓\n\"quoted\""),
            KeyValue::new("", "an empty key"),
            KeyValue::new("bools", Value::Array(Array::Bool(vec![true, false]))),
            KeyValue::new("ints", Value::Array(Array::I64(vec![0, -7, 300]))),
            KeyValue::new("doubles", Value::Array(Array::F64(vec![1.5, 0.0]))),
            KeyValue::new(
                "strings",
                Value::Array(Array::String(vec![
                    StringValue::from(""),
                    StringValue::from("a"),
                ])),
            ),
            KeyValue::new("bools.empty", Value::Array(Array::Bool(vec![]))),
            KeyValue::new("ints.empty", Value::Array(Array::I64(vec![]))),
            KeyValue::new("doubles.empty", Value::Array(Array::F64(vec![]))),
            KeyValue::new("strings.empty", Value::Array(Array::String(vec![]))),
        ]
    }

    fn link(trace_state: TraceState, flags: TraceFlags, remote: bool) -> Link {
        let context = SpanContext::new(
            TraceId::from(0x42u128),
            SpanId::from(0x43u64),
            flags,
            remote,
            trace_state,
        );
        Link::new(context, every_value(), 0)
    }

    #[test]
    fn every_value_type_and_span_shape_is_written_as_prost_writes_it() {
        let mut root = mapped("", SpanKind::Internal, Status::Unset);
        root.attributes = every_value();
        let mut root = span(1, 0, false, root);
        // At the epoch and before it: times of 0, left out.
        root.start = UNIX_EPOCH;
        root.end = UNIX_EPOCH - Duration::from_secs(1);
        root.trace_id = 0;

        let mut server = mapped("server", SpanKind::Server, Status::Ok);
        server.events = vec![
            Event::new("", UNIX_EPOCH, Vec::new(), 3),
            Event::new("values", at(5), every_value(), 0),
        ];
        let state = TraceState::from_key_value([("vendor", "a"), ("other", "b")]).unwrap();
        server.links = vec![
            link(state, TraceFlags::SAMPLED, true),
            link(TraceState::default(), TraceFlags::NOT_SAMPLED, false),
        ];
        server.links[1].dropped_attributes_count = 2;
        let server = span(2, 1, true, server);

        let empty_error = Status::Error {
            description: "".into(),
        };
        let client = span(3, 2, false, mapped("client", SpanKind::Client, empty_error));
        let error = Status::error("it broke");
        let producer = span(4, 2, false, mapped("producer", SpanKind::Producer, error));
        let consumer = span(
            5,
            2,
            false,
            mapped("consumer", SpanKind::Consumer, Status::Ok),
        );

        let resource = resource();
        let scope = opentelemetry::InstrumentationScope::builder("scope")
            .with_version("1.2.3")
            .with_schema_url("https://example.com/schema")
            .with_attributes([KeyValue::new("scope.attr", 1i64)])
            .build();
        let mut wire = WireEncoder::new(&resource, &scope);
        let mut messages = Encoder::new(&resource, &scope);
        let batch = [root, server, client, producer, consumer];
        let request = check(&mut wire, &mut messages, &batch);

        let spans = &request.resource_spans[0].scope_spans[0].spans;
        assert_eq!(spans.len(), 5);
        assert_eq!(spans[0].attributes.len(), every_value().len());
        assert_eq!(spans[0].start_time_unix_nano, 0);
        assert_eq!(spans[1].flags, 0x301);
        assert_eq!(spans[1].links[0].trace_state, "vendor=a,other=b");
        assert_eq!(spans[1].links[0].flags, 0x301);
        assert_eq!(spans[1].links[1].flags, 0x100);
        assert_eq!(spans[1].events[0].dropped_attributes_count, 3);
        assert_eq!(spans[3].status.as_ref().unwrap().message, "it broke");
        assert_eq!(
            request.resource_spans[0].scope_spans[0].schema_url,
            "https://example.com/schema"
        );

        // Without a resource or a scope (the exporter's encoder before it is given them).
        check(&mut WireEncoder::default(), &mut Encoder::default(), &batch);
        check(&mut WireEncoder::default(), &mut Encoder::default(), &[]);
    }

    /// Lengths of every varint size up to four bytes (the request is over 2 MiB), and the
    /// encoder's buffers reused from one batch to the next.
    #[test]
    fn a_large_batch_is_written_as_prost_writes_it() {
        let mut batch = Vec::new();
        for i in 0..1_000u64 {
            let mut m = mapped(
                "a name of more than 127 bytes",
                SpanKind::Client,
                Status::Ok,
            );
            m.name = format!("{:-<130}{i}", m.name).into();
            m.attributes = vec![
                KeyValue::new("long", "x".repeat(2_000 + i as usize)),
                KeyValue::new("short", i as i64),
            ];
            if i % 100 == 0 {
                m.attributes
                    .push(KeyValue::new("longer", "y".repeat(20_000)));
                m.events = vec![Event::new("e", at(i + 1), every_value(), 0)];
                m.status = Status::error("z".repeat(300));
            }
            batch.push(span(i + 1, 0, false, m));
        }
        let resource = resource();
        let scope = opentelemetry::InstrumentationScope::default();
        let mut wire = WireEncoder::new(&resource, &scope);
        let mut messages = Encoder::new(&resource, &scope);
        let request = check(&mut wire, &mut messages, &batch);
        assert_eq!(request.resource_spans[0].scope_spans[0].spans.len(), 1_000);
        assert!(wire.encode(&batch).len() > 1 << 21);

        let lens = wire.lens.as_ptr();
        let capacity = wire.lens.capacity();
        check(&mut wire, &mut messages, &batch[..10]);
        check(&mut wire, &mut messages, &batch);
        assert_eq!((wire.lens.as_ptr(), wire.lens.capacity()), (lens, capacity));
    }
}
