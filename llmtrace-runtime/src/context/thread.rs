//! The current context of each thread: one `Cell` holding the ids of the innermost open span,
//! its sampling decision, a pointer to its live record (or, for a sampled-out call counted in the
//! metrics, its tally) and a pointer to its scope.

use std::cell::Cell;
use std::marker::PhantomData;
use std::ptr;

use crate::record::{Record, Scope, Tally, Target};

/// The context is valid (there is a current span or remote parent).
pub(crate) const VALID: u8 = 1;
/// The current span is sampled.
pub(crate) const SAMPLED: u8 = 1 << 1;
/// The current span context came from another process.
pub(crate) const REMOTE: u8 = 1 << 2;
/// Entering the current span also entered it in another tracing system (see `interop`): leaving
/// it leaves there too. Never captured into a [`TraceContext`].
pub(crate) const HOOKED: u8 = 1 << 3;
/// No parent, on purpose ([`TraceContext::new_trace`]): a span started here begins a new trace,
/// even inside a span of another tracing system (which it would otherwise take as its parent).
pub(crate) const DETACHED: u8 = 1 << 4;
/// `record` points to the tally of a sampled-out call, not to a record (see
/// [`enter_unrecorded`]). Never captured into a `TraceContext`.
pub(crate) const TALLIED: u8 = 1 << 5;

/// What the current thread is inside of. Plain data, so saving and restoring it is a copy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    pub(crate) flags: u8,
    /// The live record of the current span when it is open on this thread, else null; with
    /// [`TALLIED`], the span's tally instead (a `*mut Tally`, cast).
    ///
    /// Only set by [`Entered`], which holds the unique borrow of that record (or tally) for as
    /// long as the pointer is installed.
    pub(crate) record: *mut Record,
    /// The scope in effect, borrowed from whoever installed this context (a record, a
    /// [`TraceContext`] or a scope guard), which outlives the installation.
    pub(crate) scope: *const Scope,
}

impl Ctx {
    pub(crate) const EMPTY: Ctx = Ctx {
        trace_id: 0,
        span_id: 0,
        flags: 0,
        record: ptr::null_mut(),
        scope: ptr::null(),
    };

    #[inline]
    pub(crate) fn is_valid(&self) -> bool {
        self.flags & VALID != 0
    }

    #[inline]
    pub(crate) fn is_sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// Makes the span with these ids (of another tracing system) the parent, keeping the scope.
    pub(crate) fn adopt(&mut self, trace_id: u128, span_id: u64, sampled: bool) {
        self.trace_id = trace_id;
        self.span_id = span_id;
        self.flags = VALID | if sampled { SAMPLED } else { 0 };
    }

    /// A new strong reference to the scope in effect.
    pub(crate) fn scope(&self) -> Option<std::sync::Arc<Scope>> {
        if self.scope.is_null() {
            return None;
        }
        // SAFETY: a non-null `scope` always comes from `Arc::as_ptr` of an `Arc<Scope>` that the
        // installer of this context keeps alive for as long as the context is installed, and
        // contexts are only read on the thread that installed them.
        unsafe {
            std::sync::Arc::increment_strong_count(self.scope);
            Some(std::sync::Arc::from_raw(self.scope))
        }
    }
}

thread_local! {
    static CURRENT: Cell<Ctx> = const { Cell::new(Ctx::EMPTY) };
}

/// The current context of this thread.
#[inline]
pub(crate) fn get() -> Ctx {
    CURRENT.with(Cell::get)
}

/// Installs `ctx` until the returned guard drops.
#[inline]
pub(crate) fn enter(ctx: Ctx) -> Entered<'static> {
    Entered {
        prev: CURRENT.with(|c| c.replace(ctx)),
        _borrow: PhantomData,
    }
}

