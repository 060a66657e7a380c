use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", usage = |_r: &()| llmtrace::Usage::new(1, 1))]
fn chat(prompt: &str) {
    println!("{prompt}");
}

fn main() {
    chat("hi");
}
