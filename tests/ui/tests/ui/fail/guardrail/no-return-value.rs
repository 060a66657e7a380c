use llmtrace_runtime as llmtrace;

#[llmtrace::guardrail(name = "no_pii")]
fn no_pii(text: &str) {
    let _ = text;
}

fn main() {
    no_pii("tides");
}
