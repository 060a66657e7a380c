use llmtrace_runtime as llmtrace;

fn answer() -> usize {
    llmtrace::step!(42, { 1 + 1 })
}

fn main() {
    let _ = answer();
}
