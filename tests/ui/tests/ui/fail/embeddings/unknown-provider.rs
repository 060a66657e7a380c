use llmtrace_runtime as llmtrace;

#[llmtrace::embeddings(provider = "voyage", model = "voyage-3")]
fn embed(text: &str) -> Vec<f32> {
    vec![text.len() as f32]
}

fn main() {
    let _ = embed("tides");
}
