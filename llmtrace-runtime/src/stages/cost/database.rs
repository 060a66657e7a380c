//! The genai-prices database, bundled in the binary, behind the rate cache.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use genai_prices::{Calculator, ErrorKind, PriceCalculation, PriceRequest, Usage, UsageKey};

use super::cache::{Lookup, RateCache, Rates};
use super::call::{Cost, Tokens};
use super::providers;

/// Output tokens of the probe that measures the output rate: a round million, so the rate per
/// token is exact to float precision.
const PROBE_OUTPUT: u64 = 1_000_000;

#[derive(Debug)]
pub(crate) struct Database {
    calculator: &'static Calculator,
    /// The database's own provider ids, which are accepted as provider names as they are.
    ids: HashSet<&'static str>,
    pub(crate) cache: RateCache,
}

impl Database {
    /// The bundled database. Decoding it takes tens of milliseconds (once per process): call
    /// this when the stages start (on the export worker in native mode, at installation in the
    /// host modes), never on the hot path.
    pub(crate) fn bundled() -> Database {
        let calculator = Calculator::bundled();
        Database {
            calculator,
            ids: calculator.providers().map(|p| p.id()).collect(),
            cache: RateCache::default(),
        }
    }

    /// The database's provider id for a `gen_ai.provider.name`; `None` (match by model alone)
    /// for names it does not know.
    pub(crate) fn provider_id(&self, name: Option<&str>) -> Option<&'static str> {
        let name = name?;
        providers::database_id(name).or_else(|| self.ids.get(name).copied())
    }

    /// The cost of a call to `model` from `provider` (a `gen_ai.provider.name`) at `at`, or
    /// `None` when the database has no price for it.
    pub(crate) fn price(
        &mut self,
        provider: Option<&str>,
        model: &str,
        tokens: Tokens,
        at: SystemTime,
    ) -> Option<Cost> {
        let provider = self.provider_id(provider);
        // Minutes since the epoch; a time before it (a broken clock) is priced but not cached.
        let minute = at
            .duration_since(UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_secs() / 60).ok());
        if let Some(minute) = minute {
            match self.cache.lookup(provider, model, minute, tokens.input) {
                Lookup::Hit(rates) => return Some(rates.cost(tokens)),
                Lookup::Unpriced => return None,
                Lookup::Miss => {}
            }
        }
        let priced = match self.calculate(provider, model, tokens, at) {
            Ok(priced) => priced,
            Err(e) => {
                // Whether a model is known does not depend on the usage or the time; other
                // errors (usage the model cannot be priced for) do, and are not remembered.
                if matches!(
                    e.kind(),
                    ErrorKind::ModelNotFound | ErrorKind::ProviderNotFound
                ) {
                    self.cache.insert_unpriced(provider, model);
                }
                return None;
            }
        };
        // Learning rates needs a prompt to measure the input rates on (output-only usage is
        // rare), and is only worth six more calculations once the model is seen again within
        // the minute.
        if let (Some(minute), true) = (minute, tokens.input > 0) {
            if self.cache.worth_learning(provider, model, minute) {
                if let Some(rates) = self.rates_for_minute(provider, model, tokens.input, minute) {
                    self.cache
                        .insert_rates(provider, model, minute, tokens.input, rates);
                }
            }
        }
        Some(Cost {
            input: priced.input_price,
            output: priced.output_price,
            total: priced.total_price,
            cache_read: None,
            cache_write: None,
        })
    }

    /// One database calculation. Reasoning tokens are not passed: they are part of
    /// `output_tokens`, and the database would price them on top for models with a reasoning
    /// rate.
    pub(crate) fn calculate(
        &self,
        provider: Option<&str>,
        model: &str,
        tokens: Tokens,
        at: SystemTime,
    ) -> Result<PriceCalculation, genai_prices::Error> {
        let mut usage = Usage::new();
        usage.insert(UsageKey::INPUT_TOKENS, tokens.input as f64);
        usage.insert(UsageKey::OUTPUT_TOKENS, tokens.output as f64);
        if tokens.cache_read > 0 {
            usage.insert(UsageKey::CACHE_READ_TOKENS, tokens.cache_read as f64);
        }
        if tokens.cache_write > 0 {
            usage.insert(UsageKey::CACHE_WRITE_TOKENS, tokens.cache_write as f64);
        }
        let mut request = PriceRequest::new(model, &usage).with_timestamp(at);
        if let Some(p) = provider {
            request = request.with_provider_id(p);
        }
        self.calculator.calculate(&request)
    }

    /// The rates for prompts of `input` tokens throughout `minute`, when they do not change
    /// inside it (see the cache's module docs).
    fn rates_for_minute(
        &self,
        provider: Option<&str>,
        model: &str,
        input: u64,
        minute: i64,
    ) -> Option<Rates> {
        let first = UNIX_EPOCH + Duration::from_secs(u64::try_from(minute).ok()? * 60);
        let last = first + Duration::from_nanos(59_999_999_999);
        let rates = self.rates_at(provider, model, input, first)?;
        rates
            .same(&self.rates_at(provider, model, input, last)?)
            .then_some(rates)
    }

    /// Measures the rates for prompts of `input` tokens at `at`, with probes whose prompt has
    /// that size (the size selects the tier): all uncached plus a million output tokens, all
    /// read from the cache, all written to it.
    fn rates_at(
        &self,
        provider: Option<&str>,
        model: &str,
        input: u64,
        at: SystemTime,
    ) -> Option<Rates> {
        let probe = |cache_read, cache_write, output| {
            let tokens = Tokens::new(input, output, cache_read, cache_write)?;
            self.calculate(provider, model, tokens, at).ok()
        };
        let plain = probe(0, 0, PROBE_OUTPUT)?;
        let read = probe(input, 0, 0)?;
        let written = probe(0, input, 0)?;
        let size = input as f64;
        let per_request = plain.total_price - plain.input_price - plain.output_price;
        Some(Rates {
            input: plain.input_price / size,
            cache_read: read.input_price / size,
            cache_write: written.input_price / size,
            output: plain.output_price / PROBE_OUTPUT as f64,
            // What is left of the total is the per-request charge; a rounding residue is none.
            per_request: if per_request.abs() <= 1e-12 * plain.total_price.abs() {
                0.0
            } else {
                per_request
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::stages::cost::tests::{assert_usd, noon_2026_06_01};

    #[test]
    fn provider_names_map_or_pass_through_or_are_dropped() {
        let db = Database::bundled();
        assert_eq!(db.provider_id(Some("gcp.vertex_ai")), Some("google"));
        // A database id used as the provider name.
        assert_eq!(db.provider_id(Some("openrouter")), Some("openrouter"));
        // Unknown: the model alone selects the provider.
        assert_eq!(db.provider_id(Some("my-gateway")), None);
        assert_eq!(db.provider_id(None), None);
        let t = Tokens::new(1_000_000, 0, 0, 0).unwrap();
        let by_model = Database::bundled()
            .price(Some("my-gateway"), "gpt-4o", t, noon_2026_06_01())
            .unwrap();
        assert_usd(by_model.input, 2.5);
    }

    /// Pricing through the cache gives what the database gives, across prompt tiers, cache use,
    /// dates and DeepSeek's time-of-day prices.
    #[test]
    fn cached_prices_equal_the_database_prices() {
        let mut db = Database::bundled();
        let reference = Database::bundled();
        let mut rng = fastrand::Rng::with_seed(7);
        let cases = [
            (Some("openai"), "gpt-4o"),
            (Some("anthropic"), "claude-sonnet-4-5"), // tiered at 200k
            (Some("gcp.gemini"), "gemini-2.5-pro"),   // tiered at 200k
            (Some("openai"), "gpt-5.4"),              // tiered at 272k
            (Some("deepseek"), "deepseek-chat"),      // time-of-day prices
            (None, "o3"),                             // price cut on 2025-06-10
        ];
        let midnight = UNIX_EPOCH + Duration::from_secs(1_748_736_000); // 2025-06-01T00:00Z
        // Before and after o3's price cut, either side of DeepSeek's 00:30 and 16:30 switches.
        let days = [0, 8, 9];
        let times_of_day = [1_770, 1_810, 43_200, 59_385, 59_400, 72_000];
        let mut calls: Vec<_> = (0..3_000u64)
            .map(|i| {
                let (provider, model) = cases[rng.usize(..cases.len())];
                // Requests bunched within minutes (up to 10 s apart), as a busy service sends them.
                let at = midnight
                    + Duration::from_secs(
                        days[rng.usize(..days.len())] * 86_400
                            + times_of_day[rng.usize(..times_of_day.len())]
                            + rng.u64(..10),
                    )
                    + Duration::from_nanos(rng.u64(..1_000_000_000));
                let input = match i % 3 {
                    0 => rng.u64(1..190_000),
                    1 => rng.u64(190_000..300_000),
                    _ => [1_000, 199_999, 200_000, 200_001, 272_000, 272_001][rng.usize(..6)],
                };
                let cache_read = rng.u64(..=input / 2);
                let cache_write = if rng.bool() { rng.u64(..=input / 4) } else { 0 };
                let tokens =
                    Tokens::new(input, rng.u64(..20_000), cache_read, cache_write).unwrap();
                (provider, model, tokens, at)
            })
            .collect();
        // Spans reach the worker roughly in the order they started.
        calls.sort_by_key(|c| c.3);
        let mut compared = 0;
        for (provider, model, tokens, at) in calls {
            let got = db.price(provider, model, tokens, at).unwrap();
            let want = reference
                .calculate(reference.provider_id(provider), model, tokens, at)
                .unwrap();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-9);
            assert!(
                close(got.input, want.input_price)
                    && close(got.output, want.output_price)
                    && close(got.total, want.total_price),
                "{model} {tokens:?} at {at:?}: {got:?} vs {want:?}"
            );
            compared += 1;
        }
        assert_eq!(compared, 3_000);
        assert!(
            db.cache.hits > 1_500,
            "the cache should answer at least half of these lookups: {} hits",
            db.cache.hits
        );
    }

    #[test]
    fn unknown_models_are_remembered() {
        let mut db = Database::bundled();
        let t = Tokens::new(10, 10, 0, 0).unwrap();
        assert!(
            db.price(Some("openai"), "no-such-model", t, noon_2026_06_01())
                .is_none()
        );
        assert_eq!(
            db.cache.lookup(Some("openai"), "no-such-model", 0, 10),
            Lookup::Unpriced
        );
        assert!(
            db.price(None, "no-such-model", t, noon_2026_06_01())
                .is_none()
        );
    }
}
