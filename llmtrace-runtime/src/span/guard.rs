//! The span guard: decides sampling, opens the record, installs it as the current context while
//! the function runs, and hands the finished record to the pipeline.

use std::any::Any;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;

use super::{Capture, Tallying};
use crate::capture;
use crate::context::{self, Ctx, DETACHED, Entered, HOOKED, REMOTE, SAMPLED, VALID, external};
use crate::handoff;
use crate::record::ids::{new_span_id, new_trace_id};
use crate::record::{
    AgentRef, Callsite, FLAG_BRIDGED, FLAG_OTEL_CONTEXT, FLAG_PANIC, FLAG_PARENT_EXTERNAL,
    FLAG_PARENT_REMOTE, FLAG_SYNC_SCOPE, Field, Record, Status, Tally, Target, Value, clock,
};
use crate::state::{
    self, HOST, HeadSampler, Installed, OTEL_CONTEXT, Output, ParentIds, SpanState as State,
    TRACING_PARENT,
};

/// An open span. Created by the macro expansions; ends when finished or dropped.
///
/// The guard owns its record and can move: into a returned stream, to another thread, and end
/// there. Dropped before it was finished, it ends as cancelled (or as a panic while unwinding).
#[derive(Debug)]
pub struct Span {
    // Only a live record owns anything, and it leaves through `end`: with no drop glue of its
    // own, dropping a span that is off or sampled out is one inlined check.
    state: ManuallyDrop<State>,
}

impl Span {
    /// Starts a span for `callsite`, as a child of the current context.
    ///
    /// The disabled check is the only work done when llmtrace is not installed, and the sampling
    /// decision is taken before any clock read or attribute.
    #[inline]
    pub fn start(callsite: &'static Callsite) -> Span {
        if !state::is_enabled() {
            return Span::with(State::Off);
        }
        Span::start_enabled(callsite, context::get())
    }

    #[inline(never)]
    fn start_enabled(callsite: &'static Callsite, parent: Ctx) -> Span {
        let Some(p) = state::get() else {
            return Span::with(State::Off);
        };
        // Another tracing system to look at or to feed (see `context::external`): out of line,
        // but for the check of the `tracing` parent of a root, one load when no subscriber wants
        // spans.
        let mut parent = parent;
        let mut flags = 0;
        if p.interop != 0 {
            if p.interop & !TRACING_PARENT != 0 {
                return Span::start_interop(callsite, parent, p);
            }
            if !parent.is_valid() && parent.flags & DETACHED == 0 {
                if let Some(ids) = external::tracing_parent() {
                    parent.adopt(ids.trace_id, ids.span_id, ids.sampled);
                    flags = FLAG_PARENT_EXTERNAL;
                }
            }
        }
        Span::start_sampled(callsite, parent, &p.sampler, flags)
    }

    /// Starts a span when the pipeline has interop bits: in a host mode, the host's span and
    /// the record together; in native mode, the native span with what interop adds (a parent
    /// from another system for local roots, the OpenTelemetry context on entry).
    #[inline(never)]
    fn start_interop(callsite: &'static Callsite, parent: Ctx, p: &'static Installed) -> Span {
        // Test captures record natively whatever the mode (their spans go to the capture).
        if p.interop & HOST != 0 && !forced(&parent) {
            if let Some(host) = p.output.host() {
                let ids = parent.is_valid().then(|| ParentIds {
                    trace_id: parent.trace_id,
                    span_id: parent.span_id,
                    sampled: parent.is_sampled(),
                    remote: parent.flags & REMOTE != 0,
                });
                let detached = parent.flags & DETACHED != 0;
                let mut state = host.start(callsite, ids, detached, parent.scope());
                if let State::Tallied { tally, .. } = &mut state {
                    // SAFETY: `parent` is the context `Span::start` read on this thread, still
                    // installed: its tally pointer (if any) points to the tally the installing
                    // guard borrows, alive and not otherwise accessed during this start.
                    tally.under(unsafe { context::tally_of(&parent).as_ref() });
                }
                return Span::with(state);
            }
        }
        let mut flags = if p.interop & OTEL_CONTEXT != 0 {
            FLAG_OTEL_CONTEXT
        } else {
            0
        };
        let mut parent = parent;
        if !parent.is_valid() && parent.flags & DETACHED == 0 {
            if let Some(cx) = external::external_parent(p.interop) {
                let ids = external::Ids::of(&cx);
                parent.adopt(ids.trace_id, ids.span_id, ids.sampled);
                flags |= FLAG_PARENT_EXTERNAL;
            }
        }
        Span::start_sampled(callsite, parent, &p.sampler, flags)
    }

