use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "text-embedding-3-small", operation = "embeddings")]
fn embed(text: &str) -> Vec<f32> {
    vec![text.len() as f32]
}

fn main() {
    let _ = embed("tides");
}
