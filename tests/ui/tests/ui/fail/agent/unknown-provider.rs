use llmtrace_runtime as llmtrace;

#[llmtrace::agent(provider = "opnai")]
fn plan(goal: &str) -> String {
    goal.to_owned()
}

fn main() {
    let _ = plan("tides");
}
