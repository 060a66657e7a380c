//! Token usage and response details from what a model call returns: a type implementing
//! `LlmResponse` (plain, in a `Result`, in an `Option`), a `usage = ..` closure, the runtime call,
//! and input/output messages in the conventions' JSON shape.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::{LlmResponse, Message, Messages, Part, Usage};
use llmtrace_runtime as llmtrace;
use serde_json::json;

/// A provider's reply, as a client library would return it.
#[derive(serde::Serialize)]
struct Reply {
    id: String,
    model: String,
    text: String,
    input_tokens: u64,
    cached_tokens: u64,
    output_tokens: u64,
    reasoning_tokens: u64,
}

impl LlmResponse for Reply {
    fn usage(&self) -> Option<Usage> {
        Some(
            Usage::new(self.input_tokens, self.output_tokens)
                .with_cache_read(self.cached_tokens)
                .with_reasoning(self.reasoning_tokens),
        )
    }
    fn response_model(&self) -> Option<&str> {
        Some(&self.model)
    }
    fn response_id(&self) -> Option<&str> {
        Some(&self.id)
    }
    fn finish_reasons(&self) -> Vec<&str> {
        vec!["stop"]
    }
    fn output_messages(&self) -> Vec<Message<'_>> {
        vec![Message::assistant(self.text.as_str()).with_finish_reason("stop")]
    }
}

