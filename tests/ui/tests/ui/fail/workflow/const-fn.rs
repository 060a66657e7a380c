use llmtrace_runtime as llmtrace;

#[llmtrace::workflow]
const fn answer() -> u32 {
    42
}

fn main() {
    let _ = answer();
}
