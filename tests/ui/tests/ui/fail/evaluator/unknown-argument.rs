use llmtrace_runtime as llmtrace;

#[llmtrace::evaluator(nme = "relevance")]
fn relevance(answer: &str) -> f64 {
    if answer.is_empty() { 0.0 } else { 1.0 }
}

fn main() {
    let _ = relevance("tides");
}
