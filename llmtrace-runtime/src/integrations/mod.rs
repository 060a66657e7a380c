//! Implementations of llmtrace's traits for the types of model client crates, each behind the
//! cargo feature of the same name.

pub(crate) mod async_openai;
