//! The conversions both built-in OTLP writers share (ids, kind, times, flags, the resource and
//! scope), and, in tests, the message path they are checked against.
//!
//! The OTLP/HTTP exporter writes its protobuf (`sinks::otlp_wire`) and the JSONL exporter its
//! OTLP/JSON lines (`sinks::otlp_json`) straight from the mapped spans. Each writes, byte for
//! byte, what the [`Encoder`] here gives: opentelemetry-proto's messages, filled from the mapped
//! spans as opentelemetry-proto's transform of `SpanData` fills them
//! (`group_spans_by_resource_and_scope`), encoded by prost or serialized by serde. That path is
//! the reference of their tests, and is itself tested against the transform.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::SpanKind;
#[cfg(test)]
use opentelemetry::trace::Status;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
#[cfg(test)]
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, SpanFlags, span};
#[cfg(test)]
use opentelemetry_proto::tonic::trace::v1::{Span, status};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;

#[cfg(test)]
use crate::mapper::MappedSpan;

/// The message path (see the module docs): batches of mapped spans into one
/// `ExportTraceServiceRequest` under one resource and scope, each batch written over the
/// messages of the batch before.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct Encoder {
    /// One resource, one scope; its spans are the last batch's, kept for their buffers.
    request: ExportTraceServiceRequest,
    /// Spans of an earlier, larger batch, set aside while a smaller one is encoded.
    spare: Vec<Span>,
}

#[cfg(test)]
impl Default for Encoder {
    fn default() -> Self {
        Encoder::new(
            &opentelemetry_sdk::Resource::builder_empty().build(),
            &opentelemetry::InstrumentationScope::default(),
        )
    }
}

#[cfg(test)]
impl Encoder {
    pub(crate) fn new(
        resource: &opentelemetry_sdk::Resource,
        scope: &opentelemetry::InstrumentationScope,
    ) -> Self {
        Encoder {
            request: empty_request(resource, scope),
            spare: Vec::new(),
        }
    }

    /// Calls `encode` with one request holding `batch`, under this resource and scope.
    pub(crate) fn encode<R>(
        &mut self,
        batch: impl IntoIterator<Item = MappedSpan>,
        encode: impl FnOnce(&ExportTraceServiceRequest) -> R,
    ) -> R {
        let spans = &mut self.request.resource_spans[0].scope_spans[0].spans;
        spans.append(&mut self.spare);
        let mut n = 0;
        for (i, mapped) in batch.into_iter().enumerate() {
            n = i + 1;
            match spans.get_mut(i) {
                Some(span) => fill(span, mapped),
                None => {
                    let mut span = Span::default();
                    fill(&mut span, mapped);
                    spans.push(span);
                }
            }
        }
        self.spare.extend(spans.drain(n..));
        encode(&self.request)
    }
}

/// The request of a batch of no spans: one resource, one scope.
pub(super) fn empty_request(
    resource: &opentelemetry_sdk::Resource,
    scope: &opentelemetry::InstrumentationScope,
) -> ExportTraceServiceRequest {
    let resource = ResourceAttributesWithSchema::from(resource);
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: resource.attributes.0,
                dropped_attributes_count: 0,
                entity_refs: vec![],
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some((scope, None).into()),
                spans: Vec::new(),
                schema_url: scope.schema_url().unwrap_or_default().to_owned(),
            }],
            schema_url: resource.schema_url.unwrap_or_default(),
        }],
    }
}

/// A span's flags: sampled, and whether its parent is remote.
pub(super) fn span_flags(parent_remote: bool) -> u32 {
    let mut flags = SpanFlags::ContextHasIsRemoteMask as u32 | 1; // sampled
    if parent_remote {
        flags |= SpanFlags::ContextIsRemoteMask as u32;
    }
    flags
}

