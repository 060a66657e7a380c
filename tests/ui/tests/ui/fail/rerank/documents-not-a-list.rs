use llmtrace_runtime as llmtrace;

#[llmtrace::rerank(model = "rerank-v3.5", documents = hits)]
fn rerank(query: &str, hits: Vec<String>) -> Vec<String> {
    let _ = query;
    hits
}

fn main() {
    let _ = rerank("tides", vec![]);
}
