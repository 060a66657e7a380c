use std::pin::Pin;

use futures_core::Stream;
use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
fn chat() -> Pin<Box<dyn Stream<Item = u32> + Send>> {
    Box::pin(futures_util::stream::iter(vec![1, 2, 3]))
}

fn main() {
    let _ = chat();
}
