use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", messages = turns)]
fn chat(turns: u32) -> String {
    turns.to_string()
}

fn main() {
    let _ = chat(3);
}
