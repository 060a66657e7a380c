use llmtrace_runtime as llmtrace;

struct Hit {
    text: String,
}

#[llmtrace::rerank(model = "rerank-v3.5")]
fn rerank(query: &str, documents: Vec<String>) -> Vec<Hit> {
    let _ = query;
    documents.into_iter().map(|text| Hit { text }).collect()
}

fn main() {
    let _ = rerank("tides", vec![]);
}
