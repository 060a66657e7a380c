use llmtrace_runtime as llmtrace;

struct Connection;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn run(conn: &Connection, question: &str) -> usize {
    let _ = conn;
    question.len()
}

fn main() {
    let _ = run(&Connection, "hi");
}
