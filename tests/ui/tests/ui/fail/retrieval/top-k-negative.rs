use llmtrace_runtime as llmtrace;

#[llmtrace::retrieval(top_k = -1)]
fn search(query: &str) -> Vec<String> {
    vec![query.to_owned()]
}

fn main() {
    let _ = search("hi");
}
