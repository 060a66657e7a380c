//! Block spans: a step inside a function as a span of its own, in the style of
//! `with tracer.span("build_context"):`.
//!
//! ```
//! use llmtrace_runtime as llmtrace;
//!
//! #[llmtrace::workflow(name = "answer")]
//! async fn answer(question: &str, chunks: &[String]) -> String {
//!     // A span named `build_context`, a child of `answer`, with one attribute.
//!     let context = llmtrace::step("build_context")
//!         .attribute("app.num_chunks", chunks.len())
//!         .in_scope(|| chunks.join("\n"));
//!     // Across `.await`: the step is entered on every poll.
//!     llmtrace::step("think")
//!         .instrument(async { format!("{question}: {} chars of context", context.len()) })
//!         .await
//! }
//! # let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # let answer = runtime.block_on(answer("why?", &["a".into(), "b".into()]));
//! # assert_eq!(answer, "why?: 3 chars of context");
//! ```
//!
//! A step is a CHAIN span by default (OpenInference `CHAIN`, OpenTelemetry INTERNAL), named by
//! its step name. [`Step::kind`] makes it a retrieval, a tool call or a reranking instead, with
//! the attributes of that kind; a kind's required fields are its constructor's arguments
//! (a reranking step cannot be built without a model), as they are the macros' required
//! arguments (`#[rerank(model = ..)]`). Everything else is as for the attribute macros: a step
//! is a child of the current span and the parent of the spans started inside it, records a
//! panic (and keeps unwinding), an error with [`try_in_scope`](Step::try_in_scope), is
//! cancelled when its future is dropped early, and its attributes go through the redaction
//! rules. To record a block's value as the step's output, use the `step!` macro.

use std::borrow::Cow;
use std::fmt::Display;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::capture;
use crate::context::TraceContext;
use crate::record::{Callsite, Field, HOSTED, Kind, Link, Record, Value};
use crate::span::{Span, call_sync};
use crate::state;

/// Starts a step named `name` (the span's name). Nothing is recorded until it runs:
/// [`in_scope`](Step::in_scope), [`try_in_scope`](Step::try_in_scope),
/// [`instrument`](Step::instrument) or [`try_instrument`](Step::try_instrument).
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// let answer = llmtrace::step("parse_answer").in_scope(|| "42".parse::<u32>());
/// assert_eq!(answer, Ok(42));
/// ```
#[inline]
pub fn step(name: impl Into<Cow<'static, str>>) -> Step {
    Step {
        name: name.into(),
        more: None,
    }
}

/// A step to run as a span: see [`step()`](crate::step()).
#[derive(Debug)]
#[must_use = "a step records nothing until it runs: call `in_scope` or `instrument`"]
pub struct Step {
    name: Cow<'static, str>,
    // Boxed, so that a plain step (the common one) is two words that move for free through the
    // builder's calls, and drops with one check.
    more: Option<Box<More>>,
}

/// What a step has beyond its name, when it has anything.
#[derive(Debug, Default)]
struct More {
    kind: StepKind,
    attributes: Vec<(Cow<'static, str>, Value)>,
    links: Vec<Link>,
}

/// What kind of span a step is; see [`Step::kind`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub enum StepKind {
    /// A step of the application (OpenInference `CHAIN`): the default.
    #[default]
    Chain,
    /// A retrieval: `retrieval {data_source}` (else `retrieval {step name}`).
    Retrieval(Retrieval),
    /// A tool call: `execute_tool {step name}`.
    Tool(Tool),
    /// A reranking: `rerank {model}`.
    Rerank(Rerank),
}

impl From<Retrieval> for StepKind {
    fn from(k: Retrieval) -> Self {
        StepKind::Retrieval(k)
    }
}

impl From<Tool> for StepKind {
    fn from(k: Tool) -> Self {
        StepKind::Tool(k)
    }
}

impl From<Rerank> for StepKind {
    fn from(k: Rerank) -> Self {
        StepKind::Rerank(k)
    }
}

