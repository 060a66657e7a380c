//! The span record: what one instrumented call observed, from start to end.
//!
//! A record lives inside its guard (on the stack for sync functions, inside the future for async
//! ones) while the span is open, and is moved by value into the per-thread buffer when it ends.
//! Literal macro arguments stay in the `'static` [`Callsite`]; only values known at run time are
//! stored here, inline for the first few.

use std::borrow::Cow;
use std::sync::Arc;

use smallvec::SmallVec;

use super::{Bridge, Callsite, Field, Kind, Scope, Tokens, Value};

/// Status of a finished span.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Status {
    /// Finished normally (OpenTelemetry status unset).
    #[default]
    Unset,
    /// Returned `Err` or panicked.
    Error,
    /// Dropped before completion (a future cancelled by `select!` or a timeout, a stream dropped
    /// early). Not an error.
    Cancelled,
}

/// Record flag: the error came from a panic.
pub(crate) const FLAG_PANIC: u8 = 1;
/// Record flag: the parent came from another process (W3C `traceparent`).
pub(crate) const FLAG_PARENT_REMOTE: u8 = 1 << 1;
/// Record flag: some captured content was cut to its size limit.
pub(crate) const FLAG_TRUNCATED: u8 = 1 << 2;
/// Record flag: the span guards a body kept in place, where an early exit the expansion did not
/// rewrite (a `return` inside a macro call) is a normal return, not a cancellation.
pub(crate) const FLAG_SYNC_SCOPE: u8 = 1 << 3;
/// Record flag: the parent is a span of another tracing system in this process (an
/// OpenTelemetry span, or a `tracing` span bridged to OpenTelemetry). The record is still a local
/// root for llmtrace's own pipeline (roll-up, tail sampling), and its parent is not remote.
pub(crate) const FLAG_PARENT_EXTERNAL: u8 = 1 << 4;
/// Record flag: entering the span attaches its ids as the current OpenTelemetry context.
pub(crate) const FLAG_OTEL_CONTEXT: u8 = 1 << 5;
/// Record flag: the span also lives in another tracing system (`Extra::bridge`), entered with
/// it and finished through it.
pub(crate) const FLAG_BRIDGED: u8 = 1 << 6;

/// An event added to a span through the manual API.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub(crate) name: Cow<'static, str>,
    pub(crate) time: u64,
    pub(crate) attributes: Vec<(Cow<'static, str>, Value)>,
}

/// A link from a span to another span, of this trace or another (a handoff between agents, a
/// batch fanning in requests, a retry pointing at the failed attempt).
#[derive(Clone, Debug)]
pub(crate) struct Link {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    pub(crate) sampled: bool,
    /// The linked span is in another process.
    pub(crate) remote: bool,
    pub(crate) attributes: Vec<(Cow<'static, str>, Value)>,
}

/// The rarely used parts of a record, allocated only when needed.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    pub(crate) custom: Vec<(Cow<'static, str>, Value)>,
    pub(crate) events: Vec<Event>,
    pub(crate) links: Vec<Link>,
    pub(crate) status_message: Option<Box<str>>,
    /// The span's counterpart in the `tracing` or OpenTelemetry-provider mode.
    pub(crate) bridge: Option<Bridge>,
}

// Every span's record is copied into the thread's buffer when it ends: keep it at 240 bytes
// (the slots of `Tokens` are laid out for it).
const _: () = assert!(size_of::<Record>() <= 240);

/// What one span observed. See the module docs.
#[derive(Debug)]
pub struct Record {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    pub(crate) parent_id: u64,
    /// Nanoseconds since the clock anchor.
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) callsite: &'static Callsite,
    pub(crate) scope: Option<Arc<Scope>>,
    pub(crate) status: Status,
    pub(crate) flags: u8,
    pub(crate) attrs: SmallVec<[(Field, Value); 4]>,
    /// Token counts and the cost, apart from `attrs`: see [`Tokens`].
    pub(crate) tokens: Tokens,
    pub(crate) extra: Option<Box<Extra>>,
}

impl Record {
    #[inline(always)]
    pub(crate) fn new(
        callsite: &'static Callsite,
        trace_id: u128,
        span_id: u64,
        parent_id: u64,
        scope: Option<Arc<Scope>>,
        start: u64,
    ) -> Self {
        Record {
            trace_id,
            span_id,
            parent_id,
            start,
            end: start,
            callsite,
            scope,
            status: Status::Unset,
            flags: 0,
            attrs: SmallVec::new(),
            tokens: Tokens::default(),
            extra: None,
        }
    }

