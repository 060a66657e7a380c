//! The manual API: add to the current span from inside an instrumented function.

use std::borrow::Cow;

use super::handle::TraceContext;
use super::ids::{SpanId, TraceId};
use super::thread::{self, with_current_record};
use crate::record::{Event, Field, Value};

/// A handle to the innermost span open on this thread. Every method is a no-op when there is
/// none, or when the span is not recorded (sampled out, llmtrace not installed).
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// #[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
/// fn chat(prompt: &str) -> String {
///     let span = llmtrace::current();
///     span.set_attribute("app.prompt_variant", "b");
///     span.record_usage(llmtrace::Usage::new(1200, 80));
///     span.record_cost_usd(0.0038);
///     format!("echo: {prompt}")
/// }
/// # assert_eq!(chat("hi"), "echo: hi");
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CurrentSpan {
    _private: (),
}

/// The span open on this thread. See [`CurrentSpan`].
#[inline]
pub fn current() -> CurrentSpan {
    CurrentSpan { _private: () }
}

#[inline(never)]
fn set_field(field: Field, value: Value) {
    with_current_record(|rec| rec.set(field, value));
}

#[inline(never)]
fn record_usage(usage: crate::Usage) {
    with_current_record(|rec| usage.record(rec));
}

impl CurrentSpan {
    /// Whether the current span is being recorded.
    pub fn is_recording(&self) -> bool {
        with_current_record(|_| ()).is_some()
    }

    /// The id of the current trace, when there is one (recorded or not).
    pub fn trace_id(&self) -> Option<TraceId> {
        let ctx = thread::get();
        ctx.is_valid().then_some(TraceId(ctx.trace_id))
    }

    /// The id of the current span, when there is one.
    pub fn span_id(&self) -> Option<SpanId> {
        let ctx = thread::get();
        ctx.is_valid().then_some(SpanId(ctx.span_id))
    }

    /// Captures the current position in the trace, to continue it on another thread or task.
    pub fn context(&self) -> TraceContext {
        TraceContext::current()
    }

    /// Wraps a closure so that it runs inside the current trace, wherever it is called.
    pub fn wrap<R, F: FnOnce() -> R>(&self, f: F) -> impl FnOnce() -> R + use<R, F> {
        TraceContext::current().wrap(f)
    }

    /// Sets an attribute on the current span. Keys outside the llmtrace schema are exported as
    /// given.
    pub fn set_attribute(&self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) {
        if !self.is_recording() {
            return;
        }
        let (key, value) = (key.into(), value.into());
        with_current_record(|rec| rec.set_custom(key, value));
    }

    /// Sets one of the schema's fields on the current span.
    #[inline]
    pub fn set(&self, field: Field, value: impl Into<Value>) {
        if crate::state::is_enabled() {
            set_field(field, value.into());
        }
    }

    /// Records token usage reported by the model.
    #[inline(always)]
    pub fn record_usage(&self, usage: crate::Usage) {
        // Not installed, this is one relaxed load; the work stays out of line.
        if crate::state::is_enabled() {
            record_usage(usage);
        }
    }

    /// Records the cost of the call in USD, overriding the computed one.
    #[inline(always)]
    pub fn record_cost_usd(&self, usd: f64) {
        if crate::state::is_enabled() {
            set_field(Field::CostTotal, Value::F64(usd));
        }
    }

    /// Adds an event with attributes to the current span.
    pub fn add_event<K, V>(
        &self,
        name: impl Into<Cow<'static, str>>,
        attributes: impl IntoIterator<Item = (K, V)>,
    ) where
        K: Into<Cow<'static, str>>,
        V: Into<Value>,
    {
        if !self.is_recording() {
            return;
        }
        let name = name.into();
        let attributes: Vec<_> = attributes
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let time = crate::record::clock::now();
        with_current_record(|rec| {
            rec.extra_mut().events.push(Event {
                name,
                time,
                attributes,
            })
        });
    }
}
