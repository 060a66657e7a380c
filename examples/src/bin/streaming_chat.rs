//! A streamed chat answer traced with llmtrace, fully offline: a mock model streams its answer
//! word by word after a connection delay, like a real chat completions API with
//! `stream: true` and `stream_options.include_usage`.
//!
//! The `chat` span stays open until the stream ends: it records the time to the first content
//! chunk (counted from the call, connection included), the chunk count, the assembled answer and
//! the usage the last chunk reports. The second request is abandoned by its reader after three
//! chunks, as when a client disconnects: its span ends cancelled, with what had arrived.
//!
//! ```sh
//! cargo run -p llmtrace-examples --bin streaming_chat
//! ```

use std::time::{Duration, Instant};

use futures_core::Stream;
use futures_util::StreamExt;
use llmtrace::{Message, StreamChunk, Usage};
use llmtrace_runtime as llmtrace;

/// One server-sent chunk of the mock API.
#[derive(Debug)]
enum Chunk {
    /// The first chunk: the assistant role, no content yet.
    Role,
    /// A piece of the answer.
    Delta(String),
    /// The end of the answer.
    Finish(&'static str),
    /// Token usage, after the answer.
    Usage { prompt: u64, completion: u64 },
}

impl StreamChunk for Chunk {
    fn text(&self) -> Option<&str> {
        match self {
            Chunk::Delta(t) => Some(t),
            _ => None,
        }
    }

    fn has_content(&self) -> bool {
        matches!(self, Chunk::Delta(t) if !t.is_empty())
    }

    fn usage(&self) -> Option<Usage> {
        match self {
            Chunk::Usage { prompt, completion } => Some(Usage::new(*prompt, *completion)),
            _ => None,
        }
    }

    fn response_model(&self) -> Option<&str> {
        Some("gpt-4o-mini-2024-07-18")
    }

    fn finish_reason(&self) -> Option<&str> {
        match self {
            Chunk::Finish(reason) => Some(reason),
            _ => None,
        }
    }
}

const ANSWER: &str = "Rust's ownership rules let the compiler free memory at the right time, \
                      so there is no garbage collector and no dangling pointer.";

/// The mock model: connects, then streams the answer a word at a time.
#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o-mini",
    temperature = 0.7,
    stream,
    messages = [Message::system("Answer in one sentence."), Message::user(question)]
)]
async fn chat(question: &str) -> impl Stream<Item = Chunk> + use<> {
    let prompt_tokens = 12 + question.split_whitespace().count() as u64 * 4 / 3;
    // Connection and time to the first byte.
    tokio::time::sleep(Duration::from_millis(180)).await;
    let words: Vec<String> = ANSWER.split_inclusive(' ').map(str::to_owned).collect();
    let completion_tokens = words.len() as u64 * 4 / 3;
    let chunks = std::iter::once(Chunk::Role)
        .chain(words.into_iter().map(Chunk::Delta))
        .chain([
            Chunk::Finish("stop"),
            Chunk::Usage {
                prompt: prompt_tokens,
                completion: completion_tokens,
            },
        ]);
    futures_util::stream::iter(chunks).then(|chunk| async move {
        if let Chunk::Delta(_) = chunk {
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        chunk
    })
}

/// Reads a whole answer, printing it as it arrives.
#[llmtrace::workflow(name = "streamed_answer")]
async fn answer(question: &str) -> String {
    let asked = Instant::now();
    let mut stream = std::pin::pin!(chat(question).await);
    let mut text = String::new();
    let mut first = None;
    while let Some(chunk) = stream.next().await {
        if let Chunk::Delta(t) = chunk {
            first.get_or_insert_with(|| asked.elapsed());
            text.push_str(&t);
        }
    }
    let first = first.unwrap_or_default();
    println!(
        "A: {text}\n   first token after {} ms, whole answer after {} ms\n",
        first.as_millis(),
        asked.elapsed().as_millis()
    );
    text
}

/// Reads three chunks, then goes away.
#[llmtrace::workflow(name = "abandoned_answer")]
async fn abandoned(question: &str) {
    let mut stream = std::pin::pin!(chat(question).await);
    for _ in 0..3 {
        stream.next().await;
    }
    println!("(the second reader left after three chunks)\n");
}

#[tokio::main]
async fn main() {
    let _guard = llmtrace::init().service_name("streaming-chat").install();
    let question = "Why does Rust not need a garbage collector?";
    println!("Q: {question}");
    answer(question).await;
    abandoned(question).await;
}
