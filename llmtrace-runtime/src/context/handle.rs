//! A captured trace context that can cross threads and tasks, and the future that carries one.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::ids::{SpanId, TraceId};
use super::thread::{self, Ctx, DETACHED, Entered, REMOTE, SAMPLED, VALID};
use crate::record::{Link, Scope, Value};

/// The current trace position, captured so that work started elsewhere (a `tokio::spawn`ed task,
/// a `JoinSet` member, `spawn_blocking`, a `std::thread`) continues the same trace.
///
/// Spans started while a `TraceContext` is installed become children of the span that was
/// current when it was captured, and inherit its scope (session, user, tags).
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// let ctx = llmtrace::TraceContext::current();
/// let worker = std::thread::spawn(ctx.wrap(|| {
///     // spans started here are children of the span that was current above
///     41 + 1
/// }));
/// assert_eq!(worker.join().unwrap(), 42);
/// ```
#[derive(Clone, Debug, Default)]
pub struct TraceContext {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    pub(crate) flags: u8,
    pub(crate) scope: Option<Arc<Scope>>,
}

impl TraceContext {
    /// Captures the current context of this thread.
    pub fn current() -> Self {
        let ctx = thread::get();
        TraceContext {
            trace_id: ctx.trace_id,
            span_id: ctx.span_id,
            flags: ctx.flags & (VALID | SAMPLED | REMOTE),
            scope: ctx.scope(),
        }
    }

    /// A context that continues a trace from another process (for instance a W3C
    /// `traceparent` header).
    pub fn remote(trace_id: TraceId, span_id: SpanId, sampled: bool) -> Self {
        let valid = trace_id.0 != 0 && span_id.0 != 0;
        TraceContext {
            trace_id: trace_id.0,
            span_id: span_id.0,
            flags: if valid {
                VALID | REMOTE | if sampled { SAMPLED } else { 0 }
            } else {
                0
            },
            scope: None,
        }
    }

    /// A context with this one's scope (session, user, tags, metadata) but no parent: the first
    /// span started in it begins a new trace. For work that continues elsewhere as a trace of
    /// its own, a handoff to another agent or a job picked up later, with a link back:
    ///
    /// ```
    /// use llmtrace_runtime as llmtrace;
    ///
    /// #[llmtrace::agent(name = "planner")]
    /// fn plan(topic: &str) -> String {
    ///     let here = llmtrace::current().context();
    ///     // The writer's run is a trace of its own, linked to the planner's span.
    ///     here.new_trace().in_scope(|| write(topic, &here))
    /// }
    ///
    /// #[llmtrace::agent(name = "writer", links = [handoff])]
    /// fn write(topic: &str, handoff: &llmtrace::TraceContext) -> String {
    ///     format!("notes on {topic}")
    /// }
    /// # assert_eq!(plan("tides"), "notes on tides");
    /// ```
    pub fn new_trace(&self) -> TraceContext {
        let scope = self.scope.as_deref().map(|s| {
            let mut scope = s.clone();
            // Another trace's agent: the spans of the new trace are not its own.
            scope.agent = None;
            Arc::new(scope)
        });
        TraceContext {
            trace_id: 0,
            span_id: 0,
            flags: DETACHED,
            scope,
        }
    }

    /// The trace id, if this context is inside a trace.
    pub fn trace_id(&self) -> Option<TraceId> {
        (self.flags & VALID != 0).then_some(TraceId(self.trace_id))
    }

    /// The id of the span that new spans will be children of.
    pub fn span_id(&self) -> Option<SpanId> {
        (self.flags & VALID != 0).then_some(SpanId(self.span_id))
    }

    /// Whether spans of this trace are recorded.
    pub fn is_sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// A link to the span this context is positioned at, with these attributes; `None` when the
    /// context is not inside a trace.
    pub(crate) fn link(&self, attributes: Vec<(Cow<'static, str>, Value)>) -> Option<Link> {
        (self.flags & VALID != 0).then_some(Link {
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampled: self.flags & SAMPLED != 0,
            remote: self.flags & REMOTE != 0,
            attributes,
        })
    }

    fn as_ctx(&self) -> Ctx {
        Ctx {
            trace_id: self.trace_id,
            span_id: self.span_id,
            flags: self.flags,
            record: ptr::null_mut(),
            scope: self.scope.as_ref().map_or(ptr::null(), Arc::as_ptr),
        }
    }

    /// Installs this context on the current thread until the guard drops.
    pub fn enter(&self) -> ContextGuard<'_> {
        ContextGuard {
            _entered: thread::enter(self.as_ctx()),
            _ctx: std::marker::PhantomData,
        }
    }

    /// Runs `f` inside this context.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.enter();
        f()
    }

    /// Wraps a closure so that it runs inside this context, wherever it is called: pass the result
    /// to `std::thread::spawn` or `tokio::task::spawn_blocking`.
    pub fn wrap<R>(self, f: impl FnOnce() -> R) -> impl FnOnce() -> R {
        move || self.in_scope(f)
    }

    /// Wraps a future so that every poll runs inside this context: pass the result to
    /// `tokio::spawn` or `JoinSet::spawn`.
    pub fn instrument<F: Future>(self, future: F) -> WithTrace<F> {
        WithTrace::new(future, self)
    }
}

/// As a captured parameter: the W3C `traceparent` of the span it is positioned at
/// (`00-{trace id}-{span id}-{flags}`), or `null` outside a trace. A context passed to a function
/// for its `links = [..]` is then captured as the ids it links to.
impl serde::Serialize for TraceContext {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.flags & VALID == 0 {
            return serializer.serialize_none();
        }
        let sampled = u8::from(self.flags & SAMPLED != 0);
        serializer.collect_str(&format_args!(
            "00-{:032x}-{:016x}-{sampled:02x}",
            self.trace_id, self.span_id
        ))
    }
}

/// Keeps a [`TraceContext`] installed on the current thread; restores the previous one on drop.
#[must_use = "the context is uninstalled when the guard is dropped"]
#[derive(Debug)]
pub struct ContextGuard<'a> {
    _entered: Entered<'static>,
    _ctx: std::marker::PhantomData<&'a TraceContext>,
}

pin_project! {
    /// A future that runs inside a [`TraceContext`] on every poll. Made by
    /// [`FutureExt::in_current_trace`] and [`TraceContext::instrument`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct WithTrace<F> {
        #[pin]
        inner: F,
        ctx: TraceContext,
    }
}

impl<F> WithTrace<F> {
    pub(crate) fn new(inner: F, ctx: TraceContext) -> Self {
        WithTrace { inner, ctx }
    }
}

impl<F: Future> Future for WithTrace<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _guard = this.ctx.enter();
        this.inner.poll(cx)
    }
}

impl<S: futures_core::Stream> futures_core::Stream for WithTrace<S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.project();
        let _guard = this.ctx.enter();
        this.inner.poll_next(cx)
    }
}
