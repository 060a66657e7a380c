//! Evaluations joined to the trace they judge: a judge's score, a guardrail's verdict, a user's
//! thumbs-down arriving a minute later.
//!
//! An evaluation is the GenAI conventions' `gen_ai.evaluation.result` event, with
//! `gen_ai.evaluation.name`, `.score.value`, `.score.label`, `.explanation` and
//! `gen_ai.response.id`. While the judged span is open on the recording thread it is an event of
//! that span; otherwise (the span ended, or runs elsewhere) it is an OpenTelemetry log record
//! carrying the span's trace and span ids, exported by the log exporters (the JSONL logs file
//! next to the traces, and the console) off the caller's thread.

mod feedback;

use std::borrow::Cow;
use std::time::SystemTime;

pub use feedback::{Feedback, USER_FEEDBACK, feedback};

use crate::context::{CurrentSpan, TraceContext, TraceId, add_event_to_open_span};
use crate::record::{EvaluationResult, Event, Value, clock};
use crate::semconv::keys::{event, gen_ai};
use crate::state::{self, evaluations};

/// Starts an evaluation named `name` (`gen_ai.evaluation.name`: `relevance`, `faithfulness`,
/// ...). Give it a score, a label and an explanation, then [`record_on`](Evaluation::record_on)
/// the span it judges.
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// #[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
/// fn chat(prompt: &str) -> String {
///     let answer = format!("echo: {prompt}");
///     // While the call's span is open: an event of the span.
///     llmtrace::evaluation("format")
///         .score(1.0)
///         .label("plain_text")
///         .record_on(llmtrace::current());
///     answer
/// }
///
/// #[llmtrace::workflow(name = "support_answer")]
/// fn answer(question: &str) -> (String, llmtrace::TraceContext) {
///     (chat(question), llmtrace::current().context())
/// }
///
/// let (reply, judged) = answer("where is my order?");
/// // After the span ended: a log record parented to it.
/// llmtrace::evaluation("relevance")
///     .score(0.82)
///     .label("relevant")
///     .explanation("answers the question asked")
///     .record_on(&judged);
/// # let _ = reply;
/// ```
pub fn evaluation(name: impl Into<Cow<'static, str>>) -> Evaluation {
    Evaluation {
        name: name.into(),
        score: None,
        label: None,
        explanation: None,
        response_id: None,
    }
}

/// An evaluation result being built; see [`evaluation`].
#[derive(Clone, Debug)]
#[must_use = "an evaluation is recorded by `record_on`"]
pub struct Evaluation {
    name: Cow<'static, str>,
    score: Option<f64>,
    label: Option<Cow<'static, str>>,
    explanation: Option<String>,
    response_id: Option<String>,
}

/// What [`Evaluation::record_on`] did with the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recorded {
    /// An event of the judged span, which is open on this thread.
    SpanEvent,
    /// A log record carrying the judged span's ids, queued for the log exporters.
    LogRecord,
    /// Nothing: llmtrace is not installed, the target is not inside a trace, or the span has
    /// ended in the `tracing` or OTel-provider mode, which export spans only (counted in
    /// `stats().evaluations_dropped`).
    Skipped,
}

impl Evaluation {
    /// The score (`gen_ai.evaluation.score.value`). A score that is not a finite number is left
    /// out.
    pub fn score(mut self, score: f64) -> Self {
        self.score = score.is_finite().then_some(score);
        self
    }

