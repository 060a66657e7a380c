//! Tail sampling: which whole traces to keep, decided when the trace's root ends, from
//! everything the trace recorded.

use std::time::Duration;

use crate::record::{Field, Kind, Record, Status, Value};
use crate::semconv::keys::{event, gen_ai, openinference as oi};
use crate::semconv::table::{self, Kinds};
use crate::semconv::{name, operation};
use crate::state::evaluations;

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
    pub(crate) rules: Vec<Rule>,
    /// `keep_when_score_below`: evaluation name and threshold.
    pub(crate) score_rules: Vec<(String, f64)>,
    pub(crate) keep_on_feedback: bool,
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
            score_rules: Vec::new(),
            keep_on_feedback: false,
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

    /// Keeps every trace in which a span has attribute `key` equal to `value`.
    ///
    /// `key` may be:
    /// - a custom attribute (`attributes(..)` of the macros, or set at run time);
    /// - any key whose value is a field as the span recorded it, in any conventions profile
    ///   (matched whichever profile is on): request parameters (`gen_ai.request.temperature`,
    ///   `gen_ai.request.model`, `gen_ai.provider.name`, `gen_ai.system`, ...), response fields
    ///   (`gen_ai.response.model`, `gen_ai.response.id`, `gen_ai.response.finish_reasons`, ...),
    ///   `error.type`, `server.address`, the roll-ups on a root (`llmtrace.trace.*`). The key
    ///   table lists them: the [`semconv::table::KEYS`](crate::semconv::table::KEYS) whose
    ///   [`field`](crate::semconv::table::Key::field) is known; only spans of the kinds that
    ///   carry the key match;
    /// - `gen_ai.operation.name`, a tool's or workflow's name (`gen_ai.tool.name`, `tool.name`,
    ///   `gen_ai.workflow.name`: the `name` argument, else the function's name), or the scope's
    ///   `session.id`, `user.id` and `gen_ai.conversation.id` (a span's own conversation id
    ///   first).
    ///
    /// Values the mapper shapes (token counts, cost, content, JSON details) are not matched: use
    /// [`keep_tokens_over`](Self::keep_tokens_over) and [`keep_cost_over`](Self::keep_cost_over).
    /// Numbers compare by value, lists element by element, and a string matches a number or
    /// flag it parses to (rules read from `LLMTRACE_TAIL_SAMPLING_KEEP_WHEN` are strings).
    pub fn keep_when(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.rules.push(Rule::new(key.into(), value.into()));
        self
    }

    /// Keeps every trace in which an evaluation named `name` scored below `threshold`: an
    /// evaluation recorded on one of its spans while the span was open (a judge inside the
    /// request), or recorded after the span ended while the trace still waited for its root.
    ///
    /// ```
    /// use llmtrace_runtime::TailSampler;
    ///
    /// let sampler = TailSampler::keep_fraction(0.05).keep_when_score_below("relevance", 0.5);
    /// # let _ = sampler;
    /// ```
    pub fn keep_when_score_below(mut self, name: impl Into<String>, threshold: f64) -> Self {
        self.score_rules.push((name.into(), threshold));
        self
    }

    /// Keeps every trace that received user feedback (an evaluation named `user_feedback`,
    /// from [`feedback`](crate::feedback)) before its decision. Feedback that arrives after the
    /// decision is still exported as a log record with the trace's id, so it is never lost, even
    /// when the trace was dropped.
    pub fn keep_on_feedback(mut self) -> Self {
        self.keep_on_feedback = true;
        self
    }

    /// Whether an evaluation named `name` with `score` makes this sampler keep its trace.
    pub(crate) fn keeps_evaluation(&self, name: &str, score: Option<f64>) -> bool {
        (self.keep_on_feedback && name == event::USER_FEEDBACK)
            || score.is_some_and(|score| {
                self.score_rules
                    .iter()
                    .any(|(rule, threshold)| rule == name && score < *threshold)
            })
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
    /// An evaluation event on a span keeps the trace (a low score, or feedback).
    pub(crate) evaluation: bool,
    pub(crate) tokens: u64,
    pub(crate) cost: f64,
}

