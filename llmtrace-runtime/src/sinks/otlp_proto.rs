//! Mapped spans straight into opentelemetry-proto's OTLP messages, for the built-in exporters
//! (JSONL as OTLP/JSON, OTLP/HTTP as protobuf).
//!
//! It builds the same messages as opentelemetry-proto's transform of `SpanData`
//! (`group_spans_by_resource_and_scope`), field for field, without building `SpanData` first,
//! without the transform's grouping by scope (every span of the worker has llmtrace's scope),
//! and moving the strings the mapper made instead of copying them.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanKind, Status};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, SpanFlags, span, status,
};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;

use crate::mapper::MappedSpan;

/// The resource and scope every request carries, converted once.
#[derive(Clone, Debug, Default)]
pub(crate) struct Envelope {
    resource: Resource,
    resource_schema_url: String,
    scope: InstrumentationScope,
    scope_schema_url: String,
}

impl Envelope {
    pub(crate) fn new(
        resource: &opentelemetry_sdk::Resource,
        scope: &opentelemetry::InstrumentationScope,
    ) -> Self {
        let resource = ResourceAttributesWithSchema::from(resource);
        Envelope {
            resource: Resource {
                attributes: resource.attributes.0,
                dropped_attributes_count: 0,
                entity_refs: vec![],
            },
            resource_schema_url: resource.schema_url.unwrap_or_default(),
            scope: (scope, None).into(),
            scope_schema_url: scope.schema_url().unwrap_or_default().to_owned(),
        }
    }

    /// One request holding `batch`, under this resource and scope.
    pub(crate) fn request(&self, batch: Vec<MappedSpan>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(self.resource.clone()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(self.scope.clone()),
                    spans: batch.into_iter().map(span).collect(),
                    schema_url: self.scope_schema_url.clone(),
                }],
                schema_url: self.resource_schema_url.clone(),
            }],
        }
    }
}

/// The OTLP span of a mapped span.
pub(crate) fn span(s: MappedSpan) -> Span {
    let m = s.mapped;
    let mut flags = SpanFlags::ContextHasIsRemoteMask as u32 | 1; // sampled
    if s.parent_remote {
        flags |= SpanFlags::ContextIsRemoteMask as u32;
    }
    let (code, message) = match m.status {
        Status::Ok => (status::StatusCode::Ok, String::new()),
        Status::Unset => (status::StatusCode::Unset, String::new()),
        Status::Error { description } => (status::StatusCode::Error, description.into_owned()),
    };
    Span {
        trace_id: s.trace_id.to_be_bytes().to_vec(),
        span_id: s.span_id.to_be_bytes().to_vec(),
        trace_state: String::new(),
        parent_span_id: if s.parent_id == 0 {
            Vec::new()
        } else {
            s.parent_id.to_be_bytes().to_vec()
        },
        flags,
        name: m.name.into_owned(),
        kind: kind(m.kind) as i32,
        start_time_unix_nano: nanos(s.start),
        end_time_unix_nano: nanos(s.end),
        attributes: attributes(m.attributes),
        dropped_attributes_count: 0,
        events: m
            .events
            .into_iter()
            .map(|event| span::Event {
                time_unix_nano: nanos(event.timestamp),
                name: event.name.into_owned(),
                attributes: attributes(event.attributes),
                dropped_attributes_count: event.dropped_attributes_count,
            })
            .collect(),
        dropped_events_count: 0,
        links: m.links.into_iter().map(span::Link::from).collect(),
        dropped_links_count: 0,
        status: Some(opentelemetry_proto::tonic::trace::v1::Status {
            message,
            code: code as i32,
        }),
    }
}

fn kind(kind: SpanKind) -> span::SpanKind {
    match kind {
        SpanKind::Client => span::SpanKind::Client,
        SpanKind::Server => span::SpanKind::Server,
        SpanKind::Producer => span::SpanKind::Producer,
        SpanKind::Consumer => span::SpanKind::Consumer,
        SpanKind::Internal => span::SpanKind::Internal,
    }
}

/// As opentelemetry-proto converts a timestamp (a time before the epoch is 0).
fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The attributes, moving the keys and string values the mapper owns (opentelemetry-proto's
/// conversion copies every string value); arrays go through its conversion.
fn attributes(kvs: Vec<opentelemetry::KeyValue>) -> Vec<KeyValue> {
    kvs.into_iter()
        .map(|kv| KeyValue {
            key: kv.key.into(),
            value: Some(match kv.value {
                opentelemetry::Value::String(s) => AnyValue {
                    value: Some(any_value::Value::StringValue(s.into())),
                },
                v => v.into(),
            }),
            key_strindex: 0,
        })
        .collect()
}
