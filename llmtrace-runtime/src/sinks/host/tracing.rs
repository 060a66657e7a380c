//! The `tracing` mode (the `tracing` feature): every llmtrace span is also a span of the
//! application's subscriber.
//!
//! In `tracing` mode the span's `tracing` callsite (built by the expansion, see
//! `__private::tracing_callsite!`) declares the span's summary keys (operation, provider, models,
//! tokens, cost, response id, tool, data source, error), so the subscriber's layers see them as
//! fields. The span is created when the llmtrace span
//! starts, with `otel.kind` and `otel.name` (the callsite's name, which the OpenTelemetry span
//! starts with); it is entered whenever the llmtrace span is (per poll for futures and
//! streams); when the llmtrace span ends, the mapped attributes are recorded as its fields
//! (`otel.status_code` and `otel.status_description` too, which tracing-opentelemetry reads, and
//! `otel.name` again when the name was known only at run time), the rest (the other keys, lists,
//! indexed keys, keys set at run time) and the events go to the OpenTelemetry span directly,
//! and the span closes.

use std::sync::Arc;

use opentelemetry::trace::{Status, TraceContextExt};
use tracing::Level;
use tracing::callsite::{Callsite as _, DefaultCallsite};
use tracing::field::{Field, Value as FieldValue};
use tracing::level_filters::{LevelFilter, STATIC_MAX_LEVEL};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::context::external::{Ids, external_parent, parent_context};
use crate::mapper::Mapped;
use crate::record::ids::{new_span_id, new_trace_id};
use crate::record::{
    Bridge, Callsite, FLAG_BRIDGED, FLAG_OTEL_CONTEXT, FLAG_PARENT_EXTERNAL, FLAG_PARENT_REMOTE,
    Record, Scope, TracingFields, clock,
};
use crate::state::{OTEL_CONTEXT, ParentIds, SpanState};

/// The level of llmtrace's spans in the subscriber.
const LEVEL: Level = Level::INFO;

/// Fields tracing-opentelemetry reads as the span's name, kind and status.
pub(crate) const OTEL_NAME: &str = "otel.name";
pub(crate) const OTEL_KIND: &str = "otel.kind";
pub(crate) const OTEL_STATUS_CODE: &str = "otel.status_code";
pub(crate) const OTEL_STATUS_DESCRIPTION: &str = "otel.status_description";

/// `tracing`'s own limit on fields recorded at once by its macros (the value sets they build);
/// recording goes in chunks of this size.
const CHUNK: usize = 32;

/// Starts a span in `tracing` mode: the subscriber's filters decide (a disabled span is not
/// recorded, and its children attach to the nearest recorded ancestor, as in `tracing`).
///
/// `name` is the span's name as far as the callsite tells (`otel.name`, set now so that the
/// OpenTelemetry span starts with it: see [`finish`]).
pub(crate) fn start(
    callsite: &'static Callsite,
    name: &'static str,
    parent: Option<ParentIds>,
    detached: bool,
    scope: Option<Arc<Scope>>,
    interop: u8,
) -> SpanState {
    let Some(span) = callsite.tracing.and_then(|cs| new_span(cs, callsite, name)) else {
        return SpanState::Off;
    };
    // The OpenTelemetry parent follows llmtrace's, even where `tracing`'s differs (a trace
    // carried into a task, a remote parent): the exported tree is llmtrace's.
    let (parent_id, mut flags) = match &parent {
        Some(parent) => {
            let _ = span.set_parent(parent_context(parent));
            let flag = if parent.remote { FLAG_PARENT_REMOTE } else { 0 };
            (parent.span_id, flag)
        }
        // A new trace, on purpose: an empty parent context keeps tracing-opentelemetry from
        // taking the current `tracing` span's as the parent.
        None if detached => {
            let _ = span.set_parent(opentelemetry::Context::new());
            (0, 0)
        }
        None => match external_parent(interop) {
            Some(cx) => {
                let id = Ids::of(&cx).span_id;
                let _ = span.set_parent(cx);
                (id, FLAG_PARENT_EXTERNAL)
            }
            None => (0, 0),
        },
    };
    // With tracing-opentelemetry in the stack, its ids are the span's, so that llmtrace's context
    // (and what it propagates) names the span that is exported. This starts the OpenTelemetry
    // span now, as the llmtrace span starts.
    let ids = Ids::of(&span.context());
    let (trace_id, span_id) = if ids.span_id != 0 {
        (ids.trace_id, ids.span_id)
    } else if let Some(parent) = &parent {
        (parent.trace_id, new_span_id())
    } else {
        (new_trace_id(), new_span_id())
    };
    if interop & OTEL_CONTEXT != 0 {
        flags |= FLAG_OTEL_CONTEXT;
    }
    let mut rec = Record::new(callsite, trace_id, span_id, parent_id, scope, clock::now());
    rec.flags |= flags | FLAG_BRIDGED;
    rec.extra_mut().bridge = Some(Bridge::Tracing(span));
    SpanState::Live(rec)
}