fn reply(text: &str) -> Reply {
    Reply {
        id: "chatcmpl-9".into(),
        model: "gpt-4o-2024-08-06".into(),
        text: text.into(),
        input_tokens: 1200,
        cached_tokens: 1024,
        output_tokens: 300,
        reasoning_tokens: 120,
    }
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", messages = prompt)]
fn plain(prompt: &str) -> Reply {
    reply(&prompt.to_uppercase())
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn in_result(fail: bool) -> Result<Reply, std::io::Error> {
    if fail {
        return Err(std::io::Error::other("rate limited"));
    }
    Ok(reply("ok"))
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
async fn in_option(some: bool) -> Option<Reply> {
    some.then(|| reply("maybe"))
}

/// A type from another crate, without `LlmResponse`.
#[derive(serde::Serialize)]
struct Foreign {
    text: String,
    tokens: (u64, u64),
}

#[llmtrace::llm_call(
    provider = "anthropic",
    model = "claude-sonnet-4",
    usage = |r: &Foreign| Usage::new(r.tokens.0, r.tokens.1)
)]
fn via_closure() -> Result<Foreign, String> {
    Ok(Foreign {
        text: "hi".into(),
        tokens: (50, 7),
    })
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", usage = |r| r.tokens)]
fn via_field() -> Tokens {
    Tokens {
        tokens: Usage::new(5, 6),
    }
}

struct Tokens {
    tokens: Usage,
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn recorded_inside(prompt: &str) -> String {
    llmtrace::current().record_usage(Usage::new(11, 22).with_cache_write(4));
    prompt.to_owned()
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn no_usage(prompt: &str) -> String {
    prompt.to_owned()
}

/// A request type whose messages include a system instruction passed apart.
struct Request {
    instructions: String,
    history: Vec<(String, String)>,
}

impl Messages for Request {
    fn messages(&self) -> Vec<Message<'_>> {
        self.history
            .iter()
            .map(|(role, text)| {
                Message::new(llmtrace::Role::from_name(role), [Part::text(text.as_str())])
            })
            .collect()
    }
    fn system_instructions(&self) -> Vec<Part<'_>> {
        vec![Part::text(self.instructions.as_str())]
    }
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", messages = req)]
fn with_request(req: &Request) -> Reply {
    reply(&format!("{} turns", req.history.len()))
}

#[test]
fn usage_from_a_plain_return_value() {
    let cap = Capture::new();
    cap.in_scope(|| plain("hello"));
    let spans = cap.spans();
    let s = spans.by_name("chat gpt-4o");
    assert_eq!(s.i64_attr("gen_ai.usage.input_tokens"), Some(1200));
    assert_eq!(s.i64_attr("gen_ai.usage.output_tokens"), Some(300));
    assert_eq!(
        s.i64_attr("gen_ai.usage.cache_read.input_tokens"),
        Some(1024)
    );
    assert_eq!(
        s.i64_attr("gen_ai.usage.reasoning.output_tokens"),
        Some(120)
    );
    assert_eq!(s.attr("gen_ai.usage.cache_creation.input_tokens"), None);
    assert_eq!(
        s.str_attr("gen_ai.response.model"),
        Some("gpt-4o-2024-08-06")
    );
    assert_eq!(s.str_attr("gen_ai.response.id"), Some("chatcmpl-9"));
    assert_eq!(s.attr("llmtrace.usage.missing"), None);
    // Langfuse gets the exact breakdown: input without the cached part, output without reasoning.
    assert_eq!(
        s.json_attr("langfuse.observation.usage_details").unwrap(),
        json!({"input": 176, "input_cached_tokens": 1024, "output": 180, "output_reasoning_tokens": 120, "total": 1500})
    );
    assert_eq!(
        s.json_attr("gen_ai.input.messages").unwrap(),
        json!([{"role": "user", "parts": [{"type": "text", "content": "hello"}]}])
    );
    let output = json!([{"role": "assistant", "parts": [{"type": "text", "content": "HELLO"}], "finish_reason": "stop"}]);
    assert_eq!(s.json_attr("gen_ai.output.messages").unwrap(), output);
    // `input.value` / `output.value` show the messages, which Langfuse and Phoenix read first.
    assert_eq!(s.json_attr("output.value").unwrap(), output);
    assert_eq!(
        s.json_attr("input.value").unwrap()[0]["parts"][0]["content"],
        "hello"
    );
}

#[test]
fn usage_from_result_and_option_values() {
    let cap = Capture::new();
    cap.in_scope(|| {
        in_result(false).unwrap();
        assert!(in_result(true).is_err());
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(cap.instrument(async {
        assert!(in_option(true).await.is_some());
        assert!(in_option(false).await.is_none());
    }));
    let spans = cap.spans();
    let calls = spans.all("chat gpt-4o");
    assert_eq!(calls.len(), 4);
    // Ok(reply)
    assert_eq!(calls[0].i64_attr("gen_ai.usage.input_tokens"), Some(1200));
    // Err: no usage, and the span says so instead of inventing zeros.
    assert_eq!(calls[1].attr("gen_ai.usage.input_tokens"), None);
    assert_eq!(calls[1].bool_attr("llmtrace.usage.missing"), Some(true));
    assert_eq!(calls[1].str_attr("error.type"), Some("io::Error"));
    // Some(reply) / None
    assert_eq!(calls[2].i64_attr("gen_ai.usage.output_tokens"), Some(300));
    assert_eq!(calls[3].bool_attr("llmtrace.usage.missing"), Some(true));
}

#[test]
fn usage_from_a_closure_and_from_inside() {
    let cap = Capture::new();
    cap.in_scope(|| {
        via_closure().unwrap();
        via_field();
        recorded_inside("x");
        no_usage("y");
    });
    let spans = cap.spans();
    let c = spans.by_name("chat claude-sonnet-4");
    assert_eq!(c.i64_attr("gen_ai.usage.input_tokens"), Some(50));
    assert_eq!(c.i64_attr("gen_ai.usage.output_tokens"), Some(7));
    // No messages from the value: the raw return value is the output.
    assert_eq!(
        c.json_attr("output.value").unwrap(),
        json!({"text": "hi", "tokens": [50, 7]})
    );
    let calls = spans.all("chat gpt-4o");
    assert_eq!(calls[0].i64_attr("gen_ai.usage.input_tokens"), Some(5));
    assert_eq!(calls[0].i64_attr("gen_ai.usage.output_tokens"), Some(6));
    assert_eq!(calls[1].i64_attr("gen_ai.usage.input_tokens"), Some(11));
    assert_eq!(
        calls[1].i64_attr("gen_ai.usage.cache_creation.input_tokens"),
        Some(4)
    );
    assert_eq!(calls[2].bool_attr("llmtrace.usage.missing"), Some(true));
    assert_eq!(calls[2].attr("gen_ai.usage.input_tokens"), None);
}

#[test]
fn messages_and_system_instructions_from_a_request() {
    let cap = Capture::new();
    let req = Request {
        instructions: "Answer briefly.".into(),
        history: vec![
            ("user".into(), "Hi".into()),
            ("assistant".into(), "Hello!".into()),
            ("user".into(), "Refund?".into()),
        ],
    };
    cap.in_scope(|| with_request(&req));
    let spans = cap.spans();
    let s = spans.by_name("chat gpt-4o");
    assert_eq!(
        s.json_attr("gen_ai.system_instructions").unwrap(),
        json!([{"type": "text", "content": "Answer briefly."}])
    );
    assert_eq!(
        s.json_attr("gen_ai.input.messages").unwrap(),
        json!([
            {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
            {"role": "assistant", "parts": [{"type": "text", "content": "Hello!"}]},
            {"role": "user", "parts": [{"type": "text", "content": "Refund?"}]},
        ])
    );
}
