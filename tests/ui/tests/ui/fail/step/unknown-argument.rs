use llmtrace_runtime as llmtrace;

fn answer() -> usize {
    llmtrace::step!("build_context", atributes(app.n = 1), { 1 + 1 })
}

fn main() {
    let _ = answer();
}
