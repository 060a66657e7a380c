//! `?` in `#[track_caller]` functions. Their body is kept in place (a closure would hide the
//! caller's location), so the expansion rewrites `e?` into a match on [`QuestionMark::branch`]
//! that breaks out of the body with [`QuestionMarkReturn::from_residual`]: the same conversions
//! `?` performs on stable for `Result` and `Option`.
//!
//! The expansion calls the traits' own methods, spanned at the user's tokens, and their impls
//! are `#[diagnostic::do_not_recommend]`: a value `?` does not apply to is reported at the value,
//! an error the function cannot return at the `?`, with the traits' messages, like the compiler's
//! own `?` errors. (The names differ from `core::ops`'s on purpose: rustc spells out the full
//! path of a name that two crates share.)

use std::convert::Infallible;
use std::ops::ControlFlow;

/// A value `?` can be applied to.
#[diagnostic::on_unimplemented(
    message = "the `?` operator can only be applied to values that implement `Try`",
    label = "the `?` operator cannot be applied to type `{Self}`",
    note = "in a `#[track_caller]` function the macro rewrites `?` itself, for `Result` and `Option`"
)]
pub trait QuestionMark {
    /// The value `?` produces.
    type Output;
    /// What `?` returns early with.
    type Residual;
    /// Splits into continue or early return.
    fn branch(self) -> ControlFlow<Self::Residual, Self::Output>;
}

#[diagnostic::do_not_recommend]
impl<T, E> QuestionMark for Result<T, E> {
    type Output = T;
    type Residual = Result<Infallible, E>;
    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Ok(v) => ControlFlow::Continue(v),
            Err(e) => ControlFlow::Break(Err(e)),
        }
    }
}

#[diagnostic::do_not_recommend]
impl<T> QuestionMark for Option<T> {
    type Output = T;
    type Residual = Option<Infallible>;
    #[inline]
    fn branch(self) -> ControlFlow<Self::Residual, T> {
        match self {
            Some(v) => ControlFlow::Continue(v),
            None => ControlFlow::Break(None),
        }
    }
}

/// A return type an early return of `?` converts into.
#[diagnostic::on_unimplemented(
    message = "`?` couldn't convert the error to `{Self}`",
    label = "the function returns `{Self}`, which cannot hold this error",
    note = "the question mark operation (`?`) implicitly performs a conversion on the error value using the `From` trait: implement `From` for the function's error type, or convert the error first (`.map_err(..)`)"
)]
pub trait QuestionMarkReturn<R> {
    /// The converted early return.
    fn from_residual(residual: R) -> Self;
}

// The conversion goes through `ErrorInto`, not `F: From<E>` here: with that bound, rustc would
// solve it for `E = F` and show this impl, in these sources, as the one that is implemented.
#[diagnostic::do_not_recommend]
impl<T, E: ErrorInto<F>, F> QuestionMarkReturn<Result<Infallible, E>> for Result<T, F> {
    #[inline]
    fn from_residual(residual: Result<Infallible, E>) -> Self {
        match residual {
            Err(e) => Err(e.error_into()),
            Ok(never) => match never {},
        }
    }
}

#[diagnostic::do_not_recommend]
impl<T> QuestionMarkReturn<Option<Infallible>> for Option<T> {
    #[inline]
    fn from_residual(_: Option<Infallible>) -> Self {
        None
    }
}

/// `F: From<E>`, as the bound of [`QuestionMarkReturn`]'s impl for `Result`; implemented for
/// every such pair.
pub trait ErrorInto<F> {
    /// `F::from(self)`.
    fn error_into(self) -> F;
}

#[diagnostic::do_not_recommend]
impl<E, F: From<E>> ErrorInto<F> for E {
    #[inline]
    fn error_into(self) -> F {
        F::from(self)
    }
}
