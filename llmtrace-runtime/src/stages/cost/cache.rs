//! A small, bounded cache in front of the price database, so that pricing a call to a model
//! already seen is a hash lookup and a few multiplications instead of a database match (a few
//! microseconds each).
//!
//! The database does not expose its rates, only prices of given usage, so the cache learns them
//! by pricing probe usages ([`Rates`]). Two things make a model's rates vary, and the cache keys
//! by both:
//!
//! - **Time.** Prices change from a date on, and some by time of day (DeepSeek's off-peak
//!   hours), so rates are kept per UTC minute, and only when the database gives the same rates
//!   at the first and the last instant of that minute: then no price changed inside it, short
//!   of a price window under a minute long (the database's are hours long, on whole minutes).
//! - **Prompt size.** Tiered models charge every token more once the prompt passes a size
//!   (Gemini 2.5 Pro above 200k input tokens). Rates are kept per band of input sizes: probing
//!   at sizes `a` and `b` and finding the same rates means they hold for every size between,
//!   because tier prices only rise with the prompt size (true of every tiered price in the
//!   database); a size outside every known band is probed.
//!
//! Models the database does not know are remembered as such, whatever the time: matching does
//! not depend on it.

use std::collections::HashMap;

use super::call::{Cost, Tokens};

/// (model, provider) pairs the cache holds at most; when full it starts over.
const MAX_ENTRIES: usize = 512;
/// Minutes kept per model and provider: records arrive roughly in order, so the current minute
/// and the one before cover late spans without thrashing.
const MINUTES_KEPT: usize = 2;
/// Bands of prompt sizes kept per model and minute (tiered prices have two or three tiers).
const MAX_BANDS: usize = 8;

/// A model's prices at one prompt size and minute: USD per token of each kind, and per request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rates {
    pub(crate) input: f64,
    pub(crate) cache_read: f64,
    pub(crate) cache_write: f64,
    pub(crate) output: f64,
    pub(crate) per_request: f64,
}

impl Rates {
    /// The cost of `tokens` at these rates, in the database's breakdown (cache parts inside
    /// `input`, not reported on their own).
    pub(crate) fn cost(&self, tokens: Tokens) -> Cost {
        let input = tokens.uncached_input() as f64 * self.input
            + tokens.cache_read as f64 * self.cache_read
            + tokens.cache_write as f64 * self.cache_write;
        let output = tokens.output as f64 * self.output;
        Cost {
            input,
            output,
            total: input + output + self.per_request,
            cache_read: None,
            cache_write: None,
        }
    }

    /// Equal up to float rounding: rates derived from probes at different sizes differ in the
    /// last bits, while real price steps differ by far more than a billionth.
    pub(crate) fn same(&self, other: &Rates) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
        close(self.input, other.input)
            && close(self.cache_read, other.cache_read)
            && close(self.cache_write, other.cache_write)
            && close(self.output, other.output)
            && close(self.per_request, other.per_request)
    }
}

/// Rates that hold for prompts of `lo..=hi` input tokens.
#[derive(Debug)]
struct Band {
    lo: u64,
    hi: u64,
    rates: Rates,
}

/// What the cache knows about one model name.
#[derive(Debug, Default)]
struct Model {
    /// Providers (database ids) the database does not price this model from.
    unpriced: Vec<Option<&'static str>>,
    priced: Vec<Priced>,
}

/// The rates of a model from one provider during one minute.
#[derive(Debug)]
struct Priced {
    provider: Option<&'static str>,
    minute: i64,
    bands: Vec<Band>,
}

