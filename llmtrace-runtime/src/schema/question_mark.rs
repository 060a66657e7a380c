//! `?` for bodies that are kept in place (`#[track_caller]` functions): the expansion rewrites
//! `e?` into a match on [`try_branch`] that breaks out of the body with [`from_residual`], the
//! same conversions `?` performs on stable for `Result` and `Option`.

use std::convert::Infallible;
use std::ops::ControlFlow;

/// A value `?` can be applied to.
pub trait Branch {
    /// The value `?` produces.
    type Output;
    /// What `?` returns early with.
    type Residual;
    /// Splits into continue or early return.
    fn branch(self) -> ControlFlow<Self::Residual, Self::Output>;
}

impl<T, E> Branch for Result<T, E> {
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

impl<T> Branch for Option<T> {
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
pub trait FromResidual<R> {
    /// The converted early return.
    fn from_residual(residual: R) -> Self;
}

impl<T, E, F: From<E>> FromResidual<Result<Infallible, E>> for Result<T, F> {
    #[inline]
    fn from_residual(residual: Result<Infallible, E>) -> Self {
        match residual {
            Err(e) => Err(From::from(e)),
            Ok(never) => match never {},
        }
    }
}

impl<T> FromResidual<Option<Infallible>> for Option<T> {
    #[inline]
    fn from_residual(_: Option<Infallible>) -> Self {
        None
    }
}

/// `?`'s first step.
#[inline]
pub fn try_branch<T: Branch>(value: T) -> ControlFlow<T::Residual, T::Output> {
    value.branch()
}

/// `?`'s early return.
#[inline]
pub fn from_residual<R, T: FromResidual<R>>(residual: R) -> T {
    T::from_residual(residual)
}
