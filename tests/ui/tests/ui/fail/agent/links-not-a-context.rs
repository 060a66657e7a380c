use llmtrace_runtime as llmtrace;

#[llmtrace::agent(links = [attempt])]
fn plan(goal: &str, attempt: u32) -> String {
    format!("{goal}{attempt}")
}

fn main() {
    let _ = plan("tides", 1);
}