    /// Starts a span as a child of `parent` (or a new root), sampled by `sampler`; `flags` are
    /// added to the record's.
    #[inline(always)]
    pub(crate) fn start_sampled(
        callsite: &'static Callsite,
        parent: Ctx,
        sampler: &HeadSampler,
        flags: u8,
    ) -> Span {
        let (trace_id, parent_id, sampled) = if parent.is_valid() {
            let sampled = sampler.sample_child(parent.is_sampled(), parent.trace_id);
            (parent.trace_id, parent.span_id, sampled)
        } else {
            if sampler.never_samples_roots() && !forced(&parent) {
                return Span::with(State::Off);
            }
            let trace_id = new_trace_id();
            let sampled = sampler.sample_root(trace_id) || forced(&parent);
            (trace_id, 0, sampled)
        };
        let span_id = new_span_id();
        if !sampled {
            // Inside a tallied span every span is tallied, so that calls deep inside a
            // sampled-out agent still find it (a tally of a kind with no metrics is not counted).
            if state::tallies() {
                let in_tally = context::tally_of(&parent);
                if Tally::counts(callsite) || !in_tally.is_null() {
                    let otel = flags & FLAG_OTEL_CONTEXT != 0;
                    return Span::tallied(callsite, trace_id, span_id, otel, in_tally);
                }
            }
            return Span::with(State::Unsampled {
                trace_id,
                span_id,
                otel: flags & FLAG_OTEL_CONTEXT != 0,
            });
        }
        // Counted, so that a span still open at shutdown is counted too. (Before the record is
        // built: a call between building it and moving it into the guard would copy it.)
        handoff::note_started();
        let mut record = Record::new(
            callsite,
            trace_id,
            span_id,
            parent_id,
            parent.scope(),
            clock::now(),
        );
        if parent.flags & REMOTE != 0 {
            record.flags |= FLAG_PARENT_REMOTE;
        }
        record.flags |= flags;
        Span::with(State::Live(record))
    }

    /// A sampled-out call counted in the metrics: no record, its tally only.
    #[inline(never)]
    fn tallied(
        callsite: &'static Callsite,
        trace_id: u128,
        span_id: u64,
        otel: bool,
        in_tally: *mut Tally,
    ) -> Span {
        let mut tally = Tally::new(callsite, clock::now());
        // SAFETY: `in_tally` is the tally pointer of the context `Span::start` read on this
        // thread, still installed: it points to the tally the installing guard borrows, alive
        // and not otherwise accessed during this start.
        tally.under(unsafe { in_tally.as_ref() });
        Span::with(State::Tallied {
            trace_id,
            span_id,
            otel,
            tally,
        })
    }

    /// A span that records nothing (a stream not yet attached to a call, say).
    #[inline]
    pub(crate) fn off() -> Span {
        Span::with(State::Off)
    }

    /// Moves the span out, leaving an ended one: the span continues in the returned guard.
    #[inline]
    pub(crate) fn take(&mut self) -> Span {
        std::mem::replace(self, Span::with(State::Ended))
    }

    #[inline(always)]
    fn with(state: State) -> Span {
        Span {
            state: ManuallyDrop::new(state),
        }
    }

    /// The live record, when this span is recording.
    #[inline]
    pub fn recording(&mut self) -> Option<&mut Record> {
        match &mut *self.state {
            State::Live(rec) => Some(rec),
            _ => None,
        }
    }

    /// The span's trace id, span id and whether it is sampled; `None` when it is off or ended.
    /// (For the spans `tracing::GenAiLayer` keeps outside the context.)
    #[cfg(feature = "tracing")]
    pub(crate) fn ids(&self) -> Option<(u128, u64, bool)> {
        match &*self.state {
            State::Live(rec) => Some((rec.trace_id, rec.span_id, true)),
            State::Unsampled {
                trace_id, span_id, ..
            }
            | State::Tallied {
                trace_id, span_id, ..
            } => Some((*trace_id, *span_id, false)),
            State::Off | State::Ended => None,
        }
    }

