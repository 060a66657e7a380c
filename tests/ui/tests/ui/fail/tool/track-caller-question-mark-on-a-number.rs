use llmtrace_runtime as llmtrace;

#[llmtrace::tool]
#[track_caller]
fn lookup(id: u32) -> Option<u32> {
    let n = id?;
    Some(n)
}

fn main() {
    let _ = lookup(42);
}
