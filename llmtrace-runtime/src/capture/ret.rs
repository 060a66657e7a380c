//! Recording what an instrumented function returned, chosen by the return type at compile time
//! (autoref specialization: the expansion calls `(&&&&Ret(&value)).__llmtrace_*(..)` and method
//! resolution picks the most specific impl whose bounds hold).
//!
//! Output: the `Ok` value of a `Result` whose `Ok` type is `Serialize`, else the whole value when
//! it is `Serialize`, else nothing. Errors: an `Err` whose type implements [`ErrorType`] gives its
//! own `error.type`; otherwise the type's name, with the `Display` (or `Debug`) text as the
//! description.

use std::fmt::{Debug, Display, Write};

use serde::Serialize;

use crate::capture;
use crate::record::{Field, Record, Target, Value};
use crate::schema::ErrorType;
use crate::usage::{self, LlmResponse};

/// The value being recorded.
#[derive(Debug)]
pub struct Ret<'a, T: ?Sized>(pub &'a T);

/// Records an error: its type and description on a span, its type alone in a sampled-out
/// call's tally (`message` is not called then).
fn record_error(
    target: &mut Target<'_>,
    error_type: std::borrow::Cow<'static, str>,
    message: impl FnOnce() -> Box<str>,
) {
    let error_type = match error_type {
        std::borrow::Cow::Borrowed(s) => Value::Str(s),
        std::borrow::Cow::Owned(s) => Value::String(s.into_boxed_str()),
    };
    match target {
        Target::Record(rec) => rec.set_error(error_type, Some(message())),
        Target::Tally(tally) => tally.fail(error_type),
    }
}

fn type_name_of<E: ?Sized>() -> std::borrow::Cow<'static, str> {
    capture::short_type_name(std::any::type_name::<E>())
}

fn display(e: &impl Display) -> Box<str> {
    capture::message(|s| write!(s, "{e}"))
}

fn debug(e: &impl Debug) -> Box<str> {
    capture::message(|s| write!(s, "{e:?}"))
}

/// Errors, most specific: `Result<_, E: ErrorType>`.
pub trait ErrorViaErrorType {
    /// Records the error of an `Err` value.
    fn __llmtrace_error(&self, target: &mut Target<'_>);
}

impl<T, E: ErrorType> ErrorViaErrorType for &&&Ret<'_, Result<T, E>> {
    fn __llmtrace_error(&self, target: &mut Target<'_>) {
        if let Err(e) = self.0 {
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| e.error_type()))
                .unwrap_or_else(|_| type_name_of::<E>());
            record_error(target, code, || display(e));
        }
    }
}

/// Errors: `Result<_, E: Display>`.
pub trait ErrorViaDisplay {
    /// Records the error of an `Err` value.
    fn __llmtrace_error(&self, target: &mut Target<'_>);
}

impl<T, E: Display> ErrorViaDisplay for &&Ret<'_, Result<T, E>> {
    fn __llmtrace_error(&self, target: &mut Target<'_>) {
        if let Err(e) = self.0 {
            record_error(target, type_name_of::<E>(), || display(e));
        }
    }
}

/// Errors: `Result<_, E: Debug>`.
pub trait ErrorViaDebug {
    /// Records the error of an `Err` value.
    fn __llmtrace_error(&self, target: &mut Target<'_>);
}

impl<T, E: Debug> ErrorViaDebug for &Ret<'_, Result<T, E>> {
    fn __llmtrace_error(&self, target: &mut Target<'_>) {
        if let Err(e) = self.0 {
            record_error(target, type_name_of::<E>(), || debug(e));
        }
    }
}

/// Errors: anything else has none.
pub trait ErrorNone {
    /// Records nothing.
    fn __llmtrace_error(&self, target: &mut Target<'_>);
}

impl<T: ?Sized> ErrorNone for Ret<'_, T> {
    #[inline]
    fn __llmtrace_error(&self, _target: &mut Target<'_>) {}
}

/// Output, most specific: the `Ok` value of a `Result` whose `Ok` type is serializable.
pub trait OutputOk {
    /// Records the output into `field`.
    fn __llmtrace_output(&self, rec: &mut Record, field: Field);
}

impl<T: Serialize, E> OutputOk for &&&Ret<'_, Result<T, E>> {
    fn __llmtrace_output(&self, rec: &mut Record, field: Field) {
        if let Ok(v) = self.0 {
            capture::record_json(rec, field, v);
        }
    }
}

/// Output: a `Result` whose `Ok` type is not serializable records nothing.
pub trait OutputOkUnserializable {
    /// Records nothing.
    fn __llmtrace_output(&self, rec: &mut Record, field: Field);
}

impl<T, E> OutputOkUnserializable for &&Ret<'_, Result<T, E>> {
    #[inline]
    fn __llmtrace_output(&self, _rec: &mut Record, _field: Field) {}
}

/// Output: any serializable value.
pub trait OutputSerialize {
    /// Records the output into `field`.
    fn __llmtrace_output(&self, rec: &mut Record, field: Field);
}

impl<T: Serialize + ?Sized> OutputSerialize for &Ret<'_, T> {
    fn __llmtrace_output(&self, rec: &mut Record, field: Field) {
        capture::record_json(rec, field, self.0);
    }
}

/// Output: anything else records nothing.
pub trait OutputNone {
    /// Records nothing.
    fn __llmtrace_output(&self, rec: &mut Record, field: Field);
}

impl<T: ?Sized> OutputNone for Ret<'_, T> {
    #[inline]
    fn __llmtrace_output(&self, _rec: &mut Record, _field: Field) {}
}

/// Response, most specific: the `Ok` value of a `Result` implements [`LlmResponse`].
/// Returns whether output messages were recorded.
pub trait ResponseOk {
    /// Records the response's usage and details.
    fn __llmtrace_response(&self, target: &mut Target<'_>, content: bool) -> bool;
}

impl<T: LlmResponse, E> ResponseOk for &&Ret<'_, Result<T, E>> {
    fn __llmtrace_response(&self, target: &mut Target<'_>, content: bool) -> bool {
        match self.0 {
            Ok(v) => usage::respond(target, v, content),
            Err(_) => false,
        }
    }
}

/// Response: the value implements [`LlmResponse`] (an `Option` of one does too).
pub trait ResponseValue {
    /// Records the response's usage and details.
    fn __llmtrace_response(&self, target: &mut Target<'_>, content: bool) -> bool;
}

impl<T: LlmResponse + ?Sized> ResponseValue for &Ret<'_, T> {
    fn __llmtrace_response(&self, target: &mut Target<'_>, content: bool) -> bool {
        usage::respond(target, self.0, content)
    }
}

/// Response: anything else reports nothing (the span says usage is missing).
pub trait ResponseNone {
    /// Records nothing.
    fn __llmtrace_response(&self, target: &mut Target<'_>, content: bool) -> bool;
}

impl<T: ?Sized> ResponseNone for Ret<'_, T> {
    #[inline]
    fn __llmtrace_response(&self, _target: &mut Target<'_>, _content: bool) -> bool {
        false
    }
}
