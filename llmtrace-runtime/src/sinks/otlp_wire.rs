//! The OTLP/HTTP exporter's protobuf body, written straight from the mapped spans.
//!
//! Copying the spans into opentelemetry-proto's messages and letting prost encode them was about
//! a quarter of the process's time in the drain benchmark (a million spans into a receiver on
//! 127.0.0.1): the copy of every string into the messages, and prost's lengths, which it computes
//! again at every level of nesting (resource spans, scope spans, span, attribute, value), so that
//! each attribute was sized three or four times. Here a first pass sizes each nested message once,
//! into a list of lengths that is kept between batches, and a second writes the bytes with prost's
//! encoding primitives into a buffer of the exact size. The resource and the scope are the same
//! for every batch: they are encoded once, when the exporter gets them. So are a callsite's cached
//! request attributes (`MappedSpan::request`), the same for all its spans: encoded the first time
//! a span of that callsite comes, then copied.
//!
//! The invariant: the bytes are prost's encoding of the messages `otlp_proto::Encoder` builds for
//! the same batch, byte for byte (fields in tag order, the proto3 defaults left out where prost
//! leaves them out, a oneof's value written even when it is the default). The tests check it on
//! every shape of span and attribute value the mapper makes.

use std::collections::HashMap;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, Status};
use opentelemetry::{Array, KeyValue, Value};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::encoding::{WireType, encode_varint, encoded_len_varint, key_len};

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
    sizes: Sizes,
    /// The encoded length of the spans sized since the last write, and how many they are.
    spans: usize,
    sized: usize,
    requests: Requests,
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
            sizes: Sizes::default(),
            spans: 0,
            sized: 0,
            requests: Requests::default(),
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
    #[cfg(test)]
    pub(crate) fn encode(&mut self, batch: &[MappedSpan]) -> Vec<u8> {
        self.clear();
        for span in batch {
            self.size(span);
        }
        self.write(batch)
    }

    /// Sizes `span`, the next span of the batch in progress, as the exporter receives it: the
    /// sizing pass runs while the span is fresh in cache, and the batch's encoded length is known
    /// as it grows ([`WireEncoder::encoded_len`]).
    pub(crate) fn size(&mut self, span: &MappedSpan) {
        self.sized += 1;
        self.spans += field(2, self.sizes.span(span, &mut self.requests));
    }

    /// The encoded length of the spans sized since the last write.
    pub(crate) fn encoded_len(&self) -> usize {
        self.spans
    }

    /// Forgets the spans sized since the last write.
    pub(crate) fn clear(&mut self) {
        let sizes = &mut self.sizes;
        sizes.lens.clear();
        sizes.times.clear();
        sizes.states.clear();
        sizes.requests.clear();
        self.spans = 0;
        self.sized = 0;
    }

    /// The encoded `ExportTraceServiceRequest` of `batch`, the spans sized since the last write,
    /// in the order they were sized; the encoder is then ready for the next batch.
    pub(crate) fn write(&mut self, batch: &[MappedSpan]) -> Vec<u8> {
        debug_assert_eq!(self.sized, batch.len(), "every span is sized, once");
        let spans = self.spans;
        let sizes = &self.sizes;
        let scope_spans = self.scope.len() + spans + self.scope_schema.len();
        let resource_spans =
            self.resource.len() + field(2, scope_spans) + self.resource_schema.len();
        let total = field(1, resource_spans);

        let mut buf = Vec::with_capacity(total);
        put_len(1, resource_spans, &mut buf);
        buf.extend_from_slice(&self.resource);
        put_len(2, scope_spans, &mut buf);
        buf.extend_from_slice(&self.scope);
        let mut writer = Writer {
            lens: sizes.lens.iter(),
            times: sizes.times.iter(),
            states: &sizes.states,
            requests: sizes.requests.iter(),
            encoded: &self.requests.encoded,
            buf: &mut buf,
        };
        for span in batch {
            writer.span(span);
        }
        debug_assert!(writer.lens.next().is_none() && writer.times.next().is_none());
        debug_assert!(writer.states.is_empty() && writer.requests.next().is_none());
        buf.extend_from_slice(&self.scope_schema);
        buf.extend_from_slice(&self.resource_schema);
        debug_assert_eq!(buf.len(), total);
        self.clear();
        buf
    }
}

