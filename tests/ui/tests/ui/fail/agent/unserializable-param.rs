use llmtrace_runtime as llmtrace;

struct Planner;

#[llmtrace::agent(name = "planner")]
fn plan(planner: &Planner, goal: &str) -> String {
    let _ = planner;
    goal.to_owned()
}

fn main() {
    let _ = plan(&Planner, "tides");
}
