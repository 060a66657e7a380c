use llmtrace_runtime as llmtrace;

fn answer() -> usize {
    llmtrace::step!("build_context", output = "no", { 1 + 1 })
}

fn main() {
    let _ = answer();
}
