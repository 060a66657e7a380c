//! Feedback from users: an evaluation named `user_feedback`, usually arriving after the trace
//! ended, from a front end that kept the trace's context as text.

use super::{EvaluationTarget, Judged, Recorded, evaluation};

/// The evaluation name of user feedback.
pub const USER_FEEDBACK: &str = crate::semconv::keys::event::USER_FEEDBACK;

/// Starts feedback from a user on the trace `target` designates: the context captured in its
/// root span (sent to the front end as [`TraceContext::to_string`](crate::TraceContext) and
/// parsed back), which attaches the feedback to the root; or a bare [`TraceId`](crate::TraceId),
/// which attaches it to the trace.
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// #[llmtrace::workflow(name = "support_answer")]
/// fn answer(question: &str) -> (String, String) {
///     (format!("echo: {question}"), llmtrace::current().context().to_string())
/// }
///
/// let (_reply, trace) = answer("where is my order?");
/// // Later, when the user clicks thumbs-down:
/// let trace: llmtrace::TraceContext = trace.parse().unwrap();
/// llmtrace::feedback(&trace).thumbs_down().comment("wrong order status").record();
/// ```
pub fn feedback(target: impl EvaluationTarget) -> Feedback {
    Feedback {
        judged: target.judged(),
        score: None,
        label: None,
        comment: None,
    }
}

/// User feedback being built; see [`feedback`]. Recorded as an evaluation named
/// [`user_feedback`](USER_FEEDBACK): thumbs up is score 1 labelled `thumbs_up`, thumbs down score
/// 0 labelled `thumbs_down`, the comment its explanation.
#[derive(Clone, Debug)]
#[must_use = "feedback is recorded by `record`"]
pub struct Feedback {
    judged: Option<Judged>,
    score: Option<f64>,
    label: Option<&'static str>,
    comment: Option<String>,
}

impl Feedback {
    /// The user liked the answer: score 1, label `thumbs_up`.
    pub fn thumbs_up(mut self) -> Self {
        self.score = Some(1.0);
        self.label = Some("thumbs_up");
        self
    }

    /// The user did not: score 0, label `thumbs_down`.
    pub fn thumbs_down(mut self) -> Self {
        self.score = Some(0.0);
        self.label = Some("thumbs_down");
        self
    }

    /// A rating on the application's own scale (stars, 0 to 10, ...), without a label.
    pub fn rating(mut self, score: f64) -> Self {
        self.score = Some(score);
        self.label = None;
        self
    }

    /// What the user wrote.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Records the feedback (see [`Evaluation::record_on`](super::Evaluation::record_on)).
    pub fn record(self) -> Recorded {
        let Some(judged) = self.judged else {
            return Recorded::Skipped;
        };
        let mut evaluation = evaluation(USER_FEEDBACK);
        if let Some(score) = self.score {
            evaluation = evaluation.score(score);
        }
        if let Some(label) = self.label {
            evaluation = evaluation.label(label);
        }
        if let Some(comment) = self.comment {
            evaluation = evaluation.explanation(comment);
        }
        evaluation.record_on(judged)
    }
}

impl EvaluationTarget for Judged {
    fn judged(&self) -> Option<Judged> {
        Some(*self)
    }
}
