//! What `#[llm_call(stream)]` expansions call: run the body in the span, then move the span into
//! the returned stream instead of ending it.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::span::Span;
use crate::stream::Traced;

/// Runs a sync body inside its span, then hands the return value and the span to `wrap`.
#[inline]
pub fn call_sync<R, O>(
    span: &mut Span,
    body: impl FnOnce() -> R,
    wrap: impl FnOnce(R, Span) -> O,
) -> O {
    let mut span = span.take();
    let entered = span.enter();
    let result = catch_unwind(AssertUnwindSafe(body));
    drop(entered);
    match result {
        Ok(ret) => wrap(ret, span),
        Err(payload) => {
            span.finish_panicked(&*payload);
            resume_unwind(payload)
        }
    }
}

pin_project! {
    /// The future of a streaming `async fn`: like [`Instrumented`](crate::context::Instrumented)
    /// until the body returns, then the span moves into the returned stream.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct InstrumentedStream<F, W> {
        #[pin]
        inner: F,
        span: Span,
        wrap: Option<W>,
    }
}

impl<F, W, O> InstrumentedStream<F, W>
where
    F: Future,
    W: FnOnce(F::Output, Span) -> O,
{
    /// Wraps the body of a streaming `async fn`.
    #[inline]
    pub fn new(span: Span, inner: F, wrap: W) -> Self {
        InstrumentedStream {
            inner,
            span,
            wrap: Some(wrap),
        }
    }
}

impl<F, W, O> Future for InstrumentedStream<F, W>
where
    F: Future,
    W: FnOnce(F::Output, Span) -> O,
{
    type Output = O;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<O> {
        let this = self.project();
        let entered = this.span.enter();
        let inner = this.inner;
        let polled = catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
        drop(entered);
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                let wrap = this.wrap.take().expect("polled after completion");
                Poll::Ready(wrap(output, this.span.take()))
            }
            Err(panic) => {
                this.span.finish_panicked(&*panic);
                resume_unwind(panic)
            }
        }
    }
}

/// Wraps a stream whose type the signature does not name (`impl Stream`). Unbounded: the
/// returned `impl Stream` is where an item that is not a chunk gets reported.
#[inline]
pub fn attach<S>(stream: S, span: Span) -> Traced<S> {
    Traced::new(stream).__attach(span)
}