/// What the cache knows about a call.
#[derive(Debug, PartialEq)]
pub(crate) enum Lookup {
    Hit(Rates),
    Unpriced,
    Miss,
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct RateCache {
    models: HashMap<Box<str>, Model>,
    /// Unpriced and priced entries over all models, for the bound.
    entries: usize,
    #[cfg(test)]
    pub(crate) hits: u64,
}

impl RateCache {
    /// The rates for `model` from `provider` (a database provider id) at `minute` (minutes
    /// since the Unix epoch, UTC) for a prompt of `input` tokens.
    pub(crate) fn lookup(
        &mut self,
        provider: Option<&'static str>,
        model: &str,
        minute: i64,
        input: u64,
    ) -> Lookup {
        let Some(known) = self.models.get(model) else {
            return Lookup::Miss;
        };
        if known.unpriced.contains(&provider) {
            return Lookup::Unpriced;
        }
        let band = known
            .priced
            .iter()
            .find(|p| p.provider == provider && p.minute == minute)
            .and_then(|p| p.bands.iter().find(|b| (b.lo..=b.hi).contains(&input)));
        match band {
            Some(band) => {
                #[cfg(test)]
                {
                    self.hits += 1;
                }
                Lookup::Hit(band.rates)
            }
            None => Lookup::Miss,
        }
    }

    /// Remembers that the database does not price `model` from `provider`.
    pub(crate) fn insert_unpriced(&mut self, provider: Option<&'static str>, model: &str) {
        self.make_room();
        let known = self.models.entry(model.into()).or_default();
        if !known.unpriced.contains(&provider) {
            known.unpriced.push(provider);
            self.entries += 1;
        }
    }

    /// Notes a miss for `model` at `minute`. True when the model was already looked up in that
    /// minute: only then is learning its rates (six database calculations) worth it, so a model
    /// called once a minute costs one calculation, not seven.
    pub(crate) fn worth_learning(
        &mut self,
        provider: Option<&'static str>,
        model: &str,
        minute: i64,
    ) -> bool {
        self.bands(provider, model, minute).1
    }

    /// Remembers `rates` for prompts of `input` tokens, widening a band with the same rates to
    /// reach `input` (see the module docs for why that is sound).
    pub(crate) fn insert_rates(
        &mut self,
        provider: Option<&'static str>,
        model: &str,
        minute: i64,
        input: u64,
        rates: Rates,
    ) {
        let (bands, _) = self.bands(provider, model, minute);
        if let Some(band) = bands.iter_mut().find(|b| b.rates.same(&rates)) {
            band.lo = band.lo.min(input);
            band.hi = band.hi.max(input);
        } else if bands.len() < MAX_BANDS {
            bands.push(Band {
                lo: input,
                hi: input,
                rates,
            });
        }
    }

    /// The bands of `model` at `minute`, and whether they were there before; a new minute
    /// replaces the oldest one kept.
    fn bands(
        &mut self,
        provider: Option<&'static str>,
        model: &str,
        minute: i64,
    ) -> (&mut Vec<Band>, bool) {
        self.make_room();
        let known = self.models.entry(model.into()).or_default();
        let slot = known
            .priced
            .iter()
            .position(|p| p.provider == provider && p.minute == minute);
        let (index, existed) = match slot {
            Some(i) => (i, true),
            None => {
                let oldest = known
                    .priced
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| p.provider == provider)
                    .min_by_key(|(_, p)| p.minute)
                    .map(|(i, _)| i);
                let kept = known
                    .priced
                    .iter()
                    .filter(|p| p.provider == provider)
                    .count();
                if let (Some(oldest), true) = (oldest, kept >= MINUTES_KEPT) {
                    known.priced.swap_remove(oldest);
                    self.entries -= 1;
                }
                known.priced.push(Priced {
                    provider,
                    minute,
                    bands: Vec::new(),
                });
                self.entries += 1;
                (known.priced.len() - 1, false)
            }
        };
        (&mut known.priced[index].bands, existed)
    }

