use llmtrace_runtime as llmtrace;

fn answer() -> usize {
    llmtrace::step!("build_context", model = "gpt-4o", { 1 + 1 })
}

fn main() {
    let _ = answer();
}
