//! The one pure mapper: a finished record in, span name, kind, attributes, events and status
//! out, for every export mode and conventions profile.
//!
//! In native mode it runs on the export thread, so the JSON work (invocation parameters,
//! document normalisation, usage details) stays off the hot path; the `tracing` and
//! OpenTelemetry-provider modes run the same code on the thread that ends the span. Attributes
//! split in two: the request side (`request`) depends only on the macro's arguments, and when
//! those are all literals it is computed once per callsite and cloned (borrowed, on the way to
//! the export worker's exporters); the rest (`response`, `usage`, `scope`, `status`) is built
//! per span, moving content out of the record.
//!
//! Which key a span of each kind can carry, in which profile, and which keys are plain copies
//! of a field is the key table's (`semconv::table`): the plain copies are written there once and
//! filtered per kind at compile time (`out::copies!`).
//!
//! The functions that run for every span (`response`, `usage`, `scope`, `status`) are
//! `#[inline(always)]`, so that `Mapper::map` compiles to one function: left to the inliner, the
//! calls and the state passed between them through memory cost about 5% more instructions per
//! span (measured on a model call).

use std::borrow::Cow;
use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status as OtelStatus, TraceFlags};
use opentelemetry::trace::{TraceId, TraceState};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

mod fields;
mod format;
mod out;
mod request;
mod response;
mod scope;
mod status;
#[cfg(test)]
mod test_support;
mod usage;

use crate::record::{
    Callsite, CallsiteCache, FLAG_PARENT_REMOTE, Field, HOSTED, Kind, Record, clock,
};
use crate::semconv::Conventions;
use crate::state::ContentCapture;
use fields::Fields;
use out::Out;

/// Turns records into spans. One per installed pipeline.
#[derive(Debug)]
pub(crate) struct Mapper {
    conventions: Conventions,
    content: ContentCapture,
    resource: Resource,
    scope: InstrumentationScope,
}

/// The output of [`Mapper::map`].
#[derive(Clone, Debug)]
pub(crate) struct Mapped {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) events: Vec<opentelemetry::trace::Event>,
    /// The span's links (an agent's handoff, a retry's failed attempt, ...).
    pub(crate) links: Vec<opentelemetry::trace::Link>,
    pub(crate) status: OtelStatus,
}

/// A finished span ready for an exporter: the output of [`Mapper::finish`].
#[derive(Clone, Debug)]
pub(crate) struct MappedSpan {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    /// 0 for a root.
    pub(crate) parent_id: u64,
    /// The parent came from another process (a propagated context).
    pub(crate) parent_remote: bool,
    /// Nanoseconds since the Unix epoch: what OTLP carries (a `SystemTime` cost two conversions
    /// per time, 2–3% of the OTLP drain benchmark's samples).
    pub(crate) start: u64,
    pub(crate) end: u64,
    /// The callsite's cached request attributes, which come before `mapped.attributes`: borrowed
    /// from the callsite rather than cloned into every span (the clones and their drop were about
    /// 7% of the export thread's time in the OTLP drain benchmark).
    pub(crate) request: &'static [KeyValue],
    pub(crate) mapped: Mapped,
}

impl MappedSpan {
    /// The span as `opentelemetry_sdk` hands it to a `SpanExporter`.
    pub(crate) fn into_span_data(self, scope: &InstrumentationScope) -> SpanData {
        let parent_span_id = if self.parent_id == 0 {
            SpanId::INVALID
        } else {
            SpanId::from(self.parent_id)
        };
        let span_context = SpanContext::new(
            TraceId::from(self.trace_id),
            SpanId::from(self.span_id),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        let mut mapped = self.mapped;
        if !self.request.is_empty() {
            let mut attributes = Vec::with_capacity(self.request.len() + mapped.attributes.len());
            attributes.extend_from_slice(self.request);
            attributes.append(&mut mapped.attributes);
            mapped.attributes = attributes;
        }
        let mut events = SpanEvents::default();
        events.events = mapped.events;
        let mut links = SpanLinks::default();
        links.links = mapped.links;
        SpanData {
            span_context,
            parent_span_id,
            parent_span_is_remote: self.parent_remote,
            span_kind: mapped.kind,
            name: mapped.name,
            start_time: UNIX_EPOCH + Duration::from_nanos(self.start),
            end_time: UNIX_EPOCH + Duration::from_nanos(self.end),
            attributes: mapped.attributes,
            dropped_attributes_count: 0,
            events,
            links,
            status: mapped.status,
            instrumentation_scope: scope.clone(),
        }
    }
}

impl Mapper {
    pub(crate) fn new(
        conventions: Conventions,
        content: ContentCapture,
        resource: Resource,
    ) -> Self {
        Mapper {
            conventions,
            content,
            resource,
            scope: InstrumentationScope::builder("llmtrace")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        }
    }

