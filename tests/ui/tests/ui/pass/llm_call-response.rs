//! `messages`, `usage` and `stream` on `#[llm_call]`, and the attributes they produce.
use futures_core::Stream;
use futures_util::StreamExt;
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::{Message, Usage};
use llmtrace_runtime as llmtrace;

struct Completion {
    text: String,
    prompt_tokens: u64,
    completion_tokens: u64,
}

#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    messages = [Message::system("Be brief."), Message::user(question)],
    usage = |c: &Completion| Usage::new(c.prompt_tokens, c.completion_tokens)
)]
fn ask(question: &str) -> Result<Completion, std::io::Error> {
    Ok(Completion { text: question.to_uppercase(), prompt_tokens: 9, completion_tokens: 2 })
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini", stream, messages = prompt)]
async fn ask_streaming(prompt: &str) -> impl Stream<Item = String> + use<> {
    let _ = prompt;
    futures_util::stream::iter(vec!["Hel".to_owned(), "lo".to_owned()])
}

fn main() {
    let cap = Capture::new();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(cap.instrument(async {
        assert_eq!(ask("hi").unwrap().text, "HI");
        let text: Vec<String> = ask_streaming("greet").await.collect().await;
        assert_eq!(text.concat(), "Hello");
    }));
    let spans = cap.spans();
    let a = spans.by_name("chat gpt-4o");
    assert_eq!(a.i64_attr("gen_ai.usage.input_tokens"), Some(9));
    assert_eq!(a.i64_attr("gen_ai.usage.output_tokens"), Some(2));
    let messages = a.json_attr("gen_ai.input.messages").unwrap();
    assert_eq!(messages[0]["role"], "system");
    assert_eq!(messages[1]["parts"][0]["content"], "hi");
    let s = spans.by_name("chat gpt-4o-mini");
    assert_eq!(s.bool_attr("gen_ai.request.stream"), Some(true));
    assert_eq!(s.i64_attr("llmtrace.stream.chunks"), Some(2));
    assert!(s.f64_attr("gen_ai.response.time_to_first_chunk").is_some());
    assert_eq!(s.json_attr("gen_ai.input.messages").unwrap()[0]["parts"][0]["content"], "greet");
    assert_eq!(s.json_attr("gen_ai.output.messages").unwrap()[0]["parts"][0]["content"], "Hello");
    assert_eq!(s.bool_attr("llmtrace.usage.missing"), Some(true));
}
