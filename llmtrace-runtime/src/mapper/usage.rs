//! Usage and cost of a model call: token counts under every profile's names, and the cost in
//! USD, with the Langfuse details objects that keep Langfuse from counting tokens twice.

use super::fields::Fields;
use super::format::{self, Tokens};
use super::out::Out;
use crate::record::Field;
use crate::semconv::Conventions;
use crate::semconv::keys::{gen_ai, langfuse, legacy, llmtrace as lt, openinference as oi};

/// Which usage keys a kind of span carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum UsageKeys {
    /// A model call: every count, in every profile; no count at all is marked as missing usage.
    ModelCall,
    /// An embeddings call: input tokens only (embeddings produce no output tokens); no count
    /// is marked as missing usage.
    Embeddings,
    /// An agent: the sums over its own calls, under the GenAI names the conventions allow on
    /// agent spans (backends that read other names would count them twice with the calls').
    AgentTotals,
}

/// The token counts; a model call that reported neither input nor output is marked as missing
/// usage.
#[inline(always)]
pub(super) fn usage(c: &Conventions, t: &Tokens, keys: UsageKeys, out: &mut Out) {
    if t.input.is_none() && t.output.is_none() {
        if keys != UsageKeys::AgentTotals {
            out.attr(lt::USAGE_MISSING, true);
        }
        return;
    }
    let mut set = |key: &'static str, v: Option<i64>| {
        if let Some(v) = v {
            out.attr(key, v);
        }
    };
    set(gen_ai::USAGE_INPUT_TOKENS, t.input);
    if keys == UsageKeys::Embeddings {
        if c.legacy {
            set(legacy::USAGE_PROMPT_TOKENS, t.input);
        }
        return;
    }
    set(gen_ai::USAGE_OUTPUT_TOKENS, t.output);
    set(gen_ai::USAGE_CACHE_READ_INPUT_TOKENS, t.cache_read);
    set(gen_ai::USAGE_CACHE_CREATION_INPUT_TOKENS, t.cache_write);
    if c.latest {
        set(gen_ai::USAGE_CACHE_WRITE_INPUT_TOKENS, t.cache_write);
    }
    if keys == UsageKeys::AgentTotals {
        return;
    }
    set(gen_ai::USAGE_REASONING_OUTPUT_TOKENS, t.reasoning);
    if c.legacy {
        set(legacy::USAGE_PROMPT_TOKENS, t.input);
        set(legacy::USAGE_COMPLETION_TOKENS, t.output);
    }
    if c.openinference_full {
        set(oi::LLM_TOKEN_COUNT_PROMPT, t.input);
        set(oi::LLM_TOKEN_COUNT_COMPLETION, t.output);
        set(
            oi::LLM_TOKEN_COUNT_TOTAL,
            Some(t.input.unwrap_or(0) + t.output.unwrap_or(0)),
        );
        set(oi::LLM_TOKEN_COUNT_CACHE_READ, t.cache_read);
        set(oi::LLM_TOKEN_COUNT_CACHE_WRITE, t.cache_write);
    }
    // Phoenix does not derive reasoning tokens from the GenAI name.
    if c.openinference {
        set(oi::LLM_TOKEN_COUNT_REASONING, t.reasoning);
    }
    // With cache or reasoning counts (or the newest names), Langfuse would count some
    // tokens twice from the individual keys: give it the exact breakdown instead.
    let breakdown = t.cache_read.is_some() || t.cache_write.is_some() || t.reasoning.is_some();
    if c.langfuse && (breakdown || c.latest) {
        out.attr(
            langfuse::OBSERVATION_USAGE_DETAILS,
            format::langfuse_usage_details(t),
        );
    }
}

