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

    /// The `error.type` of a failed HTTP response: `rate_limited` for 429 (counted as
    /// rate-limited calls in the metrics' `error.type`), `timeout` for 408 and 504, else the
    /// status code (`"500"`), as the conventions allow. For an error that exposes its status:
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use llmtrace_runtime::ErrorType;
    ///
    /// #[derive(Debug)]
    /// struct HttpError { status: u16 }
    ///
    /// impl std::fmt::Display for HttpError {
    ///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    ///         write!(f, "HTTP {}", self.status)
    ///     }
    /// }
    ///
    /// impl ErrorType for HttpError {
    ///     fn error_type(&self) -> Cow<'static, str> {
    ///         Self::from_http_status(self.status)
    ///     }
    /// }
    ///
    /// assert_eq!(HttpError { status: 429 }.error_type(), "rate_limited");
    /// assert_eq!(HttpError { status: 504 }.error_type(), "timeout");
    /// assert_eq!(HttpError { status: 503 }.error_type(), "503");
    /// ```
    fn from_http_status(status: u16) -> std::borrow::Cow<'static, str>
    where
        Self: Sized,
    {
        match status {
            429 => "rate_limited".into(),
            408 | 504 => "timeout".into(),
            status => status.to_string().into(),
        }
    }
}
