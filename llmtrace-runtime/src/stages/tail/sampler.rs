//! Tail sampling: which whole traces to keep, decided when the trace's root ends, from
//! everything the trace recorded.

use std::time::Duration;

use crate::record::Scope;
use crate::record::{Field, Record, Status, Value};
use crate::semconv::keys::{gen_ai, openinference as oi};

/// Keeps whole traces by what happened in them, decided when the root span ends.
///
/// A trace is kept when any span failed (unless [`keep_errors(false)`](Self::keep_errors)), when
/// the root ran longer than [`keep_slower_than`](Self::keep_slower_than), when the trace's tokens
/// or cost exceed a threshold, or when a span carries an attribute named in
/// [`keep_when`](Self::keep_when); any other trace is kept with the base probability, chosen by
/// trace id. Spans wait on the export thread until the decision, within memory limits; spans
/// that end after their root follow the decision taken for it.
///
/// Tail sampling applies to the traces head sampling records: with the default head sampler
/// that is every trace.
///
/// ```
/// use std::time::Duration;
/// use llmtrace_runtime::{self as llmtrace, TailSampler};
///
/// let _guard = llmtrace::init()
///     .tail_sampling(
///         TailSampler::keep_fraction(0.05)                 // 5% of ordinary traces
///             .keep_slower_than(Duration::from_secs(10))   // every slow one
///             .keep_cost_over(0.50)                        // every trace over $0.50
///             .keep_when("app.tier", "enterprise"),        // every enterprise user's
///     )
///     .install();
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TailSampler {
    pub(crate) base_rate: f64,
    pub(crate) keep_errors: bool,
    pub(crate) latency: Option<Duration>,
    pub(crate) tokens: Option<u64>,
    pub(crate) cost_usd: Option<f64>,
    pub(crate) rules: Vec<(String, Value)>,
    pub(crate) max_traces: usize,
    pub(crate) max_spans_per_trace: usize,
    pub(crate) max_age: Duration,
}

impl TailSampler {
    /// Keeps this fraction (0.0 to 1.0) of the traces no rule keeps, and every trace with an
    /// error.
    pub fn keep_fraction(base_rate: f64) -> Self {
        TailSampler {
            base_rate: if base_rate.is_nan() {
                0.0
            } else {
                base_rate.clamp(0.0, 1.0)
            },
            keep_errors: true,
            latency: None,
            tokens: None,
            cost_usd: None,
            rules: Vec::new(),
            max_traces: 10_000,
            max_spans_per_trace: 1_000,
            max_age: Duration::from_secs(300),
        }
    }

    /// Whether a trace in which any span failed is always kept (default: yes).
    pub fn keep_errors(mut self, keep: bool) -> Self {
        self.keep_errors = keep;
        self
    }

    /// Keeps every trace whose root ran longer than `threshold`.
    pub fn keep_slower_than(mut self, threshold: Duration) -> Self {
        self.latency = Some(threshold);
        self
    }

    /// Keeps every trace whose model calls used more than `tokens` (input and output).
    pub fn keep_tokens_over(mut self, tokens: u64) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Keeps every trace whose model calls cost more than `usd`.
    pub fn keep_cost_over(mut self, usd: f64) -> Self {
        self.cost_usd = Some(usd);
        self
    }

    /// Keeps every trace in which a span has attribute `key` equal to `value`: a custom
    /// attribute, a schema attribute (`gen_ai.request.model`, `gen_ai.provider.name`,
    /// `gen_ai.tool.name`, `error.type`, ...) or a scope's `session.id` / `user.id`.
    pub fn keep_when(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.rules.push((key.into(), value.into()));
        self
    }

    /// Traces waiting for their root at most (default 10,000). When a new trace would exceed
    /// it, the oldest waiting trace is decided at once on what it recorded so far.
    pub fn max_traces(mut self, traces: usize) -> Self {
        self.max_traces = traces.max(1);
        self
    }

    /// Spans kept per waiting trace at most (default 1,000); more are dropped and counted in
    /// [`Stats::dropped_limits`](crate::Stats::dropped_limits). The root is always kept.
    pub fn max_spans_per_trace(mut self, spans: usize) -> Self {
        self.max_spans_per_trace = spans.max(1);
        self
    }