/// The cost the cost stage (or the application) recorded, and whether the model had no price.
#[inline(always)]
pub(super) fn cost(c: &Conventions, r: &Fields<'_>, out: &mut Out) {
    if r.get(Field::Unpriced).is_some() {
        out.attr(lt::COST_UNPRICED, true);
    }
    let total = r.cost();
    let parts = [
        ("input", r.f64(Field::CostInput)),
        ("output", r.f64(Field::CostOutput)),
        ("input_cached_tokens", r.f64(Field::CostCacheRead)),
        ("input_cache_creation", r.f64(Field::CostCacheWrite)),
    ];
    // `llm.cost.*` are the cost keys whatever the profile: the GenAI conventions define none,
    // and Phoenix, Langfuse and the console tree read these.
    for (key, v) in [
        (oi::LLM_COST_TOTAL, total),
        (oi::LLM_COST_PROMPT, parts[0].1),
        (oi::LLM_COST_COMPLETION, parts[1].1),
        (oi::LLM_COST_CACHE_READ, parts[2].1),
        (oi::LLM_COST_CACHE_WRITE, parts[3].1),
    ] {
        if let Some(v) = v {
            out.attr(key, v);
        }
    }
    // Langfuse reads a lone total from `llm.cost.total`; the details object is for
    // breakdowns. Its `input` is the uncached input, as in the usage details: the cache
    // parts, when known, are taken out of the input cost they are part of.
    if c.langfuse && parts.iter().any(|(_, v)| v.is_some()) {
        let mut all = parts.to_vec();
        if let Some(input) = all[0].1 {
            let cached = all[2].1.unwrap_or(0.0) + all[3].1.unwrap_or(0.0);
            all[0].1 = Some((input - cached).max(0.0));
        }
        all.push(("total", total));
        out.attr(
            langfuse::OBSERVATION_COST_DETAILS,
            format::langfuse_cost_details(&all),
        );
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;
    use serde_json::{Value as Json, json};

    use super::*;
    use crate::mapper::test_support::{all_on, keys, out, record_with, string, value};
    use crate::record::{Kind, Value};
    use crate::state::ContentCapture;

    fn tokens(
        input: i64,
        output: i64,
        cache_read: i64,
        cache_write: i64,
        reasoning: i64,
    ) -> Tokens {
        let some = |n: i64| (n >= 0).then_some(n);
        // Breakdowns of zero are left out before they get here (see `Fields::tokens`).
        let part = |n: i64| (n > 0).then_some(n);
        Tokens {
            input: some(input),
            output: some(output),
            cache_read: part(cache_read),
            cache_write: part(cache_write),
            reasoning: part(reasoning),
        }
    }

    fn usage_attrs(c: Conventions, t: Tokens) -> Vec<KeyValue> {
        let mut o = out(ContentCapture::SpanOnly);
        usage(&c, &t, UsageKeys::ModelCall, &mut o);
        o.attrs
    }

    fn int(attrs: &[KeyValue], key: &str) -> i64 {
        match value(attrs, key) {
            opentelemetry::Value::I64(n) => *n,
            other => panic!("`{key}` is {other:?}"),
        }
    }

    #[test]
    fn plain_counts_in_the_default_profile() {
        let a = usage_attrs(Conventions::default(), tokens(120, 30, 0, 0, 0));
        assert_eq!(
            keys(&a),
            [gen_ai::USAGE_INPUT_TOKENS, gen_ai::USAGE_OUTPUT_TOKENS]
        );
        assert_eq!(int(&a, gen_ai::USAGE_INPUT_TOKENS), 120);
    }

    #[test]
    fn breakdowns_bring_the_langfuse_details() {
        let a = usage_attrs(Conventions::default(), tokens(1000, 300, 400, 100, 120));
        assert_eq!(
            keys(&a),
            [
                gen_ai::USAGE_INPUT_TOKENS,
                gen_ai::USAGE_OUTPUT_TOKENS,
                gen_ai::USAGE_CACHE_READ_INPUT_TOKENS,
                gen_ai::USAGE_CACHE_CREATION_INPUT_TOKENS,
                gen_ai::USAGE_REASONING_OUTPUT_TOKENS,
                oi::LLM_TOKEN_COUNT_REASONING,
                langfuse::OBSERVATION_USAGE_DETAILS,
            ]
        );
        let details: Json =
            serde_json::from_str(&string(&a, langfuse::OBSERVATION_USAGE_DETAILS)).unwrap();
        assert_eq!(
            details,
            json!({"input": 500, "output": 180, "input_cached_tokens": 400,
                "input_cache_creation": 100, "output_reasoning_tokens": 120, "total": 1300})
        );
        let a = usage_attrs(
            Conventions::default().openinference(false).langfuse(false),
            tokens(1000, 300, 400, 100, 120),
        );
        assert_eq!(keys(&a).len(), 5, "{:?}", keys(&a));
    }

    #[test]
    fn every_profile_names_the_counts() {
        let a = usage_attrs(all_on(), tokens(100, 20, 30, 0, 0));
        assert_eq!(int(&a, gen_ai::USAGE_CACHE_READ_INPUT_TOKENS), 30);
        assert_eq!(int(&a, legacy::USAGE_PROMPT_TOKENS), 100);
        assert_eq!(int(&a, legacy::USAGE_COMPLETION_TOKENS), 20);
        assert_eq!(int(&a, oi::LLM_TOKEN_COUNT_PROMPT), 100);
        assert_eq!(int(&a, oi::LLM_TOKEN_COUNT_COMPLETION), 20);
        assert_eq!(int(&a, oi::LLM_TOKEN_COUNT_TOTAL), 120);
        assert_eq!(int(&a, oi::LLM_TOKEN_COUNT_CACHE_READ), 30);
        assert!(!keys(&a).contains(&gen_ai::USAGE_CACHE_WRITE_INPUT_TOKENS));
        assert!(!keys(&a).contains(&oi::LLM_TOKEN_COUNT_CACHE_WRITE));
        // The newest cache-write name only in the latest profile, next to the one backends read.
        let a = usage_attrs(
            Conventions::default().latest_experimental(true),
            tokens(100, 20, 0, 8, 0),
        );
        assert_eq!(int(&a, gen_ai::USAGE_CACHE_WRITE_INPUT_TOKENS), 8);
        assert_eq!(int(&a, gen_ai::USAGE_CACHE_CREATION_INPUT_TOKENS), 8);
    }

    #[test]
    fn the_latest_profile_always_gives_langfuse_the_details() {
        let a = usage_attrs(
            Conventions::default().latest_experimental(true),
            tokens(10, 2, 0, 0, 0),
        );
        assert_eq!(
            string(&a, langfuse::OBSERVATION_USAGE_DETAILS),
            r#"{"input":10,"output":2,"total":12}"#
        );
    }

    #[test]
    fn missing_usage_is_marked() {
        let a = usage_attrs(all_on(), tokens(-1, -1, 5, 0, 0));
        assert_eq!(a, [KeyValue::new(lt::USAGE_MISSING, true)]);
        // Output alone is usage.
        let a = usage_attrs(all_on(), tokens(-1, 7, 0, 0, 0));
        assert_eq!(int(&a, oi::LLM_TOKEN_COUNT_TOTAL), 7);
        assert!(!keys(&a).contains(&gen_ai::USAGE_INPUT_TOKENS));
    }

    fn cost_attrs(c: Conventions, fields: &[(Field, Value)]) -> Vec<KeyValue> {
        let mut rec = record_with(Kind::LlmCall, fields);
        let mut o = out(ContentCapture::SpanOnly);
        cost(&c, &Fields::index(&mut rec), &mut o);
        o.attrs
    }

    #[test]
    fn a_lone_total_is_llm_cost_total() {
        for c in [
            Conventions::default(),
            Conventions::default().openinference(false),
        ] {
            let a = cost_attrs(c, &[(Field::CostTotal, Value::F64(0.25))]);
            assert_eq!(a, [KeyValue::new(oi::LLM_COST_TOTAL, 0.25)]);
        }
        // A whole number of dollars is still a double.
        let a = cost_attrs(Conventions::default(), &[(Field::CostTotal, Value::I64(2))]);
        assert_eq!(a, [KeyValue::new(oi::LLM_COST_TOTAL, 2.0)]);
    }

    #[test]
    fn cost_parts_and_the_langfuse_details() {
        let fields = [
            (Field::CostInput, Value::F64(0.5)),
            (Field::CostOutput, Value::F64(0.25)),
            (Field::CostCacheRead, Value::F64(0.125)),
            (Field::CostTotal, Value::F64(0.75)),
        ];
        let a = cost_attrs(Conventions::default(), &fields);
        assert_eq!(
            keys(&a),
            [
                oi::LLM_COST_TOTAL,
                oi::LLM_COST_PROMPT,
                oi::LLM_COST_COMPLETION,
                oi::LLM_COST_CACHE_READ,
                langfuse::OBSERVATION_COST_DETAILS,
            ]
        );
        // The cached part is taken out of the input cost.
        assert_eq!(
            string(&a, langfuse::OBSERVATION_COST_DETAILS),
            r#"{"input":0.375,"output":0.25,"input_cached_tokens":0.125,"total":0.75}"#
        );
        let a = cost_attrs(Conventions::default().langfuse(false), &fields);
        assert!(!keys(&a).contains(&langfuse::OBSERVATION_COST_DETAILS));
    }

    #[test]
    fn an_unpriced_model_is_marked() {
        let a = cost_attrs(
            Conventions::default(),
            &[(Field::Unpriced, Value::Bool(true))],
        );
        assert_eq!(a, [KeyValue::new(lt::COST_UNPRICED, true)]);
        assert!(cost_attrs(Conventions::default(), &[]).is_empty());
    }
}
