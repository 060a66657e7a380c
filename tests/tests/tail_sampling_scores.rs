//! Tail sampling by evaluation: with a 0% base rate and errors not kept, exactly the traces
//! with a low score, or with user feedback, are exported, whole.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use llmtrace::{TailSampler, TraceContext};
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::trace::InMemorySpanExporter;

/// A judge inside the request scores the answer on the model call's span.
#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(relevance: f64) -> String {
    llmtrace::evaluation("relevance")
        .score(relevance)
        .record_on(llmtrace::current());
    // Another evaluation with a low score, under a name no rule names.
    llmtrace::evaluation("tone")
        .score(0.0)
        .record_on(llmtrace::current());
    "ok".into()
}

#[llmtrace::workflow(name = "answer")]
fn answer(relevance: f64) -> String {
    chat(relevance)
}

/// A request whose model call ended before the user's feedback arrived, the root still open.
#[llmtrace::workflow(name = "with_feedback")]
fn with_feedback() -> String {
    let judged = call_and_context();
    llmtrace::feedback(&judged).thumbs_up().record();
    "ok".into()
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn inner_chat() -> String {
    "ok".into()
}

#[llmtrace::workflow(name = "judged")]
fn call_and_context() -> TraceContext {
    inner_chat();
    llmtrace::current().context()
}

#[test]
fn low_scores_and_feedback_keep_their_traces() {
    let exporter = InMemorySpanExporter::default();
    let _guard = llmtrace::init()
        .with_exporter(exporter.clone())
        .tail_sampling(
            TailSampler::keep_fraction(0.0)
                .keep_errors(false)
                .keep_when_score_below("relevance", 0.5)
                .keep_on_feedback(),
        )
        .install();

    for relevance in [0.9, 0.2, 0.5, 0.49, 1.0] {
        answer(relevance);
    }
    with_feedback();
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");

    let spans = exporter.get_finished_spans().unwrap();
    let mut traces: BTreeMap<_, Vec<String>> = BTreeMap::new();
    for span in &spans {
        traces
            .entry(span.span_context.trace_id().to_string())
            .or_default()
            .push(span.name.to_string());
    }
    let mut kept: Vec<Vec<String>> = traces.into_values().collect();
    for names in &mut kept {
        names.sort();
    }
    kept.sort();
    // Scores 0.2 and 0.49 (below 0.5), whole; and the trace that got feedback, whole.
    assert_eq!(
        kept,
        vec![
            vec!["chat gpt-4o", "invoke_workflow answer"],
            vec!["chat gpt-4o", "invoke_workflow answer"],
            vec![
                "chat gpt-4o",
                "invoke_workflow judged",
                "invoke_workflow with_feedback"
            ],
        ],
        "{spans:#?}"
    );
    let scores: Vec<f64> = spans
        .iter()
        .filter(|s| s.name == "chat gpt-4o")
        .flat_map(|s| s.events.iter())
        .filter(|e| e.name == "gen_ai.evaluation.result")
        .filter_map(|e| {
            let name = e
                .attributes
                .iter()
                .find(|kv| kv.key.as_str() == "gen_ai.evaluation.name")?;
            (name.value.as_str() == "relevance").then(|| {
                e.attributes
                    .iter()
                    .find(|kv| kv.key.as_str() == "gen_ai.evaluation.score.value")
                    .and_then(|kv| match kv.value {
                        opentelemetry::Value::F64(v) => Some(v),
                        _ => None,
                    })
                    .unwrap()
            })
        })
        .collect();
    let mut scores = scores;
    scores.sort_by(f64::total_cmp);
    assert_eq!(scores, [0.2, 0.49]);
    assert_eq!(llmtrace::stats().sampled_out, 6, "{:?}", llmtrace::stats());
}
