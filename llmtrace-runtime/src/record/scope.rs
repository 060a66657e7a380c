//! Values set once for a block of work and copied onto every span inside it (`llmtrace::scope()`
//! builds them), and where a test capture's spans go.

use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry_sdk::trace::SpanData;

use super::Value;

/// Values copied onto every span started inside a scope.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scope {
    pub(crate) session_id: Option<Box<str>>,
    pub(crate) user_id: Option<Box<str>>,
    pub(crate) conversation_id: Option<Box<str>>,
    pub(crate) tags: Vec<Box<str>>,
    pub(crate) metadata: Vec<(Box<str>, Value)>,
    /// Where spans of a test capture go (see [`crate::testing`]).
    pub(crate) capture: Option<Arc<CaptureSink>>,
    /// The W3C `tracestate` received with a remote parent, forwarded when the trace is
    /// propagated further (see [`crate::propagation`]); not copied onto spans.
    pub(crate) trace_state: opentelemetry::trace::TraceState,
    /// The agent the spans started inside run for: set by an `#[agent]` span for its
    /// descendants (its own record holds the scope too), cleared by a new trace.
    pub(crate) agent: Option<AgentRef>,
    /// The span id of the innermost `#[evaluator]` the spans started inside run for: set by the
    /// evaluator for its descendants (its own record holds the scope too), kept by the agents
    /// inside it. Their usage counts for the evaluator, not for the trace they judge.
    pub(crate) evaluator: Option<u64>,
}

/// The innermost agent a span runs inside of.
#[derive(Clone, Debug)]
pub(crate) struct AgentRef {
    /// The agent's span (its record's scope names it, its descendants' name their agent).
    pub(crate) span_id: u64,
    /// `gen_ai.agent.name`, for the model calls and tools that do not name their agent.
    pub(crate) name: Option<Value>,
}

/// Where a capture's spans are delivered: by the export worker in native mode, by the thread that
/// ends the span in the host modes.
#[derive(Debug, Default)]
pub(crate) struct CaptureSink {
    pub(crate) spans: Mutex<Vec<SpanData>>,
}

impl CaptureSink {
    pub(crate) fn push(&self, span: SpanData) {
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(span);
    }
}
