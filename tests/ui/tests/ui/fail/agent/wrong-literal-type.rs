use llmtrace_runtime as llmtrace;

#[llmtrace::agent(version = 2)]
fn plan(goal: &str) -> String {
    goal.to_owned()
}

fn main() {
    let _ = plan("tides");
}
