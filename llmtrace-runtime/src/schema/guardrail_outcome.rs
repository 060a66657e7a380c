//! What a `#[guardrail]` function returns: whether the check passed, and why.
//!
//! The expansion reads the return value through the probes of [`guardrail`] (a `Result`'s `Ok`
//! value first, then the value itself) and records it through [`GuardrailReturn`], whose message
//! names the function's return type when it says nothing about passing.

use std::borrow::Cow;

use serde::Serialize;

use crate::record::{Field, Record, Value};

/// What a guardrail decided. `bool` implements it (`true` passed); implement it for your own
/// verdict type, or return a [`Verdict`].
///
/// A guardrail that fails is not a failed span: the span's status is an error only when the
/// function returns `Err` or panics.
///
/// ```
/// use std::borrow::Cow;
///
/// struct Moderation { flagged: bool, category: &'static str }
///
/// impl llmtrace_runtime::GuardrailOutcome for Moderation {
///     fn passed(&self) -> bool {
///         !self.flagged
///     }
///     fn reason(&self) -> Option<Cow<'_, str>> {
///         self.flagged.then(|| Cow::Borrowed(self.category))
///     }
/// }
/// ```
pub trait GuardrailOutcome {
    /// Whether the check passed (`llmtrace.guardrail.passed`).
    fn passed(&self) -> bool;

    /// Why it passed or failed (`llmtrace.guardrail.reason`, recorded when content is
    /// captured: a reason may quote the text checked).
    fn reason(&self) -> Option<Cow<'_, str>> {
        None
    }
}

impl GuardrailOutcome for bool {
    fn passed(&self) -> bool {
        *self
    }
}

impl<T: GuardrailOutcome + ?Sized> GuardrailOutcome for &T {
    fn passed(&self) -> bool {
        (**self).passed()
    }

    fn reason(&self) -> Option<Cow<'_, str>> {
        (**self).reason()
    }
}

impl<T: GuardrailOutcome + ?Sized> GuardrailOutcome for Box<T> {
    fn passed(&self) -> bool {
        (**self).passed()
    }

    fn reason(&self) -> Option<Cow<'_, str>> {
        (**self).reason()
    }
}

/// A guardrail's verdict with its reason, ready to return from a `#[guardrail]` function.
///
/// ```
/// use llmtrace_runtime::{self as llmtrace, Verdict};
///
/// #[llmtrace::guardrail(name = "no_secrets")]
/// fn no_secrets(answer: &str) -> Verdict {
///     if answer.contains("sk-") {
///         Verdict::fail("the answer quotes an API key")
///     } else {
///         Verdict::pass()
///     }
/// }
/// # assert!(no_secrets("hello").passed);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// Whether the check passed.
    pub passed: bool,
    /// Why it passed or failed.
    pub reason: Option<String>,
}

impl Verdict {
    /// The check passed.
    pub fn pass() -> Self {
        Verdict {
            passed: true,
            reason: None,
        }
    }

    /// The check failed, for this reason.
    pub fn fail(reason: impl Into<String>) -> Self {
        Verdict {
            passed: false,
            reason: Some(reason.into()),
        }
    }

    /// Adds (or replaces) the reason.
    pub fn with_reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
}

impl GuardrailOutcome for Verdict {
    fn passed(&self) -> bool {
        self.passed
    }

    fn reason(&self) -> Option<Cow<'_, str>> {
        self.reason.as_deref().map(Cow::Borrowed)
    }
}

/// What a `#[guardrail]` function returns, read as a verdict: `bool`, a type implementing
/// [`GuardrailOutcome`], or a `Result` of one.
///
/// Implemented only for what the probes produce: a return value that says nothing about
/// passing is handed over as it is, and this trait is then reported as not implemented for the
/// function's return type.
#[diagnostic::on_unimplemented(
    message = "a `#[guardrail]` function must return whether the check passed, not `{Self}`",
    label = "does not say whether the check passed",
    note = "return `bool`, `llmtrace::Verdict`, a type implementing `llmtrace::GuardrailOutcome`, or a `Result` of one"
)]
pub trait GuardrailReturn {
    /// Records the verdict; the reason only when `reason` is true (content capture on).
    fn record(self, rec: &mut Record, reason: bool);
}

/// A verdict, or nothing (an `Err`, recorded as the span's error).
#[derive(Debug)]
pub enum Checked<'a, T: ?Sized> {
    /// The verdict.
    Some(&'a T),
    /// An `Err`.
    None,
}

#[diagnostic::do_not_recommend]
impl<T: GuardrailOutcome + ?Sized> GuardrailReturn for Checked<'_, T> {
    fn record(self, rec: &mut Record, reason: bool) {
        let Checked::Some(outcome) = self else {
            return;
        };
        // User code: a panic loses the verdict, never the span.
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let why = if reason {
                outcome.reason().map(|r| Value::String(r.into()))
            } else {
                None
            };
            (outcome.passed(), why)
        }));
        if let Ok((passed, why)) = read {
            rec.set(Field::GuardrailPassed, Value::Bool(passed));
            rec.set_opt(Field::GuardrailReason, why);
        }
    }
}

/// Picks how a guardrail's return value is read: a `Result`'s `Ok` value, then the value
/// itself; anything else is a compile error. The expansion calls
/// `(&&&Ret(&value)).__llmtrace_verdict()`: each level is one `&` less.
pub mod guardrail {
    use super::*;

    /// The value being recorded.
    #[derive(Debug)]
    pub struct Ret<'a, T: ?Sized>(pub &'a T);

    /// `Result<T: GuardrailOutcome, E>`.
    pub trait OkOutcome<'a> {
        /// The verdict to record.
        type Out;
        /// Probes the value.
        fn __llmtrace_verdict(self) -> Self::Out;
    }

    impl<'a, T: GuardrailOutcome, E> OkOutcome<'a> for &&&Ret<'a, Result<T, E>> {
        type Out = Checked<'a, T>;
        fn __llmtrace_verdict(self) -> Self::Out {
            match self.0 {
                Ok(v) => Checked::Some(v),
                Err(_) => Checked::None,
            }
        }
    }

    /// `T: GuardrailOutcome`.
    pub trait ValueOutcome<'a> {
        /// The verdict to record.
        type Out;
        /// Probes the value.
        fn __llmtrace_verdict(self) -> Self::Out;
    }

    impl<'a, T: GuardrailOutcome + ?Sized> ValueOutcome<'a> for &&Ret<'a, T> {
        type Out = Checked<'a, T>;
        fn __llmtrace_verdict(self) -> Self::Out {
            Checked::Some(self.0)
        }
    }

    /// Anything else: the value itself, which implements no [`GuardrailReturn`], so the error
    /// names the function's return type.
    pub trait OutcomeOther<'a> {
        /// The verdict to record.
        type Out;
        /// Probes the value.
        fn __llmtrace_verdict(self) -> Self::Out;
    }

    impl<'a, T: ?Sized> OutcomeOther<'a> for &Ret<'a, T> {
        type Out = &'a T;
        fn __llmtrace_verdict(self) -> Self::Out {
            self.0
        }
    }
}
