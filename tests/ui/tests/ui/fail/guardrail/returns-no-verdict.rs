use llmtrace_runtime as llmtrace;

#[llmtrace::guardrail(name = "no_pii")]
fn no_pii(text: &str) -> String {
    text.replace('@', "(at)")
}

fn main() {
    let _ = no_pii("tides");
}
