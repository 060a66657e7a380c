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
mod error_type;
mod response;

pub use args::{AttrArg, BoolArg, FloatArg, IntArg, StrArg, StrListArg};
pub use capture::{
    CapturedParam, Document, NoDocuments, NotDocuments, NotSerializable, Probe, ProbeOther,
    ProbeSerialize, RetrievedDocuments, Serializable, ViaDocument, ViaSerialize, documents,
};
pub use error_type::ErrorType;
pub use response::{UsageFromOk, UsageFromValue, input_messages};
