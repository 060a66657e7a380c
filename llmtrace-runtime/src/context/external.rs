//! Other tracing systems around llmtrace's context, on the hot path: a span with no llmtrace
//! parent takes one from the current OpenTelemetry context or `tracing` span, and a span entered
//! is entered there too (its ids attached as the current OpenTelemetry context, its host
//! `tracing` span entered).
//!
//! None of it runs in native mode unless it is switched on: `Span::start` comes here only when
//! the installed pipeline's `interop` bits ask for it (the `tracing` parent check of a root is
//! inlined: one relaxed load when no subscriber wants spans), `Span::enter` only for records
//! flagged at their start (what it does is undone when their context, marked `HOOKED`, is left).
//! The host modes themselves (spans that start and end in another system) are sinks:
//! `sinks::host`.

use std::cell::RefCell;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::{Context, ContextGuard};

#[cfg(feature = "tracing")]
use crate::record::{Bridge, FLAG_BRIDGED};
use crate::record::{FLAG_OTEL_CONTEXT, Record};
use crate::state::{OTEL_CONTEXT, ParentIds, TRACING_PARENT};

/// For a span with no llmtrace parent in native mode (with the `tracing` feature): the current
/// `tracing` span, when tracing-opentelemetry bridges it. One relaxed load when no subscriber
/// wants spans.
#[inline(always)]
pub(crate) fn tracing_parent() -> Option<Ids> {
    #[cfg(feature = "tracing")]
    if tracing::interested() {
        return tracing_parent_slow();
    }
    None
}

#[cfg(feature = "tracing")]
#[inline(never)]
fn tracing_parent_slow() -> Option<Ids> {
    tracing::current_context().map(|cx| Ids::of(&cx))
}

/// The context of the innermost span of another tracing system around a span that has no
/// llmtrace parent: the current OpenTelemetry context (with the switch on), else the current
/// `tracing` span's (with the `tracing` feature, when tracing-opentelemetry bridges it).
pub(crate) fn external_parent(interop: u8) -> Option<Context> {
    if interop & OTEL_CONTEXT != 0 {
        let current =
            Context::map_current(|cx| cx.span().span_context().is_valid().then(|| cx.clone()));
        if current.is_some() {
            return current;
        }
    }
    #[cfg(feature = "tracing")]
    if interop & TRACING_PARENT != 0 {
        return tracing::current_context();
    }
    let _ = TRACING_PARENT;
    None
}

/// The ids of the span an OpenTelemetry context holds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ids {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    pub(crate) sampled: bool,
}

impl Ids {
    pub(crate) fn of(cx: &Context) -> Ids {
        Ids::of_span(cx.span().span_context())
    }

    pub(crate) fn of_span(sc: &SpanContext) -> Ids {
        Ids {
            trace_id: u128::from_be_bytes(sc.trace_id().to_bytes()),
            span_id: u64::from_be_bytes(sc.span_id().to_bytes()),
            sampled: sc.is_sampled(),
        }
    }
}

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
pub(crate) fn parent_context(parent: &ParentIds) -> Context {
    Context::new().with_remote_span_context(span_context(
        parent.trace_id,
        parent.span_id,
        parent.sampled,
        parent.remote,
    ))
}

/// What entering a span did outside llmtrace, undone when dropped: the OpenTelemetry context
/// attached, the host `tracing` span entered.
struct Entered {
    otel: Option<ContextGuard>,
    #[cfg(feature = "tracing")]
    tracing: Option<(::tracing::Dispatch, ::tracing::span::Id)>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        // Left in the reverse order of entry.
        drop(self.otel.take());
        #[cfg(feature = "tracing")]
        if let Some((dispatch, id)) = self.tracing.take() {
            dispatch.exit(&id);
        }
    }
}

thread_local! {
    /// What entering the spans open on this thread did outside llmtrace, innermost last. Kept
    /// here rather than in the guard of each entry, so that the native guard stays as it is:
    /// an entry marks its context `HOOKED`, and leaving that context pops it.
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

fn push(entered: Entered) {
    ENTERED.with(|e| e.borrow_mut().push(entered));
}

/// Undoes the innermost entry outside llmtrace (its context, marked `HOOKED`, was just left).
#[cold]
pub(crate) fn leave() {
    // Dropped outside the borrow: leaving may run the subscriber's code.
    let entered = ENTERED.with(|e| e.borrow_mut().pop());
    drop(entered);
}

/// Enters a recording span outside llmtrace: its host `tracing` span, then its ids as the
/// OpenTelemetry context. The caller marks the context it installs `HOOKED`.
#[cold]
pub(crate) fn enter(rec: &Record) {
    let mut entered = Entered {
        otel: None,
        #[cfg(feature = "tracing")]
        tracing: None,
    };
    #[cfg(feature = "tracing")]
    if rec.flags & FLAG_BRIDGED != 0 {
        if let Some(Bridge::Tracing(span)) = rec.extra.as_ref().and_then(|e| e.bridge.as_ref()) {
            entered.tracing = tracing::enter(span);
        }
    }
    #[cfg(feature = "tracing")]
    let activated = entered.tracing.is_some() && is_current(rec.span_id);
    #[cfg(not(feature = "tracing"))]
    let activated = false;
    if rec.flags & FLAG_OTEL_CONTEXT != 0 && !activated {
        entered.otel = Some(attach(rec.trace_id, rec.span_id, true));
    }
    push(entered);
}

#[cfg(feature = "tracing")]
/// Whether the current OpenTelemetry span is the one with this id: in `tracing` mode,
/// tracing-opentelemetry's context activation (its default) makes a span's own OpenTelemetry
/// span current when its `tracing` span is entered, and attaching the ids again would cost an
/// attach and a detach per entry for nothing.
fn is_current(span_id: u64) -> bool {
    Context::map_current(|cx| cx.span().span_context().span_id() == SpanId::from(span_id))
}

/// Enters a sampled-out span outside llmtrace: its ids as the (not sampled) OpenTelemetry
/// context, so that spans opened inside it follow the decision. The caller marks the context it
/// installs `HOOKED`.
#[cold]
pub(crate) fn enter_ids(trace_id: u128, span_id: u64, sampled: bool) {
    push(Entered {
        otel: Some(attach(trace_id, span_id, sampled)),
        #[cfg(feature = "tracing")]
        tracing: None,
    });
}

/// The current `tracing` span, as tracing-opentelemetry sees it (the `tracing` feature).
#[cfg(feature = "tracing")]
pub(crate) mod tracing {
    use opentelemetry::Context;
    use opentelemetry::trace::TraceContextExt;
    use tracing::Dispatch;
    use tracing::level_filters::LevelFilter;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    /// The OpenTelemetry context of the current `tracing` span, when tracing-opentelemetry
    /// bridges it to a valid span. Cheap when no subscriber is interested in anything.
    pub(crate) fn current_context() -> Option<Context> {
        if !interested() {
            return None;
        }
        let span = tracing::Span::current();
        if span.is_none() {
            return None;
        }
        let cx = span.context();
        cx.span().span_context().is_valid().then_some(cx)
    }

    /// Whether some subscriber may want spans (no subscriber at all: no).
    #[inline(always)]
    pub(crate) fn interested() -> bool {
        LevelFilter::current() != LevelFilter::OFF
    }

    /// Enters `span` in its subscriber; the pair is what exiting it takes.
    pub(crate) fn enter(span: &tracing::Span) -> Option<(Dispatch, tracing::span::Id)> {
        span.with_subscriber(|(id, dispatch)| {
            dispatch.enter(id);
            (dispatch.clone(), id.clone())
        })
    }
}
