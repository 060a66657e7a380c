use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = label)]
fn chat(label: &str) -> usize {
    label.len()
}

fn main() {
    let _ = chat("warm");
}
