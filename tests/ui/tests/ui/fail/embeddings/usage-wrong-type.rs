use llmtrace_runtime as llmtrace;

#[llmtrace::embeddings(provider = "openai", model = "text-embedding-3-small", usage = |r| r.len())]
fn embed(text: &str) -> Vec<f32> {
    vec![text.len() as f32]
}

fn main() {
    let _ = embed("tides");
}
