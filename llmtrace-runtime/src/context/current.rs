//! The manual API: add to the current span from inside an instrumented function.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use super::handle::TraceContext;
use super::ids::{SpanId, TraceId};
use super::thread::{self, with_current_record, with_current_target};
use crate::record::{Event, Field, Target, Value};
use crate::semconv::keys::link;

/// A handle to the innermost span open on this thread. Every method is a no-op when there is
/// none, or when the span is not recorded (sampled out, llmtrace not installed); but for a
/// sampled-out call counted in the metrics, [`record_usage`](Self::record_usage) and
/// [`record_cost_usd`](Self::record_cost_usd) still count.
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

/// Into the record, or into the tally of a sampled-out call counted in the metrics (which keeps
/// only what the metrics read: see `Tally::keeps`).
#[inline(never)]
fn set_field(field: Field, value: Value) {
    with_current_target(|target| match target {
        Target::Record(rec) => rec.set(field, value),
        Target::Tally(tally) => tally.set(field, value),
    });
}

/// Into the record's cost slot, or into the tally of a sampled-out call: its cost counts in the
/// metrics.
#[inline(never)]
fn record_cost(usd: f64) {
    with_current_target(|target| match target {
        Target::Record(rec) => rec.tokens.set_cost(usd),
        Target::Tally(tally) => tally.set(Field::CostTotal, Value::F64(usd)),
    });
}

/// Into the record, or into the tally of a sampled-out call: its tokens count in the metrics.
#[inline(never)]
fn record_usage(usage: crate::Usage) {
    with_current_target(|target| match target {
        Target::Record(rec) => usage.record(rec),
        Target::Tally(tally) => usage.tally(tally),
    });
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

    /// Records token usage reported by the model. With metrics on, it counts in them even when
    /// the call is sampled out.
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
            record_cost(usd);
        }
    }

    /// Links the current span to the span `to` is positioned at, in this trace or another: a
    /// handoff from one agent's trace to another's, a batch job that fans in many requests, a
    /// retry that points at the failed attempt (see [`retry_of`](Self::retry_of)). Exported
    /// as an OpenTelemetry span link, with these attributes.
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    ///
    /// #[llmtrace::workflow(name = "nightly_batch")]
    /// fn batch(requests: &[llmtrace::TraceContext]) -> usize {
    ///     for request in requests {
    ///         llmtrace::current().add_link(request, [("app.reason", "batched")]);
    ///     }
    ///     requests.len()
    /// }
    /// # assert_eq!(batch(&[]), 0);
    /// ```
    pub fn add_link<K, V>(&self, to: &TraceContext, attributes: impl IntoIterator<Item = (K, V)>)
    where
        K: Into<Cow<'static, str>>,
        V: Into<Value>,
    {
        if !self.is_recording() {
            return;
        }
        let attributes = attributes
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        if let Some(link) = to.link(attributes) {
            with_current_record(|rec| rec.extra_mut().links.push(link));
        }
    }

    /// Marks the current span as a retry of the attempt `failed` is positioned at (the span
    /// of the call that failed, captured with [`context`](Self::context) inside it): the span
    /// gets `llmtrace.retry.attempt` (2 for the first retry, one more than the failed
    /// attempt's for a retry of a retry) and a link to the failed attempt
    /// (`llmtrace.link.type = "retry_of"`).
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    ///
    /// #[llmtrace::tool(name = "fetch_page")]
    /// fn fetch(url: &str, retry_of: Option<&llmtrace::TraceContext>) -> Result<String, (String, llmtrace::TraceContext)> {
    ///     if let Some(failed) = retry_of {
    ///         llmtrace::current().retry_of(failed);
    ///     }
    ///     match retry_of {
    ///         None => Err(("timed out".into(), llmtrace::current().context())),
    ///         Some(_) => Ok(format!("<html>{url}</html>")),
    ///     }
    /// }
    ///
    /// let page = match fetch("https://example.com", None) {
    ///     Ok(page) => page,
    ///     Err((_, failed)) => fetch("https://example.com", Some(&failed)).unwrap(),
    /// };
    /// # assert!(page.starts_with("<html>"));
    /// ```
    pub fn retry_of(&self, failed: &TraceContext) {
        if !self.is_recording() {
            return;
        }
        let (Some(own), Some(previous)) = (self.span_id(), failed.span_id()) else {
            return;
        };
        let attempt = retry_attempt(own.0, previous.0);
        let attributes = vec![(Cow::Borrowed(link::TYPE), Value::Str(link::RETRY_OF))];
        let link = failed.link(attributes);
        with_current_record(|rec| {
            rec.set(Field::RetryAttempt, Value::I64(attempt));
            if let Some(link) = link {
                rec.extra_mut().links.push(link);
            }
        });
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

/// Adds `event` to span `span_id` when it is the span open on this thread and recorded; gives
/// the event back otherwise (the span ended, runs elsewhere, or is not recorded).
pub(crate) fn add_event_to_open_span(span_id: u64, event: Event) -> Result<(), Event> {
    let ctx = thread::get();
    if !ctx.is_valid() || ctx.span_id != span_id || ctx.record.is_null() {
        return Err(event);
    }
    let mut event = Some(event);
    with_current_record(|rec| {
        if let Some(event) = event.take() {
            rec.extra_mut().events.push(event);
        }
    });
    event.map_or(Ok(()), Err)
}

/// The attempt numbers of recent retries, by span id: a retry of a retry counts on.
static ATTEMPTS: Mutex<VecDeque<(u64, i64)>> = Mutex::new(VecDeque::new());
/// Retries remembered (a retry of one older than this many retries is counted as a second
/// attempt).
const ATTEMPTS_KEPT: usize = 1024;

/// The attempt number of span `own`, a retry of span `failed`, remembered for retries of it.
fn retry_attempt(own: u64, failed: u64) -> i64 {
    let mut attempts = ATTEMPTS.lock().unwrap_or_else(PoisonError::into_inner);
    let previous = attempts
        .iter()
        .rev()
        .find(|(span, _)| *span == failed)
        .map_or(1, |(_, n)| *n);
    let attempt = previous.saturating_add(1);
    if attempts.len() >= ATTEMPTS_KEPT {
        attempts.pop_front();
    }
    attempts.push_back((own, attempt));
    attempt
}
