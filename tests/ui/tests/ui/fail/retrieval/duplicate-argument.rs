use llmtrace_runtime as llmtrace;

#[llmtrace::retrieval(data_source = "kb", data_source = "docs")]
fn search(query: &str) -> Vec<String> {
    vec![query.to_owned()]
}

fn main() {
    let _ = search("hi");
}