    /// Keeps the cache bounded: when full, start over (the entries are cheap to learn again).
    fn make_room(&mut self) {
        if self.entries >= MAX_ENTRIES {
            self.models.clear();
            self.entries = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rates(input: f64) -> Rates {
        Rates {
            input,
            cache_read: input / 10.0,
            cache_write: input * 1.25,
            output: input * 4.0,
            per_request: 0.0,
        }
    }

    #[test]
    fn bands_widen_for_equal_rates_and_split_for_others() {
        let mut c = RateCache::default();
        assert_eq!(c.lookup(Some("openai"), "m", 7, 100), Lookup::Miss);
        c.insert_rates(Some("openai"), "m", 7, 100, rates(1e-6));
        c.insert_rates(Some("openai"), "m", 7, 5_000, rates(1e-6));
        c.insert_rates(Some("openai"), "m", 7, 300_000, rates(2e-6));
        assert_eq!(
            c.lookup(Some("openai"), "m", 7, 2_500),
            Lookup::Hit(rates(1e-6))
        );
        assert_eq!(
            c.lookup(Some("openai"), "m", 7, 300_000),
            Lookup::Hit(rates(2e-6))
        );
        // Between the bands, outside both: unknown until probed.
        assert_eq!(c.lookup(Some("openai"), "m", 7, 200_000), Lookup::Miss);
        // Another minute, provider or model knows nothing.
        assert_eq!(c.lookup(Some("openai"), "m", 8, 2_500), Lookup::Miss);
        assert_eq!(c.lookup(None, "m", 7, 2_500), Lookup::Miss);
        assert_eq!(c.lookup(Some("openai"), "n", 7, 2_500), Lookup::Miss);
    }

    #[test]
    fn rates_are_worth_learning_from_the_second_lookup_in_a_minute() {
        let mut c = RateCache::default();
        assert!(!c.worth_learning(None, "m", 1));
        assert!(c.worth_learning(None, "m", 1));
        assert!(!c.worth_learning(None, "m", 2));
        assert!(!c.worth_learning(Some("openai"), "m", 2));
        assert_eq!(c.lookup(None, "m", 1, 10), Lookup::Miss);
    }

    #[test]
    fn two_minutes_are_kept_per_model() {
        let mut c = RateCache::default();
        for minute in [1, 2, 3] {
            c.insert_rates(None, "m", minute, 10, rates(minute as f64));
        }
        assert_eq!(c.lookup(None, "m", 1, 10), Lookup::Miss);
        assert_eq!(c.lookup(None, "m", 2, 10), Lookup::Hit(rates(2.0)));
        assert_eq!(c.lookup(None, "m", 3, 10), Lookup::Hit(rates(3.0)));
        assert_eq!(c.entries, 2);
    }

    #[test]
    fn unpriced_models_are_remembered_at_any_time() {
        let mut c = RateCache::default();
        c.insert_unpriced(Some("openai"), "nope");
        c.insert_unpriced(Some("openai"), "nope");
        assert_eq!(c.entries, 1);
        assert_eq!(c.lookup(Some("openai"), "nope", 99, 1), Lookup::Unpriced);
        assert_eq!(c.lookup(None, "nope", 99, 1), Lookup::Miss);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let mut c = RateCache::default();
        for i in 0..(MAX_ENTRIES * 3) {
            c.insert_unpriced(None, &format!("model-{i}"));
            assert!(c.entries <= MAX_ENTRIES);
        }
        assert!(c.models.len() <= MAX_ENTRIES);
    }

    #[test]
    fn cost_splits_the_input_by_cache_use() {
        let r = Rates {
            input: 3e-6,
            cache_read: 0.3e-6,
            cache_write: 3.75e-6,
            output: 15e-6,
            per_request: 0.001,
        };
        let c = r.cost(Tokens::new(50_000, 2_000, 30_000, 10_000).unwrap());
        crate::stages::cost::tests::assert_usd(c.input, 0.03 + 0.009 + 0.0375);
        crate::stages::cost::tests::assert_usd(c.output, 0.03);
        crate::stages::cost::tests::assert_usd(c.total, 0.0765 + 0.03 + 0.001);
    }
}
