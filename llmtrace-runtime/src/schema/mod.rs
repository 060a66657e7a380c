//! What the macros require of the code they instrument, as traits. A compile error that names
//! one of them points at the argument, parameter or return type that does not fit:
//!
//! * an argument given as an expression must have the argument's type: [`StrArg`] (`model`,
//!   `provider`, `name`, ...), [`IntArg`] (`max_tokens`, `top_k`, `seed`, ...), [`FloatArg`]
//!   (`temperature`, `top_p`, ...), [`StrListArg`] (`stop_sequences`), [`AttrArg`] (custom
//!   attributes);
//! * a captured parameter must implement `serde::Serialize` ([`CapturedParam`]), or be skipped;
//! * the documents a `#[retrieval]` returns must implement `serde::Serialize` or [`Document`]
//!   ([`RetrievedDocuments`]);
//! * `messages = ..` must be [`Messages`](crate::Messages) ([`input_messages`]), and
//!   `usage = ..` a closure returning an [`LlmResponse`](crate::LlmResponse) ([`UsageFromOk`]).

mod args;
mod capture;
mod response;

use std::fmt::Display;

pub use args::{AttrArg, BoolArg, FloatArg, IntArg, StrArg, StrListArg};
pub use capture::{
    CapturedParam, Document, NoDocuments, NotDocuments, NotSerializable, Probe, ProbeOther,
    ProbeSerialize, RetrievedDocuments, Serializable, ViaDocument, ViaSerialize, documents,
};
pub use response::{UsageFromOk, UsageFromValue, input_messages};

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
