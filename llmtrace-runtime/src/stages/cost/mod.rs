//! The cost of model calls in US dollars, computed by the cost stage from the span's token
//! usage, provider, model and start time.
//!
//! Prices come from, first to last: prices given in code ([`Builder::model_price`]), a prices
//! file ([`Builder::prices_file`], `LLMTRACE_PRICES_FILE`), and with the `prices` feature the
//! genai-prices database bundled in the binary. A call none of them prices is marked unpriced:
//! its cost is unknown, not zero. A cost the application records itself
//! ([`CurrentSpan::record_cost_usd`]) is kept as it is.
//!
//! [`Builder::model_price`]: crate::Builder::model_price
//! [`Builder::prices_file`]: crate::Builder::prices_file
//! [`CurrentSpan::record_cost_usd`]: crate::CurrentSpan::record_cost_usd

#[cfg(feature = "prices")]
mod cache;
mod call;
#[cfg(feature = "prices")]
mod database;
mod overrides;
mod price;
mod pricer;
#[cfg(feature = "prices")]
mod providers;
mod stage;

pub use price::ModelPrice;

pub(crate) use overrides::PriceOverride;
pub(crate) use stage::CostStage;

#[cfg(test)]
pub(crate) mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use super::call::{Call, Cost, Tokens};
    use super::pricer::Pricer;
    use super::*;

    /// Compares dollar amounts to a billionth of a cent's tenth: exact up to float rounding.
    #[track_caller]
    pub(crate) fn assert_usd(actual: f64, expected: f64) {
        assert!(
            (actual - expected).abs() < 1e-9,
            "expected ${expected}, got ${actual}"
        );
    }

    /// 2026-06-01T12:00:00Z: a fixed request time, so that date- and time-of-day-dependent
    /// prices are pinned.
    pub(crate) fn noon_2026_06_01() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_780_315_200)
    }

    pub(crate) fn call<'a>(
        provider: Option<&'a str>,
        model: &'a str,
        tokens: Tokens,
        at: SystemTime,
    ) -> Call<'a> {
        Call {
            provider,
            response_model: None,
            request_model: Some(model),
            tokens,
            at,
        }
    }

    fn tokens(input: u64, output: u64) -> Tokens {
        Tokens::new(input, output, 0, 0).unwrap()
    }

    #[test]
    fn cache_counts_beyond_the_input_are_rejected() {
        assert!(Tokens::new(100, 5, 60, 40).is_some());
        assert!(Tokens::new(100, 5, 60, 41).is_none());
        assert!(Tokens::new(100, 5, u64::MAX, 1).is_none());
        assert_eq!(Tokens::new(100, 5, 60, 30).unwrap().uncached_input(), 10);
    }

    #[test]
    fn the_response_model_is_tried_before_the_request_model() {
        let c = Call {
            provider: None,
            response_model: Some("a-2026"),
            request_model: Some("a"),
            tokens: Tokens::default(),
            at: noon_2026_06_01(),
        };
        assert_eq!(c.models().collect::<Vec<_>>(), ["a-2026", "a"]);
        let same = Call {
            response_model: Some("a"),
            ..c
        };
        assert_eq!(same.models().collect::<Vec<_>>(), ["a"]);
        let none = Call {
            response_model: None,
            request_model: None,
            ..c
        };
        assert_eq!(none.models().count(), 0);
    }

    #[test]
    fn user_prices_for_either_model_name_win() {
        let mut pricer = Pricer::load(
            vec![PriceOverride {
                provider: None,
                model: "my-gpt".into(),
                price: ModelPrice::per_million_tokens(1.0, 2.0),
            }],
            None,
        );
        // The request model has a user price, the response model (if the database knows it)
        // would have another: the user's wins.
        let c = Call {
            provider: Some("openai"),
            response_model: Some("gpt-4o"),
            request_model: Some("my-gpt"),
            tokens: tokens(1_000_000, 1_000_000),
            at: noon_2026_06_01(),
        };
        let cost = pricer.price(&c).unwrap();
        assert_usd(cost.total, 3.0);
    }

    #[test]
    fn invalid_code_prices_are_ignored() {
        let mut pricer = Pricer::load(
            vec![PriceOverride {
                provider: None,
                model: "negative".into(),
                price: ModelPrice::per_million_tokens(-1.0, 2.0),
            }],
            None,
        );
        let c = call(None, "negative", tokens(10, 10), noon_2026_06_01());
        assert!(pricer.price(&c).is_none());
    }

    #[cfg(not(feature = "prices"))]
    #[test]
    fn without_the_database_only_user_prices_are_known() {
        let mut pricer = Pricer::load(Vec::new(), None);
        let c = call(Some("openai"), "gpt-4o", tokens(10, 10), noon_2026_06_01());
        assert!(pricer.price(&c).is_none());
    }

    /// Exact prices from the bundled genai-prices data (`data/prices.json` of genai-prices
    /// 0.2.1), pinned here in USD per million tokens so that a data change is noticed.
    #[cfg(feature = "prices")]
    mod database_prices {
        use super::*;

        /// openai `gpt-4o`.
        const GPT_4O: (f64, f64, f64) = (2.5, 1.25, 10.0); // input, cache read, output
        /// anthropic `claude-sonnet-4-5`, prompts up to 200k tokens (above: 6, 0.6, 7.5, 22.5).
        const SONNET_4_5: (f64, f64, f64, f64) = (3.0, 0.3, 3.75, 15.0); // + cache write
        const SONNET_4_5_LONG: (f64, f64, f64, f64) = (6.0, 0.6, 7.5, 22.5);
        /// google `gemini-2.5-flash`.
        const GEMINI_2_5_FLASH: (f64, f64, f64) = (0.3, 0.03, 2.5);
        /// openai `o3` from 2025-06-10 on (before: 10 in, 40 out).
        const O3: (f64, f64) = (2.0, 8.0);
        const O3_BEFORE_2025_06_10: (f64, f64) = (10.0, 40.0);
        /// deepseek `deepseek-chat`: 00:30-16:30 UTC, and off-peak.
        const DEEPSEEK_CHAT_PEAK: (f64, f64) = (0.27, 1.1);
        const DEEPSEEK_CHAT_OFF_PEAK: (f64, f64) = (0.135, 0.55);

        fn mtok(tokens: u64, usd_per_million: f64) -> f64 {
            tokens as f64 * usd_per_million / 1e6
        }

        fn price(provider: Option<&str>, model: &str, tokens: Tokens, at: SystemTime) -> Cost {
            Pricer::load(Vec::new(), None)
                .price(&call(provider, model, tokens, at))
                .unwrap_or_else(|| panic!("{model} has no price"))
        }

        #[track_caller]
        fn assert_cost(c: Cost, input: f64, output: f64) {
            assert_usd(c.input, input);
            assert_usd(c.output, output);
            assert_usd(c.total, input + output);
        }

        #[test]
        fn openai_with_cached_input() {
            let (input, cached, output) = GPT_4O;
            let t = Tokens::new(10_000, 500, 4_000, 0).unwrap();
            assert_cost(
                price(Some("openai"), "gpt-4o", t, noon_2026_06_01()),
                mtok(6_000, input) + mtok(4_000, cached),
                mtok(500, output),
            );
            // The same model through Azure OpenAI, and a dated snapshot name.
            assert_cost(
                price(
                    Some("azure.ai.openai"),
                    "gpt-4o-2024-08-06",
                    t,
                    noon_2026_06_01(),
                ),
                mtok(6_000, input) + mtok(4_000, cached),
                mtok(500, output),
            );
        }

        #[test]
        fn anthropic_with_cache_read_and_write() {
            let (input, read, write, output) = SONNET_4_5;
            let t = Tokens::new(50_000, 2_000, 30_000, 10_000).unwrap();
            assert_cost(
                price(Some("anthropic"), "claude-sonnet-4-5", t, noon_2026_06_01()),
                mtok(10_000, input) + mtok(30_000, read) + mtok(10_000, write),
                mtok(2_000, output),
            );
            // Above 200k prompt tokens every token costs the long-context rate.
            let (input, read, write, output) = SONNET_4_5_LONG;
            let long = Tokens::new(250_000, 2_000, 30_000, 10_000).unwrap();
            assert_cost(
                price(
                    Some("anthropic"),
                    "claude-sonnet-4-5",
                    long,
                    noon_2026_06_01(),
                ),
                mtok(210_000, input) + mtok(30_000, read) + mtok(10_000, write),
                mtok(2_000, output),
            );
        }

        #[test]
        fn google_through_gemini_and_vertex() {
            let (input, cached, output) = GEMINI_2_5_FLASH;
            let t = Tokens::new(20_000, 1_000, 5_000, 0).unwrap();
            for provider in ["gcp.gemini", "gcp.vertex_ai"] {
                assert_cost(
                    price(Some(provider), "gemini-2.5-flash", t, noon_2026_06_01()),
                    mtok(15_000, input) + mtok(5_000, cached),
                    mtok(1_000, output),
                );
            }
        }

        #[test]
        fn reasoning_output_at_the_price_of_the_request_date() {
            // 5,000 output tokens, 4,000 of them reasoning: the pricer only sees the 5,000.
            let t = Tokens::new(1_000, 5_000, 0, 0).unwrap();
            let (input, output) = O3;
            assert_cost(
                price(Some("openai"), "o3", t, noon_2026_06_01()),
                mtok(1_000, input),
                mtok(5_000, output),
            );
            let (input, output) = O3_BEFORE_2025_06_10;
            let june_1_2025 = noon_2026_06_01() - Duration::from_secs(365 * 86_400);
            assert_cost(
                price(Some("openai"), "o3", t, june_1_2025),
                mtok(1_000, input),
                mtok(5_000, output),
            );
        }

        #[test]
        fn prices_by_time_of_day() {
            let t = tokens(1_000_000, 1_000_000);
            let (input, output) = DEEPSEEK_CHAT_PEAK;
            assert_cost(
                price(Some("deepseek"), "deepseek-chat", t, noon_2026_06_01()),
                input,
                output,
            );
            let (input, output) = DEEPSEEK_CHAT_OFF_PEAK;
            let evening = noon_2026_06_01() + Duration::from_secs(8 * 3_600);
            assert_cost(
                price(Some("deepseek"), "deepseek-chat", t, evening),
                input,
                output,
            );
        }

        #[test]
        fn unknown_models_are_unpriced() {
            let mut pricer = Pricer::load(Vec::new(), None);
            let t = tokens(100, 100);
            for (provider, model) in [
                (Some("openai"), "no-such-model"),
                (None, "no-such-model"),
                // A known model, but not from this provider.
                (Some("anthropic"), "gpt-4o"),
            ] {
                let c = call(provider, model, t, noon_2026_06_01());
                assert_eq!(pricer.price(&c), None, "{provider:?} {model}");
            }
        }

        #[test]
        fn an_unknown_response_model_falls_back_to_the_request_model() {
            let mut pricer = Pricer::load(Vec::new(), None);
            let c = Call {
                response_model: Some("gpt-4o-deployment-eu"),
                ..call(
                    Some("openai"),
                    "gpt-4o",
                    tokens(1_000_000, 0),
                    noon_2026_06_01(),
                )
            };
            assert_usd(pricer.price(&c).unwrap().total, GPT_4O.0);
        }

        #[test]
        fn user_prices_win_over_the_database() {
            let mut pricer = Pricer::load(
                vec![
                    PriceOverride {
                        provider: Some("openai".into()),
                        model: "gpt-4o".into(),
                        price: ModelPrice::per_million_tokens(1.0, 4.0).with_cache_read(0.25),
                    },
                    PriceOverride {
                        provider: None,
                        model: "claude-sonnet-4-5".into(),
                        price: ModelPrice::per_million_tokens(2.0, 10.0),
                    },
                ],
                None,
            );
            let t = Tokens::new(1_000_000, 1_000_000, 400_000, 0).unwrap();
            let openai = pricer
                .price(&call(Some("openai"), "gpt-4o", t, noon_2026_06_01()))
                .unwrap();
            assert_usd(openai.input, 0.6 + 0.1);
            assert_usd(openai.cache_read.unwrap(), 0.1);
            assert_usd(openai.total, 0.7 + 4.0);
            // Through another provider, the provider-specific price does not apply.
            let azure = pricer
                .price(&call(
                    Some("azure.ai.openai"),
                    "gpt-4o",
                    t,
                    noon_2026_06_01(),
                ))
                .unwrap();
            assert_usd(
                azure.input,
                mtok(600_000, GPT_4O.0) + mtok(400_000, GPT_4O.1),
            );
            let anthropic = pricer
                .price(&call(
                    Some("anthropic"),
                    "claude-sonnet-4-5",
                    t,
                    noon_2026_06_01(),
                ))
                .unwrap();
            assert_usd(anthropic.total, 2.0 + 10.0);
        }

        #[test]
        fn a_prices_file_wins_over_the_database_and_code_over_the_file() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("prices.json");
            std::fs::write(
                &path,
                r#"{"models": [
                    {"model": "gpt-4o", "input_per_mtok": 5, "output_per_mtok": 20},
                    {"model": "o3", "input_per_mtok": 3, "output_per_mtok": 9}
                ]}"#,
            )
            .unwrap();
            let code = PriceOverride {
                provider: None,
                model: "o3".into(),
                price: ModelPrice::per_million_tokens(1.0, 1.0),
            };
            let mut pricer = Pricer::load(vec![code], Some(&path));
            let t = tokens(1_000_000, 1_000_000);
            let at = noon_2026_06_01();
            assert_usd(
                pricer.price(&call(None, "gpt-4o", t, at)).unwrap().total,
                25.0,
            );
            assert_usd(pricer.price(&call(None, "o3", t, at)).unwrap().total, 2.0);

            // A bad file is left out: the database prices apply.
            std::fs::write(&path, "{\"models\": [").unwrap();
            let mut pricer = Pricer::load(Vec::new(), Some(&path));
            let c = pricer.price(&call(None, "gpt-4o", t, at)).unwrap();
            assert_usd(c.total, GPT_4O.0 + GPT_4O.2);
        }
    }
}
