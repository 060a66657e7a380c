use llmtrace_runtime as llmtrace;

fn answer(attempt: u32) -> usize {
    llmtrace::step!("build_context", links = [attempt], { 1 + 1 })
}

fn main() {
    let _ = answer(1);
}