/// A retrieval step, as `#[retrieval]` records one (no field is required).
///
/// ```
/// use llmtrace_runtime::{self as llmtrace, step::Retrieval};
///
/// let docs = llmtrace::step("search")
///     .kind(Retrieval::new().data_source("help_center").top_k(3))
///     .in_scope(|| vec!["Refunds take 5 days."]);
/// # assert_eq!(docs.len(), 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Retrieval {
    data_source: Option<Cow<'static, str>>,
    top_k: Option<i64>,
    query: Option<String>,
    provider: Option<Cow<'static, str>>,
    model: Option<Cow<'static, str>>,
}

impl Retrieval {
    /// A retrieval step.
    pub fn new() -> Self {
        Retrieval::default()
    }

    /// The data source searched (`gen_ai.data_source.id`); the span is
    /// `retrieval {data_source}`.
    pub fn data_source(mut self, id: impl Into<Cow<'static, str>>) -> Self {
        self.data_source = Some(id.into());
        self
    }

    /// The number of documents requested (`gen_ai.retrieval.top_k`).
    pub fn top_k(mut self, k: u32) -> Self {
        self.top_k = Some(i64::from(k));
        self
    }

    /// The query text (content: recorded only when content capture is on).
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }

    /// The provider of a hosted retrieval service (`gen_ai.provider.name`).
    pub fn provider(mut self, provider: impl Into<Cow<'static, str>>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// The embedding or reranking model used (`gen_ai.request.model`).
    pub fn model(mut self, model: impl Into<Cow<'static, str>>) -> Self {
        self.model = Some(model.into());
        self
    }
}

/// A tool step, as `#[tool]` records one: the step name is the tool's name (no field is
/// required).
#[derive(Clone, Debug, Default)]
pub struct Tool {
    description: Option<Cow<'static, str>>,
    call_id: Option<Cow<'static, str>>,
}

impl Tool {
    /// A tool step.
    pub fn new() -> Self {
        Tool::default()
    }

    /// What the tool does (`gen_ai.tool.description`).
    pub fn description(mut self, description: impl Into<Cow<'static, str>>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The id of the model's tool call this execution answers (`gen_ai.tool.call.id`).
    pub fn call_id(mut self, id: impl Into<Cow<'static, str>>) -> Self {
        self.call_id = Some(id.into());
        self
    }
}

/// A reranking step, as `#[rerank]` records one: the model is required, as by the macro.
///
/// ```
/// use llmtrace_runtime::{self as llmtrace, step::Rerank};
///
/// let best = llmtrace::step("rerank")
///     .kind(Rerank::model("bge-reranker-v2").top_k(1))
///     .in_scope(|| "the best chunk");
/// # assert_eq!(best, "the best chunk");
/// ```
#[derive(Clone, Debug)]
pub struct Rerank {
    model: Cow<'static, str>,
    provider: Option<Cow<'static, str>>,
    top_k: Option<i64>,
    query: Option<String>,
}

impl Rerank {
    /// A reranking step with this model (`gen_ai.request.model`); the span is
    /// `rerank {model}`.
    pub fn model(model: impl Into<Cow<'static, str>>) -> Self {
        Rerank {
            model: model.into(),
            provider: None,
            top_k: None,
            query: None,
        }
    }

    /// The provider of a hosted reranker (`gen_ai.provider.name`): the span is then a CLIENT
    /// span.
    pub fn provider(mut self, provider: impl Into<Cow<'static, str>>) -> Self {
        self.provider = Some(provider.into());
        self
    }

    /// The number of documents to return.
    pub fn top_k(mut self, k: u32) -> Self {
        self.top_k = Some(i64::from(k));
        self
    }

