//! An evaluation run over the support bot, fully offline: a fixed question set with expected
//! answers, a deterministic judge, the scores attached to the traces they judge, a summary table
//! as a regression check, and the (input, output, score) rows written as a dataset.
//!
//! ```sh
//! cargo run -p llmtrace-examples --bin evaluate_answers
//! ```
//!
//! Each answer's trace is printed as `rag_chatbot` prints it, then the judge's own trace
//! (`evaluate correctness`, an `#[evaluator]` span linked to the answer), then the score
//! (`★ correctness 1 (pass)`): the score is recorded on the answer's `support_answer` span after
//! it ended, as an OpenTelemetry log record carrying its ids (in `./llmtrace-logs.jsonl` beside
//! `./llmtrace-traces.jsonl`). The tokens and cost per question come from the metrics the export
//! thread recorded (`llmtrace::metrics_summary`). The rows go to
//! `./evaluate_answers.dataset.jsonl`. The run fails (exit code 1) when the mean score drops
//! below [`MIN_MEAN_SCORE`].

#[path = "../support_bot.rs"]
mod support_bot;

use std::io::Write;
use std::time::{Duration, Instant};

use llmtrace::export::tree::{format_cost, format_duration};
use llmtrace_runtime as llmtrace;
use support_bot::{HelpCenter, MockModel, support_answer};

/// The mean score under which the run fails.
const MIN_MEAN_SCORE: f64 = 0.6;

/// A question, and the phrases a correct answer contains.
struct Case {
    question: &'static str,
    expected: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        question: "Where is my order A-42?",
        expected: &["A-42", "shipped"],
    },
    Case {
        question: "And what about my order B-7?",
        expected: &["could not find", "support"],
    },
    Case {
        question: "How long does shipping take?",
        expected: &["2 business days"],
    },
    // The bot answers this one with its shipping line: the judge catches it.
    Case {
        question: "When will I get my refund?",
        expected: &["refund", "5 days"],
    },
];

/// The deterministic judge: the share of expected phrases the answer contains.
///
/// Traced as an `evaluate correctness` span of its own trace (the answer's has ended), linked to
/// the answer it judges. A model called here as an LLM judge (an `#[llm_call]`) would be its
/// child, marked `llmtrace.evaluation`: its tokens and cost counted on the evaluator, never in
/// the answer's trace.
#[llmtrace::evaluator(name = "correctness", links = [judged], skip(judged))]
fn judge(
    answer: &str,
    expected: &[&'static str],
    judged: &llmtrace::TraceContext,
) -> (f64, Vec<&'static str>) {
    let answer = answer.to_lowercase();
    let missing: Vec<&'static str> = expected
        .iter()
        .copied()
        .filter(|phrase| !answer.contains(&phrase.to_lowercase()))
        .collect();
    let found = expected.len() - missing.len();
    (found as f64 / expected.len() as f64, missing)
}

/// Tokens in and out and cost so far, over every model (from the metrics).
fn totals() -> (u64, u64, f64) {
    let _ = llmtrace::force_flush(Duration::from_secs(5));
    llmtrace::metrics_summary()
        .rows()
        .iter()
        .fold((0, 0, 0.0), |(i, o, c), r| {
            (i + r.input_tokens, o + r.output_tokens, c + r.cost_usd)
        })
}

/// One row of the summary and of the dataset.
struct Row {
    question: &'static str,
    answer: String,
    score: f64,
    tokens: (u64, u64),
    cost: f64,
    latency: Duration,
    trace: String,
}

#[tokio::main]
async fn main() {
    let guard = llmtrace::init().service_name("support-bot-eval").install();
    let kb = HelpCenter::new();
    let model = MockModel;
    let mut rows = Vec::new();
    for case in CASES {
        let before = totals();
        let started = Instant::now();
        let answer = support_answer(&kb, &model, case.question).await;
        let latency = started.elapsed();
        let after = totals();
        let Ok(answer) = answer else {
            eprintln!("{}: the bot failed", case.question);
            continue;
        };
        let (score, missing) = judge(&answer.text, case.expected, &answer.trace);
        let mut evaluation = llmtrace::evaluation("correctness")
            .score(score)
            .label(if score >= 0.5 { "pass" } else { "fail" });
        if !missing.is_empty() {
            evaluation = evaluation.explanation(format!("missing: {}", missing.join(", ")));
        }
        // The answer's span has ended: a log record with its trace and span ids.
        evaluation.record_on(&answer.trace);
        rows.push(Row {
            question: case.question,
            answer: answer.text,
            score,
            tokens: (after.0 - before.0, after.1 - before.1),
            cost: after.2 - before.2,
            latency,
            trace: answer.trace.to_string(),
        });
    }
    let _ = llmtrace::force_flush(Duration::from_secs(5));

    println!(
        "{:<30}  {:>5}  {:>9}  {:>10}  {:>9}  {:>7}",
        "question", "score", "tokens in", "tokens out", "cost", "latency"
    );
    for r in &rows {
        println!(
            "{:<30}  {:>5.2}  {:>9}  {:>10}  {:>9}  {:>7}",
            r.question,
            r.score,
            r.tokens.0,
            r.tokens.1,
            format_cost(r.cost),
            format_duration(r.latency)
        );
    }
    let mean = rows.iter().map(|r| r.score).sum::<f64>() / rows.len().max(1) as f64;
    let passed = mean >= MIN_MEAN_SCORE && rows.len() == CASES.len();
    println!(
        "mean score {mean:.2} (minimum {MIN_MEAN_SCORE}): {}",
        if passed { "pass" } else { "FAIL" }
    );

    // The dataset: one JSON object per line, for comparing runs.
    let path = "evaluate_answers.dataset.jsonl";
    let written = std::fs::File::create(path).and_then(|mut file| {
        for r in &rows {
            let line = serde_json::json!({
                "input": r.question,
                "output": r.answer,
                "score": r.score,
                "trace": r.trace,
            });
            writeln!(file, "{line}")?;
        }
        Ok(())
    });
    match written {
        Ok(()) => println!("dataset: ./{path} ({} rows)", rows.len()),
        Err(e) => eprintln!("cannot write {path}: {e}"),
    }
    drop(guard);
    if !passed {
        std::process::exit(1);
    }
}
