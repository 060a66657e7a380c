//! One model call to price: its token counts, and what it cost.

use std::time::SystemTime;

/// Token counts of one call, as the pricer takes them: `input` counts every input token and
/// the cache counts are parts of it; `output` counts every output token, reasoning included.
/// Reasoning is not a field here on purpose: it is part of `output` and must not be priced twice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tokens {
    pub(crate) input: u64,
    pub(crate) output: u64,
    pub(crate) cache_read: u64,
    pub(crate) cache_write: u64,
}

impl Tokens {
    /// The counts, or `None` when the cache counts add up to more than the input they are part
    /// of: such usage contradicts itself and is left unpriced rather than priced wrongly.
    pub(crate) fn new(
        input: u64,
        output: u64,
        cache_read: u64,
        cache_write: u64,
    ) -> Option<Tokens> {
        let cached = cache_read.checked_add(cache_write)?;
        (cached <= input).then_some(Tokens {
            input,
            output,
            cache_read,
            cache_write,
        })
    }

    /// Input tokens that were neither read from nor written to the cache.
    pub(crate) fn uncached_input(&self) -> u64 {
        self.input - self.cache_read - self.cache_write
    }
}

/// The cost of one call in USD. `input` includes the cache parts; `total` is at least
/// `input + output` (some models also charge per request).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Cost {
    pub(crate) input: f64,
    pub(crate) output: f64,
    pub(crate) total: f64,
    /// Known for prices given by the user with a cache-read rate.
    pub(crate) cache_read: Option<f64>,
    /// Known for prices given by the user with a cache-write rate.
    pub(crate) cache_write: Option<f64>,
}

/// One call to price.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call<'a> {
    /// `gen_ai.provider.name`, when known.
    pub(crate) provider: Option<&'a str>,
    /// The model the provider says answered (`gen_ai.response.model`).
    pub(crate) response_model: Option<&'a str>,
    /// The model asked for (`gen_ai.request.model`).
    pub(crate) request_model: Option<&'a str>,
    pub(crate) tokens: Tokens,
    /// When the request was made: prices change over time, some even by time of day. User
    /// prices do not, so only the database reads it.
    #[cfg_attr(not(feature = "prices"), expect(dead_code))]
    pub(crate) at: SystemTime,
}

impl Call<'_> {
    /// The model names to look up, most precise first: the response model names the exact
    /// version that answered, but providers also answer with names no price list knows (dated
    /// snapshots, deployment names), so the requested name is the fallback.
    pub(super) fn models(&self) -> impl Iterator<Item = &str> {
        let request = self
            .request_model
            .filter(|m| Some(*m) != self.response_model);
        self.response_model.into_iter().chain(request)
    }
}