    /// Whether the span is being recorded.
    #[inline]
    pub fn is_recording(&self) -> bool {
        matches!(*self.state, State::Live(_))
    }

    /// Makes this span the current context until the guard drops (and, when another tracing
    /// system is involved, enters its span there too, until the guard drops: see
    /// `context::external`).
    #[inline]
    pub(crate) fn enter(&mut self) -> Option<Entered<'_>> {
        match &mut *self.state {
            State::Off | State::Ended => None,
            State::Unsampled {
                trace_id,
                span_id,
                otel,
            } => Some(enter_unrecorded(*trace_id, *span_id, *otel, None)),
            State::Tallied {
                trace_id,
                span_id,
                otel,
                tally,
            } => Some(enter_unrecorded(*trace_id, *span_id, *otel, Some(tally))),
            State::Live(rec) => {
                let mut flags = VALID | SAMPLED;
                if rec.flags & (FLAG_OTEL_CONTEXT | FLAG_BRIDGED) != 0 {
                    external::enter(rec);
                    flags |= HOOKED;
                }
                Some(context::enter_record(rec, flags))
            }
        }
    }

    /// Installs this span as the current context until the returned guard drops (for bodies
    /// kept in place).
    #[inline]
    pub fn enter_scope(&mut self) -> SpanScope<'_> {
        SpanScope {
            _entered: self.enter(),
        }
    }

    /// Makes this span the agent of the spans started inside it: they carry its name (model
    /// calls and tools that do not name their agent) and count towards its totals (see the
    /// agent stage). Called by `#[agent]` expansions once the request arguments are recorded.
    #[inline]
    pub fn begin_agent(&mut self) {
        if let State::Live(rec) = &mut *self.state {
            let mut scope = rec.scope.as_deref().cloned().unwrap_or_default();
            scope.agent = Some(AgentRef {
                span_id: rec.span_id,
                name: rec.get(Field::AgentName).cloned(),
            });
            rec.scope = Some(Arc::new(scope));
        }
    }

    /// Makes this span the evaluator of the spans started inside it: they are marked as part of
    /// an evaluation, their usage and cost count towards its totals and not towards the trace's
    /// roll-up nor the totals of an agent around it (see the agent stage). Called by
    /// `#[evaluator]` expansions once the request arguments are recorded.
    #[inline]
    pub fn begin_evaluator(&mut self) {
        if let State::Live(rec) = &mut *self.state {
            let mut scope = rec.scope.as_deref().cloned().unwrap_or_default();
            scope.evaluator = Some(rec.span_id);
            // The judge works for the evaluator, not for the agent being judged.
            scope.agent = None;
            rec.scope = Some(Arc::new(scope));
        }
    }

    /// A drop before `finish_with` is an early return, not a cancellation.
    #[inline]
    pub fn end_on_early_return(&mut self) {
        if let State::Live(rec) = &mut *self.state {
            rec.flags |= FLAG_SYNC_SCOPE;
        }
    }

    /// Lets `f` add to the record, then ends the span.
    #[inline]
    pub fn finish_with(&mut self, f: impl FnOnce(&mut Record)) {
        if let State::Live(rec) = &mut *self.state {
            f(rec);
        }
        self.end();
    }

    /// Records the return value with `capture` (into the record, or a sampled-out call's
    /// tally), then ends the span.
    #[inline]
    pub fn finish_capture<R: ?Sized>(&mut self, capture: impl Capture<R>, ret: &R) {
        match &mut *self.state {
            State::Live(rec) => capture.record(rec, ret),
            State::Tallied { tally, .. } => tally_ret(tally, capture, ret),
            _ => {}
        }
        self.end();
    }

    /// [`finish_capture`](Self::finish_capture) with a closure that records into either
    /// target.
    #[inline]
    pub fn finish_tallying<R: ?Sized>(&mut self, capture: impl FnOnce(Target<'_>, &R), ret: &R) {
        self.finish_capture(Tallying::new(capture), ret);
    }

    /// Leaves a sampled-out call out of the metrics: for the spans of another crate's GenAI
    /// `tracing` spans, whose provider, model and usage arrive as fields only a record takes
    /// (counted, they would be calls of no model).
    #[cfg(feature = "tracing")]
    pub(crate) fn untallied(&mut self) {
        if let State::Tallied {
            trace_id,
            span_id,
            otel,
            ..
        } = *self.state
        {
            let tallied = std::mem::replace(
                &mut *self.state,
                State::Unsampled {
                    trace_id,
                    span_id,
                    otel,
                },
            );
            drop(tallied);
        }
    }

    /// Where the call's outcome goes: the record, or a sampled-out call's tally. (The
    /// expansions record the arguments the metrics read through it.)
    #[doc(hidden)]
    #[inline]
    pub fn target(&mut self) -> Option<Target<'_>> {
        match &mut *self.state {
            State::Live(rec) => Some(Target::Record(rec)),
            State::Tallied { tally, .. } => Some(Target::Tally(tally)),
            _ => None,
        }
    }

    /// Ends the span as failed by a panic with this payload.
    pub(crate) fn finish_panicked(&mut self, payload: &(dyn Any + Send)) {
        match &mut *self.state {
            State::Live(rec) => mark_panicked(rec, panic_message(payload)),
            State::Tallied { tally, .. } => tally.fail(Value::Str("panic")),
            _ => {}
        }
        self.end();
    }

    /// Ends the span now.
    #[inline]
    pub fn end(&mut self) {
        let State::Live(rec) = &mut *self.state else {
            if let State::Tallied { tally, .. } = &mut *self.state {
                let tally: *mut Tally = tally;
                // SAFETY: as for the record below: `end_tallied` moves the tally out (or drops
                // it) once, and `state` (`ManuallyDrop`) is overwritten without dropping it.
                unsafe { end_tallied(tally) };
            }
            self.state = ManuallyDrop::new(State::Ended);
            return;
        };
        rec.end = clock::now();
        let rec: *mut Record = rec;
        // The record moves to the pipeline straight from here (one copy, into its buffer slot);
        // `state` is `ManuallyDrop`, so overwriting it does not drop what was moved out.
        // SAFETY: `rec` points into `self.state`, valid and exclusively borrowed; `dispatch`
        // moves the record out and nothing reads it again before `state` is overwritten.
        unsafe { dispatch(rec) };
        self.state = ManuallyDrop::new(State::Ended);
    }
}

