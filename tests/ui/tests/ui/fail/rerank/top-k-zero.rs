use llmtrace_runtime as llmtrace;

#[llmtrace::rerank(model = "rerank-v3.5", top_k = 0)]
fn rerank(query: &str, documents: Vec<String>) -> Vec<String> {
    let _ = query;
    documents
}

fn main() {
    let _ = rerank("tides", vec![]);
}