    /// Sets a field, replacing an earlier value of the same field. A token count must be a
    /// non-negative integer and the cost a number; another value for them is ignored (the
    /// exporters write only numbers for them).
    #[inline]
    pub fn set(&mut self, field: Field, value: Value) {
        if let Some(slot) = Tokens::slot(field) {
            if let Some(n) = value.as_i64().and_then(|n| u64::try_from(n).ok()) {
                self.tokens.set(slot, n);
            }
            return;
        }
        if field == Field::CostTotal {
            if let Some(usd) = value.as_f64() {
                self.tokens.set_cost(usd);
            }
            return;
        }
        if let Some(slot) = self.attrs.iter_mut().find(|(f, _)| *f == field) {
            slot.1 = value;
        } else {
            self.attrs.push((field, value));
        }
    }

    /// Sets a field that is neither a token count nor the cost (captured content), replacing an
    /// earlier value: [`set`](Self::set) without the checks for those, inlined where a return
    /// value is recorded.
    #[inline(always)]
    pub(crate) fn set_content(&mut self, field: Field, value: Value) {
        debug_assert!(Tokens::slot(field).is_none() && field != Field::CostTotal);
        if let Some(slot) = self.attrs.iter_mut().find(|(f, _)| *f == field) {
            slot.1 = value;
        } else {
            self.attrs.push((field, value));
        }
    }

    /// Sets a field the record does not hold yet (not a token count): no search for it.
    #[inline]
    pub(crate) fn push_new(&mut self, field: Field, value: Value) {
        debug_assert!(
            Tokens::slot(field).is_none() && field != Field::CostTotal && self.get(field).is_none()
        );
        self.attrs.push((field, value));
    }

    /// Sets a field from an optional value; `None` records nothing.
    #[inline]
    pub fn set_opt(&mut self, field: Field, value: Option<Value>) {
        if let Some(v) = value {
            self.set(field, v);
        }
    }

    /// Sets a custom attribute (from a macro's `attributes(..)`); `None` records nothing.
    #[inline]
    pub fn set_attribute(&mut self, key: &'static str, value: Option<Value>) {
        if let Some(v) = value {
            self.set_custom(Cow::Borrowed(key), v);
        }
    }

    /// A token count (`InputTokens`, `OutputTokens`, ...), if recorded.
    #[inline]
    pub fn token(&self, field: Field) -> Option<u64> {
        self.tokens.get(field)
    }

    /// The cost in USD, recorded by the application or by the cost stage.
    #[inline]
    pub fn cost(&self) -> Option<f64> {
        self.tokens.cost()
    }

    /// The value of a field: set at run time, or given as a literal to the macro. Token counts
    /// are read with [`Record::token`], the cost with [`Record::cost`].
    pub fn get(&self, field: Field) -> Option<&Value> {
        debug_assert!(
            field != Field::CostTotal,
            "the cost is read with `Record::cost`"
        );
        self.attrs
            .iter()
            .rev()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v)
            .or_else(|| self.callsite.get(field))
    }

    pub(crate) fn extra_mut(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Default::default)
    }

    /// Adds a custom attribute (a key outside the schema).
    pub(crate) fn set_custom(&mut self, key: Cow<'static, str>, value: Value) {
        let custom = &mut self.extra_mut().custom;
        if let Some(slot) = custom.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            custom.push((key, value));
        }
    }

    /// Marks the span failed with an error type and a description.
    pub(crate) fn set_error(&mut self, error_type: Value, message: Option<Box<str>>) {
        self.status = Status::Error;
        self.set(Field::ErrorType, error_type);
        self.extra_mut().status_message = message;
    }

    /// The kind of the instrumented function.
    pub fn kind(&self) -> Kind {
        self.callsite.kind
    }

    /// Whether this span is the root of its trace in this process, as far as llmtrace knows: it
    /// has no parent, its parent is in another process, or its parent belongs to another tracing
    /// system.
    #[inline]
    pub(crate) fn is_local_root(&self) -> bool {
        self.parent_id == 0 || self.flags & (FLAG_PARENT_REMOTE | FLAG_PARENT_EXTERNAL) != 0
    }

    /// Whether the span is an `#[evaluator]` or ran inside one (see `Span::begin_evaluator`).
    #[inline]
    pub(crate) fn in_evaluator(&self) -> bool {
        self.scope.as_deref().is_some_and(|s| s.evaluator.is_some())
    }
}