impl Evidence {
    pub(crate) fn add(&mut self, rec: &Record, sampler: &TailSampler) {
        self.error |= rec.status == Status::Error;
        self.tokens += rec.token(Field::InputTokens).unwrap_or(0)
            + rec.token(Field::OutputTokens).unwrap_or(0);
        self.cost += rec.cost().unwrap_or(0.0);
        if !self.rule {
            self.rule = sampler.rules.iter().any(|rule| rule.matches(rec));
        }
        if !self.evaluation && (sampler.keep_on_feedback || !sampler.score_rules.is_empty()) {
            self.evaluation =
                evaluation_events(rec).any(|(name, score)| sampler.keeps_evaluation(name, score));
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
            || self.evaluation
            || ((sampler.keep_on_feedback || !sampler.score_rules.is_empty())
                && evaluations::recent(trace_id)
                    .iter()
                    .any(|(name, score)| sampler.keeps_evaluation(name, *score)))
            || sampler
                .latency
                .zip(root)
                .is_some_and(|(limit, took)| took > limit)
            || sampler.tokens.is_some_and(|limit| self.tokens > limit)
            || sampler.cost_usd.is_some_and(|limit| self.cost > limit)
            || sampler.by_rate(trace_id)
    }
}

/// The evaluation results a record carries as events: their names and scores.
fn evaluation_events(rec: &Record) -> impl Iterator<Item = (&str, Option<f64>)> {
    rec.extra
        .iter()
        .flat_map(|extra| extra.events.iter())
        .filter(|e| e.name == event::EVALUATION_RESULT)
        .filter_map(|e| {
            let get = |key: &str| e.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v);
            let name = get(gen_ai::EVALUATION_NAME)?.as_str()?;
            Some((
                name,
                get(gen_ai::EVALUATION_SCORE_VALUE).and_then(Value::as_f64),
            ))
        })
}

/// One `keep_when` rule, with its key resolved once, when the rule is made.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Rule {
    key: String,
    value: Value,
    target: Target,
}

/// What a rule's key names on a span, besides a custom attribute of that name.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    /// A key the key table has as a plain copy of `field` (or `default` without it), on spans
    /// of `kinds`.
    Field {
        field: Field,
        default: Option<&'static str>,
        kinds: Kinds,
    },
    /// `gen_ai.operation.name`.
    Operation,
    /// The name of a tool or workflow.
    Name(Kind),
    /// The scope's session id.
    Session,
    /// The scope's user id.
    User,
    /// The span's conversation id, else its scope's.
    Conversation,
    /// No schema key: only custom attributes match.
    Custom,
}

impl Rule {
    fn new(key: String, value: Value) -> Self {
        let target = match key.as_str() {
            gen_ai::OPERATION_NAME => Target::Operation,
            gen_ai::TOOL_NAME | oi::TOOL_NAME => Target::Name(Kind::Tool),
            gen_ai::WORKFLOW_NAME => Target::Name(Kind::Workflow),
            oi::SESSION_ID => Target::Session,
            oi::USER_ID => Target::User,
            gen_ai::CONVERSATION_ID => Target::Conversation,
            other => match table::find(other).and_then(|k| Some((k.field()?, k.kinds))) {
                Some(((field, default), kinds)) => Target::Field {
                    field,
                    default,
                    kinds,
                },
                None => Target::Custom,
            },
        };
        Rule { key, value, target }
    }

    /// Whether `rec` has the rule's attribute with the rule's value.
    fn matches(&self, rec: &Record) -> bool {
        let (key, value) = (self.key.as_str(), &self.value);
        if let Some(extra) = &rec.extra {
            if extra.custom.iter().any(|(k, v)| k == key && same(v, value)) {
                return true;
            }
        }
        if let Some((_, v)) = rec.callsite.custom.iter().find(|(k, _)| *k == key) {
            return same(v, value);
        }
        let scope = rec.scope.as_deref();
        let scoped = |found: Option<&str>| found.is_some_and(|s| value.as_str() == Some(s));
        match self.target {
            Target::Field {
                field,
                default,
                kinds,
            } => {
                kinds.contains(rec.kind())
                    && match rec.get(field) {
                        Some(v) => same(v, value),
                        // A model call or tool inside an agent names it (see the mapper's scope).
                        None if field == Field::AgentName
                            && matches!(rec.kind(), Kind::LlmCall | Kind::Tool) =>
                        {
                            scope
                                .and_then(|s| s.agent.as_ref())
                                .filter(|a| a.span_id != rec.span_id)
                                .and_then(|a| a.name.as_ref())
                                .is_some_and(|name| same(name, value))
                        }
                        None => default.is_some_and(|d| same(&Value::Str(d), value)),
                    }
            }
            // A block span is no GenAI operation: it has no `gen_ai.operation.name` to match.
            Target::Operation => rec.kind() != Kind::Step && value.as_str() == Some(operation(rec)),
            Target::Name(kind) => rec.kind() == kind && same(&name(rec), value),
            Target::Session => scoped(scope.and_then(|s| s.session_id.as_deref())),
            Target::User => scoped(scope.and_then(|s| s.user_id.as_deref())),
            Target::Conversation => match rec.get(Field::ConversationId) {
                Some(v) => same(v, value),
                None => scoped(scope.and_then(|s| s.conversation_id.as_deref())),
            },
            Target::Custom => false,
        }
    }
}

