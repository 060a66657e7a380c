use llmtrace_runtime as llmtrace;

#[llmtrace::retrieval(description = "kb search")]
fn search(query: &str) -> Vec<String> {
    vec![query.to_owned()]
}

fn main() {
    let _ = search("hi");
}