    /// The query the documents are ranked for (content: recorded only when content capture
    /// is on).
    pub fn query(mut self, query: impl Into<String>) -> Self {
        self.query = Some(query.into());
        self
    }
}

/// The fields each kind a step can take requires, in the order of its constructor's
/// arguments: the macros' schema table requires the same arguments of the same kinds (a test of
/// the macro crate checks it). Not an API.
#[doc(hidden)]
pub const REQUIRED_FIELDS: &[(Kind, &[Field])] = &[
    (Kind::Step, &[Field::Name]),
    (Kind::Retrieval, &[]),
    (Kind::Tool, &[]),
    (Kind::Rerank, &[Field::Model]),
];

static CHAIN: Callsite = Callsite::new(Kind::Step, "step", module_path!(), &[], &[], 0)
    .with_tracing(crate::__llmtrace_tracing_callsite!(Step, "step"));
static RETRIEVAL: Callsite = Callsite::new(Kind::Retrieval, "step", module_path!(), &[], &[], 0)
    .with_tracing(crate::__llmtrace_tracing_callsite!(Retrieval, "step"));
static TOOL: Callsite = Callsite::new(Kind::Tool, "step", module_path!(), &[], &[], 0)
    .with_tracing(crate::__llmtrace_tracing_callsite!(Tool, "step"));
static RERANK: Callsite = Callsite::new(Kind::Rerank, "step", module_path!(), &[], &[], 0)
    .with_tracing(crate::__llmtrace_tracing_callsite!(Rerank, "step"));
static RERANK_HOSTED: Callsite =
    Callsite::new(Kind::Rerank, "step", module_path!(), &[], &[], HOSTED)
        .with_tracing(crate::__llmtrace_tracing_callsite!(Rerank, "step"));

#[inline(always)]
fn text(s: Cow<'static, str>) -> Value {
    match s {
        Cow::Borrowed(s) => Value::Str(s),
        Cow::Owned(s) => Value::String(s.into_boxed_str()),
    }
}

impl Step {
    /// Makes the step a retrieval, a tool call or a reranking: its kind's constructor takes
    /// the fields the kind requires.
    ///
    /// ```
    /// use llmtrace_runtime::{self as llmtrace, step::Tool};
    ///
    /// let order = llmtrace::step("lookup_order")
    ///     .kind(Tool::new().description("Find an order by id"))
    ///     .in_scope(|| 42);
    /// # assert_eq!(order, 42);
    /// ```
    #[inline]
    pub fn kind(mut self, kind: impl Into<StepKind>) -> Self {
        self.more().kind = kind.into();
        self
    }

    fn more(&mut self) -> &mut More {
        self.more.get_or_insert_with(Default::default)
    }

    /// Adds an attribute (a custom key, exported as given and redacted like the macros'
    /// `attributes(..)`). With llmtrace not installed, the value is not even converted.
    #[inline]
    pub fn attribute(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        if state::is_enabled() {
            let entry = (key.into(), value.into());
            self.more().attributes.push(entry);
        }
        self
    }

    /// Links the step to the span `to` is positioned at (see
    /// [`CurrentSpan::add_link`](crate::CurrentSpan::add_link)).
    pub fn link(mut self, to: &TraceContext) -> Self {
        if state::is_enabled() {
            if let Some(link) = to.link(Vec::new()) {
                self.more().links.push(link);
            }
        }
        self
    }

    /// Runs `f` as the step: the span starts now, is the current span while `f` runs, and
    /// ends when it returns (or panics: the panic is recorded and keeps unwinding).
    #[inline]
    pub fn in_scope<R>(self, f: impl FnOnce() -> R) -> R {
        // The span is started here, not returned from a helper: moving a live span (its record
        // is inline) costs a copy the caller would pay on every step.
        let mut span = Span::start(self.callsite());
        if let Some(rec) = span.recording() {
            self.record(rec);
        }
        call_sync(&mut span, f, |_, _| {})
    }

    /// [`in_scope`](Self::in_scope) for a closure returning a `Result`: an `Err` marks the span
    /// failed, with the error's type name as `error.type` and its text as the description.
    #[inline]
    pub fn try_in_scope<T, E: Display>(self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        let mut span = Span::start(self.callsite());
        if let Some(rec) = span.recording() {
            self.record(rec);
        }
        call_sync(&mut span, f, record_error::<T, E>)
    }

    /// Runs `future` as the step: the span starts at its first poll (as an `async fn`'s
    /// does), is the current span during every poll, and ends when it completes; dropped
    /// before that, it is marked cancelled.
    pub fn instrument<F: Future>(self, future: F) -> StepFuture<F> {
        StepFuture {
            inner: future,
            span: Span::off(),
            step: Some(self),
            on_output: |_, _| {},
        }
    }

