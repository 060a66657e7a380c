use llmtrace_runtime as llmtrace;

#[llmtrace::guardrail(name = policy)]
fn check(policy: u32, text: &str) -> bool {
    policy > 0 && !text.is_empty()
}

fn main() {
    let _ = check(1, "tides");
}
