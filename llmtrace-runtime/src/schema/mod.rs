//! What the macros require of the code they instrument, as traits. A compile error that names
//! one of them points at the argument, parameter or return type that does not fit:
//!
//! * an argument given as an expression must have the argument's type: [`StrArg`] (`model`,
//!   `provider`, `name`, ...), [`IntArg`] (`max_tokens`, `top_k`, `seed`, ...), [`FloatArg`]
//!   (`temperature`, `top_p`, ...), [`StrListArg`] (`stop_sequences`), [`AttrArg`] (custom
//!   attributes);
//! * a captured parameter must implement `serde::Serialize` ([`SpanInput`]), or be skipped;
//! * the documents a `#[retrieval]` returns must implement `serde::Serialize` or [`Document`]
//!   ([`RetrievalOutput`]);
//! * `messages = ..` must be [`Messages`](crate::Messages), and `usage = ..` a closure returning
//!   an [`LlmResponse`](crate::LlmResponse);
//! * a `#[guardrail]` returns whether the check passed ([`GuardrailReturn`]: `bool` or a
//!   [`GuardrailOutcome`]); `links = [..]` are [`LinkArg`]s; a `#[rerank]`'s input documents
//!   are recorded like a `#[retrieval]`'s output;
//! * in a `#[track_caller]` function, whose body the macros keep in place, `?` applies to a
//!   `Result` or an `Option` ([`QuestionMark`]) whose early return the function's return type
//!   can hold ([`QuestionMarkReturn`]).
//!
//! The impls of these traits are `#[diagnostic::do_not_recommend]`, so such an error names the
//! user's own type, with the trait's message and fix, and lists no impls of the runtime.

mod args;
mod capture;
mod embedding_vectors;
mod error_type;
mod guardrail_outcome;
mod links;
mod question_mark;
mod rerank;
mod response;

pub use args::{AttrArg, BoolArg, FloatArg, IntArg, StrArg, StrListArg};
pub use capture::{
    Document, NoDocuments, RetrievalOutput, SpanInput, ViaDocument, ViaSerialize, documents,
};
pub use embedding_vectors::{EmbeddingVectors, vectors};
pub use error_type::ErrorType;
pub use guardrail_outcome::{Checked, GuardrailOutcome, GuardrailReturn, Verdict, guardrail};
pub use links::LinkArg;
pub use question_mark::{ErrorInto, QuestionMark, QuestionMarkReturn};
pub use rerank::record_input_documents;
// Still exported for code that calls it; the expansions no longer do.
#[allow(deprecated)]
pub use response::input_messages;
pub use response::{UsageFromOk, UsageFromValue};
