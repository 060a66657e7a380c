use llmtrace_runtime as llmtrace;

#[llmtrace::evaluator(name = metric)]
fn judge(metric: u32, answer: &str) -> f64 {
    f64::from(metric) * answer.len() as f64
}

fn main() {
    let _ = judge(1, "tides");
}
