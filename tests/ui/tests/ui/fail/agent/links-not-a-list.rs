use llmtrace_runtime as llmtrace;

#[llmtrace::agent(links(previous))]
fn plan(goal: &str, previous: llmtrace::TraceContext) -> String {
    let _ = previous;
    goal.to_owned()
}

fn main() {
    let _ = plan("tides", llmtrace::TraceContext::default());
}
