use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(name = 42)]
fn answer(question: &str) -> String {
    question.to_owned()
}

fn main() {
    let _ = answer("hi");
}
