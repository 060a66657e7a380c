use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stop_sequences = stop)]
fn chat(stop: u32) -> u32 {
    stop
}

fn main() {
    let _ = chat(4);
}
