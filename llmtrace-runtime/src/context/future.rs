//! Futures that carry a span or a context across `.await`.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::handle::{TraceContext, WithTrace};
use crate::record::{Record, Target};
use crate::span::{Capture, Span, Tallying};

pin_project! {
    /// The future an instrumented `async fn` awaits: it enters the function's span on every
    /// poll, records the output when the inner future completes, records a panic and lets it
    /// continue, and marks the span cancelled when dropped before completion.
    ///
    /// It is `Send` and `Unpin` exactly when the inner future is.
    #[doc(hidden)]
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Instrumented<F, C> {
        // Declared first so that, when a future is cancelled, the spans of its children end
        // (as they drop) before its own span does.
        #[pin]
        inner: F,
        span: Span,
        capture: Option<C>,
    }
}

impl<F, C> Instrumented<F, C>
where
    F: Future,
    C: FnOnce(&mut Record, &F::Output),
{
    /// Wraps the body of an `async fn`.
    #[inline]
    pub fn new(span: Span, inner: F, capture: C) -> Self {
        Instrumented {
            inner,
            span,
            capture: Some(capture),
        }
    }
}

impl<F, T> Instrumented<F, Tallying<T>>
where
    F: Future,
    T: FnOnce(Target<'_>, &F::Output),
{
    /// Wraps the body of an `async fn` whose sampled-out calls count in the metrics: `capture`
    /// records into the span's record or into the call's tally.
    #[inline]
    pub fn tallying(span: Span, inner: F, capture: T) -> Self {
        Instrumented {
            inner,
            span,
            capture: Some(Tallying::new(capture)),
        }
    }
}

impl<F, C> Future for Instrumented<F, C>
where
    F: Future,
    C: Capture<F::Output>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let entered = this.span.enter();
        let inner = this.inner;
        let polled = catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
        drop(entered);
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                if let Some(capture) = this.capture.take() {
                    this.span.finish_capture(capture, &output);
                }
                Poll::Ready(output)
            }
            Err(panic) => {
                this.span.finish_panicked(&*panic);
                resume_unwind(panic)
            }
        }
    }
}

/// Carries the current trace into futures that run elsewhere.
///
/// ```
/// use llmtrace_runtime::FutureExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // the task's spans become children of the span current here
/// let task = tokio::spawn(async { 1 + 1 }.in_current_trace());
/// assert_eq!(task.await.unwrap(), 2);
/// # }
/// ```
pub trait FutureExt: Sized {
    /// Runs this future inside the trace context current at the time of the call.
    fn in_current_trace(self) -> WithTrace<Self> {
        WithTrace::new(self, TraceContext::current())
    }

    /// Runs this future inside `ctx`.
    fn with_trace(self, ctx: TraceContext) -> WithTrace<Self> {
        WithTrace::new(self, ctx)
    }
}

impl<F: Future> FutureExt for F {}
