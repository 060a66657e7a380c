use llmtrace_runtime as llmtrace;

struct Hit {
    text: String,
}

#[llmtrace::rerank(model = "rerank-v3.5")]
fn rerank(query: &str, candidates: Vec<Hit>) -> Vec<String> {
    let _ = query;
    candidates.into_iter().map(|h| h.text).collect()
}

fn main() {
    let _ = rerank("tides", vec![]);
}
