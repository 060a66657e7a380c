use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
fn chat(prompt: &str) {
    println!("{prompt}");
}

fn main() {
    chat("hi");
}
