use llmtrace_runtime as llmtrace;

#[llmtrace::workflow]
struct Answer {
    text: String,
}

fn main() {
    let _ = Answer { text: String::new() }.text;
}
