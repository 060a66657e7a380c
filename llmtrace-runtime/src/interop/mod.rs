//! Living next to other tracing systems in the same process: OpenTelemetry (the context switch
//! and the OTel-provider mode) and `tracing` (parents, and the `tracing` mode).
//!
//! Nothing here is on the native hot path. `Span::start` comes here only when the installed
//! pipeline's `interop` has bits beyond the `tracing` parent check (inlined: one relaxed load for
//! a root when no subscriber wants spans), `Span::enter` only for records flagged at their start
//! (what it does is undone when their context, marked `HOOKED`, is left), and
//! `pipeline::dispatch` only outside native mode.
//!
//! In the `tracing` and OTel-provider modes every recorded span has a counterpart in the host
//! system, a [`Bridge`], made when the llmtrace span starts (so that the host sees the right
//! nesting and entries) and kept in the record. It is entered whenever the llmtrace span is, and
//! finished with the record: the same stages as native mode (cost, roll-up, redaction and
//! content limit) run on the ending thread, the same mapper turns the record into attributes,
//! events and status, and those go onto the host span before it ends.

mod finish;
pub(crate) mod otel;
#[cfg(feature = "tracing")]
pub(crate) mod tracing_mode;

use std::cell::RefCell;
use std::fmt;

use opentelemetry::Context;
use opentelemetry::trace::TraceContextExt;

pub(crate) use finish::{Host, SyncExport, finish};

use crate::context::{Ctx, SAMPLED, VALID};
use crate::pipeline::{Mode, Pipeline};
#[cfg(feature = "tracing")]
use crate::span::FLAG_BRIDGED;
use crate::span::{Callsite, FLAG_OTEL_CONTEXT, FLAG_PARENT_EXTERNAL, Record, Span, forced};

/// Pipeline `interop` bit: entering a span attaches its ids as the current OpenTelemetry
/// context, and a span with no llmtrace parent looks for one in that context.
pub(crate) const OTEL_CONTEXT: u8 = 1;
/// Pipeline `interop` bit: a span with no llmtrace parent looks for one in the current `tracing`
/// span, through tracing-opentelemetry (the `tracing` feature).
pub(crate) const TRACING_PARENT: u8 = 1 << 1;
/// Pipeline `interop` bit: spans go to a host system (`tracing` or OTel-provider mode).
pub(crate) const HOST: u8 = 1 << 2;

/// A span's counterpart in the host system of the `tracing` or OTel-provider mode.
pub(crate) enum Bridge {
    /// A span of the provider's tracer.
    Otel(opentelemetry::global::BoxedSpan),
    /// A span of the application's subscriber.
    #[cfg(feature = "tracing")]
    Tracing(::tracing::Span),
}

impl fmt::Debug for Bridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bridge::Otel(_) => f.write_str("Bridge::Otel"),
            #[cfg(feature = "tracing")]
            Bridge::Tracing(span) => f.debug_tuple("Bridge::Tracing").field(span).finish(),
        }
    }
}

/// Starts a span when the pipeline has interop bits: in a host mode, the host's span and the
/// record together; in native mode, the native span with what interop adds (a parent from
/// another system for local roots, the OpenTelemetry context on entry).
#[inline(never)]
pub(crate) fn start(callsite: &'static Callsite, parent: Ctx, p: &'static Pipeline) -> Span {
    // Test captures record natively whatever the mode (their spans go to the capture).
    if p.interop & HOST != 0 && !forced(&parent) {
        match p.mode {
            Mode::OtelProvider => return otel::start(callsite, parent, p),
            #[cfg(feature = "tracing")]
            Mode::Tracing => return tracing_mode::start(callsite, parent, p),
            _ => {}
        }
    }
    let mut flags = if p.interop & OTEL_CONTEXT != 0 {
        FLAG_OTEL_CONTEXT
    } else {
        0
    };
    let mut parent = parent;
    if !parent.is_valid() {
        if let Some(cx) = external_parent(p.interop) {
            adopt(&mut parent, &cx);
            flags |= FLAG_PARENT_EXTERNAL;
        }
    }
    Span::start_sampled(callsite, parent, &p.sampler, flags)
}

/// Makes the span of `cx` the parent in `parent` (keeping its scope).
fn adopt(parent: &mut Ctx, cx: &Context) {
    let ids = Ids::of(cx);
    parent.trace_id = ids.trace_id;
    parent.span_id = ids.span_id;
    parent.flags = VALID | if ids.sampled { SAMPLED } else { 0 };
}

/// For a span with no llmtrace parent in native mode (with the `tracing` feature): makes the
/// current `tracing` span its parent when tracing-opentelemetry bridges it. One relaxed load when
/// no subscriber wants spans.
#[inline(always)]
pub(crate) fn tracing_parent(parent: &mut Ctx) -> bool {
    #[cfg(feature = "tracing")]
    if tracing_mode::interested() {
        return tracing_parent_slow(parent);
    }
    let _ = parent;
    false
}

#[cfg(feature = "tracing")]
#[inline(never)]
fn tracing_parent_slow(parent: &mut Ctx) -> bool {
    match tracing_mode::current_context() {
        Some(cx) => {
            adopt(parent, &cx);
            true
        }
        None => false,
    }
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
        return tracing_mode::current_context();
    }
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

    pub(crate) fn of_span(sc: &opentelemetry::trace::SpanContext) -> Ids {
        Ids {
            trace_id: u128::from_be_bytes(sc.trace_id().to_bytes()),
            span_id: u64::from_be_bytes(sc.span_id().to_bytes()),
            sampled: sc.is_sampled(),
        }
    }
}

/// What entering a span did outside llmtrace, undone when dropped: the OpenTelemetry context
/// attached, the host `tracing` span entered.
struct Entered {
    otel: Option<opentelemetry::ContextGuard>,
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
            entered.tracing = tracing_mode::enter(span);
        }
    }
    if rec.flags & FLAG_OTEL_CONTEXT != 0 {
        entered.otel = Some(otel::attach(rec.trace_id, rec.span_id, true));
    }
    push(entered);
}

/// Enters a sampled-out span outside llmtrace: its ids as the (not sampled) OpenTelemetry
/// context, so that spans opened inside it follow the decision. The caller marks the context it
/// installs `HOOKED`.
#[cold]
pub(crate) fn enter_ids(trace_id: u128, span_id: u64, sampled: bool) {
    push(Entered {
        otel: Some(otel::attach(trace_id, span_id, sampled)),
        #[cfg(feature = "tracing")]
        tracing: None,
    });
}
