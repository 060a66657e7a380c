//! What a traced stream's items may be: chunks, or `Result`s of chunks.

use std::fmt::Display;

use super::chunk::StreamChunk;
use super::observe::Observer;

/// An item of a traced stream: a [`StreamChunk`], or a `Result` of one whose error fails the
/// span (`error.type` from the error's type name, its `Display` text as the description).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a chunk of a model response",
    label = "the stream's items must implement `llmtrace::StreamChunk` (or be a `Result` of one)",
    note = "implement `llmtrace::StreamChunk` for the chunk type (`impl StreamChunk for MyChunk {{}}` counts chunks and times the first)"
)]
pub trait StreamItem {
    #[doc(hidden)]
    fn __observe(&self, observer: &mut Observer<'_>);
}

// Not `do_not_recommend`: through these impls rustc reports the item that is no chunk with
// `StreamChunk`'s message and its list of implementations; hidden, it would instead point at the
// `Stream` impl of the wrapper, in these sources.
impl<T: StreamChunk + ?Sized> StreamItem for T {
    #[inline]
    fn __observe(&self, observer: &mut Observer<'_>) {
        observer.chunk(self);
    }
}

impl<T: StreamChunk, E: Display> StreamItem for Result<T, E> {
    #[inline]
    fn __observe(&self, observer: &mut Observer<'_>) {
        match self {
            Ok(chunk) => observer.chunk(chunk),
            Err(e) => observer.error::<E>(e),
        }
    }
}
