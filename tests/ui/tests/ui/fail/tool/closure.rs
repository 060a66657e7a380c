use llmtrace_runtime as llmtrace;

#[llmtrace::tool]
static LOOKUP: fn(u32) -> u32 = |id| id + 1;

fn main() {
    let _ = LOOKUP(1);
}
