//! Token usage reported by a model call, and the trait a call's response implements to report it.

pub(crate) mod intern;
mod response;

pub use response::LlmResponse;
#[cfg(all(test, feature = "async-openai"))]
pub(crate) use response::record_response;
pub(crate) use response::respond;

use crate::record::{Field, Record, Tally};

/// Token counts of one model call.
///
/// `input_tokens` counts every input token, cached ones included; `output_tokens` counts every
/// output token, reasoning included. The cache and reasoning counts are subsets of those totals,
/// as in the OpenTelemetry GenAI conventions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// All input tokens, cached ones included.
    pub input_tokens: Option<u64>,
    /// All output tokens, reasoning included.
    pub output_tokens: Option<u64>,
    /// Input tokens served from the provider's cache.
    pub cache_read_tokens: Option<u64>,
    /// Input tokens written to the provider's cache.
    pub cache_write_tokens: Option<u64>,
    /// Output tokens spent on reasoning.
    pub reasoning_tokens: Option<u64>,
}

impl Usage {
    /// Input and output token counts.
    pub const fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            input_tokens: Some(input_tokens),
            output_tokens: Some(output_tokens),
            cache_read_tokens: None,
            cache_write_tokens: None,
            reasoning_tokens: None,
        }
    }

    /// Usage as APIs report it that count cached input apart from the input (Anthropic's
    /// `input_tokens`, `cache_read_input_tokens`, `cache_creation_input_tokens`): the input
    /// recorded is their sum, as the GenAI conventions define it.
    ///
    /// ```
    /// use llmtrace_runtime::Usage;
    ///
    /// // Anthropic: {"input_tokens": 50, "cache_read_input_tokens": 1000,
    /// //             "cache_creation_input_tokens": 200, "output_tokens": 80}
    /// let usage = Usage::with_separate_cache(50, 1000, 200, 80);
    /// assert_eq!(usage.input_tokens, Some(1250));
    /// assert_eq!(usage.cache_read_tokens, Some(1000));
    /// ```
    pub const fn with_separate_cache(
        uncached_input: u64,
        cache_read: u64,
        cache_write: u64,
        output: u64,
    ) -> Self {
        Usage::new(
            uncached_input
                .saturating_add(cache_read)
                .saturating_add(cache_write),
            output,
        )
        .with_cache_read(cache_read)
        .with_cache_write(cache_write)
    }

    /// Adds the number of input tokens read from the cache (part of `input_tokens`).
    pub const fn with_cache_read(mut self, tokens: u64) -> Self {
        self.cache_read_tokens = Some(tokens);
        self
    }

    /// Adds the number of input tokens written to the cache (part of `input_tokens`).
    pub const fn with_cache_write(mut self, tokens: u64) -> Self {
        self.cache_write_tokens = Some(tokens);
        self
    }

    /// Adds the number of reasoning tokens (part of `output_tokens`).
    pub const fn with_reasoning(mut self, tokens: u64) -> Self {
        self.reasoning_tokens = Some(tokens);
        self
    }

    /// Counts these tokens in a sampled-out call's tally.
    pub(crate) fn tally(&self, tally: &mut Tally) {
        let counts = [
            (Field::InputTokens, self.input_tokens),
            (Field::OutputTokens, self.output_tokens),
            (Field::CacheReadTokens, self.cache_read_tokens),
            (Field::CacheWriteTokens, self.cache_write_tokens),
            (Field::ReasoningTokens, self.reasoning_tokens),
        ];
        for (field, count) in counts {
            if let Some(n) = count {
                tally.set_token(field, n);
            }
        }
    }

    pub(crate) fn record(&self, rec: &mut Record) {
        let counts = [
            self.input_tokens,
            self.output_tokens,
            self.cache_read_tokens,
            self.cache_write_tokens,
            self.reasoning_tokens,
        ];
        for (slot, count) in counts.into_iter().enumerate() {
            if let Some(n) = count {
                rec.tokens.set(slot, n);
            }
        }
    }
}