    /// How long a trace waits for its root at most (default 5 minutes); then it is decided on
    /// what it recorded so far.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = age;
        self
    }

    /// Whether the base rate keeps this trace. Uses the high bits of the trace id: head
    /// sampling by ratio uses the low ones, so the two rates multiply instead of overlapping.
    pub(crate) fn by_rate(&self, trace_id: u128) -> bool {
        if self.base_rate >= 1.0 {
            return true;
        }
        let bound = (self.base_rate * (1u64 << 63) as f64) as u64;
        (((trace_id >> 64) as u64) >> 1) < bound
    }
}

/// What the decision reads from a trace's spans, accumulated as they arrive.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Evidence {
    pub(crate) error: bool,
    pub(crate) rule: bool,
    pub(crate) tokens: u64,
    pub(crate) cost: f64,
}

impl Evidence {
    pub(crate) fn add(&mut self, rec: &Record, sampler: &TailSampler) {
        self.error |= rec.status == Status::Error;
        self.tokens += rec.token(Field::InputTokens).unwrap_or(0)
            + rec.token(Field::OutputTokens).unwrap_or(0);
        self.cost += rec
            .get(Field::CostTotal)
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        if !self.rule {
            self.rule = sampler.rules.iter().any(|(k, v)| matches(rec, k, v));
        }
    }

    /// Whether to keep the trace, given its root's duration when the root was seen.
    pub(crate) fn keep(
        &self,
        sampler: &TailSampler,
        trace_id: u128,
        root: Option<Duration>,
    ) -> bool {
        (sampler.keep_errors && self.error)
            || self.rule
            || sampler
                .latency
                .zip(root)
                .is_some_and(|(limit, took)| took > limit)
            || sampler.tokens.is_some_and(|limit| self.tokens > limit)
            || sampler.cost_usd.is_some_and(|limit| self.cost > limit)
            || sampler.by_rate(trace_id)
    }
}

/// Whether `rec` has attribute `key` equal to `value`.
fn matches(rec: &Record, key: &str, value: &Value) -> bool {
    if let Some(extra) = &rec.extra {
        if extra.custom.iter().any(|(k, v)| k == key && same(v, value)) {
            return true;
        }
    }
    if let Some((_, v)) = rec.callsite.custom.iter().find(|(k, _)| *k == key) {
        return same(v, value);
    }
    if let Some(scope) = rec.scope.as_deref() {
        if let Some(found) = scope_value(scope, key) {
            return value.as_str() == Some(found);
        }
    }
    if names_kind(rec, key) {
        // A tool's or workflow's name: its `name` argument, else the function's name.
        let name = rec
            .get(Field::Name)
            .and_then(Value::as_str)
            .unwrap_or(rec.callsite.fn_name);
        return value.as_str() == Some(name);
    }
    match field_of(key) {
        Some(field) => rec.get(field).is_some_and(|v| same(v, value)),
        None => false,
    }
}

fn scope_value<'a>(scope: &'a Scope, key: &str) -> Option<&'a str> {
    match key {
        oi::SESSION_ID => scope.session_id.as_deref(),
        oi::USER_ID => scope.user_id.as_deref(),
        _ => None,
    }
}

/// Equal as attribute values: strings whatever their storage, numbers by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x == y,
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

/// The schema field a GenAI key is recorded from.
fn field_of(key: &str) -> Option<Field> {
    Some(match key {
        gen_ai::PROVIDER_NAME => Field::Provider,
        gen_ai::REQUEST_MODEL => Field::Model,
        gen_ai::RESPONSE_MODEL => Field::ResponseModel,
        gen_ai::OPERATION_NAME => Field::Operation,
        gen_ai::AGENT_NAME => Field::AgentName,
        gen_ai::CONVERSATION_ID => Field::ConversationId,
        gen_ai::DATA_SOURCE_ID => Field::DataSource,
        gen_ai::PROMPT_NAME => Field::PromptName,
        gen_ai::PROMPT_VERSION => Field::PromptVersion,
        gen_ai::ERROR_TYPE => Field::ErrorType,
        gen_ai::SERVER_ADDRESS => Field::ServerAddress,
        gen_ai::TOOL_CALL_ID => Field::ToolCallId,
        _ => return None,
    })
}

/// Whether `key` is the name of this record's kind of operation.
fn names_kind(rec: &Record, key: &str) -> bool {
    use crate::record::Kind;
    matches!(
        (rec.kind(), key),
        (Kind::Tool, gen_ai::TOOL_NAME) | (Kind::Workflow, gen_ai::WORKFLOW_NAME)
    )
}
