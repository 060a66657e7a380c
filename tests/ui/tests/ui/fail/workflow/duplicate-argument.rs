use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(name = "a", name = "b")]
fn answer(question: &str) -> String {
    question.to_owned()
}

fn main() {
    let _ = answer("hi");
}
