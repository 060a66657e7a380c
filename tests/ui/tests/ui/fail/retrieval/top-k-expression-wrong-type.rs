use llmtrace_runtime as llmtrace;

#[llmtrace::retrieval(data_source = "kb", top_k = k)]
fn search(k: &str) -> Vec<String> {
    vec![k.to_owned()]
}

fn main() {
    let _ = search("5");
}
