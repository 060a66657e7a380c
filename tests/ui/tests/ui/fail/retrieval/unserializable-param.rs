use llmtrace_runtime as llmtrace;

struct Connection;

#[llmtrace::retrieval(data_source = "kb")]
fn run(conn: &Connection, question: &str) -> usize {
    let _ = conn;
    question.len()
}

fn main() {
    let _ = run(&Connection, "hi");
}