impl Drop for Span {
    #[inline]
    fn drop(&mut self) {
        if let State::Live(_) | State::Tallied { .. } = *self.state {
            self.end_unfinished();
        }
    }
}

impl Span {
    /// A live span dropped before it was finished: cancelled, or failed by a panic.
    #[cold]
    fn end_unfinished(&mut self) {
        match &mut *self.state {
            State::Live(rec) => {
                if std::thread::panicking() {
                    mark_panicked(rec, None);
                } else if rec.flags & FLAG_SYNC_SCOPE == 0 {
                    rec.status = Status::Cancelled;
                }
            }
            State::Tallied { tally, .. } if std::thread::panicking() => {
                tally.fail(Value::Str("panic"));
            }
            _ => {}
        }
        self.end();
    }
}

/// The hand-off: a finished record leaves the caller's hands here, for the export mode.
///
/// # Safety
/// `record` must point to a valid record that the caller treats as moved out afterwards.
#[inline]
unsafe fn dispatch(record: *mut Record) {
    match state::get() {
        // SAFETY: forwarded from the caller.
        Some(Installed {
            output: Output::Native(_),
            ..
        }) => unsafe { handoff::push_from(record) },
        // SAFETY: forwarded from the caller.
        other => unsafe { dispatch_elsewhere(record, other) },
    }
}

/// Outside native mode, or not installed: out of line, so that the native path stays small.
///
/// # Safety
/// As for [`dispatch`].
#[inline(never)]
unsafe fn dispatch_elsewhere(record: *mut Record, installed: Option<&'static Installed>) {
    // SAFETY: forwarded from the caller: the record is moved out here, once.
    let rec = unsafe { std::ptr::read(record) };
    handoff::note_ended_elsewhere();
    if let Some(host) = installed.and_then(|p| p.output.host()) {
        host.finish(rec);
    }
}

/// Installs the context of a span that is not recorded: its ids and, for a tallied one, its
/// tally (for `llmtrace::current()` and the spans started inside it).
#[inline(always)]
fn enter_unrecorded(
    trace_id: u128,
    span_id: u64,
    otel: bool,
    tally: Option<&mut Tally>,
) -> Entered<'_> {
    let mut flags = VALID;
    if otel {
        external::enter_ids(trace_id, span_id, false);
        flags |= HOOKED;
    }
    let ctx = Ctx {
        trace_id,
        span_id,
        flags,
        ..Ctx::EMPTY
    };
    context::enter_unrecorded(ctx, tally)
}

