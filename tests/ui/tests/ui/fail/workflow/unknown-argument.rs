use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(nmae = "answer")]
fn answer(question: &str) -> String {
    question.to_owned()
}

fn main() {
    let _ = answer("hi");
}
