//! Streamed model responses: the span of a streaming `#[llm_call]` stays open until the stream
//! ends, fails or is dropped, and records the time to first chunk (from the call), the chunk
//! count, the assembled text (bounded) and the usage of the final chunk.
//!
//! ```
//! use futures_core::Stream;
//! use llmtrace_runtime as llmtrace;
//!
//! #[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
//! async fn answer(question: &str) -> impl Stream<Item = String> + use<> {
//!     let words: Vec<String> = vec!["It ".into(), "rains.".into()];
//!     ChunkStream(words.into_iter())
//! }
//! # struct ChunkStream(std::vec::IntoIter<String>);
//! # impl Stream for ChunkStream {
//! #     type Item = String;
//! #     fn poll_next(mut self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>)
//! #         -> std::task::Poll<Option<String>> { std::task::Poll::Ready(self.0.next()) }
//! # }
//! ```
//!
//! A stream dropped before its end (the client went away, a `select!` lost) ends its span as
//! cancelled, with what it had received so far.

mod chunk;
mod item;
mod observe;
mod traced;

pub use chunk::StreamChunk;
pub use item::StreamItem;
#[doc(hidden)]
pub use observe::Observer;
pub use traced::{StreamReturn, Traced, traced};
