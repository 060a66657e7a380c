use llmtrace_runtime as llmtrace;

struct Judge;

#[llmtrace::evaluator(name = "relevance")]
fn relevance(judge: &Judge, answer: &str) -> f64 {
    let _ = judge;
    if answer.is_empty() { 0.0 } else { 1.0 }
}

fn main() {
    let _ = relevance(&Judge, "tides");
}
