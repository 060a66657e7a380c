//! The worker stage that puts a cost on every record with token usage.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use super::call::{Call, Tokens};
use super::overrides::PriceOverride;
use super::pricer::Pricer;
use crate::record::{Field, Record, Value};
use crate::stages::stage::{Drain, Stage};
use crate::state::Counters;

/// Prices records where the stages run: the price lists load in [`Stage::start`] (on the export
/// worker in native mode, at installation in the host modes), and pricing never runs on the hot
/// path.
pub(crate) struct CostStage {
    /// What to load, until [`Stage::start`] loads it.
    setup: Option<(Vec<PriceOverride>, Option<PathBuf>)>,
    pricer: Option<Pricer>,
}

impl std::fmt::Debug for CostStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CostStage")
            .field("loaded", &self.pricer.is_some())
            .finish_non_exhaustive()
    }
}

/// What pricing did to one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// No usage, or a cost the application recorded itself: left as it is.
    Untouched,
    Priced,
    Unpriced,
}

impl CostStage {
    /// A stage with the user's prices from code and the prices file to read, if any.
    pub(crate) fn new(overrides: Vec<PriceOverride>, prices_file: Option<PathBuf>) -> CostStage {
        CostStage {
            setup: Some((overrides, prices_file)),
            pricer: None,
        }
    }

    fn pricer(&mut self) -> &mut Pricer {
        let setup = &mut self.setup;
        self.pricer.get_or_insert_with(|| {
            let (overrides, file) = setup.take().unwrap_or_default();
            Pricer::load(overrides, file.as_deref())
        })
    }
}

impl Stage for CostStage {
    fn start(&mut self) {
        self.pricer();
    }

