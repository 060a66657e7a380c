//! The runtime is a dependency under another name (`tracer = { package = "llmtrace-runtime" }`):
//! the attributes find it by that name, with no `crate = path`.
#![deny(warnings)]

use tracer::testing::{Capture, SpanDataExt};

#[tracer::workflow(name = "answer")]
fn answer(question: &str) -> Result<String, String> {
    chat(question)
}

#[tracer::llm_call(provider = "openai", model = "gpt-4o", temperature = 0.2)]
fn chat(prompt: &str) -> Result<String, String> {
    Ok(prompt.to_uppercase())
}

#[tracer::retrieval(data_source = "kb")]
async fn search(query: &str) -> Vec<String> {
    vec![query.to_owned()]
}

fn main() {
    let cap = Capture::new();
    assert_eq!(cap.in_scope(|| answer("hi")), Ok("HI".to_owned()));
    let docs = futures_executor(cap.instrument(search("q")));
    assert_eq!(docs, vec!["q".to_owned()]);
    let spans = cap.spans();
    let chat = spans.by_name("chat gpt-4o");
    assert_eq!(chat.f64_attr("gen_ai.request.temperature"), Some(0.2));
    assert_eq!(
        chat.parent_span_id,
        spans.by_name("invoke_workflow answer").span_context.span_id()
    );
    assert!(spans.iter().any(|s| s.name == "retrieval kb"));
}

/// Runs a future that never waits on anything to completion.
fn futures_executor<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(fut)
}