/// A tallied call ended: counted for its agent, then, for a kind with metrics, handed to the
/// export worker in native mode, or counted on this thread in a host mode (there is no worker
/// there: the host's stages run where spans end).
///
/// # Safety
/// `tally` must point to a valid tally that the caller treats as moved out afterwards. (Taken
/// in place: moved by value into this call, it would be copied once more on the way to its
/// ring.)
#[inline(never)]
unsafe fn end_tallied(tally: *mut Tally) {
    // SAFETY: valid and not otherwise accessed, from the caller.
    let t = unsafe { &mut *tally };
    t.end = clock::now();
    t.ended();
    let host = match state::get() {
        Some(Installed {
            output: Output::Native(_),
            ..
        }) if Tally::counts(t.callsite) => {
            // SAFETY: read once, from the caller's promise.
            handoff::tally::push(unsafe { std::ptr::read(tally) });
            return;
        }
        Some(p) if Tally::counts(t.callsite) => p.output.host(),
        _ => None,
    };
    // SAFETY: read once, from the caller's promise (dropped here when nothing counts it).
    let tally = unsafe { std::ptr::read(tally) };
    if let Some(host) = host {
        host.count(tally);
    }
}

/// A sampled-out call's return value into its tally: out of line, so that the recording path,
/// into which the capture closure is inlined, stays as small as without tallies.
#[cold]
#[inline(never)]
fn tally_ret<R: ?Sized>(tally: &mut Tally, capture: impl Capture<R>, ret: &R) {
    capture.tally(tally, ret);
}

/// Keeps a span installed as the current context; see [`Span::enter_scope`].
#[derive(Debug)]
pub struct SpanScope<'a> {
    _entered: Option<Entered<'a>>,
}

/// Whether the context is a test capture, whose spans are always recorded.
#[inline]
pub(crate) fn forced(ctx: &Ctx) -> bool {
    !ctx.scope.is_null() && ctx.scope().is_some_and(|s| s.capture.is_some())
}

fn mark_panicked(rec: &mut Record, message: Option<Box<str>>) {
    rec.set_error(Value::Str("panic"), message);
    rec.flags |= FLAG_PANIC;
}

/// The panic's message, bounded like an error's (a panic can carry megabytes of text).
fn panic_message(payload: &(dyn Any + Send)) -> Option<Box<str>> {
    let text = match payload.downcast_ref::<&'static str>() {
        Some(s) => *s,
        None => payload.downcast_ref::<String>()?.as_str(),
    };
    Some(capture::panic_message(text))
}

/// Runs the body of an instrumented sync function inside its span.
///
/// The body runs as a `FnOnce` closure so that `return` and `?` inside it end up in `capture`
/// (the return value is recorded whichever way the body exits), and so that it may return
/// references into its captured parameters. A panic is recorded and then continues unwinding.
#[inline]
pub fn call_sync<R>(
    span: &mut Span,
    body: impl FnOnce() -> R,
    capture: impl FnOnce(&mut Record, &R),
) -> R {
    if let State::Off = *span.state {
        return body();
    }
    call_sync_enabled(span, body, capture)
}

/// [`call_sync`] for a function whose sampled-out calls count in the metrics: `capture`
/// records into the span's record or into the call's tally.
#[inline]
pub fn call_sync_tallying<R>(
    span: &mut Span,
    body: impl FnOnce() -> R,
    capture: impl FnOnce(Target<'_>, &R),
) -> R {
    if let State::Off = *span.state {
        return body();
    }
    call_sync_enabled(span, body, Tallying::new(capture))
}

fn call_sync_enabled<R>(span: &mut Span, body: impl FnOnce() -> R, capture: impl Capture<R>) -> R {
    let entered = span.enter();
    let result = catch_unwind(AssertUnwindSafe(body));
    drop(entered);
    match result {
        Ok(ret) => {
            span.finish_capture(capture, &ret);
            ret
        }
        Err(payload) => {
            span.finish_panicked(&*payload);
            resume_unwind(payload)
        }
    }
}
