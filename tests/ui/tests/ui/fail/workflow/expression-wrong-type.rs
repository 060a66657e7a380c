use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(name = count)]
fn answer(count: u32) -> u32 {
    count
}

fn main() {
    let _ = answer(1);
}