/// Writes `s` over `span`, reusing its buffers.
#[cfg(test)]
fn fill(span: &mut Span, s: MappedSpan) {
    let m = s.mapped;
    let flags = span_flags(s.parent_remote);
    set_bytes(&mut span.trace_id, &s.trace_id.to_be_bytes());
    set_bytes(&mut span.span_id, &s.span_id.to_be_bytes());
    span.trace_state.clear();
    if s.parent_id == 0 {
        span.parent_span_id.clear();
    } else {
        set_bytes(&mut span.parent_span_id, &s.parent_id.to_be_bytes());
    }
    span.flags = flags;
    set_str(&mut span.name, &m.name);
    span.kind = kind(&m.kind) as i32;
    span.start_time_unix_nano = s.start;
    span.end_time_unix_nano = s.end;
    set_attributes(
        &mut span.attributes,
        s.request.iter().cloned().chain(m.attributes),
    );
    span.dropped_attributes_count = 0;
    // Events and links are rare: built anew.
    span.events.clear();
    span.events
        .extend(m.events.into_iter().map(|event| span::Event {
            time_unix_nano: nanos(event.timestamp),
            name: event.name.into_owned(),
            attributes: attributes(event.attributes),
            dropped_attributes_count: event.dropped_attributes_count,
        }));
    span.dropped_events_count = 0;
    span.links.clear();
    span.links.extend(m.links.into_iter().map(span::Link::from));
    span.dropped_links_count = 0;
    let st = span.status.get_or_insert_with(Default::default);
    match m.status {
        Status::Ok => {
            st.code = status::StatusCode::Ok as i32;
            st.message.clear();
        }
        Status::Unset => {
            st.code = status::StatusCode::Unset as i32;
            st.message.clear();
        }
        Status::Error { description } => {
            st.code = status::StatusCode::Error as i32;
            set_str(&mut st.message, &description);
        }
    }
}

#[cfg(test)]
fn set_bytes(to: &mut Vec<u8>, from: &[u8]) {
    to.clear();
    to.extend_from_slice(from);
}

#[cfg(test)]
fn set_str(to: &mut String, from: &str) {
    to.clear();
    to.push_str(from);
}

/// Writes `kvs` over `to`, reusing its keys' and string values' buffers.
#[cfg(test)]
fn set_attributes(to: &mut Vec<KeyValue>, kvs: impl IntoIterator<Item = opentelemetry::KeyValue>) {
    let mut n = 0;
    for (i, kv) in kvs.into_iter().enumerate() {
        n = i + 1;
        match to.get_mut(i) {
            Some(slot) => {
                set_str(&mut slot.key, kv.key.as_str());
                set_value(&mut slot.value, kv.value);
            }
            None => to.push(key_value(kv)),
        }
    }
    to.truncate(n);
}

#[cfg(test)]
fn set_value(slot: &mut Option<AnyValue>, value: opentelemetry::Value) {
    if let (
        opentelemetry::Value::String(s),
        Some(AnyValue {
            value: Some(any_value::Value::StringValue(to)),
        }),
    ) = (&value, &mut *slot)
    {
        set_str(to, s.as_str());
        return;
    }
    *slot = Some(any(value));
}

/// As opentelemetry-proto converts an attribute, moving the strings the mapper made.
#[cfg(test)]
fn key_value(kv: opentelemetry::KeyValue) -> KeyValue {
    KeyValue {
        key: kv.key.into(),
        value: Some(any(kv.value)),
        key_strindex: 0,
    }
}

#[cfg(test)]
fn any(value: opentelemetry::Value) -> AnyValue {
    match value {
        opentelemetry::Value::String(s) => AnyValue {
            value: Some(any_value::Value::StringValue(s.into())),
        },
        // Arrays go through opentelemetry-proto's conversion.
        v => v.into(),
    }
}

#[cfg(test)]
fn attributes(kvs: Vec<opentelemetry::KeyValue>) -> Vec<KeyValue> {
    kvs.into_iter().map(key_value).collect()
}

pub(super) fn kind(kind: &SpanKind) -> span::SpanKind {
    match kind {
        SpanKind::Client => span::SpanKind::Client,
        SpanKind::Server => span::SpanKind::Server,
        SpanKind::Producer => span::SpanKind::Producer,
        SpanKind::Consumer => span::SpanKind::Consumer,
        SpanKind::Internal => span::SpanKind::Internal,
    }
}

/// As opentelemetry-proto converts a timestamp (a time before the epoch is 0).
pub(super) fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Records of every shape a batch holds and the resource they are exported under, for the tests
/// of both encodings.
#[cfg(test)]
pub(super) mod test_records {
    use std::borrow::Cow;

    use opentelemetry::KeyValue;

    use crate::record::{
        CAPTURE_INPUT, CAPTURE_OUTPUT, Callsite, Event, FLAG_PARENT_REMOTE, Field, Kind, Link,
        Record, Value,
    };
    use crate::state::ContentCapture;

