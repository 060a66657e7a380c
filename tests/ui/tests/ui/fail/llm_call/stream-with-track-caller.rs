use futures_core::Stream;
use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
#[track_caller]
fn chat() -> impl Stream<Item = String> {
    futures_util::stream::iter(vec!["hi".to_owned()])
}

fn main() {
    let _ = chat();
}
