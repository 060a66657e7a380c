use llmtrace_runtime as llmtrace;

#[llmtrace::retrieval(attributes(gen_ai.retrieval.index = "v2"))]
fn search(query: &str) -> Vec<String> {
    vec![query.to_owned()]
}

fn main() {
    let _ = search("hi");
}
