//! The OTel-provider mode: llmtrace spans go through an existing tracer provider (its sampler,
//! its processors).

use std::borrow::Cow;
use std::time::SystemTime;

use std::sync::Arc;

use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::{Span as _, SpanBuilder, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, InstrumentationScope};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanProcessor};

use crate::context::external::{Ids, external_parent, parent_context};
use crate::mapper::{Mapped, Mapper, span_kind};
use crate::record::{
    Bridge, Callsite, FLAG_BRIDGED, FLAG_OTEL_CONTEXT, FLAG_PARENT_EXTERNAL, FLAG_PARENT_REMOTE,
    OtelSpan, Record, Scope, Tally, clock,
};
use crate::state::{self, OTEL_CONTEXT, ParentIds, SpanState};

/// The tracer of the OTel-provider mode.
#[derive(Debug)]
pub(crate) struct Provider {
    tracer: OtelTracer,
    /// The provider given, to flush; none for the global provider.
    sdk: Option<SdkTracerProvider>,
}

impl Provider {
    fn scope() -> InstrumentationScope {
        InstrumentationScope::builder("llmtrace")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build()
    }

    /// Spans go through `provider`.
    pub(crate) fn sdk(provider: SdkTracerProvider) -> Provider {
        Provider {
            tracer: OtelTracer::Sdk(provider.tracer_with_scope(Provider::scope())),
            sdk: Some(provider),
        }
    }

    /// Spans go through the global tracer provider, as it is set now.
    pub(crate) fn global() -> Provider {
        Provider {
            tracer: OtelTracer::Boxed(opentelemetry::global::tracer_with_scope(Provider::scope())),
            sdk: None,
        }
    }

    pub(crate) fn flush(&self) -> Result<(), String> {
        match &self.sdk {
            Some(p) => p.force_flush().map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

/// The tracer of a provider: the SDK's own type when the builder was given an SDK provider.
#[derive(Debug)]
enum OtelTracer {
    Sdk(SdkTracer),
    Boxed(BoxedTracer),
}

/// Starts a span in OTel-provider mode: the provider's sampler decides, and its ids are the
/// span's (the SDK makes its own).
pub(crate) fn start(
    provider: &Provider,
    mapper: &Mapper,
    callsite: &'static Callsite,
    parent: Option<ParentIds>,
    detached: bool,
    scope: Option<Arc<Scope>>,
    interop: u8,
) -> SpanState {
    let otel = interop & OTEL_CONTEXT != 0;
    let (parent_cx, parent_id, mut flags) = match parent {
        Some(parent) => {
            let flag = if parent.remote { FLAG_PARENT_REMOTE } else { 0 };
            (parent_context(&parent), parent.span_id, flag)
        }
        // A new trace, on purpose: not under the provider's current span.
        None if detached => (Context::new(), 0, 0),
        None => match external_parent(interop) {
            Some(cx) => {
                let id = Ids::of(&cx).span_id;
                (cx, id, FLAG_PARENT_EXTERNAL)
            }
            None => (Context::new(), 0, 0),
        },
    };
    let now = clock::now();
    // The name the sampler sees is the callsite's; a name that depends on run-time arguments
    // (a model given as an expression) is set when the span ends.
    let mut builder = SpanBuilder::from_name(Cow::Borrowed(mapper.callsite_name(callsite)))
        .with_kind(span_kind(callsite))
        .with_start_time(clock::to_system_time(now));
    // The attributes arrive when the span ends: the SDK keeps this list for them, sized as the
    // callsite's last span needed (the sampler sees it empty, as it would see none).
    let sized = mapper.host_attributes(callsite);
    if sized > 0 {
        builder.attributes = Some(Vec::with_capacity(sized));
    }
    let (span, ids, recording) = match &provider.tracer {
        OtelTracer::Sdk(tracer) => {
            let span = Box::new(tracer.build_with_context(builder, &parent_cx));
            let (ids, recording) = (Ids::of_span(span.span_context()), span.is_recording());
            (OtelSpan::Sdk(span), ids, recording)
        }
        OtelTracer::Boxed(tracer) => {
            let span = tracer.build_with_context(builder, &parent_cx);
            let (ids, recording) = (Ids::of_span(span.span_context()), span.is_recording());
            (OtelSpan::Boxed(span), ids, recording)
        }
    };
    let own = ids.span_id != 0 && (ids.span_id != parent_id || parent_id == 0);
    if !recording {
        // Sampled out by the provider: children follow through the context; with metrics on,
        // the call still counts (every kind is tallied, so that the calls inside a sampled-out
        // agent find it; the guard counts the kinds that have metrics).
        return match own {
            true if state::tallies() => SpanState::Tallied {
                trace_id: ids.trace_id,
                span_id: ids.span_id,
                otel,
                tally: Tally::new(callsite, now),
            },
            true => SpanState::Unsampled {
                trace_id: ids.trace_id,
                span_id: ids.span_id,
                otel,
            },
            false => SpanState::Off,
        };
    }
    if otel {
        flags |= FLAG_OTEL_CONTEXT;
    }
    let mut rec = Record::new(callsite, ids.trace_id, ids.span_id, parent_id, scope, now);
    rec.flags |= flags | FLAG_BRIDGED;
    rec.extra_mut().bridge = Some(Bridge::Otel(span));
    SpanState::Live(rec)
}

/// Ends a provider span with the mapped record.
pub(crate) fn finish(span: OtelSpan, mapped: Mapped, end: SystemTime) {
    match span {
        OtelSpan::Sdk(mut span) => end_span(&mut *span, mapped, end),
        OtelSpan::Boxed(mut span) => end_span(&mut span, mapped, end),
    }
}

fn end_span(span: &mut impl opentelemetry::trace::Span, mapped: Mapped, end: SystemTime) {
    apply(span, mapped);
    span.end_with_timestamp(end);
}

/// Sets the mapped record on a span that has not ended.
fn apply(span: &mut impl opentelemetry::trace::Span, mapped: Mapped) {
    span.update_name(mapped.name);
    span.set_attributes(mapped.attributes);
    for event in mapped.events {
        span.add_event_with_timestamp(event.name, event.timestamp, event.attributes);
    }
    for link in mapped.links {
        span.add_link(link.span_context, link.attributes);
    }
    span.set_status(mapped.status);
}

/// Gives the span, ended at `end`, to `to` rather than ending it in its provider (which is
/// shutting down and would drop it); false for a span of the global provider, whose data its
/// type hides.
pub(crate) fn hand_over(
    span: OtelSpan,
    mapped: Mapped,
    end: SystemTime,
    to: &dyn SpanProcessor,
) -> bool {
    let OtelSpan::Sdk(mut span) = span else {
        return false;
    };
    apply(&mut *span, mapped);
    let Some(mut data) = span.exported_data() else {
        return false;
    };
    data.end_time = end;
    to.on_end(data);
    // Dropping the span ends it in the provider, which drops it unseen.
    true
}
