//! Return types the metrics tests instrument: an error that says it was rate limited, and a
//! streamed chunk with optional text and usage.

// Each test binary includes this module and uses what it needs.
#![allow(dead_code)]

use std::borrow::Cow;

use llmtrace_runtime::{ErrorType, StreamChunk, Usage};

/// A provider's 429, typed `rate_limited`.
#[derive(Debug)]
pub(crate) struct RateLimited;

impl std::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("429 Too Many Requests")
    }
}

impl ErrorType for RateLimited {
    fn error_type(&self) -> Cow<'static, str> {
        "rate_limited".into()
    }
}

/// One streamed chunk: its text, and the usage the last chunk carries.
#[derive(Clone, Debug)]
pub(crate) struct Chunk(pub(crate) Option<&'static str>, pub(crate) Option<Usage>);

impl StreamChunk for Chunk {
    fn text(&self) -> Option<&str> {
        self.0
    }
    fn usage(&self) -> Option<Usage> {
        self.1
    }
}
