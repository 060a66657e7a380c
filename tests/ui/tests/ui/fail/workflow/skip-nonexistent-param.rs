use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(skip(quesiton))]
fn answer(question: &str) -> String {
    question.to_owned()
}

fn main() {
    let _ = answer("hi");
}
