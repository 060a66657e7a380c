use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(model = "gpt-4o")]
fn answer(question: &str) -> String {
    question.to_owned()
}

fn main() {
    let _ = answer("hi");
}