    pub(crate) const CONTENT_MODES: [ContentCapture; 4] = [
        ContentCapture::NoContent,
        ContentCapture::SpanOnly,
        ContentCapture::EventOnly,
        ContentCapture::SpanAndEvent,
    ];

    /// A service name, an attribute and a schema URL.
    pub(crate) fn resource() -> opentelemetry_sdk::Resource {
        opentelemetry_sdk::Resource::builder_empty()
            .with_service_name("svc")
            .with_attribute(KeyValue::new("deployment.environment", "test"))
            .with_schema_url(
                Vec::<KeyValue>::new(),
                "https://opentelemetry.io/schemas/1.0",
            )
            .build()
    }

    /// The callsites of [`records`]: a model call, a tool, a retrieval, a workflow.
    pub(crate) fn sites() -> [&'static Callsite; 4] {
        static CHAT: [(Field, Value); 2] = [
            (Field::Provider, Value::Str("openai")),
            (Field::Operation, Value::Str("chat")),
        ];
        [
            callsite(Kind::LlmCall, &CHAT),
            callsite(Kind::Tool, &[]),
            callsite(Kind::Retrieval, &[]),
            callsite(Kind::Workflow, &[]),
        ]
    }

    const TRACE: u128 = 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c;

    fn callsite(kind: Kind, statics: &'static [(Field, Value)]) -> &'static Callsite {
        static CUSTOM: [(&str, Value); 1] = [("app.team", Value::Str("search"))];
        Box::leak(Box::new(Callsite::new(
            kind,
            "answer",
            "app::agent",
            statics,
            &CUSTOM,
            CAPTURE_INPUT | CAPTURE_OUTPUT,
        )))
    }

    /// The records of [`records`] at the positions `pick`, in that order.
    pub(crate) fn picked(
        sites: &[&'static Callsite; 4],
        start: u64,
        pick: &[usize],
    ) -> Vec<Record> {
        let mut all: Vec<_> = records(sites, start).into_iter().map(Some).collect();
        pick.iter().map(|&i| all[i].take().unwrap()).collect()
    }

    /// Spans of every shape a batch holds: a model call with content, tokens, an error, a
    /// remote parent, an event and links; a cancelled tool with an owned output; a retrieval
    /// with documents (indexed keys); a bare workflow root.
    fn records(sites: &[&'static Callsite; 4], start: u64) -> Vec<Record> {
        let mut chat = Record::new(sites[0], TRACE, 0x11, 0x10, None, start);
        chat.end = start + 1_500_000;
        chat.flags |= FLAG_PARENT_REMOTE;
        chat.set(Field::Model, Value::String("gpt-4o-2024-08-06".into()));
        chat.set(Field::InputTokens, Value::I64(120));
        chat.set(Field::OutputTokens, Value::I64(7));
        chat.set(Field::Temperature, Value::F64(0.25));
        chat.set(
            Field::InputMessages,
            Value::Json(
                r#"[{"role":"user","parts":[{"type":"text","content":"hi \"there\"\n"}]}]"#.into(),
            ),
        );
        chat.set(
            Field::OutputMessages,
            Value::Json(
                r#"[{"role":"assistant","parts":[{"type":"text","content":"é ✓"}]}]"#.into(),
            ),
        );
        chat.set(Field::StopSequences, Value::StrList(&["\n", "END"]));
        chat.set_error(Value::Str("RateLimit"), Some("429: slow down".into()));
        chat.set_custom(
            Cow::Owned("app.request_id".into()),
            Value::String("r-1".into()),
        );
        let extra = chat.extra_mut();
        extra.events.push(Event {
            name: Cow::Borrowed("retry"),
            time: start + 500,
            attributes: vec![
                (Cow::Borrowed("attempt"), Value::I64(2)),
                (Cow::Owned("why".into()), Value::String("overloaded".into())),
            ],
        });
        extra.links.push(Link {
            trace_id: TRACE ^ 1,
            span_id: 0x99,
            sampled: true,
            remote: true,
            attributes: vec![(Cow::Borrowed("link.kind"), Value::Str("handoff"))],
        });
        extra.links.push(Link {
            trace_id: TRACE,
            span_id: 0x12,
            sampled: false,
            remote: false,
            attributes: Vec::new(),
        });

        let mut tool = Record::new(sites[1], TRACE, 0x12, 0x10, None, start + 10);
        tool.end = start + 20;
        tool.status = crate::record::Status::Cancelled;
        tool.set(Field::Name, Value::String("lookup".into()));
        tool.set(Field::Input, Value::Json(r#"{"q":"rust"}"#.into()));
        tool.set(Field::Output, Value::String("found 3".into()));

        let mut retrieval = Record::new(sites[2], TRACE, 0x13, 0x10, None, start + 30);
        retrieval.end = start + 40;
        retrieval.set(
            Field::Documents,
            Value::Json(
                r#"[{"id":"d1","score":0.5,"content":"a"},{"id":"d2","score":0.25}]"#.into(),
            ),
        );

        let mut root = Record::new(sites[3], TRACE, 0x10, 0, None, start);
        root.end = start + 2_000_000;
        vec![chat, tool, retrieval, root]
    }
}

#[cfg(all(test, feature = "jsonl"))]
mod tests {
    use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
    use prost::Message;

    use super::test_records::{CONTENT_MODES, picked, resource, sites};
    use super::*;
    use crate::mapper::Mapper;
    use crate::semconv::Conventions;

    /// The worker's direct encoding gives the same OTLP/JSON line and the same protobuf as
    /// `SpanData` through opentelemetry-proto's transform, in every content mode.
    #[test]
    fn direct_encoding_matches_the_sdk_transform() {
        let resource = resource();
        for content in CONTENT_MODES {
            let mapper = Mapper::new(Conventions::default(), content, resource.clone());
            let sites = sites();
            let mut scratch = Vec::new();
            let start = crate::record::clock::now();
            let mut encoder = Encoder::new(&resource, mapper.scope());
            let mut json = super::super::otlp_json::JsonEncoder::new(&resource, mapper.scope());
            // The same encoder for batches of other shapes and sizes, so that spans are written
            // over spans of another kind, over fewer and over more attributes and events.
            let mut last = None;
            for pick in [&[0, 1, 2, 3][..], &[3, 2, 1, 0], &[1, 0], &[2, 3, 0, 1]] {
                let batch = || picked(&sites, start, pick);
                let via_sdk = batch()
                    .iter_mut()
                    .map(|r| mapper.to_span_data(r, &mut scratch))
                    .collect();
                let old = ExportTraceServiceRequest {
                    resource_spans: group_spans_by_resource_and_scope(via_sdk, &(&resource).into()),
                };
                let direct: Vec<_> = batch()
                    .iter_mut()
                    .map(|r| mapper.finish(r, &mut scratch, false))
                    .collect();
                // The JSONL exporter's own writer: the same line, newline added.
                let line = json.encode(&direct).to_vec();
                assert_eq!(
                    String::from_utf8(line).unwrap(),
                    serde_json::to_string(&old).unwrap() + "\n",
                    "{content:?} {pick:?}"
                );
                let (new_json, new_proto) = encoder.encode(direct, |new| {
                    (serde_json::to_string(new).unwrap(), new.encode_to_vec())
                });
                assert_eq!(
                    serde_json::to_string(&old).unwrap(),
                    new_json,
                    "{content:?} {pick:?}"
                );
                assert_eq!(old.encode_to_vec(), new_proto, "{content:?} {pick:?}");
                last = Some((new_json, new_proto));
            }
            let (new_json, new_proto) = last.unwrap();
            let new = ExportTraceServiceRequest::decode(&new_proto[..]).unwrap();

            // And the line says what it should (so that equal does not mean equally empty).
            let spans = &new.resource_spans[0].scope_spans[0].spans;
            assert_eq!(spans.len(), 4);
            let chat = &spans[2];
            assert_eq!(chat.status.as_ref().unwrap().message, "429: slow down");
            assert_eq!(chat.links.len(), 2);
            assert_eq!(chat.flags, 0x301, "sampled, remote parent");
            assert!(chat.events.iter().any(|e| e.name == "retry"));
            assert!(chat.events.iter().any(|e| e.name == "exception"));
            assert!(new_json.contains(r#""traceId":"0af7651916cd43dd8448eb211c80319c""#));
            assert!(new_json.contains(r#""parentSpanId":"0000000000000010""#));
            assert!(new_json.contains(r#""intValue":"120""#));
            assert!(new_json.contains(r#""schemaUrl":"https://opentelemetry.io/schemas/1.0""#));
            if content.captures() {
                assert!(
                    new_json.contains("found 3") && new_json.contains("rust"),
                    "{content:?}"
                );
            }
        }
    }
}
