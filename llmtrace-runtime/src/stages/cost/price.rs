//! [`ModelPrice`]: a price the user gives for a model, and the cost it puts on a call.

use super::call::{Cost, Tokens};

/// What a model costs, in US dollars per million tokens.
///
/// Give one for models the price database does not know (fine-tuned or self-hosted models) or
/// where you pay a negotiated rate; it wins over the database. Cache reads and writes are input
/// tokens: without their own rate they cost what other input tokens cost.
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use llmtrace::ModelPrice;
///
/// let _guard = llmtrace::init()
///     .model_price("ft:gpt-4o:acme", ModelPrice::per_million_tokens(3.75, 15.0).with_cache_read(1.875))
///     .provider_model_price(
///         "anthropic",
///         "claude-sonnet-4-5",
///         ModelPrice::per_million_tokens(2.4, 12.0).with_cache_read(0.24).with_cache_write(3.0),
///     )
///     .without_exporters()
///     .install();
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelPrice {
    pub(crate) input: f64,
    pub(crate) output: f64,
    pub(crate) cache_read: Option<f64>,
    pub(crate) cache_write: Option<f64>,
}

impl ModelPrice {
    /// USD per million input tokens and per million output tokens (reasoning tokens are output
    /// tokens).
    pub const fn per_million_tokens(input: f64, output: f64) -> Self {
        ModelPrice {
            input,
            output,
            cache_read: None,
            cache_write: None,
        }
    }

    /// USD per million input tokens read from the provider's prompt cache.
    pub const fn with_cache_read(mut self, usd_per_million: f64) -> Self {
        self.cache_read = Some(usd_per_million);
        self
    }

    /// USD per million input tokens written to the provider's prompt cache.
    pub const fn with_cache_write(mut self, usd_per_million: f64) -> Self {
        self.cache_write = Some(usd_per_million);
        self
    }

    /// Why this price cannot be used, if it cannot: every rate must be a finite, non-negative
    /// number, or costs would come out negative or NaN.
    pub(crate) fn invalid(&self) -> Option<String> {
        let rates = [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cache read", self.cache_read),
            ("cache write", self.cache_write),
        ];
        rates.into_iter().find_map(|(name, rate)| match rate {
            Some(r) if !(r.is_finite() && r >= 0.0) => Some(format!(
                "the {name} price {r} is not a finite, non-negative number"
            )),
            _ => None,
        })
    }

    /// The cost of one call. `input` includes the cache reads and writes, as in the database's
    /// own breakdown; the cache parts are reported on their own where this price has a rate for
    /// them.
    pub(crate) fn cost(&self, tokens: Tokens) -> Cost {
        const PER: f64 = 1_000_000.0;
        let uncached = tokens.uncached_input() as f64 * self.input / PER;
        let cache_read = tokens.cache_read as f64 * self.cache_read.unwrap_or(self.input) / PER;
        let cache_write = tokens.cache_write as f64 * self.cache_write.unwrap_or(self.input) / PER;
        let input = uncached + cache_read + cache_write;
        let output = tokens.output as f64 * self.output / PER;
        Cost {
            input,
            output,
            total: input + output,
            cache_read: (self.cache_read.is_some() && tokens.cache_read > 0).then_some(cache_read),
            cache_write: (self.cache_write.is_some() && tokens.cache_write > 0)
                .then_some(cache_write),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::cost::tests::assert_usd;

    #[test]
    fn cache_parts_use_their_own_rate_and_are_part_of_input() {
        let price = ModelPrice::per_million_tokens(3.0, 12.0)
            .with_cache_read(1.5)
            .with_cache_write(3.75);
        let tokens = Tokens {
            input: 10_000,
            output: 2_000,
            cache_read: 4_000,
            cache_write: 1_000,
        };
        let c = price.cost(tokens);
        // 5,000 uncached at $3 + 4,000 read at $1.5 + 1,000 written at $3.75 (per million).
        assert_usd(c.cache_read.unwrap(), 0.006);
        assert_usd(c.cache_write.unwrap(), 0.003_75);
        assert_usd(c.input, 0.015 + 0.006 + 0.003_75);
        assert_usd(c.output, 0.024);
        assert_usd(c.total, 0.015 + 0.006 + 0.003_75 + 0.024);
    }

    #[test]
    fn cache_tokens_without_a_cache_rate_cost_the_input_rate() {
        let price = ModelPrice::per_million_tokens(2.0, 8.0);
        let c = price.cost(Tokens {
            input: 1_000_000,
            output: 0,
            cache_read: 600_000,
            cache_write: 0,
        });
        assert_usd(c.input, 2.0);
        assert_eq!((c.cache_read, c.cache_write), (None, None));
    }

    #[test]
    fn invalid_rates_are_named() {
        assert!(ModelPrice::per_million_tokens(1.0, 2.0).invalid().is_none());
        let bad = ModelPrice::per_million_tokens(1.0, 2.0).with_cache_write(-1.0);
        assert!(bad.invalid().unwrap().contains("cache write"));
        assert!(
            ModelPrice::per_million_tokens(f64::NAN, 2.0)
                .invalid()
                .is_some()
        );
    }
}
