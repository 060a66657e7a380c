use llmtrace_runtime as llmtrace;

struct Doc {
    text: String,
}

#[llmtrace::retrieval(data_source = "kb")]
fn search(query: &str) -> Vec<Doc> {
    vec![Doc { text: query.to_owned() }]
}

fn main() {
    let _ = search("hi").len();
}
