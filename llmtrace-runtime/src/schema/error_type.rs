//! A finer `error.type` for an error than its type name.

use std::fmt::Display;

/// A finer `error.type` for an error than its type name.
///
/// ```
/// use std::borrow::Cow;
///
/// #[derive(Debug)]
/// enum ApiError { RateLimited, Timeout }
///
/// impl std::fmt::Display for ApiError {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         write!(f, "{self:?}")
///     }
/// }
///
/// impl llmtrace_runtime::ErrorType for ApiError {
///     fn error_type(&self) -> Cow<'static, str> {
///         match self {
///             ApiError::RateLimited => "rate_limited".into(),
///             ApiError::Timeout => "timeout".into(),
///         }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `llmtrace::ErrorType`",
    label = "implement `ErrorType` to give this error a finer `error.type`"
)]
pub trait ErrorType: Display {
    /// A low-cardinality code for this error (`rate_limited`, `timeout`, an HTTP status...).
    fn error_type(&self) -> std::borrow::Cow<'static, str>;
}
