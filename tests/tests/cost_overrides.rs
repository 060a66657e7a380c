//! User prices, from code and from a prices file, win over the price database. This binary
//! installs its own pipeline (with the prices) before any capture does.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::{ModelPrice, Sampler, Usage};
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::trace::SpanData;

/// openai `gpt-4o` input in the genai-prices 0.2.1 data, USD per million tokens.
const GPT_4O_INPUT: f64 = 2.5;

fn write(name: &str, json: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("llmtrace-{}-{name}", std::process::id()));
    std::fs::write(&path, json).unwrap();
    path
}

fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let from_code = write(
            "prices.json",
            r#"{"models": [
                {"provider": "openai", "model": "gpt-4o", "input_per_mtok": 9, "output_per_mtok": 9},
                {"model": "ft:gpt-4o:acme", "input_per_mtok": 9, "output_per_mtok": 9},
                {"model": "local-llama", "input_per_mtok": 0.1, "output_per_mtok": 0.2,
                 "cache_write_per_mtok": 0.125}
            ]}"#,
        );
        // The path given in code wins over the environment's.
        let from_env = write(
            "env-prices.json",
            r#"{"models": [{"model": "local-llama", "input_per_mtok": 100, "output_per_mtok": 100}]}"#,
        );
        let env: HashMap<String, String> = [(
            "LLMTRACE_PRICES_FILE".to_owned(),
            from_env.display().to_string(),
        )]
        .into();
        let guard = llmtrace::init()
            .env(env)
            .prices_file(from_code)
            .model_price(
                "ft:gpt-4o:acme",
                ModelPrice::per_million_tokens(3.0, 12.0).with_cache_read(1.5),
            )
            .provider_model_price("openai", "gpt-4o", ModelPrice::per_million_tokens(1.0, 4.0))
            .sampler(Sampler::AlwaysOn)
            .without_exporters()
            .export_interval(Duration::from_millis(20))
            .install();
        // Tests end when the process does: keep the pipeline for the whole process.
        std::mem::forget(guard);
    });
}

fn one_span(name: &str, f: impl FnOnce()) -> SpanData {
    install();
    let cap = Capture::new();
    cap.in_scope(f);
    cap.spans().by_name(name).clone()
}

#[track_caller]
fn assert_usd(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("no cost");
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected ${expected}, got ${actual}"
    );
}

#[llmtrace::llm_call(provider = "openai", model = "ft:gpt-4o:acme")]
fn fine_tuned() {
    llmtrace::current().record_usage(Usage::new(1_000_000, 100_000).with_cache_read(400_000));
}

#[test]
fn a_code_price_wins_over_the_file_and_reports_the_cache_part() {
    let s = one_span("chat ft:gpt-4o:acme", fine_tuned);
    // 600k uncached at $3, 400k cached at $1.5, 100k out at $12 (per million).
    assert_usd(s.f64_attr("llm.cost.prompt"), 1.8 + 0.6);
    assert_usd(s.f64_attr("llm.cost.prompt_details.cache_read"), 0.6);
    assert_usd(s.f64_attr("llm.cost.completion"), 1.2);
    assert_usd(s.f64_attr("llm.cost.total"), 3.6);
    let details = s.json_attr("langfuse.observation.cost_details").unwrap();
    assert_usd(details["input_cached_tokens"].as_f64(), 0.6);
    assert_usd(details["total"].as_f64(), 3.6);
    assert!(s.attr("llmtrace.cost.unpriced").is_none());
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn openai() {
    llmtrace::current().record_usage(Usage::new(1_000_000, 1_000_000));
}

#[llmtrace::llm_call(provider = "azure.ai.openai", model = "gpt-4o")]
fn azure() {
    llmtrace::current().record_usage(Usage::new(1_000_000, 0));
}

#[test]
fn a_provider_price_applies_to_that_provider_only() {
    let s = one_span("chat gpt-4o", openai);
    assert_usd(s.f64_attr("llm.cost.total"), 1.0 + 4.0);
    // Through Azure: neither the code price nor the file's (both for openai) apply.
    let s = one_span("chat gpt-4o", azure);
    assert_usd(s.f64_attr("llm.cost.total"), GPT_4O_INPUT);
}

#[llmtrace::llm_call(provider = custom("ollama"), model = "local-llama")]
fn local() {
    llmtrace::current().record_usage(Usage::new(1_000_000, 1_000_000).with_cache_write(200_000));
}

#[test]
fn a_file_prices_models_the_database_does_not_know() {
    let s = one_span("chat local-llama", local);
    // 800k uncached at $0.1, 200k written to the cache at $0.125, 1M out at $0.2.
    assert_usd(s.f64_attr("llm.cost.prompt_details.cache_write"), 0.025);
    assert_usd(s.f64_attr("llm.cost.prompt"), 0.08 + 0.025);
    assert_usd(s.f64_attr("llm.cost.total"), 0.105 + 0.2);
    let details = s.json_attr("langfuse.observation.cost_details").unwrap();
    assert_usd(details["input_cache_creation"].as_f64(), 0.025);
    assert_eq!(llmtrace::stats().unpriced_spans, 0);
}