    /// [`instrument`](Self::instrument) for a future of a `Result`: an `Err` marks the span
    /// failed, as with [`try_in_scope`](Self::try_in_scope).
    pub fn try_instrument<F, T, E>(self, future: F) -> StepFuture<F>
    where
        F: Future<Output = Result<T, E>>,
        E: Display,
    {
        StepFuture {
            inner: future,
            span: Span::off(),
            step: Some(self),
            on_output: record_error::<T, E>,
        }
    }

    fn callsite(&self) -> &'static Callsite {
        let Some(more) = &self.more else {
            return &CHAIN;
        };
        match &more.kind {
            StepKind::Chain => &CHAIN,
            StepKind::Retrieval(_) => &RETRIEVAL,
            StepKind::Tool(_) => &TOOL,
            StepKind::Rerank(r) if r.provider.is_some() => &RERANK_HOSTED,
            StepKind::Rerank(_) => &RERANK,
        }
    }

    /// Starts the step's span as a child of the current context, recording its fields.
    #[inline(always)]
    fn start(self) -> Span {
        let mut span = Span::start(self.callsite());
        if let Some(rec) = span.recording() {
            self.record(rec);
        }
        span
    }

    #[inline(always)]
    fn record(self, rec: &mut Record) {
        rec.set(Field::Name, text(self.name));
        if let Some(more) = self.more {
            more.record(rec);
        }
    }
}

impl More {
    #[inline(never)]
    fn record(self, rec: &mut Record) {
        let content = state::content().captures();
        match self.kind {
            StepKind::Chain => {}
            StepKind::Retrieval(r) => {
                let fields = [
                    (Field::DataSource, r.data_source.map(text)),
                    (Field::RetrievalTopK, r.top_k.map(Value::I64)),
                    (Field::Provider, r.provider.map(text)),
                    (Field::Model, r.model.map(text)),
                ];
                for (field, value) in fields {
                    rec.set_opt(field, value);
                }
                if content {
                    rec.set_opt(Field::Query, r.query.map(Value::from));
                }
            }
            StepKind::Tool(t) => {
                rec.set_opt(Field::ToolDescription, t.description.map(text));
                rec.set_opt(Field::ToolCallId, t.call_id.map(text));
            }
            StepKind::Rerank(r) => {
                rec.set(Field::Model, text(r.model));
                rec.set_opt(Field::Provider, r.provider.map(text));
                rec.set_opt(Field::RetrievalTopK, r.top_k.map(Value::I64));
                if content {
                    rec.set_opt(Field::Query, r.query.map(Value::from));
                }
            }
        }
        for (key, value) in self.attributes {
            rec.set_custom(key, value);
        }
        if !self.links.is_empty() {
            rec.extra_mut().links.extend(self.links);
        }
    }
}

/// Records the error of an `Err`: its type's name and its text.
fn record_error<T, E: Display>(rec: &mut Record, result: &Result<T, E>) {
    if let Err(e) = result {
        let error_type = match capture::short_type_name(std::any::type_name::<E>()) {
            Cow::Borrowed(s) => Value::Str(s),
            Cow::Owned(s) => Value::String(s.into_boxed_str()),
        };
        let message = capture::message(|s| std::fmt::Write::write_fmt(s, format_args!("{e}")));
        rec.set_error(error_type, Some(message));
    }
}

pin_project! {
    /// A future run as a step: made by [`Step::instrument`] and [`Step::try_instrument`].
    ///
    /// It is `Send` and `Unpin` exactly when the future it runs is.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct StepFuture<F: Future> {
        // Declared first so that, when the future is dropped early, the spans of its children
        // end (as they drop) before the step's.
        #[pin]
        inner: F,
        span: Span,
        step: Option<Step>,
        on_output: fn(&mut Record, &F::Output),
    }
}

impl<F: Future> Future for StepFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        // The span starts at the first poll, where the parent is the task's current span.
        if let Some(step) = this.step.take() {
            *this.span = step.start();
        }
        let entered = this.span.enter();
        let inner = this.inner;
        let polled = catch_unwind(AssertUnwindSafe(|| inner.poll(cx)));
        drop(entered);
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => {
                let on_output = *this.on_output;
                this.span.finish_with(|rec| on_output(rec, &output));
                Poll::Ready(output)
            }
            Err(panic) => {
                this.span.finish_panicked(&*panic);
                resume_unwind(panic)
            }
        }
    }
}