    fn process(&mut self, records: &mut Vec<Record>, _: &Drain, counters: &Counters) {
        let pricer = self.pricer();
        for rec in records.iter_mut() {
            if price_record(pricer, rec) == Outcome::Unpriced {
                counters.unpriced.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Priced like spans, so that the cost counter covers every call; not counted in
    /// `unpriced_spans` (they are no spans).
    fn count(&mut self, records: &mut [Record]) {
        let pricer = self.pricer();
        for rec in records.iter_mut() {
            price_record(pricer, rec);
        }
    }

    fn flush(&mut self, _records: &mut Vec<Record>, _counters: &Counters) {
        // Records are priced as they pass: nothing is held.
    }
}

fn price_record(pricer: &mut Pricer, rec: &mut Record) -> Outcome {
    // A cost the application recorded itself is the truth (negotiated prices, a provider's
    // billing API); computing another would contradict it.
    if rec.cost().is_some() {
        return Outcome::Untouched;
    }
    let cost = {
        let count = |field| rec.token(field);
        let (input, output) = (count(Field::InputTokens), count(Field::OutputTokens));
        if input.is_none() && output.is_none() {
            return Outcome::Untouched;
        }
        let tokens = Tokens::new(
            input.unwrap_or(0),
            output.unwrap_or(0),
            count(Field::CacheReadTokens).unwrap_or(0),
            count(Field::CacheWriteTokens).unwrap_or(0),
        );
        let text = |field| rec.get(field).and_then(Value::as_str);
        tokens.and_then(|tokens| {
            pricer.price(&Call {
                provider: text(Field::Provider),
                response_model: text(Field::ResponseModel),
                request_model: text(Field::Model),
                tokens,
                at: crate::record::clock::to_system_time(rec.start),
            })
        })
    };
    match cost {
        Some(c) => {
            rec.set(Field::CostInput, Value::F64(c.input));
            rec.set(Field::CostOutput, Value::F64(c.output));
            rec.set(Field::CostTotal, Value::F64(c.total));
            if let Some(v) = c.cache_read {
                rec.set(Field::CostCacheRead, Value::F64(v));
            }
            if let Some(v) = c.cache_write {
                rec.set(Field::CostCacheWrite, Value::F64(v));
            }
            Outcome::Priced
        }
        None => {
            rec.set(Field::Unpriced, Value::Bool(true));
            Outcome::Unpriced
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelPrice;
    use crate::record::{Callsite, Kind};
    use crate::stages::cost::tests::assert_usd;

    static OPENAI_CALL: Callsite = Callsite::new(
        Kind::LlmCall,
        "chat",
        module_path!(),
        &[
            (Field::Provider, Value::Str("openai")),
            (Field::Model, Value::Str("my-model")),
        ],
        &[],
        0,
    );

    fn record(fields: &[(Field, Value)]) -> Record {
        crate::record::clock::init();
        let mut rec = Record::new(&OPENAI_CALL, 1, 2, 0, None, crate::record::clock::now());
        for (f, v) in fields {
            rec.set(*f, v.clone());
        }
        rec
    }

    fn stage() -> CostStage {
        let mut s = CostStage::new(
            vec![PriceOverride {
                provider: Some("openai".into()),
                model: "my-model".into(),
                price: ModelPrice::per_million_tokens(2.0, 8.0).with_cache_read(0.5),
            }],
            None,
        );
        s.start();
        s
    }

    fn run(stage: &mut CostStage, mut records: Vec<Record>, counters: &Counters) -> Vec<Record> {
        stage.process(&mut records, &Drain { started: 0 }, counters);
        stage.flush(&mut records, counters);
        records
    }

    fn f64_of(rec: &Record, field: Field) -> Option<f64> {
        match field {
            Field::CostTotal => rec.cost(),
            _ => rec.get(field).and_then(Value::as_f64),
        }
    }

    #[test]
    fn usage_gets_a_cost_and_other_records_pass_untouched_in_order() {
        let counters = Counters::default();
        let out = run(
            &mut stage(),
            vec![
                record(&[(Field::Name, Value::Str("no usage"))]),
                record(&[
                    (Field::InputTokens, Value::I64(10_000)),
                    (Field::CacheReadTokens, Value::I64(4_000)),
                    (Field::OutputTokens, Value::I64(500)),
                ]),
                record(&[
                    (Field::CostTotal, Value::F64(0.5)),
                    (Field::InputTokens, Value::I64(7)),
                ]),
            ],
            &counters,
        );
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].get(Field::Name), Some(&Value::Str("no usage")));
        assert_eq!(out[0].attrs.len(), 1, "{:?}", out[0].attrs);

        let priced = &out[1];
        assert_usd(
            f64_of(priced, Field::CostInput).unwrap(),
            (6_000.0 * 2.0 + 4_000.0 * 0.5) / 1e6,
        );
        assert_usd(
            f64_of(priced, Field::CostOutput).unwrap(),
            500.0 * 8.0 / 1e6,
        );
        assert_usd(f64_of(priced, Field::CostTotal).unwrap(), 0.014 + 0.004);
        assert_usd(f64_of(priced, Field::CostCacheRead).unwrap(), 0.002);
        assert_eq!(priced.get(Field::CostCacheWrite), None);
        assert_eq!(priced.get(Field::Unpriced), None);

        // The application's own cost wins: nothing is computed.
        assert_eq!(f64_of(&out[2], Field::CostTotal), Some(0.5));
        assert_eq!(out[2].get(Field::CostInput), None);
        assert_eq!(counters.unpriced.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn unknown_models_and_impossible_usage_are_unpriced_and_counted() {
        let counters = Counters::default();
        let out = run(
            &mut stage(),
            vec![
                record(&[
                    (Field::Model, Value::Str("no-such-model-anywhere")),
                    (Field::InputTokens, Value::I64(10)),
                ]),
                // More cache reads than input tokens: contradicts itself.
                record(&[
                    (Field::InputTokens, Value::I64(10)),
                    (Field::CacheReadTokens, Value::I64(11)),
                ]),
            ],
            &counters,
        );
        for rec in &out {
            assert_eq!(rec.get(Field::Unpriced), Some(&Value::Bool(true)));
            assert_eq!(rec.cost(), None);
        }
        assert_eq!(counters.unpriced.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn the_response_model_is_priced_first_then_the_request_model() {
        let counters = Counters::default();
        let out = run(
            &mut stage(),
            vec![record(&[
                (
                    Field::ResponseModel,
                    Value::String("my-model-2026-06-01".into()),
                ),
                (Field::InputTokens, Value::I64(1_000_000)),
            ])],
            &counters,
        );
        assert_usd(f64_of(&out[0], Field::CostTotal).unwrap(), 2.0);
    }

    #[cfg(feature = "prices")]
    #[test]
    fn reasoning_tokens_are_not_priced_twice() {
        static O3: Callsite = Callsite::new(
            Kind::LlmCall,
            "think",
            module_path!(),
            &[
                (Field::Provider, Value::Str("openai")),
                (Field::Model, Value::Str("o3")),
            ],
            &[],
            0,
        );
        let usage = |reasoning: Option<i64>| {
            crate::record::clock::init();
            let mut rec = Record::new(&O3, 1, 2, 0, None, crate::record::clock::now());
            rec.set(Field::InputTokens, Value::I64(1_000));
            rec.set(Field::OutputTokens, Value::I64(5_000));
            if let Some(r) = reasoning {
                rec.set(Field::ReasoningTokens, Value::I64(r));
            }
            rec
        };
        let counters = Counters::default();
        let out = run(
            &mut stage(),
            vec![usage(Some(4_000)), usage(None)],
            &counters,
        );
        let with = f64_of(&out[0], Field::CostTotal).unwrap();
        let without = f64_of(&out[1], Field::CostTotal).unwrap();
        assert_eq!(with, without);
        // o3 since 2025-06-10: $2 in, $8 out per million; the 4,000 reasoning tokens are among
        // the 5,000 output tokens.
        assert_usd(with, (1_000.0 * 2.0 + 5_000.0 * 8.0) / 1e6);
    }
}