/// What the sizing pass leaves for the writing pass, in the order the writing pass reads it.
/// Kept from one batch to the next, for its buffers.
#[derive(Debug, Default)]
struct Sizes {
    /// The content lengths of the batch's messages (a message's taken before its children's).
    /// They fit in a `u32`: protobuf messages are limited to 2 GiB.
    lens: Vec<u32>,
    /// The batch's times, in nanoseconds since the epoch.
    times: Vec<u64>,
    /// The trace states of the batch's links, one after the other.
    states: String,
    /// For each span with cached request attributes, where [`Requests`] keeps them encoded.
    requests: Vec<u32>,
}

/// Callsites' cached request attributes (`MappedSpan::request`), encoded once each as the span
/// attributes they are. A list lives as long as the process and never changes, so its address
/// and length name it.
#[derive(Debug, Default)]
struct Requests {
    index: HashMap<(usize, usize), u32>,
    encoded: Vec<Vec<u8>>,
    /// The list looked up last: most spans in a row come from one callsite.
    last: Option<((usize, usize), u32)>,
}

impl Requests {
    /// Where `request`, not empty, is kept encoded.
    fn get(&mut self, request: &'static [KeyValue]) -> u32 {
        let key = (request.as_ptr() as usize, request.len());
        match self.last {
            Some((last, at)) if last == key => return at,
            _ => {}
        }
        let at = *self.index.entry(key).or_insert_with(|| {
            self.encoded.push(encode_attributes(request));
            (self.encoded.len() - 1) as u32
        });
        self.last = Some((key, at));
        at
    }
}

/// `attributes` as a span's attribute fields.
fn encode_attributes(attributes: &[KeyValue]) -> Vec<u8> {
    let mut sizes = Sizes::default();
    let len: usize = attributes
        .iter()
        .map(|kv| field(9, sizes.key_value(kv)))
        .sum();
    let mut buf = Vec::with_capacity(len);
    let mut writer = Writer {
        lens: sizes.lens.iter(),
        times: sizes.times.iter(),
        states: &sizes.states,
        requests: sizes.requests.iter(),
        encoded: &[],
        buf: &mut buf,
    };
    for kv in attributes {
        writer.key_value(9, kv);
    }
    debug_assert_eq!(buf.len(), len);
    buf
}

// Sizing: each method returns the length of a message's content and leaves it in `lens`.
impl Sizes {
    fn reserve(&mut self) -> usize {
        self.lens.push(0);
        self.lens.len() - 1
    }

    fn set(&mut self, slot: usize, len: usize) -> usize {
        self.lens[slot] = len as u32;
        len
    }

    fn time(&mut self, time: SystemTime) -> u64 {
        self.time_nanos(nanos(time))
    }

    fn time_nanos(&mut self, nanos: u64) -> u64 {
        self.times.push(nanos);
        nanos
    }

    fn span(&mut self, span: &MappedSpan, requests: &mut Requests) -> usize {
        let slot = self.reserve();
        let m = &span.mapped;
        let mut n = field(1, 16) + field(2, 8);
        if span.parent_id != 0 {
            n += field(4, 8);
        }
        n += str_len(5, &m.name)
            + varint_len(6, kind(&m.kind) as i32 as u64)
            + fixed_len(7, 8, self.time_nanos(span.start))
            + fixed_len(8, 8, self.time_nanos(span.end));
        if !span.request.is_empty() {
            let at = requests.get(span.request);
            self.requests.push(at);
            n += requests.encoded[at as usize].len();
        }
        for kv in &m.attributes {
            n += field(9, self.key_value(kv));
        }
        for event in &m.events {
            n += field(11, self.event(event));
        }
        for link in &m.links {
            n += field(13, self.link(link));
        }
        n += field(15, self.status(&m.status));
        n += fixed_len(16, 4, span_flags(span.parent_remote).into());
        self.set(slot, n)
    }

    fn key_value(&mut self, kv: &KeyValue) -> usize {
        let slot = self.reserve();
        let n = str_len(1, kv.key.as_str()) + field(2, self.value(&kv.value));
        self.set(slot, n)
    }

    /// An `AnyValue`'s content.
    fn value(&mut self, value: &Value) -> usize {
        let slot = self.reserve();
        let n = match any(value) {
            Any::Scalar(scalar) => scalar.len(),
            Any::Array(array) => {
                let inner = self.reserve();
                let mut n = 0;
                each(array, |element| {
                    self.lens.push(element.len() as u32);
                    n += field(1, element.len());
                });
                field(5, self.set(inner, n))
            }
            Any::Unknown => 0,
        };
        self.set(slot, n)
    }

