//! Cost of model calls from the bundled price database: the exported `llm.cost.*` keys and
//! Langfuse's `cost_details`, unpriced models, and a cost the application records itself.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::{Field, Usage};
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::trace::SpanData;

// USD per million tokens in the genai-prices 0.2.1 data (`data/prices.json`).
/// openai `gpt-4o`: input, cached input, output.
const GPT_4O: (f64, f64, f64) = (2.5, 1.25, 10.0);
/// openai `gpt-4o-mini`: input.
const GPT_4O_MINI_INPUT: f64 = 0.15;
/// anthropic `claude-haiku-4-5`: input, cache read, cache write, output.
const HAIKU_4_5: (f64, f64, f64, f64) = (1.0, 0.1, 1.25, 5.0);
/// openai `o3` since 2025-06-10: input, output.
const O3: (f64, f64) = (2.0, 8.0);

fn mtok(tokens: u64, usd_per_million: f64) -> f64 {
    tokens as f64 * usd_per_million / 1e6
}

#[track_caller]
fn assert_usd(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("no cost");
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected ${expected}, got ${actual}"
    );
}

/// The span's cost breakdown as exported: total, prompt, completion.
#[track_caller]
fn assert_cost(span: &SpanData, prompt: f64, completion: f64) {
    assert_usd(span.f64_attr("llm.cost.prompt"), prompt);
    assert_usd(span.f64_attr("llm.cost.completion"), completion);
    assert_usd(span.f64_attr("llm.cost.total"), prompt + completion);
    assert!(span.attr("llmtrace.cost.unpriced").is_none());
}

fn one_span(name: &str, f: impl FnOnce()) -> SpanData {
    let cap = Capture::new();
    cap.in_scope(f);
    cap.spans().by_name(name).clone()
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn cached_prompt() {
    llmtrace::current().record_usage(Usage::new(10_000, 500).with_cache_read(4_000));
}

#[test]
fn openai_call_with_cached_input() {
    let s = one_span("chat gpt-4o", cached_prompt);
    let (input, cached, output) = GPT_4O;
    let prompt = mtok(6_000, input) + mtok(4_000, cached);
    assert_cost(&s, prompt, mtok(500, output));
    // The database gives no separate cache part.
    assert!(s.attr("llm.cost.prompt_details.cache_read").is_none());
    let details = s.json_attr("langfuse.observation.cost_details").unwrap();
    let keys: Vec<&String> = details.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["input", "output", "total"]);
    assert_usd(details["input"].as_f64(), prompt);
    assert_usd(details["output"].as_f64(), mtok(500, output));
    assert_usd(details["total"].as_f64(), prompt + mtok(500, output));
}

#[llmtrace::llm_call(provider = "anthropic", model = "claude-haiku-4-5")]
fn cache_read_and_write() {
    llmtrace::current().record_usage(
        Usage::new(50_000, 2_000)
            .with_cache_read(30_000)
            .with_cache_write(10_000),
    );
}

#[test]
fn anthropic_call_with_cache_read_and_write() {
    let s = one_span("chat claude-haiku-4-5", cache_read_and_write);
    let (input, read, write, output) = HAIKU_4_5;
    assert_cost(
        &s,
        mtok(10_000, input) + mtok(30_000, read) + mtok(10_000, write),
        mtok(2_000, output),
    );
}

#[llmtrace::llm_call(provider = "openai", model = "o3")]
fn think(reasoning: u64) {
    llmtrace::current().record_usage(Usage::new(1_000, 5_000).with_reasoning(reasoning));
}

#[test]
fn reasoning_tokens_are_part_of_the_output_price() {
    let with = one_span("chat o3", || think(4_000));
    let without = one_span("chat o3", || think(0));
    let (input, output) = O3;
    assert_cost(&with, mtok(1_000, input), mtok(5_000, output));
    assert_eq!(
        with.f64_attr("llm.cost.total"),
        without.f64_attr("llm.cost.total")
    );
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn answered_by_another_model() {
    let span = llmtrace::current();
    span.set(Field::ResponseModel, "gpt-4o-mini");
    span.record_usage(Usage::new(1_000_000, 0));
}

#[test]
fn the_model_that_answered_is_priced() {
    let s = one_span("chat gpt-4o", answered_by_another_model);
    assert_cost(&s, GPT_4O_MINI_INPUT, 0.0);
}

#[llmtrace::llm_call(provider = custom("my-gateway"), model = "no-such-model-v9")]
fn unknown_model() {
    llmtrace::current().record_usage(Usage::new(100, 10));
}

#[test]
fn unknown_models_are_unpriced_and_counted() {
    let before = llmtrace::stats().unpriced_spans;
    let s = one_span("chat no-such-model-v9", unknown_model);
    assert_eq!(s.bool_attr("llmtrace.cost.unpriced"), Some(true));
    assert!(s.attr("llm.cost.total").is_none());
    assert!(s.attr("langfuse.observation.cost_details").is_none());
    assert!(llmtrace::stats().unpriced_spans > before);
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn recorded_cost() {
    llmtrace::current().record_usage(Usage::new(10_000, 500));
    llmtrace::current().record_cost_usd(0.42);
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn no_usage() {}

#[test]
fn a_recorded_cost_wins_and_calls_without_usage_get_none() {
    let s = one_span("chat gpt-4o", recorded_cost);
    assert_eq!(s.f64_attr("llm.cost.total"), Some(0.42));
    assert!(s.attr("llm.cost.prompt").is_none());
    assert!(s.attr("llmtrace.cost.unpriced").is_none());

    let s = one_span("chat gpt-4o", no_usage);
    assert!(s.attr("llm.cost.total").is_none());
    assert!(s.attr("llmtrace.cost.unpriced").is_none());
}
