use llmtrace_runtime as llmtrace;

#[llmtrace::tool]
const fn lookup() -> u32 {
    42
}

fn main() {
    let _ = lookup();
}