    /// A low-cardinality label for the score (`gen_ai.evaluation.score.label`): `relevant`,
    /// `pass`, `thumbs_down`.
    pub fn label(mut self, label: impl Into<Cow<'static, str>>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Why the score was given (`gen_ai.evaluation.explanation`).
    pub fn explanation(mut self, explanation: impl Into<String>) -> Self {
        self.explanation = Some(explanation.into());
        self
    }

    /// The id of the judged response (`gen_ai.response.id`), which joins the result to the
    /// response in backends that key evaluations by it.
    pub fn response_id(mut self, id: impl Into<String>) -> Self {
        self.response_id = Some(id.into());
        self
    }

    /// Records the result on the span `target` designates: a [`TraceContext`] captured inside
    /// it (or read back from its text), [`current()`](crate::current) for the span open here,
    /// or a [`TraceId`] for the trace as a whole.
    ///
    /// When that span is open on this thread and recorded, the result is an event of it.
    /// Otherwise it is a log record with the span's trace and span ids, exported off this
    /// thread even when the trace was sampled out, so that a score is never lost with its trace.
    pub fn record_on(self, target: impl EvaluationTarget) -> Recorded {
        if !state::is_enabled() {
            return Recorded::Skipped;
        }
        let Some(ids) = target.judged() else {
            return Recorded::Skipped;
        };
        let result = EvaluationResult {
            trace_id: ids.trace_id,
            span_id: ids.span_id,
            sampled: ids.sampled,
            time: SystemTime::now(),
            name: self.name,
            score: self.score,
            label: self.label,
            explanation: self.explanation,
            response_id: self.response_id,
        };
        if ids.span_id != 0 {
            let event = Event {
                name: Cow::Borrowed(event::EVALUATION_RESULT),
                time: clock::now(),
                attributes: attributes(&result),
            };
            if add_event_to_open_span(ids.span_id, event).is_ok() {
                return Recorded::SpanEvent;
            }
        }
        // The host modes have no export worker to send log records: the host's exporters take
        // spans only.
        if state::get().is_some_and(|p| p.output.host().is_some()) {
            evaluations::count_dropped();
            return Recorded::Skipped;
        }
        evaluations::submit(result);
        Recorded::LogRecord
    }
}

/// The span or trace an evaluation judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judged {
    trace_id: u128,
    /// 0 for the trace as a whole.
    span_id: u64,
    sampled: bool,
}

/// What an evaluation can be recorded on: a [`TraceContext`] (the span it was captured in),
/// [`CurrentSpan`] (the span open here) or a [`TraceId`] (the trace as a whole).
pub trait EvaluationTarget {
    /// The judged ids; `None` outside a trace.
    fn judged(&self) -> Option<Judged>;
}

impl EvaluationTarget for TraceContext {
    fn judged(&self) -> Option<Judged> {
        Some(Judged {
            trace_id: self.trace_id()?.0,
            span_id: self.span_id()?.0,
            sampled: self.is_sampled(),
        })
    }
}

impl EvaluationTarget for CurrentSpan {
    fn judged(&self) -> Option<Judged> {
        self.context().judged()
    }
}

impl EvaluationTarget for TraceId {
    fn judged(&self) -> Option<Judged> {
        (self.0 != 0).then_some(Judged {
            trace_id: self.0,
            span_id: 0,
            // Unknown here: the log record is exported either way.
            sampled: false,
        })
    }
}

impl<T: EvaluationTarget + ?Sized> EvaluationTarget for &T {
    fn judged(&self) -> Option<Judged> {
        (**self).judged()
    }
}

/// The event's attributes: the name always, the rest when given.
pub(crate) fn attributes(result: &EvaluationResult) -> Vec<(Cow<'static, str>, Value)> {
    let mut attributes = Vec::with_capacity(5);
    attributes.push((
        Cow::Borrowed(gen_ai::EVALUATION_NAME),
        Value::String(result.name.as_ref().into()),
    ));
    if let Some(score) = result.score {
        attributes.push((
            Cow::Borrowed(gen_ai::EVALUATION_SCORE_VALUE),
            Value::F64(score),
        ));
    }
    if let Some(label) = &result.label {
        attributes.push((
            Cow::Borrowed(gen_ai::EVALUATION_SCORE_LABEL),
            Value::String(label.as_ref().into()),
        ));
    }
    if let Some(explanation) = &result.explanation {
        attributes.push((
            Cow::Borrowed(gen_ai::EVALUATION_EXPLANATION),
            Value::String(explanation.as_str().into()),
        ));
    }
    if let Some(id) = &result.response_id {
        attributes.push((
            Cow::Borrowed(gen_ai::RESPONSE_ID),
            Value::String(id.as_str().into()),
        ));
    }
    attributes
}

/// `★ relevance 0.82 (relevant)`: how the console shows a result.
pub(crate) fn console_text(name: &str, score: Option<f64>, label: Option<&str>) -> String {
    let mut text = format!("★ {name}");
    if let Some(score) = score {
        text.push_str(&format!(" {score}"));
    }
    if let Some(label) = label {
        text.push_str(&format!(" ({label})"));
    }
    text
}
