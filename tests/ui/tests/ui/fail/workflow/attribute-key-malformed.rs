use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(attributes(Tier = "pro"))]
fn answer(question: &str) -> String {
    question.to_owned()
}

fn main() {
    let _ = answer("hi");
}
