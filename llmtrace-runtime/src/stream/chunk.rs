//! What a streamed response's chunks tell the span.

use std::sync::Arc;

use crate::usage::Usage;

/// One chunk of a streamed model response.
///
/// A stream traced by `#[llm_call(stream, ..)]` (or [`traced`](super::traced)) reads each chunk
/// through this trait: the first chunk with content sets the time to first chunk, the text is
/// assembled into the output message (bounded), and the usage, response model, id and finish
/// reason are taken from the chunks that carry them (usually the last). Every method has a
/// default: `impl StreamChunk for MyChunk {}` counts chunks and times the first one.
///
/// ```
/// use llmtrace_runtime::{StreamChunk, Usage};
///
/// enum Event { Delta(String), Done { input: u64, output: u64 } }
///
/// impl StreamChunk for Event {
///     fn text(&self) -> Option<&str> {
///         match self { Event::Delta(t) => Some(t), Event::Done { .. } => None }
///     }
///     fn has_content(&self) -> bool {
///         matches!(self, Event::Delta(t) if !t.is_empty())
///     }
///     fn usage(&self) -> Option<Usage> {
///         match self { Event::Done { input, output } => Some(Usage::new(*input, *output)), _ => None }
///     }
///     fn finish_reason(&self) -> Option<&str> {
///         matches!(self, Event::Done { .. }).then_some("stop")
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a chunk of a model response",
    label = "the stream's items must implement `llmtrace::StreamChunk`",
    note = "implement `llmtrace::StreamChunk` for the item type (`impl StreamChunk for MyChunk {{}}` counts chunks and times the first)"
)]
pub trait StreamChunk {
    /// The text this chunk adds to the answer.
    fn text(&self) -> Option<&str> {
        None
    }

    /// Whether this chunk carries content (text, a tool call, media), as opposed to metadata
    /// such as a final usage report. The first chunk with content sets the time to first
    /// chunk. By default: the chunk's text is not empty, or the chunk has no text to report.
    fn has_content(&self) -> bool {
        self.text().is_none_or(|t| !t.is_empty())
    }

    /// Token usage, on the chunk that reports it (with OpenAI, the last one, and only when the
    /// request sets `stream_options.include_usage`).
    fn usage(&self) -> Option<Usage> {
        None
    }

    /// The model that answered.
    fn response_model(&self) -> Option<&str> {
        None
    }

    /// The provider's id of the response.
    fn response_id(&self) -> Option<&str> {
        None
    }

    /// Why the model stopped, on the chunk that says so.
    fn finish_reason(&self) -> Option<&str> {
        None
    }
}

impl StreamChunk for str {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl StreamChunk for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

macro_rules! forward {
    ($($ty:ty),*) => {$(
        impl<T: StreamChunk + ?Sized> StreamChunk for $ty {
            fn text(&self) -> Option<&str> {
                (**self).text()
            }
            fn has_content(&self) -> bool {
                (**self).has_content()
            }
            fn usage(&self) -> Option<Usage> {
                (**self).usage()
            }
            fn response_model(&self) -> Option<&str> {
                (**self).response_model()
            }
            fn response_id(&self) -> Option<&str> {
                (**self).response_id()
            }
            fn finish_reason(&self) -> Option<&str> {
                (**self).finish_reason()
            }
        }
    )*};
}

// These impls stay visible in errors: an item that is no chunk is reported through them (see
// `StreamItem`), and rustc lists them by name once there are five or more (fewer, it points at
// their lines in these sources).
forward!(&T, Box<T>, Arc<T>);
