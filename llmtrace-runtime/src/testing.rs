//! Assert on the spans your own code produces, in your own tests.
//!
//! `cargo test` runs tests as threads of one process, so a [`Capture`] is scoped through the trace
//! context rather than installed globally: each capture sees exactly the spans started inside it
//! (and in tasks and threads that carry its context), and tests running at the same time do not
//! see each other's spans. Captured spans go through the real pipeline (buffers, export worker,
//! mapper) and arrive as `opentelemetry_sdk` `SpanData`, exactly what an exporter would receive.
//!
//! ```
//! use llmtrace_runtime as llmtrace;
//! use llmtrace::testing::{Capture, SpanDataExt};
//!
//! #[llmtrace::tool(name = "lookup_order")]
//! fn lookup_order(order_id: &str) -> Result<u32, String> {
//!     if order_id == "A-42" { Ok(42) } else { Err(format!("no order {order_id}")) }
//! }
//!
//! let capture = Capture::new();
//! capture.in_scope(|| {
//!     let _ = lookup_order("A-42");
//!     let _ = lookup_order("B-7");
//! });
//! let spans = capture.spans();
//! assert_eq!(spans.len(), 2);
//! let failed = spans.all("execute_tool lookup_order")[1];
//! assert_eq!(failed.str_attr("error.type"), Some("String"));
//! ```

use std::future::Future;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use opentelemetry::Value;
use opentelemetry::trace::{SpanId, Status};
use opentelemetry_sdk::trace::SpanData;

use crate::context::{ContextGuard, TraceContext, WithTrace};
use crate::record::CaptureSink;
use crate::state::{self, Sampler};

/// Collects the spans started inside it. See the [module docs](self).
///
/// When llmtrace is not installed, the first capture installs it with no exporter (spans outside
/// any capture are then dropped); when it is installed, captures use that pipeline. Spans inside
/// a capture are always recorded, whatever the head sampler says.
#[derive(Debug)]
pub struct Capture {
    sink: Arc<CaptureSink>,
    ctx: TraceContext,
}

impl Default for Capture {
    fn default() -> Self {
        Self::new()
    }
}

impl Capture {
    /// Starts a capture.
    pub fn new() -> Self {
        if state::get().is_none() {
            if let Ok(guard) = crate::init()
                .sampler(Sampler::AlwaysOn)
                .without_exporters()
                .export_interval(Duration::from_millis(20))
                .try_install()
            {
                // Tests end when the process does: keep the pipeline for the whole process.
                std::mem::forget(guard);
            }
        }
        let sink = Arc::new(CaptureSink::default());
        let ctx = crate::context::scope().capture(sink.clone()).into_context();
        Capture { sink, ctx }
    }

    /// Installs the capture on this thread until the guard drops.
    pub fn enter(&self) -> ContextGuard<'_> {
        self.ctx.enter()
    }

    /// Runs `f` inside the capture.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        self.ctx.in_scope(f)
    }

    /// Runs a future inside the capture.
    pub fn instrument<F: Future>(&self, future: F) -> WithTrace<F> {
        self.ctx.clone().instrument(future)
    }

    /// The context of this capture, to carry into threads and tasks.
    pub fn context(&self) -> TraceContext {
        self.ctx.clone()
    }

    /// Flushes the pipeline and returns the spans captured so far, in the order they ended.
    pub fn spans(&self) -> CapturedSpans {
        let _ = crate::force_flush(Duration::from_secs(10));
        let mut spans = self
            .sink
            .spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // Export order is not end order: the roll-up holds a root that ends while the export
        // thread reads for one more read. Stable, so spans ending at the same instant keep theirs.
        spans.sort_by_key(|s| s.end_time);
        CapturedSpans(spans)
    }
}

/// Spans returned by [`Capture::spans`], with helpers to find spans and walk the tree.
#[derive(Clone, Debug)]
pub struct CapturedSpans(pub Vec<SpanData>);

impl std::ops::Deref for CapturedSpans {
    type Target = [SpanData];
    fn deref(&self) -> &[SpanData] {
        &self.0
    }
}

impl CapturedSpans {
    /// The span with this name.
    ///
    /// # Panics
    /// When there is none or more than one, listing the names there are.
    #[track_caller]
    pub fn by_name(&self, name: &str) -> &SpanData {
        let found = self.all(name);
        match found.len() {
            1 => found[0],
            n => panic!(
                "expected one span named {name:?}, found {n}; spans: {:?}",
                self.names()
            ),
        }
    }

    /// The first span with this name.
    pub fn find(&self, name: &str) -> Option<&SpanData> {
        self.0.iter().find(|s| s.name == name)
    }

    /// Every span with this name, in the order they ended.
    pub fn all(&self, name: &str) -> Vec<&SpanData> {
        self.0.iter().filter(|s| s.name == name).collect()
    }

    /// The names of all spans, in the order they ended.
    pub fn names(&self) -> Vec<&str> {
        self.0.iter().map(|s| &*s.name).collect()
    }

    /// The parent of `span`, when it was captured too.
    pub fn parent_of(&self, span: &SpanData) -> Option<&SpanData> {
        if span.parent_span_id == SpanId::INVALID {
            return None;
        }
        self.0
            .iter()
            .find(|s| s.span_context.span_id() == span.parent_span_id)
    }

    /// The children of `span`, in the order they ended.
    pub fn children_of(&self, span: &SpanData) -> Vec<&SpanData> {
        let id = span.span_context.span_id();
        self.0.iter().filter(|s| s.parent_span_id == id).collect()
    }

    /// Spans whose parent was not captured (the roots).
    pub fn roots(&self) -> Vec<&SpanData> {
        self.0
            .iter()
            .filter(|s| self.parent_of(s).is_none())
            .collect()
    }
}

/// Reading attributes and status of a `SpanData`.
pub trait SpanDataExt {
    /// An attribute's value.
    fn attr(&self, key: &str) -> Option<&Value>;
    /// A string attribute.
    fn str_attr(&self, key: &str) -> Option<&str>;
    /// An integer attribute.
    fn i64_attr(&self, key: &str) -> Option<i64>;
    /// A floating point attribute.
    fn f64_attr(&self, key: &str) -> Option<f64>;
    /// A boolean attribute.
    fn bool_attr(&self, key: &str) -> Option<bool>;
    /// A string attribute parsed as JSON.
    fn json_attr(&self, key: &str) -> Option<serde_json::Value>;
    /// Whether the status is error.
    fn is_error(&self) -> bool;
}

impl SpanDataExt for SpanData {
    fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    fn str_attr(&self, key: &str) -> Option<&str> {
        match self.attr(key)? {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    fn i64_attr(&self, key: &str) -> Option<i64> {
        match self.attr(key)? {
            Value::I64(v) => Some(*v),
            _ => None,
        }
    }

    fn f64_attr(&self, key: &str) -> Option<f64> {
        match self.attr(key)? {
            Value::F64(v) => Some(*v),
            _ => None,
        }
    }

    fn bool_attr(&self, key: &str) -> Option<bool> {
        match self.attr(key)? {
            Value::Bool(v) => Some(*v),
            _ => None,
        }
    }

    fn json_attr(&self, key: &str) -> Option<serde_json::Value> {
        serde_json::from_str(self.str_attr(key)?).ok()
    }

    fn is_error(&self) -> bool {
        matches!(self.status, Status::Error { .. })
    }
}
