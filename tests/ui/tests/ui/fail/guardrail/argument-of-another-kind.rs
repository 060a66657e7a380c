use llmtrace_runtime as llmtrace;

#[llmtrace::guardrail(model = "llama-guard-3")]
fn no_pii(text: &str) -> bool {
    !text.contains('@')
}

fn main() {
    let _ = no_pii("tides");
}
