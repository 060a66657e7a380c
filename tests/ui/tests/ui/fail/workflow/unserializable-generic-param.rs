use llmtrace_runtime as llmtrace;

#[llmtrace::workflow]
fn run<C>(conn: C, question: &str) -> usize {
    let _ = conn;
    question.len()
}

fn main() {
    let _ = run((), "hi");
}
