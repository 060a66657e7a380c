use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
extern "C" fn chat() -> u32 {
    42
}

fn main() {
    let _ = chat();
}
