//! An evaluation of a span (a judge's score, a user's thumbs-down) that arrived after the span
//! ended: plain data on its way to the log exporters, as the `gen_ai.evaluation.result` event of
//! the GenAI conventions.

use std::borrow::Cow;
use std::time::SystemTime;

/// One evaluation result, with the ids of the span (or trace) it judges.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EvaluationResult {
    /// The judged trace.
    pub(crate) trace_id: u128,
    /// The judged span; 0 when only the trace is known (feedback given a bare trace id).
    pub(crate) span_id: u64,
    /// Whether the judged trace was recorded: a score for a sampled-out trace is still logged,
    /// so that the feedback is not lost with the trace.
    pub(crate) sampled: bool,
    /// When the result was recorded.
    pub(crate) time: SystemTime,
    /// `gen_ai.evaluation.name`.
    pub(crate) name: Cow<'static, str>,
    /// `gen_ai.evaluation.score.value`.
    pub(crate) score: Option<f64>,
    /// `gen_ai.evaluation.score.label`.
    pub(crate) label: Option<Cow<'static, str>>,
    /// `gen_ai.evaluation.explanation`.
    pub(crate) explanation: Option<String>,
    /// `gen_ai.response.id` of the judged response, when known.
    pub(crate) response_id: Option<String>,
}
