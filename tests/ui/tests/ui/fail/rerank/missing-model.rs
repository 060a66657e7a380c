use llmtrace_runtime as llmtrace;

#[llmtrace::rerank(top_k = 2)]
fn rerank(query: &str, documents: Vec<String>) -> Vec<String> {
    let _ = query;
    documents
}

fn main() {
    let _ = rerank("tides", vec![]);
}
