use llmtrace_runtime as llmtrace;

#[llmtrace::agent(id = assistant)]
fn plan(assistant: u64, goal: &str) -> String {
    format!("{assistant}{goal}")
}

fn main() {
    let _ = plan(7, "tides");
}
