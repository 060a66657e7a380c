use llmtrace_runtime as llmtrace;

#[llmtrace::rerank(model = "rerank-v3.5", query = query_id)]
fn rerank(query_id: u64, documents: Vec<String>) -> Vec<String> {
    let _ = query_id;
    documents
}

fn main() {
    let _ = rerank(7, vec![]);
}
