use futures_core::Stream;
use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream, usage = |_r| llmtrace::Usage::new(1, 1))]
fn chat() -> impl Stream<Item = String> {
    futures_util::stream::iter(vec!["hi".to_owned()])
}

fn main() {
    let _ = chat();
}