    fn event(&mut self, event: &Event) -> usize {
        let slot = self.reserve();
        let mut n = fixed_len(1, 8, self.time(event.timestamp)) + str_len(2, &event.name);
        for kv in &event.attributes {
            n += field(3, self.key_value(kv));
        }
        n += varint_len(4, event.dropped_attributes_count.into());
        self.set(slot, n)
    }

    fn link(&mut self, link: &Link) -> usize {
        let slot = self.reserve();
        // `TraceState` shows its entries only as a header; an empty one allocates nothing.
        let state = link.span_context.trace_state().header();
        self.states.push_str(&state);
        self.lens.push(state.len() as u32);
        let mut n = field(1, 16) + field(2, 8) + str_len(3, &state);
        for kv in &link.attributes {
            n += field(4, self.key_value(kv));
        }
        n += varint_len(5, link.dropped_attributes_count.into())
            + fixed_len(6, 4, link_flags(link).into());
        self.set(slot, n)
    }

    fn status(&mut self, status: &Status) -> usize {
        let (code, message) = code_and_message(status);
        let n = str_len(2, message) + varint_len(3, code as i32 as u64);
        self.lens.push(n as u32);
        n
    }
}

/// The writing pass: the same walk as the sizing pass, reading what it left.
struct Writer<'a> {
    lens: std::slice::Iter<'a, u32>,
    times: std::slice::Iter<'a, u64>,
    /// The trace states not written yet.
    states: &'a str,
    requests: std::slice::Iter<'a, u32>,
    encoded: &'a [Vec<u8>],
    buf: &'a mut Vec<u8>,
}

impl<'a> Writer<'a> {
    fn len(&mut self) -> usize {
        self.lens.next().map_or(0, |&n| n as usize)
    }

    fn time(&mut self) -> u64 {
        self.times.next().copied().unwrap_or(0)
    }

    fn state(&mut self) -> &'a str {
        let (state, rest) = self.states.split_at(self.len());
        self.states = rest;
        state
    }

    /// The key and length of a message field, its length from the sizing pass.
    fn message(&mut self, tag: u32) {
        let len = self.len();
        put_len(tag, len, self.buf);
    }

    fn span(&mut self, span: &MappedSpan) {
        self.message(2);
        let m = &span.mapped;
        put_bytes(1, &span.trace_id.to_be_bytes(), self.buf);
        put_bytes(2, &span.span_id.to_be_bytes(), self.buf);
        if span.parent_id != 0 {
            put_bytes(4, &span.parent_id.to_be_bytes(), self.buf);
        }
        put_str(5, &m.name, self.buf);
        put_varint(6, kind(&m.kind) as i32 as u64, self.buf);
        let (start, end) = (self.time(), self.time());
        put_fixed64(7, start, self.buf);
        put_fixed64(8, end, self.buf);
        if !span.request.is_empty() {
            let at = self.requests.next().map_or(0, |&at| at as usize);
            self.buf.extend_from_slice(&self.encoded[at]);
        }
        for kv in &m.attributes {
            self.key_value(9, kv);
        }
        for event in &m.events {
            self.event(event);
        }
        for link in &m.links {
            self.link(link);
        }
        self.status(&m.status);
        put_fixed32(16, span_flags(span.parent_remote), self.buf);
    }

    fn key_value(&mut self, tag: u32, kv: &KeyValue) {
        self.message(tag);
        put_str(1, kv.key.as_str(), self.buf);
        self.message(2);
        match any(&kv.value) {
            Any::Scalar(scalar) => scalar.write(self.buf),
            Any::Array(array) => {
                self.message(5);
                each(array, |element| {
                    self.message(1);
                    element.write(self.buf);
                });
            }
            Any::Unknown => {}
        }
    }

    fn event(&mut self, event: &Event) {
        self.message(11);
        let time = self.time();
        put_fixed64(1, time, self.buf);
        put_str(2, &event.name, self.buf);
        for kv in &event.attributes {
            self.key_value(3, kv);
        }
        put_varint(4, event.dropped_attributes_count.into(), self.buf);
    }

    fn link(&mut self, link: &Link) {
        self.message(13);
        let context = &link.span_context;
        put_bytes(1, &context.trace_id().to_bytes(), self.buf);
        put_bytes(2, &context.span_id().to_bytes(), self.buf);
        let state = self.state();
        put_str(3, state, self.buf);
        for kv in &link.attributes {
            self.key_value(4, kv);
        }
        put_varint(5, link.dropped_attributes_count.into(), self.buf);
        put_fixed32(6, link_flags(link), self.buf);
    }

    fn status(&mut self, status: &Status) {
        self.message(15);
        let (code, message) = code_and_message(status);
        put_str(2, message, self.buf);
        put_varint(3, code as i32 as u64, self.buf);
    }
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
                put_key(2, WireType::Varint, buf);
                buf.push(u8::from(b));
            }
            Scalar::Int(i) => {
                put_key(3, WireType::Varint, buf);
                put_varint_value(i as u64, buf);
            }
            Scalar::Double(x) => {
                put_key(4, WireType::SixtyFourBit, buf);
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

/// A key or a length: most are one byte, which prost's `encode_varint`, left out of line, writes
/// in a loop.
#[inline(always)]
fn put_varint_value(value: u64, buf: &mut Vec<u8>) {
    if value < 0x80 {
        buf.push(value as u8);
    } else {
        encode_varint(value, buf);
    }
}

#[inline(always)]
fn put_key(tag: u32, wire_type: WireType, buf: &mut Vec<u8>) {
    put_varint_value(u64::from(tag << 3 | wire_type as u32), buf);
}

fn put_len(tag: u32, len: usize, buf: &mut Vec<u8>) {
    put_key(tag, WireType::LengthDelimited, buf);
    put_varint_value(len as u64, buf);
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
        put_key(tag, WireType::Varint, buf);
        put_varint_value(value, buf);
    }
}

