use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
fn chat(prompt: &str) -> Vec<String> {
    vec![prompt.to_owned()]
}

fn main() {
    let _ = chat("hi");
}