    pub(crate) fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The span name of a callsite's spans, from its literal arguments (a name that depends on
    /// run-time values is known only when the span ends).
    pub(crate) fn callsite_name(&self, callsite: &'static Callsite) -> &'static str {
        callsite
            .cache
            .get_or_init(|| self.callsite_attrs(callsite))
            .name
    }

    /// How many attributes the last span of `callsite` handed to a host span (0 before the
    /// first).
    pub(crate) fn host_attributes(&self, callsite: &'static Callsite) -> usize {
        callsite
            .cache
            .get_or_init(|| self.callsite_attrs(callsite))
            .host_attributes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Notes how many attributes a span of `callsite` handed to a host span.
    pub(crate) fn note_host_attributes(&self, callsite: &'static Callsite, n: usize) {
        if let Some(cache) = callsite.cache.get() {
            cache
                .host_attributes
                .store(n, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The instrumentation scope of every span (`llmtrace` and its version).
    pub(crate) fn scope(&self) -> &InstrumentationScope {
        &self.scope
    }

    /// The exportable span of a finished record, as `opentelemetry_sdk`'s exporters take it.
    /// `scratch` is reused from call to call so the attributes are collected once and allocated
    /// at their exact size.
    pub(crate) fn to_span_data(&self, rec: &mut Record, scratch: &mut Vec<KeyValue>) -> SpanData {
        self.finish(rec, scratch, true).into_span_data(&self.scope)
    }

    /// A finished record mapped for export: its ids and times, and what [`Mapper::map`] gives.
    /// Exporters turn it into their own form (`SpanData`, or OTLP bytes directly). The callsite's
    /// cached request attributes are borrowed apart (`MappedSpan::request`), unless
    /// `inline_request`: then they are cloned into the span's list, as `SpanData` holds them
    /// (made at the list's exact size at once, where copying them in later took a second list).
    pub(crate) fn finish(
        &self,
        rec: &mut Record,
        scratch: &mut Vec<KeyValue>,
        inline_request: bool,
    ) -> MappedSpan {
        let (trace_id, span_id, parent_id) = (rec.trace_id, rec.span_id, rec.parent_id);
        let (start, end, remote) = (rec.start, rec.end, rec.flags & FLAG_PARENT_REMOTE != 0);
        let (request, mapped) = self.map_with(rec, scratch, inline_request);
        MappedSpan {
            trace_id,
            span_id,
            parent_id,
            parent_remote: remote,
            start: clock::to_unix_nanos(start),
            end: clock::to_unix_nanos(end),
            request,
            mapped,
        }
    }

    /// Name, kind, attributes, events and status of a record.
    pub(crate) fn map(&self, rec: &mut Record, scratch: &mut Vec<KeyValue>) -> Mapped {
        self.map_with(rec, scratch, true).1
    }

    /// What [`Mapper::map`] gives. With `clone_request` false, the callsite's cached request
    /// attributes are returned apart, borrowed: they come first, and are not in the mapped
    /// attributes.
    fn map_with(
        &self,
        rec: &mut Record,
        scratch: &mut Vec<KeyValue>,
        clone_request: bool,
    ) -> (&'static [KeyValue], Mapped) {
        scratch.clear();
        let mut out = Out::new(std::mem::take(scratch), self.content);
        let c = &self.conventions;
        let callsite = rec.callsite;
        // The callsite's cached request attributes come first; they are cloned straight into the
        // span's list at the end (or not at all), not into `scratch` and copied again.
        let (name, cached): (_, Option<&'static CallsiteCache>) =
            if rec.attrs.iter().any(|(f, _)| request::is_request_field(*f)) {
                request::request(c, rec, &mut out);
                (request::span_name(rec), None)
            } else {
                let cached = callsite.cache.get_or_init(|| self.callsite_attrs(callsite));
                (Cow::Borrowed(cached.name), Some(cached))
            };
        request::trace_name(c, rec, &mut out);
        status::flags(rec, &mut out);
        let start = rec.start;
        let fields = Fields::index(rec);
        // For the exception event; the attribute takes the value itself. Errors are rare, and
        // their type is usually a static string.
        let error_type = fields.get(Field::ErrorType).cloned();
        response::response(c, callsite, start, fields, &mut out);
        scope::scope(c, rec, &mut out);
        // Custom attributes last: the callsite's literal ones, then those set at run time.
        for (k, v) in rec.callsite.custom {
            out.attr(k, v);
        }
        if let Some(extra) = &mut rec.extra {
            for (k, v) in std::mem::take(&mut extra.custom) {
                out.attrs.push(KeyValue::new(k, v));
            }
        }
        let (status, events) = status::status_and_events(rec, error_type, &mut out.content_event);
        let links = status::links(rec);
        // Exactly sized, so small attribute lists stay within the allocator's thread cache, and
        // moved in one copy (`append`), where collecting a drain moved them one by one.
        let (request, copied) = match cached {
            Some(cached) if clone_request => (&[][..], Some(cached)),
            Some(cached) => (&cached.request[..], None),
            None => (&[][..], None),
        };
        let mut attributes =
            Vec::with_capacity(copied.map_or(0, |c| c.request.len()) + out.attrs.len());
        if let Some(cached) = copied {
            cached.request_into(&mut attributes);
        }
        attributes.append(&mut out.attrs);
        *scratch = out.attrs;
        let mapped = Mapped {
            name,
            kind: span_kind(callsite),
            attributes,
            events,
            links,
            status,
        };
        (request, mapped)
    }

    /// The request attributes and span name of a callsite's literal arguments.
    fn callsite_attrs(&self, callsite: &'static Callsite) -> CallsiteCache {
        let literal = Record::new(callsite, 0, 0, 0, None, 0);
        let mut out = Out::new(Vec::new(), self.content);
        request::request(&self.conventions, &literal, &mut out);
        CallsiteCache {
            name: match request::span_name(&literal) {
                Cow::Borrowed(name) => name,
                Cow::Owned(name) => Box::leak(name.into_boxed_str()),
            },
            request: out.attrs,
            host_attributes: std::sync::atomic::AtomicUsize::new(0),
            request_parts: std::sync::OnceLock::new(),
        }
    }
}

/// The OpenTelemetry span kind of a callsite's spans: CLIENT for calls to a model or a
/// service, and for agents and rerankers given a provider (hosted); INTERNAL for the rest.
pub(crate) fn span_kind(callsite: &Callsite) -> SpanKind {
    match callsite.kind {
        Kind::LlmCall | Kind::Retrieval | Kind::Embeddings => SpanKind::Client,
        Kind::Agent | Kind::Rerank if callsite.options & HOSTED != 0 => SpanKind::Client,
        Kind::Workflow
        | Kind::Tool
        | Kind::Agent
        | Kind::Rerank
        | Kind::Guardrail
        | Kind::Evaluator
        | Kind::Step => SpanKind::Internal,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::record::{FLAG_PARENT_EXTERNAL, FLAG_TRUNCATED, Scope, Status, Value};
    use crate::semconv::keys::{gen_ai, openinference as oi};
    use crate::semconv::table::{KEYS, Key, Source};
    use crate::state::ContentCapture;
    use test_support::{KINDS, callsite, keys, profiles, record, value};

    const CONTENT_MODES: [ContentCapture; 4] = [
        ContentCapture::NoContent,
        ContentCapture::SpanOnly,
        ContentCapture::EventOnly,
        ContentCapture::SpanAndEvent,
    ];

    fn mapper(c: Conventions, content: ContentCapture) -> Mapper {
        Mapper::new(c, content, Resource::builder_empty().build())
    }

    /// A value of the field's type.
    fn sample(field: Field) -> Value {
        match field {
            Field::Documents | Field::RerankInputDocuments => {
                Value::Json(r#"[{"id":"d","score":0.5,"content":"c"}]"#.into())
            }
            Field::Input | Field::InputMessages | Field::OutputMessages => {
                Value::Json(r#"[{"role":"user"}]"#.into())
            }
            Field::SystemInstructions => Value::Json(r#"["be brief"]"#.into()),
            Field::ToolDefinitions => Value::Json(r#"[{"type":"function","name":"f"}]"#.into()),
            Field::Output => Value::String("done".into()),
            Field::Operation => Value::Str("chat"),
            Field::Provider => Value::Str("openai"),
            _ => field.sample(0),
        }
    }

    /// Records that reach every branch: every field set (as a chat and as embeddings) with
    /// every status, a scope (inside an evaluator) and the truncation flag; and nothing set at
    /// all.
    fn maximal(kind: Kind) -> Vec<Record> {
        let scope = Arc::new(Scope {
            session_id: Some("s".into()),
            user_id: Some("u".into()),
            conversation_id: Some("c".into()),
            tags: vec!["beta".into()],
            metadata: vec![("tier".into(), Value::Str("pro"))],
            // Inside an evaluator (another span): marked as part of an evaluation.
            evaluator: Some(99),
            ..Scope::default()
        });
        let mut out = vec![record(kind)];
        for operation in ["chat", "embeddings"] {
            for status in [Status::Error, Status::Cancelled, Status::Unset] {
                let mut rec = Record::new(callsite(kind, &[]), 1, 2, 0, Some(scope.clone()), 0);
                for field in Field::ALL {
                    rec.set(field, sample(field));
                }
                rec.set(Field::Operation, Value::Str(operation));
                // A guardrail that failed, on the failed spans.
                rec.set(Field::GuardrailPassed, Value::Bool(status != Status::Error));
                rec.status = status;
                rec.flags |= FLAG_TRUNCATED | FLAG_PARENT_EXTERNAL;
                out.push(rec);
            }
        }
        out
    }

    /// The kind whose indexed document keys (no fixed names, so no rows) `key` is one of.
    fn indexed_kind(key: &str) -> Option<Kind> {
        [
            ("retrieval.documents.", Kind::Retrieval),
            ("reranker.input_documents.", Kind::Rerank),
            ("reranker.output_documents.", Kind::Rerank),
        ]
        .into_iter()
        .find(|(prefix, _)| key.starts_with(prefix))
        .map(|(_, kind)| kind)
    }

    fn row(name: &str) -> Option<&'static Key> {
        KEYS.iter().find(|k| k.name == name)
    }

    #[test]
    fn every_key_emitted_is_in_the_table_for_its_kind_and_profile() {
        let mut seen = std::collections::BTreeSet::new();
        for kind in KINDS {
            for c in profiles() {
                for content in CONTENT_MODES {
                    let m = mapper(c, content);
                    for mut rec in maximal(kind) {
                        let mapped = m.map(&mut rec, &mut Vec::new());
                        for key in keys(&mapped.attributes) {
                            if let Some(indexed) = indexed_kind(key) {
                                assert_eq!(kind, indexed, "`{key}`");
                                assert!(content.captures(), "`{key}` with {content:?}");
                                continue;
                            }
                            let row = row(key).unwrap_or_else(|| panic!("`{key}` has no row"));
                            assert!(row.kinds.contains(kind), "`{key}` on {kind:?}");
                            assert!(c.emits(row.profile), "`{key}` in {c:?}");
                            if row.source == Source::Content {
                                assert!(content.captures(), "`{key}` with {content:?}");
                            }
                            seen.insert(key.to_owned());
                        }
                        let content_event = mapped
                            .events
                            .iter()
                            .find(|e| e.name == "gen_ai.client.inference.operation.details");
                        for kv in content_event.iter().flat_map(|e| &e.attributes) {
                            let key = kv.key.as_str();
                            let content_key = indexed_kind(key).is_some()
                                || row(key).is_some_and(|r| r.source == Source::Content);
                            assert!(content_key, "`{key}` on the content event");
                        }
                    }
                }
            }
        }
        // And the table lists nothing the mapper never emits.
        let unseen: Vec<&str> = KEYS
            .iter()
            .map(|k| k.name)
            .filter(|k| !seen.contains(*k))
            .collect();
        assert!(unseen.is_empty(), "never emitted: {unseen:?}");
    }

    #[test]
    fn every_plain_copy_is_its_fields_value() {
        for row in KEYS {
            let Some((field, default)) = row.field() else {
                continue;
            };
            for kind in KINDS.into_iter().filter(|k| row.kinds.contains(*k)) {
                for c in profiles() {
                    let m = mapper(c, ContentCapture::SpanOnly);
                    let mut rec = record(kind);
                    rec.set(field, sample(field));
                    let mapped = m.map(&mut rec, &mut Vec::new());
                    let on = c.emits(row.profile);
                    assert_eq!(
                        keys(&mapped.attributes).contains(&row.name),
                        on,
                        "`{}` on {kind:?} in {c:?}",
                        row.name
                    );
                    if on {
                        let expected = opentelemetry::Value::from(sample(field));
                        assert_eq!(*value(&mapped.attributes, row.name), expected);
                    }
                    if let Some(d) = default {
                        let mapped = m.map(&mut record(kind), &mut Vec::new());
                        assert_eq!(value(&mapped.attributes, row.name).as_str(), d);
                    }
                }
            }
        }
    }

    #[test]
    fn literal_arguments_map_like_run_time_values() {
        static STATICS: [(Kind, &[(Field, Value)]); 4] = [
            (Kind::Workflow, &[(Field::Name, Value::Str("support"))]),
            (
                Kind::LlmCall,
                &[
                    (Field::Provider, Value::Str("openai")),
                    (Field::Model, Value::Str("gpt-4o")),
                    (Field::Temperature, Value::F64(0.3)),
                    (Field::StopSequences, Value::StrList(&["\n"])),
                ],
            ),
            (
                Kind::Retrieval,
                &[
                    (Field::DataSource, Value::Str("kb")),
                    (Field::RetrievalTopK, Value::I64(4)),
                ],
            ),
            (Kind::Tool, &[(Field::Name, Value::Str("lookup"))]),
        ];
        for (kind, statics) in &STATICS {
            for c in profiles() {
                let m = mapper(c, ContentCapture::SpanOnly);
                // Twice: the first computes the callsite's cache, the second reads it.
                let literal = callsite(*kind, statics);
                for _ in 0..2 {
                    let mut cached = Record::new(literal, 1, 2, 0, None, 0);
                    cached.set(Field::ResponseId, Value::Str("r"));
                    let mut run_time = record(*kind);
                    for (field, v) in *statics {
                        run_time.set(*field, v.clone());
                    }
                    run_time.set(Field::ResponseId, Value::Str("r"));
                    let (a, b) = (
                        m.map(&mut cached, &mut Vec::new()),
                        m.map(&mut run_time, &mut Vec::new()),
                    );
                    assert!(matches!(a.name, Cow::Borrowed(_)) && matches!(b.name, Cow::Owned(_)));
                    assert_eq!(a.name, b.name);
                    assert_eq!(a.attributes, b.attributes, "{kind:?} {c:?}");
                    // The export worker's spans borrow the cached attributes rather than hold
                    // copies; they come first.
                    let mut again = Record::new(literal, 1, 2, 0, None, 0);
                    again.set(Field::ResponseId, Value::Str("r"));
                    let span = m.finish(&mut again, &mut Vec::new(), false);
                    assert!(!span.request.is_empty(), "{kind:?} {c:?}");
                    let all = span.request.iter().chain(&span.mapped.attributes);
                    assert!(all.eq(&b.attributes), "{kind:?} {c:?}");
                    // For `SpanData`, in the span's own list.
                    let mut inline = Record::new(literal, 1, 2, 0, None, 0);
                    inline.set(Field::ResponseId, Value::Str("r"));
                    let span = m.finish(&mut inline, &mut Vec::new(), true);
                    assert!(span.request.is_empty(), "{kind:?} {c:?}");
                    assert_eq!(span.mapped.attributes, b.attributes, "{kind:?} {c:?}");
                }
            }
        }
    }

    #[test]
    fn a_model_call_span_end_to_end() {
        let m = mapper(Conventions::default(), ContentCapture::SpanOnly);
        let mut rec = record(Kind::LlmCall);
        rec.set(Field::Model, Value::Str("gpt-4o"));
        rec.set(Field::Provider, Value::Str("openai"));
        rec.set(Field::InputTokens, Value::I64(10));
        rec.set(Field::OutputTokens, Value::I64(3));
        rec.set_error(Value::Str("Timeout"), Some("took too long".into()));
        rec.set_attribute("app.tier", Some(Value::Str("pro")));
        let mapped = m.map(&mut rec, &mut Vec::new());
        assert_eq!(mapped.name, "chat gpt-4o");
        assert_eq!(mapped.kind, SpanKind::Client);
        assert_eq!(mapped.status, OtelStatus::error("took too long"));
        assert_eq!(
            keys(&mapped.attributes),
            [
                gen_ai::OPERATION_NAME,
                oi::SPAN_KIND,
                gen_ai::PROVIDER_NAME,
                gen_ai::REQUEST_MODEL,
                gen_ai::ERROR_TYPE,
                gen_ai::USAGE_INPUT_TOKENS,
                gen_ai::USAGE_OUTPUT_TOKENS,
                "app.tier",
            ]
        );
        assert_eq!(mapped.events.len(), 1);
        assert_eq!(mapped.events[0].name, "exception");
    }

    #[test]
    fn the_scratch_list_is_reused_and_left_empty() {
        let m = mapper(Conventions::default(), ContentCapture::SpanOnly);
        let mut scratch = Vec::with_capacity(64);
        let mut rec = record(Kind::Tool);
        let mapped = m.map(&mut rec, &mut scratch);
        assert!(scratch.is_empty() && scratch.capacity() >= 64);
        assert_eq!(mapped.attributes.len(), mapped.attributes.capacity());
        assert_eq!(span_kind(callsite(Kind::Tool, &[])), SpanKind::Internal);
        assert_eq!(span_kind(callsite(Kind::Retrieval, &[])), SpanKind::Client);
    }
}