/// A new span of `callsite`, with `otel.kind` and `otel.name` set, when the subscriber wants it
/// (the checks `tracing::span!` makes).
fn new_span(
    callsite: &'static DefaultCallsite,
    ours: &Callsite,
    name: &'static str,
) -> Option<tracing::Span> {
    if LEVEL > STATIC_MAX_LEVEL || LEVEL > LevelFilter::current() {
        return None;
    }
    let interest = callsite.interest();
    if interest.is_never() {
        return None;
    }
    let meta = callsite.metadata();
    if !interest.is_always() && !tracing::dispatcher::get_default(|d| d.enabled(meta)) {
        return None;
    }
    let fields = meta.fields();
    let kind_field = fields.field(OTEL_KIND)?;
    let name_field = fields.field(OTEL_NAME)?;
    let kind = match crate::mapper::span_kind(ours) {
        opentelemetry::trace::SpanKind::Client => "client",
        _ => "internal",
    };
    let span = tracing::Span::new(
        meta,
        &fields.value_set(&[
            (&kind_field, Some(&kind as &dyn FieldValue)),
            (&name_field, Some(&name as &dyn FieldValue)),
        ]),
    );
    (!span.is_disabled()).then_some(span)
}

/// A field value, borrowed from the mapped attributes.
enum Scalar<'a> {
    Bool(bool),
    I64(i64),
    F64(f64),
    Str(&'a str),
}

impl Scalar<'_> {
    fn as_value(&self) -> &dyn FieldValue {
        match self {
            Scalar::Bool(v) => v,
            Scalar::I64(v) => v,
            Scalar::F64(v) => v,
            Scalar::Str(v) => v,
        }
    }
}

/// Records the mapped record on `span` and closes it. `started_as` is the name the span was
/// created with: a name known only at run time (a model given as an expression) renames it.
pub(crate) fn finish(
    span: tracing::Span,
    callsite: &'static Callsite,
    started_as: &str,
    mapped: Mapped,
) {
    let Some(meta) = span.metadata() else {
        return;
    };
    let fields = meta.fields();
    // The span's metadata is the callsite's (see `start`): the same fields every time.
    let declared = callsite
        .tracing_fields
        .get_or_init(|| TracingFields::new(meta));
    let declared = declared.declares(meta).then_some(declared);
    let mut values: Vec<(Field, Scalar<'_>)> = Vec::with_capacity(mapped.attributes.len() + 3);
    // Lists have no `tracing` value, and the keys beyond the summary no declared field: those
    // go to the OpenTelemetry span directly (their positions in the mapped list, in order).
    let mut direct: Vec<usize> = Vec::new();
    let field = |key: &str| fields.field(key);
    let renamed = mapped.name != started_as;
    if renamed {
        values.extend(field(OTEL_NAME).map(|f| (f, Scalar::Str(&mapped.name))));
    }
    if let Status::Error { description } = &mapped.status {
        values.extend(field(OTEL_STATUS_CODE).map(|f| (f, Scalar::Str("error"))));
        if !description.is_empty() {
            values.extend(field(OTEL_STATUS_DESCRIPTION).map(|f| (f, Scalar::Str(description))));
        }
    }
    for (position, kv) in mapped.attributes.iter().enumerate() {
        let scalar = match &kv.value {
            opentelemetry::Value::Bool(v) => Some(Scalar::Bool(*v)),
            opentelemetry::Value::I64(v) => Some(Scalar::I64(*v)),
            opentelemetry::Value::F64(v) => Some(Scalar::F64(*v)),
            opentelemetry::Value::String(v) => Some(Scalar::Str(v.as_str())),
            _ => None,
        };
        let key = kv.key.as_str();
        let found = match declared {
            Some(declared) => declared.find(position, key).cloned(),
            None => field(key),
        };
        match (scalar, found) {
            (Some(scalar), Some(f)) => values.push((f, scalar)),
            _ => direct.push(position),
        }
    }
    for chunk in values.chunks(CHUNK) {
        let mut set: [(&Field, Option<&dyn FieldValue>); CHUNK] = [(&chunk[0].0, None); CHUNK];
        for (slot, (f, v)) in set.iter_mut().zip(chunk) {
            *slot = (f, Some(v.as_value()));
        }
        span.record_all(&fields.value_set(&set));
    }
    drop(values);
    if direct.is_empty() && mapped.events.is_empty() && mapped.links.is_empty() && !renamed {
        return;
    }
    // The OpenTelemetry span, started with the llmtrace span (see `start`): one lookup for
    // everything that goes to it directly. The attributes move there, content included, with
    // no copy.
    let cx = span.context();
    let otel = cx.span();
    let mut next = direct.iter().copied().peekable();
    otel.set_attributes(
        mapped
            .attributes
            .into_iter()
            .enumerate()
            .filter(|(i, _)| next.next_if_eq(i).is_some())
            .map(|(_, kv)| kv),
    );
    for event in mapped.events {
        otel.add_event_with_timestamp(event.name, event.timestamp, event.attributes);
    }
    for link in mapped.links {
        otel.add_link(link.span_context, link.attributes);
    }
    // The OpenTelemetry span started with the callsite's name: a `otel.name` recorded later
    // names it for the other layers only.
    if renamed {
        otel.update_name(mapped.name);
    }
}
