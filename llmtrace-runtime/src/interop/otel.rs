//! OpenTelemetry interop: the context switch (an llmtrace span entered is the current
//! OpenTelemetry span, so spans opened with the OpenTelemetry API nest under it) and the
//! OTel-provider mode (llmtrace spans go through an existing tracer provider: its sampler, its
//! processors).

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::global::{BoxedSpan, BoxedTracer};
use opentelemetry::trace::{
    Span as _, SpanBuilder, SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, ContextGuard, InstrumentationScope};
use opentelemetry_sdk::trace::SdkTracerProvider;

use super::{Bridge, Ids, OTEL_CONTEXT, external_parent};
use crate::context::{Ctx, REMOTE};
use crate::pipeline::Pipeline;
use crate::semconv::{Mapped, span_kind};
use crate::span::{
    Callsite, FLAG_BRIDGED, FLAG_OTEL_CONTEXT, FLAG_PARENT_EXTERNAL, FLAG_PARENT_REMOTE, Record,
    Span,
};

/// Attaches a span context with these ids (not remote: the span is in this process) as the
/// current OpenTelemetry context, until the guard drops.
pub(crate) fn attach(trace_id: u128, span_id: u64, sampled: bool) -> ContextGuard {
    let sc = span_context(trace_id, span_id, sampled, false);
    Context::map_current(|cx| cx.with_remote_span_context(sc)).attach()
}

fn span_context(trace_id: u128, span_id: u64, sampled: bool, remote: bool) -> SpanContext {
    let flags = if sampled {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    SpanContext::new(
        TraceId::from(trace_id),
        SpanId::from(span_id),
        flags,
        remote,
        TraceState::default(),
    )
}

/// The context holding an llmtrace parent's ids, as a parent for a span of another system.
pub(crate) fn parent_context(parent: &Ctx) -> Context {
    Context::new().with_remote_span_context(span_context(
        parent.trace_id,
        parent.span_id,
        parent.is_sampled(),
        parent.flags & REMOTE != 0,
    ))
}

/// The tracer of the OTel-provider mode.
#[derive(Debug)]
pub(crate) struct Provider {
    tracer: BoxedTracer,
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
            tracer: BoxedTracer::new(Box::new(provider.tracer_with_scope(Provider::scope()))),
            sdk: Some(provider),
        }
    }

    /// Spans go through the global tracer provider, as it is set now.
    pub(crate) fn global() -> Provider {
        Provider {
            tracer: opentelemetry::global::tracer_with_scope(Provider::scope()),
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

/// Starts a span in OTel-provider mode: the provider's sampler decides, and its ids are the
/// span's (the SDK makes its own).
pub(crate) fn start(callsite: &'static Callsite, parent: Ctx, p: &'static Pipeline) -> Span {
    let Some((sync, provider)) = p.sync.as_ref().and_then(|s| Some((s, s.host.provider()?))) else {
        return Span::off();
    };
    let otel = p.interop & OTEL_CONTEXT != 0;
    let (parent_cx, parent_id, mut flags) = if parent.is_valid() {
        let remote = parent.flags & REMOTE != 0;
        let flag = if remote { FLAG_PARENT_REMOTE } else { 0 };
        (parent_context(&parent), parent.span_id, flag)
    } else {
        match external_parent(p.interop) {
            Some(cx) => {
                let id = Ids::of(&cx).span_id;
                (cx, id, FLAG_PARENT_EXTERNAL)
            }
            None => (Context::new(), 0, 0),
        }
    };
    let now = crate::clock::now();
    // The name the sampler sees is the callsite's; a name that depends on run-time arguments
    // (a model given as an expression) is set when the span ends.
    let builder = SpanBuilder::from_name(Cow::Borrowed(sync.mapper.callsite_name(callsite)))
        .with_kind(span_kind(callsite.kind))
        .with_start_time(crate::clock::to_system_time(now));
    let span = provider.tracer.build_with_context(builder, &parent_cx);
    let ids = Ids::of_span(span.span_context());
    let own = ids.span_id != 0 && (ids.span_id != parent_id || parent_id == 0);
    if !span.is_recording() {
        // Sampled out by the provider: children follow through the context.
        return if own {
            Span::unsampled(ids.trace_id, ids.span_id, otel)
        } else {
            Span::off()
        };
    }
    if otel {
        flags |= FLAG_OTEL_CONTEXT;
    }
    let mut rec = Record::new(
        callsite,
        ids.trace_id,
        ids.span_id,
        parent_id,
        parent.scope(),
        now,
    );
    rec.flags |= flags | FLAG_BRIDGED;
    rec.extra_mut().bridge = Some(Bridge::Otel(span));
    Span::live(rec)
}

/// Ends a provider span with the mapped record.
pub(crate) fn finish(mut span: BoxedSpan, mapped: Mapped, end: SystemTime) {
    span.update_name(mapped.name);
    span.set_attributes(mapped.attributes);
    for event in mapped.events {
        span.add_event_with_timestamp(event.name, event.timestamp, event.attributes);
    }
    span.set_status(mapped.status);
    span.end_with_timestamp(end);
}
