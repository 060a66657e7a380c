use llmtrace_runtime as llmtrace;

fn answer() -> usize {
    llmtrace::step!("build_context")
}

fn main() {
    let _ = answer();
}
