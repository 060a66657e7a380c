use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", skip_all, skip(prompt))]
fn chat(prompt: &str) -> String {
    prompt.to_owned()
}

fn main() {
    let _ = chat("hi");
}
