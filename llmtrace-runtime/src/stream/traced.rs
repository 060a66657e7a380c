//! The stream wrapper that keeps a model call's span open until the stream ends.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use pin_project_lite::pin_project;

use super::StreamItem;
use super::observe::{Accumulated, Observer};
use crate::record::CAPTURE_OUTPUT;
use crate::span::Span;

pin_project! {
    /// A stream whose chunks are recorded on a model call's span; see [`traced`].
    ///
    /// It yields the inner stream's items unchanged and is `Send`, `Sync` and `Unpin` exactly
    /// when the inner stream is.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Traced<S> {
        #[pin]
        inner: S,
        span: Span,
        acc: Accumulated,
        capture_text: bool,
        done: bool,
    }

    impl<S> PinnedDrop for Traced<S> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Dropped before its end: record what was seen; the span then ends as cancelled
            // (or failed, while unwinding) when it drops.
            if !*this.done {
                if let Some(target) = this.span.target() {
                    this.acc.write_to(target);
                }
            }
        }
    }
}

/// Marks a stream for tracing by the `#[llm_call(stream, ..)]` that returns it.
///
/// `#[llm_call(stream)]` traces functions that return `impl Stream`, `Pin<Box<dyn Stream>>`
/// (`BoxStream`), or a `Result` of either, sync or `async`. For any other stream type, return
/// `Traced<YourStream>` and build it with `traced(stream)`: the call's span moves into it and
/// stays open until the stream ends, fails or is dropped.
///
/// ```
/// use llmtrace_runtime::{self as llmtrace, stream::{Traced, traced}};
/// # use std::pin::Pin; use std::task::{Context, Poll};
/// # struct Chunks(Vec<String>);
/// # impl futures_core::Stream for Chunks {
/// #     type Item = String;
/// #     fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<String>> {
/// #         Poll::Ready(self.0.pop())
/// #     }
/// # }
///
/// #[llmtrace::llm_call(provider = "openai", model = "gpt-4o", stream)]
/// fn answer(question: &str) -> Traced<Chunks> {
///     traced(Chunks(vec!["there".into(), "Hello ".into()]))
/// }
/// # let _ = answer("hi");
/// ```
///
/// Outside such a function the wrapper records nothing and only passes the items through.
pub fn traced<S: Stream>(stream: S) -> Traced<S> {
    Traced::new(stream)
}

impl<S> Traced<S> {
    pub(crate) fn new(stream: S) -> Self {
        Traced {
            inner: stream,
            span: Span::off(),
            acc: Accumulated::default(),
            capture_text: false,
            done: false,
        }
    }

    /// Moves a model call's span into this stream; it ends with the stream.
    #[doc(hidden)]
    pub fn __attach(mut self, mut span: Span) -> Self {
        self.capture_text = span.recording().is_some_and(|rec| {
            rec.callsite.options & CAPTURE_OUTPUT != 0 && crate::state::content().captures()
        });
        // A span already attached ends here: the new one is the call's.
        self.span = span;
        self
    }
}

impl<S> Stream for Traced<S>
where
    S: Stream,
    S::Item: StreamItem,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        if *this.done {
            return this.inner.poll_next(cx);
        }
        let entered = this.span.enter();
        let inner = this.inner;
        let polled = catch_unwind(AssertUnwindSafe(|| inner.poll_next(cx)));
        drop(entered);
        match polled {
            Ok(Poll::Ready(Some(item))) => {
                if let Some(target) = this.span.target() {
                    item.__observe(&mut Observer {
                        acc: this.acc,
                        target,
                        capture_text: *this.capture_text,
                    });
                }
                Poll::Ready(Some(item))
            }
            Ok(Poll::Ready(None)) => {
                *this.done = true;
                if let Some(target) = this.span.target() {
                    this.acc.write_to(target);
                }
                this.span.end();
                Poll::Ready(None)
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => {
                *this.done = true;
                if let Some(target) = this.span.target() {
                    this.acc.write_to(target);
                }
                this.span.finish_panicked(&*panic);
                resume_unwind(panic)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

/// Stream types an `#[llm_call(stream)]` may return by name: the call's span moves into the
/// stream and the type stays the one the signature declares. (An `impl Stream` return is
/// wrapped in [`Traced`].)
#[diagnostic::on_unimplemented(
    message = "`#[llm_call(stream)]` cannot trace a `{Self}`",
    label = "return `impl Stream`, `Pin<Box<dyn Stream>>` (`BoxStream`), or `llmtrace::stream::Traced<_>` (built with `llmtrace::stream::traced(..)`), or a `Result` of one",
    note = "the stream's items must implement `llmtrace::StreamChunk` (or be a `Result` of one)"
)]
pub trait StreamReturn: Sized {
    /// Moves a call's span into the stream.
    #[doc(hidden)]
    fn attach_span(self, span: Span) -> Self;
}

// Hidden from errors, like the boxed impls below: listed, they would point into these sources.
// The note above covers a supported stream whose items are no chunks.
#[diagnostic::do_not_recommend]
impl<S> StreamReturn for Traced<S>
where
    S: Stream,
    S::Item: StreamItem,
{
    #[inline]
    fn attach_span(self, span: Span) -> Self {
        self.__attach(span)
    }
}

macro_rules! boxed {
    ($($bounds:tt)*) => {
        #[diagnostic::do_not_recommend]
        impl<'a, T: StreamItem + 'a> StreamReturn for Pin<Box<dyn Stream<Item = T> $($bounds)* + 'a>> {
            #[inline]
            fn attach_span(self, span: Span) -> Self {
                Box::pin(traced(self).__attach(span))
            }
        }
    };
}

boxed!();
boxed!(+ Send);
boxed!(+ Send + Sync);
