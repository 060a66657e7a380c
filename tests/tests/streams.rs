//! Streamed model responses: the span stays open until the stream ends, fails or is dropped; it
//! records the time to first chunk from the call, the chunk count, the assembled text and the
//! final chunk's usage.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::pin::Pin;
use std::time::Duration;

use futures_core::stream::BoxStream;
use futures_core::Stream;
use futures_util::{stream, StreamExt};
use llmtrace::stream::{traced, Traced};
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::{StreamChunk, Usage};
use llmtrace_runtime as llmtrace;
use opentelemetry::trace::Status;
use serde_json::json;

#[derive(Clone, Debug)]
struct Chunk {
    text: Option<&'static str>,
    usage: Option<Usage>,
    finish: Option<&'static str>,
}

impl StreamChunk for Chunk {
    fn text(&self) -> Option<&str> {
        self.text
    }
    fn has_content(&self) -> bool {
        self.text.is_some_and(|t| !t.is_empty())
    }
    fn usage(&self) -> Option<Usage> {
        self.usage
    }
    fn response_model(&self) -> Option<&str> {
        Some("gpt-4o-2024-08-06")
    }
    fn finish_reason(&self) -> Option<&str> {
        self.finish
    }
}

fn text(t: &'static str) -> Chunk {
    Chunk {
        text: Some(t),
        usage: None,
        finish: None,
    }
}

fn chunks() -> Vec<Chunk> {
    vec![
        // A role-only first chunk carries no content: it does not count as the first token.
        Chunk {
            text: Some(""),
            usage: None,
            finish: None,
        },
        text("It "),
        text("rains."),
        Chunk {
            text: None,
            usage: None,
            finish: Some("stop"),
        },
        Chunk {
            text: None,
            usage: Some(Usage::new(40, 3)),
            finish: None,
        },
    ]
}

const D1: Duration = Duration::from_millis(40);
const D2: Duration = Duration::from_millis(60);

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
async fn delayed(prompt: &str) -> impl Stream<Item = Chunk> + use<> {
    let _ = prompt;
    tokio::time::sleep(D1).await;
    stream::iter(chunks()).then(|c| async move {
        if c.text == Some("") {
            tokio::time::sleep(D2).await;
        }
        c
    })
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
fn boxed() -> Pin<Box<dyn Stream<Item = Chunk> + Send>> {
    Box::pin(stream::iter(chunks()))
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
async fn box_stream(fail: bool) -> Result<BoxStream<'static, Chunk>, std::io::Error> {
    if fail {
        return Err(std::io::Error::other("connection reset"));
    }
    Ok(stream::iter(chunks()).boxed())
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
fn named() -> Traced<stream::Iter<std::vec::IntoIter<Chunk>>> {
    traced(stream::iter(chunks()))
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
fn failing_items() -> impl Stream<Item = Result<Chunk, std::fmt::Error>> {
    stream::iter(vec![Ok(text("par")), Err(std::fmt::Error)])
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream, output = false)]
fn no_output() -> impl Stream<Item = Chunk> {
    stream::iter(chunks())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn time_to_first_chunk_counts_from_the_call() {
    let cap = Capture::new();
    runtime().block_on(cap.instrument(async {
        let s = delayed("hi").await;
        let items: Vec<Chunk> = s.collect().await;
        assert_eq!(items.len(), 5);
    }));
    let spans = cap.spans();
    let s = spans.by_name("chat gpt-4o");
    let ttfc = s.f64_attr("gen_ai.response.time_to_first_chunk").unwrap();
    let duration = s
        .end_time
        .duration_since(s.start_time)
        .unwrap()
        .as_secs_f64();
    assert!(
        (D1 + D2).as_secs_f64() <= ttfc && ttfc <= duration,
        "d1 + d2 = {:?}, time to first chunk {ttfc}, span {duration}",
        D1 + D2
    );
    assert_eq!(s.bool_attr("gen_ai.request.stream"), Some(true));
    assert_eq!(s.i64_attr("llmtrace.stream.chunks"), Some(5));
    assert_eq!(s.i64_attr("gen_ai.usage.input_tokens"), Some(40));
    assert_eq!(s.i64_attr("gen_ai.usage.output_tokens"), Some(3));
    assert_eq!(
        s.str_attr("gen_ai.response.model"),
        Some("gpt-4o-2024-08-06")
    );
    assert_eq!(
        s.json_attr("gen_ai.output.messages").unwrap(),
        json!([{"role": "assistant", "parts": [{"type": "text", "content": "It rains."}], "finish_reason": "stop"}])
    );
    assert_eq!(s.status, Status::Unset);
    assert!(s.attr("llmtrace.cancelled").is_none());
}

#[test]
fn a_stream_dropped_early_ends_cancelled() {
    let cap = Capture::new();
    runtime().block_on(cap.instrument(async {
        let mut s = box_stream(false).await.unwrap();
        assert!(s.next().await.is_some());
        assert!(s.next().await.is_some());
        drop(s);
    }));
    let spans = cap.spans();
    let s = spans.by_name("chat gpt-4o");
    assert_eq!(s.bool_attr("llmtrace.cancelled"), Some(true));
    assert_eq!(s.i64_attr("llmtrace.stream.chunks"), Some(2));
    assert_eq!(s.status, Status::Unset);
    // The usage chunk never came: missing, not zero.
    assert_eq!(s.bool_attr("llmtrace.usage.missing"), Some(true));
}

#[test]
fn sync_boxed_and_named_streams() {
    let cap = Capture::new();
    runtime().block_on(cap.instrument(async {
        assert_eq!(boxed().count().await, 5);
        assert_eq!(named().count().await, 5);
        assert_eq!(no_output().count().await, 5);
    }));
    let spans = cap.spans();
    let calls = spans.all("chat gpt-4o");
    assert_eq!(calls.len(), 3);
    for s in &calls[..2] {
        assert_eq!(s.i64_attr("llmtrace.stream.chunks"), Some(5));
        assert_eq!(s.i64_attr("gen_ai.usage.input_tokens"), Some(40));
        assert!(s.f64_attr("gen_ai.response.time_to_first_chunk").is_some());
        assert_eq!(
            s.json_attr("output.value").unwrap()[0]["parts"][0]["content"],
            "It rains."
        );
    }
    // `output = false`: counted and timed, no text.
    assert_eq!(calls[2].i64_attr("llmtrace.stream.chunks"), Some(5));
    assert!(calls[2].attr("gen_ai.output.messages").is_none());
}

#[test]
fn errors_before_and_during_the_stream() {
    let cap = Capture::new();
    runtime().block_on(cap.instrument(async {
        assert!(box_stream(true).await.is_err());
        let items: Vec<_> = failing_items().collect().await;
        assert_eq!(items.len(), 2);
    }));
    let spans = cap.spans();
    let calls = spans.all("chat gpt-4o");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].str_attr("error.type"), Some("io::Error"));
    assert!(
        matches!(&calls[0].status, Status::Error { description } if description == "connection reset")
    );
    assert!(calls[0].attr("llmtrace.stream.chunks").is_none());
    assert_eq!(calls[1].str_attr("error.type"), Some("fmt::Error"));
    assert_eq!(calls[1].i64_attr("llmtrace.stream.chunks"), Some(1));
}

#[test]
fn wrappers_keep_send_and_unpin() {
    fn send_unpin<T: Send + Unpin>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let s = traced(stream::iter(chunks()));
    send_unpin(&s);
    send(&box_stream(false));
    send(&delayed("x"));
}
