use llmtrace_runtime as llmtrace;

#[llmtrace::agent(name = "planner", name = "researcher")]
fn plan(goal: &str) -> String {
    goal.to_owned()
}

fn main() {
    let _ = plan("tides");
}
