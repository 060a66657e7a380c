use llmtrace_runtime as llmtrace;

#[llmtrace::evaluator(name = "relevance", name = "faithfulness")]
fn judge(answer: &str) -> f64 {
    if answer.is_empty() { 0.0 } else { 1.0 }
}

fn main() {
    let _ = judge("tides");
}
