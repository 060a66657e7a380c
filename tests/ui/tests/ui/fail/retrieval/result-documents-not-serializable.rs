use llmtrace_runtime as llmtrace;

struct Doc {
    text: String,
}

#[llmtrace::retrieval(data_source = "kb")]
fn search(query: &str) -> Result<Vec<Doc>, String> {
    Ok(vec![Doc { text: query.to_owned() }])
}

fn main() {
    let _ = search("hi").map(|d| d.len());
}
