use llmtrace_runtime as llmtrace;

fn answer() -> usize {
    llmtrace::step!({ 1 + 1 })
}

fn main() {
    let _ = answer();
}
