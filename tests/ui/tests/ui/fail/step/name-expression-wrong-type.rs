use llmtrace_runtime as llmtrace;

fn answer(step: u32) -> usize {
    llmtrace::step!(step, { 1 + 1 })
}

fn main() {
    let _ = answer(1);
}