/// Equal as attribute values: strings whatever their storage, numbers by value, lists element
/// by element; a string equals the number or flag it parses to.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::StrList(x), Value::StringList(y)) | (Value::StringList(y), Value::StrList(x)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(s, t)| *s == &**t)
        }
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x == y,
            (Some(s), None) => parses_to(s, b),
            (None, Some(s)) => parses_to(s, a),
            (None, None) => match (a.as_f64(), b.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => a == b,
            },
        },
    }
}

fn parses_to(s: &str, v: &Value) -> bool {
    match v {
        Value::Bool(b) => s.trim().parse::<bool>() == Ok(*b),
        Value::I64(_) | Value::F64(_) => s.trim().parse::<f64>().ok() == v.as_f64(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::record::{CAPTURE_OUTPUT, Callsite, Scope};
    use crate::semconv::table::KEYS;

    static CALLSITES: [Callsite; 10] = [
        Callsite::new(Kind::Workflow, "flow", "m", &[], &[], CAPTURE_OUTPUT),
        Callsite::new(Kind::LlmCall, "chat", "m", &[], &[], CAPTURE_OUTPUT),
        Callsite::new(Kind::Retrieval, "search", "m", &[], &[], CAPTURE_OUTPUT),
        Callsite::new(
            Kind::Tool,
            "lookup",
            "m",
            &[(Field::ToolDescription, Value::Str("finds"))],
            &[("app.tier", Value::Str("pro"))],
            CAPTURE_OUTPUT,
        ),
        Callsite::new(Kind::Agent, "plan", "m", &[], &[], CAPTURE_OUTPUT),
        Callsite::new(Kind::Embeddings, "embed", "m", &[], &[], 0),
        Callsite::new(Kind::Rerank, "rerank", "m", &[], &[], CAPTURE_OUTPUT),
        Callsite::new(Kind::Guardrail, "check", "m", &[], &[], CAPTURE_OUTPUT),
        Callsite::new(Kind::Evaluator, "judge", "m", &[], &[], CAPTURE_OUTPUT),
        Callsite::new(Kind::Step, "step", "m", &[], &[], CAPTURE_OUTPUT),
    ];

    fn record(kind: Kind) -> Record {
        let callsite = CALLSITES.iter().find(|c| c.kind == kind).unwrap();
        Record::new(callsite, 1, 2, 0, None, 0)
    }

    fn kept(rec: &Record, key: &str, value: impl Into<Value>) -> bool {
        let sampler = TailSampler::keep_fraction(0.0).keep_when(key, value);
        let mut evidence = Evidence::default();
        evidence.add(rec, &sampler);
        evidence.rule
    }

    /// A value of the field's type, and another one.
    fn values(field: Field) -> (Value, Value) {
        (field.sample(0), field.sample(1))
    }

    #[test]
    fn every_plain_copy_key_of_the_table_is_matched() {
        let mut checked = 0;
        for row in KEYS {
            let Some((field, default)) = row.field() else {
                continue;
            };
            let (value, other) = values(field);
            for kind in Kind::ALL {
                let mut rec = record(kind);
                rec.set(field, value.clone());
                let matched = kept(&rec, row.name, value.clone());
                assert_eq!(
                    matched,
                    row.kinds.contains(kind),
                    "{} on {kind:?}",
                    row.name
                );
                assert!(!kept(&rec, row.name, other.clone()), "{}", row.name);
                if matched {
                    checked += 1;
                }
                // Without the field: its default, if it has one.
                let bare = record(kind);
                if let Some(d) = default {
                    assert_eq!(kept(&bare, row.name, d), row.kinds.contains(kind));
                }
                assert!(!kept(&bare, row.name, value.clone()), "{}", row.name);
            }
        }
        assert!(checked >= 40, "{checked}");
        let mut chat = record(Kind::LlmCall);
        chat.set(Field::Temperature, Value::F64(0.3));
        assert!(kept(&chat, "gen_ai.request.temperature", 0.3));
    }

    #[test]
    fn literal_arguments_and_custom_attributes_match() {
        let tool = record(Kind::Tool);
        assert!(kept(&tool, "gen_ai.tool.description", "finds"));
        assert!(kept(&tool, "tool.description", "finds"));
        assert!(kept(&tool, "app.tier", "pro"));
        assert!(!kept(&tool, "app.tier", "free"));
        let mut rec = record(Kind::Workflow);
        rec.set_custom("app.region".into(), Value::Str("eu"));
        assert!(kept(&rec, "app.region", "eu"));
        assert!(!kept(&rec, "app.other", "eu"));
    }

    #[test]
    fn names_operations_and_the_scope() {
        let tool = record(Kind::Tool);
        assert!(kept(&tool, "gen_ai.tool.name", "lookup"));
        assert!(kept(&tool, "tool.name", "lookup"));
        assert!(!kept(&tool, "gen_ai.workflow.name", "lookup"));
        let mut flow = record(Kind::Workflow);
        flow.set(Field::Name, Value::String("support".into()));
        assert!(kept(&flow, "gen_ai.workflow.name", "support"));
        assert!(kept(&flow, "gen_ai.operation.name", "invoke_workflow"));
        let mut chat = record(Kind::LlmCall);
        assert!(kept(&chat, "gen_ai.operation.name", "chat"));
        chat.set(Field::Operation, Value::Str("embeddings"));
        assert!(kept(&chat, "gen_ai.operation.name", "embeddings"));
        assert!(kept(
            &record(Kind::Agent),
            "gen_ai.operation.name",
            "invoke_agent"
        ));
        // A step is no GenAI operation, whatever the rule says.
        assert!(!kept(&record(Kind::Step), "gen_ai.operation.name", ""));

        // A call inside an agent matches the agent's name, unless it names its own.
        let inside = Arc::new(Scope {
            agent: Some(crate::record::AgentRef {
                span_id: 9,
                name: Some(Value::Str("planner")),
            }),
            ..Scope::default()
        });
        let mut call = Record::new(&CALLSITES[1], 1, 2, 9, Some(inside.clone()), 0);
        assert!(kept(&call, "gen_ai.agent.name", "planner"));
        call.set(Field::AgentName, Value::Str("own"));
        assert!(!kept(&call, "gen_ai.agent.name", "planner"));
        let step = Record::new(&CALLSITES[8], 1, 2, 9, Some(inside), 0);
        assert!(!kept(&step, "gen_ai.agent.name", "planner"));

        let scope = Arc::new(Scope {
            session_id: Some("s-1".into()),
            user_id: Some("u-1".into()),
            conversation_id: Some("c-1".into()),
            ..Scope::default()
        });
        let mut rec = Record::new(&CALLSITES[0], 1, 2, 0, Some(scope), 0);
        assert!(kept(&rec, "session.id", "s-1"));
        assert!(kept(&rec, "user.id", "u-1"));
        assert!(!kept(&rec, "user.id", "s-1"));
        assert!(kept(&rec, "gen_ai.conversation.id", "c-1"));
        rec.set(Field::ConversationId, Value::Str("own"));
        assert!(kept(&rec, "gen_ai.conversation.id", "own"));
        assert!(!kept(&rec, "gen_ai.conversation.id", "c-1"));
    }

    #[test]
    fn values_compare_across_their_storage() {
        let mut chat = record(Kind::LlmCall);
        chat.set(Field::Temperature, Value::F64(0.5));
        chat.set(Field::MaxTokens, Value::I64(256));
        chat.set(Field::Stream, Value::Bool(true));
        chat.set(Field::StopSequences, Value::StrList(&["\n"]));
        // Strings, as rules from the environment are.
        assert!(kept(&chat, "gen_ai.request.temperature", "0.5"));
        assert!(kept(&chat, "gen_ai.request.max_tokens", "256"));
        assert!(kept(&chat, "gen_ai.request.max_tokens", 256.0));
        assert!(kept(&chat, "gen_ai.request.stream", "true"));
        assert!(!kept(&chat, "gen_ai.request.temperature", "warm"));
        assert!(kept(
            &chat,
            "gen_ai.request.stop_sequences",
            vec!["\n".to_owned()]
        ));
        // Shaped values are not matched.
        chat.set(Field::InputTokens, Value::I64(10));
        assert!(!kept(&chat, "gen_ai.usage.input_tokens", 10));
    }
}