fn put_fixed64(tag: u32, value: u64, buf: &mut Vec<u8>) {
    if value != 0 {
        put_key(tag, WireType::SixtyFourBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

fn put_fixed32(tag: u32, value: u32, buf: &mut Vec<u8>) {
    if value != 0 {
        put_key(tag, WireType::ThirtyTwoBit, buf);
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
    use crate::semconv::Conventions;
    use crate::sinks::otlp_proto::Encoder;
    use crate::sinks::otlp_proto::test_records::{CONTENT_MODES, picked, resource, sites};

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
                let batch: Vec<_> = picked(&sites, start, pick)
                    .iter_mut()
                    .map(|r| mapper.finish(r, &mut scratch, false))
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
            start: 1_700_000_000_000_000_000,
            end: 1_700_000_000_000_500_000,
            request: &[],
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
        // At the epoch: times of 0, left out.
        root.start = 0;
        root.end = 0;
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
        let mut server = span(2, 1, true, server);
        // A callsite's cached request attributes, before the span's own.
        server.request = Box::leak(vec![KeyValue::new("request", "cached")].into_boxed_slice());
        server.mapped.attributes = vec![KeyValue::new("response", 1i64)];

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
        let keys: Vec<_> = spans[1].attributes.iter().map(|kv| &kv.key[..]).collect();
        assert_eq!(keys, ["request", "response"]);
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
        // Two callsites' cached request attributes, one with a value over 127 bytes, taking
        // turns unevenly.
        let mut long = every_value();
        long.push(KeyValue::new("long.request", "v".repeat(200)));
        let requests: [&'static [KeyValue]; 2] = [
            Box::leak(vec![KeyValue::new("gen_ai.provider.name", "openai")].into_boxed_slice()),
            Box::leak(long.into_boxed_slice()),
        ];
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
            let mut span = span(i + 1, 0, false, m);
            if i % 7 != 0 {
                span.request = requests[usize::from(i % 3 == 0)];
            }
            batch.push(span);
        }
        let resource = resource();
        let scope = opentelemetry::InstrumentationScope::default();
        let mut wire = WireEncoder::new(&resource, &scope);
        let mut messages = Encoder::new(&resource, &scope);
        let request = check(&mut wire, &mut messages, &batch);
        assert_eq!(request.resource_spans[0].scope_spans[0].spans.len(), 1_000);
        assert!(wire.encode(&batch).len() > 1 << 21);

        let lens = wire.sizes.lens.as_ptr();
        let capacity = wire.sizes.lens.capacity();
        check(&mut wire, &mut messages, &batch[..10]);
        check(&mut wire, &mut messages, &batch);
        assert_eq!(
            (wire.sizes.lens.as_ptr(), wire.sizes.lens.capacity()),
            (lens, capacity)
        );
        // Each list of request attributes encoded once, over all the batches.
        assert_eq!(wire.requests.encoded.len(), 2);
    }
}