/// Installs the context of a live record; the borrow keeps the record in place while the
/// pointer to it is installed.
#[inline]
pub(crate) fn enter_record(rec: &mut Record, flags: u8) -> Entered<'_> {
    let scope = rec
        .scope
        .as_ref()
        .map_or(ptr::null(), std::sync::Arc::as_ptr);
    let ctx = Ctx {
        trace_id: rec.trace_id,
        span_id: rec.span_id,
        flags,
        record: rec,
        scope,
    };
    Entered {
        prev: CURRENT.with(|c| c.replace(ctx)),
        _borrow: PhantomData,
    }
}

/// Installs the context of a span that is not recorded (`ctx`, which has no record); for a
/// sampled-out call counted in the metrics, pointing at its `tally`: the borrow keeps the tally
/// in place while the pointer to it is installed, as for a record. (Inlined where a tally cannot
/// be, the check of it folds away.)
#[inline(always)]
pub(crate) fn enter_unrecorded<'a>(mut ctx: Ctx, tally: Option<&'a mut Tally>) -> Entered<'a> {
    if let Some(tally) = tally {
        ctx.flags |= TALLIED;
        ctx.record = (tally as *mut Tally).cast();
    }
    Entered {
        prev: CURRENT.with(|c| c.replace(ctx)),
        _borrow: PhantomData,
    }
}

/// The tally `ctx` points at, if any: valid while `ctx` is installed, on its thread (see
/// [`with_current_target`]).
#[inline]
pub(crate) fn tally_of(ctx: &Ctx) -> *mut Tally {
    if ctx.flags & TALLIED != 0 {
        ctx.record.cast()
    } else {
        ptr::null_mut()
    }
}

/// Restores the previous context when dropped (also while unwinding).
#[must_use]
#[derive(Debug)]
pub(crate) struct Entered<'a> {
    prev: Ctx,
    // Ties the guard to the borrow of the record it installed; the raw pointers in `Ctx` make it
    // `!Send`, so it is dropped on the thread that installed it.
    _borrow: PhantomData<&'a mut Record>,
}

impl Drop for Entered<'_> {
    #[inline]
    fn drop(&mut self) {
        let left = CURRENT.with(|c| c.replace(self.prev));
        if left.flags & HOOKED != 0 {
            super::external::leave();
        }
    }
}

/// Runs `f` on the live record of the current span, if it is open on this thread.
///
/// `f` must not call code that can re-enter the context (user code): callers convert values
/// before calling this.
#[inline(always)]
pub(crate) fn with_current_record<R>(f: impl FnOnce(&mut Record) -> R) -> Option<R> {
    // Not installed: no record can be open; skip even the thread-local access.
    if !crate::state::is_enabled() {
        return None;
    }
    let ctx = CURRENT.with(Cell::get);
    let record = ctx.record;
    if record.is_null() || ctx.flags & TALLIED != 0 {
        return None;
    }
    // SAFETY: `record` is installed only by `enter_record`, whose `Entered` guard holds the unique
    // borrow of the record and uninstalls the pointer when dropped, so the record is alive and not
    // otherwise accessed while it is installed. This runs on the installing thread (thread-local)
    // and `f` is llmtrace code that does not re-enter, so no second reference is created.
    Some(f(unsafe { &mut *record }))
}

/// Runs `f` on the live record of the current span or, for a sampled-out call counted in the
/// metrics, on its tally; one read of the context either way (the manual API's usage and cost
/// go to either). As for [`with_current_record`], `f` must not re-enter.
#[inline(always)]
pub(crate) fn with_current_target<R>(f: impl FnOnce(Target<'_>) -> R) -> Option<R> {
    if !crate::state::is_enabled() {
        return None;
    }
    let ctx = CURRENT.with(Cell::get);
    if ctx.record.is_null() {
        return None;
    }
    // SAFETY: as for `with_current_record` (a record) and `enter_unrecorded` (a tally, with
    // `TALLIED`): the installing guard holds the unique borrow for as long as the pointer is
    // installed, this runs on the installing thread, and `f` does not re-enter.
    Some(if ctx.flags & TALLIED != 0 {
        f(Target::Tally(unsafe { &mut *ctx.record.cast::<Tally>() }))
    } else {
        f(Target::Record(unsafe { &mut *ctx.record }))
    })
}
