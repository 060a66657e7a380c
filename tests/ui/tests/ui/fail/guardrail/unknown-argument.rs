use llmtrace_runtime as llmtrace;

#[llmtrace::guardrail(nam = "no_pii")]
fn no_pii(text: &str) -> bool {
    !text.contains('@')
}

fn main() {
    let _ = no_pii("tides");
}
