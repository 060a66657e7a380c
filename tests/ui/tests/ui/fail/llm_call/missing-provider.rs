use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(model = "gpt-4o")]
fn chat(prompt: &str) -> String {
    prompt.to_owned()
}

fn main() {
    let _ = chat("hi");
}
