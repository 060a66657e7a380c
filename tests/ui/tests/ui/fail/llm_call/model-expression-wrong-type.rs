use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = version)]
fn chat(version: u32) -> u32 {
    version
}

fn main() {
    let _ = chat(4);
}
