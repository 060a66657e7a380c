//! The trace tree: a trace's spans, reduced to what the console shows, arranged under their
//! parents, with the slowest child of each span and the trace's totals.
//!
//! The console exporter builds one tree per trace as the trace's root ends; [`build`] builds
//! them from spans read back from a file. Both go through `Tree::new`, so a tree looks the
//! same whichever way its spans arrived. Public as `llmtrace_runtime::export::tree`.

use std::collections::HashMap;
use std::fmt;
use std::iter::Sum;
use std::ops::Add;
use std::time::{Duration, SystemTime};

use opentelemetry::Value;
use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry_sdk::trace::SpanData;

use crate::semconv::keys::{gen_ai, link, llmtrace as lt, openinference as oi};

/// Token usage and cost in US dollars, of one span or of a whole trace. Each part is `None`
/// when no span reported it, which is not the same as zero.
///
/// Adding two keeps what either side knows: a part missing on one side is taken from the
/// other.
///
/// ```
/// use llmtrace_runtime::export::tree::UsageCost;
///
/// let chat = UsageCost { input_tokens: Some(3200), output_tokens: Some(450), cost_usd: Some(0.012) };
/// let embed = UsageCost { input_tokens: Some(12), ..UsageCost::default() };
/// let sum = chat + embed;
/// assert_eq!(sum.input_tokens, Some(3212));
/// assert_eq!(sum.output_tokens, Some(450));
/// assert_eq!(sum.cost_usd, Some(0.012));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct UsageCost {
    /// Input (prompt) tokens: `gen_ai.usage.input_tokens`.
    pub input_tokens: Option<i64>,
    /// Output (completion) tokens: `gen_ai.usage.output_tokens`.
    pub output_tokens: Option<i64>,
    /// Cost in US dollars: `llm.cost.total`.
    pub cost_usd: Option<f64>,
}

impl UsageCost {
    /// Each part of `self`, or of `fallback` where `self` has none.
    fn or(self, fallback: UsageCost) -> UsageCost {
        UsageCost {
            input_tokens: self.input_tokens.or(fallback.input_tokens),
            output_tokens: self.output_tokens.or(fallback.output_tokens),
            cost_usd: self.cost_usd.or(fallback.cost_usd),
        }
    }

    pub(super) fn has_tokens(&self) -> bool {
        self.input_tokens.is_some() || self.output_tokens.is_some()
    }
}

impl Add for UsageCost {
    type Output = UsageCost;

    fn add(self, other: UsageCost) -> UsageCost {
        fn add<T>(a: Option<T>, b: Option<T>, f: impl Fn(T, T) -> T) -> Option<T> {
            match (a, b) {
                (Some(a), Some(b)) => Some(f(a, b)),
                (a, b) => a.or(b),
            }
        }
        UsageCost {
            // Saturating: token counts come from other processes' attributes, and may be absurd.
            input_tokens: add(self.input_tokens, other.input_tokens, i64::saturating_add),
            output_tokens: add(self.output_tokens, other.output_tokens, i64::saturating_add),
            cost_usd: add(self.cost_usd, other.cost_usd, |a, b| a + b),
        }
    }
}

impl Sum for UsageCost {
    fn sum<I: Iterator<Item = UsageCost>>(iter: I) -> UsageCost {
        iter.fold(UsageCost::default(), Add::add)
    }
}

/// One span, as much of it as a tree shows: prompts, responses and other content are not
/// kept. Text is kept whole; the console cuts it to what a line shows before buffering.
#[derive(Clone, Debug)]
pub(super) struct Summary {
    span_id: SpanId,
    parent_id: SpanId,
    pub(super) name: String,
    /// `gen_ai.workflow.name`: a root's label when it has one.
    pub(super) workflow: Option<String>,
    start: SystemTime,
    pub(super) end: SystemTime,
    pub(super) usage: UsageCost,
    /// The trace totals a root carries (`llmtrace.trace.*`).
    rollup: UsageCost,
    /// The roll-up counted calls without a price (`llmtrace.trace.unpriced_calls`).
    rollup_unpriced: bool,
    pub(super) docs: Option<u64>,
    pub(super) ttft: Option<Duration>,
    pub(super) error: Option<String>,
    pub(super) cancelled: bool,
    /// `llmtrace.usage.missing`: the call reported no token usage.
    pub(super) usage_missing: bool,
    /// `llmtrace.cost.unpriced`: no price is known for the call's model.
    pub(super) unpriced: bool,
    /// The parent is in another process or another tracing system of this one.
    pub(super) foreign_parent: bool,
    /// An agent's usage and cost are its own calls' summed (`llmtrace.agent.*`): shown on its
    /// line, not added to the trace's totals again.
    pub(super) aggregate: bool,
    /// An agent's own model calls, tool calls and steps.
    pub(super) agent_counts: Option<AgentCounts>,
    /// An `#[evaluator]`: its usage and cost are its judges' (`llmtrace.evaluator.*`), which the
    /// trace's totals leave out.
    pub(super) evaluator: bool,
    /// A span inside an evaluator (an LLM judge): counted for its evaluator, not in the
    /// trace's totals (`llmtrace.evaluation`).
    pub(super) evaluation: bool,
    /// A guardrail's verdict, with its reason.
    pub(super) guardrail: Option<(bool, Option<String>)>,
    /// A reranker's documents: how many it was given, how many it kept.
    pub(super) reranked: Option<(Option<u64>, Option<u64>)>,
    /// `llmtrace.retry.attempt`.
    pub(super) attempt: Option<i64>,
    /// The spans this one links to.
    pub(super) links: Vec<SpanLink>,
}

/// What an agent's own spans were: its model calls, tool calls and steps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgentCounts {
    /// Model calls (`llmtrace.agent.inference_calls`).
    pub inference_calls: i64,
    /// Tool calls (`llmtrace.agent.tool_calls`).
    pub tool_calls: i64,
    /// Steps (`llmtrace.agent.steps`).
    pub steps: i64,
}

/// A span link: the span linked to, and whether it is a retry's link to the failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanLink {
    /// The linked span's trace.
    pub trace_id: TraceId,
    /// The linked span.
    pub span_id: SpanId,
    /// The link is a retry's, to the attempt that failed (`llmtrace.link.type = "retry_of"`).
    pub retry_of: bool,
}

impl Summary {
    pub(super) fn from_span(span: &SpanData) -> Summary {
        let attrs = Attrs(&span.attributes);
        let error = match &span.status {
            Status::Error { description } => Some(error_text(
                attrs.str(gen_ai::ERROR_TYPE),
                description.as_ref(),
            )),
            _ => None,
        };
        let evaluator = attrs.int(lt::EVALUATOR_INPUT_TOKENS).is_some()
            || attrs.int(lt::EVALUATOR_OUTPUT_TOKENS).is_some()
            || attrs.float(lt::EVALUATOR_COST_USD).is_some();
        let aggregate = attrs.int(lt::AGENT_INFERENCE_CALLS).is_some() || evaluator;
        Summary {
            span_id: span.span_context.span_id(),
            parent_id: span.parent_span_id,
            name: span.name.clone().into_owned(),
            workflow: attrs.str(gen_ai::WORKFLOW_NAME).map(str::to_owned),
            start: span.start_time,
            end: span.end_time,
            usage: UsageCost {
                input_tokens: attrs
                    .int(gen_ai::USAGE_INPUT_TOKENS)
                    .or_else(|| attrs.int(lt::EVALUATOR_INPUT_TOKENS)),
                output_tokens: attrs
                    .int(gen_ai::USAGE_OUTPUT_TOKENS)
                    .or_else(|| attrs.int(lt::EVALUATOR_OUTPUT_TOKENS)),
                cost_usd: attrs
                    .float(oi::LLM_COST_TOTAL)
                    .or_else(|| attrs.float(lt::AGENT_COST_USD))
                    .or_else(|| attrs.float(lt::EVALUATOR_COST_USD)),
            },
            rollup: UsageCost {
                input_tokens: attrs.int(lt::TRACE_INPUT_TOKENS),
                output_tokens: attrs.int(lt::TRACE_OUTPUT_TOKENS),
                cost_usd: attrs.float(lt::TRACE_COST_USD),
            },
            rollup_unpriced: attrs.int(lt::TRACE_UNPRICED_CALLS).is_some_and(|n| n > 0),
            docs: attrs
                .int(lt::RETRIEVAL_DOCUMENT_COUNT)
                .and_then(|n| u64::try_from(n).ok()),
            ttft: attrs
                .float(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK)
                .and_then(|s| Duration::try_from_secs_f64(s).ok()),
            error,
            cancelled: attrs.bool(lt::CANCELLED).unwrap_or(false),
            usage_missing: attrs.bool(lt::USAGE_MISSING).unwrap_or(false),
            // A roll-up that counted unpriced calls makes the root's cost a lower bound too.
            unpriced: attrs.bool(lt::COST_UNPRICED).unwrap_or(false),
            foreign_parent: span.parent_span_id != SpanId::INVALID
                && (span.parent_span_is_remote || attrs.bool(lt::PARENT_EXTERNAL) == Some(true)),
            aggregate,
            evaluator,
            evaluation: attrs.bool(lt::EVALUATION).unwrap_or(false),
            agent_counts: (aggregate && !evaluator).then(|| AgentCounts {
                inference_calls: attrs.int(lt::AGENT_INFERENCE_CALLS).unwrap_or(0),
                tool_calls: attrs.int(lt::AGENT_TOOL_CALLS).unwrap_or(0),
                steps: attrs.int(lt::AGENT_STEPS).unwrap_or(0),
            }),
            guardrail: attrs
                .bool(lt::GUARDRAIL_PASSED)
                .map(|passed| (passed, attrs.str(lt::GUARDRAIL_REASON).map(str::to_owned))),
            attempt: attrs.int(lt::RETRY_ATTEMPT),
            reranked: {
                let count = |key| attrs.int(key).and_then(|n| u64::try_from(n).ok());
                let given = count(lt::RERANK_INPUT_DOCUMENT_COUNT);
                let kept = count(lt::RERANK_OUTPUT_DOCUMENT_COUNT);
                (given.is_some() || kept.is_some()).then_some((given, kept))
            },
            links: span
                .links
                .iter()
                .map(|l| SpanLink {
                    trace_id: l.span_context.trace_id(),
                    span_id: l.span_context.span_id(),
                    retry_of: l.attributes.iter().any(|kv| {
                        kv.key.as_str() == link::TYPE && kv.value.as_str() == link::RETRY_OF
                    }),
                })
                .collect(),
        }
    }

    /// Zero when the span claims to end before it starts.
    pub(super) fn duration(&self) -> Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }

    /// What a root is called: its workflow's name, else the span's.
    pub(super) fn root_label(&self) -> &str {
        self.workflow.as_deref().unwrap_or(&self.name)
    }

    fn sort_key(&self) -> (SystemTime, SystemTime, u64) {
        (
            self.start,
            self.end,
            u64::from_be_bytes(self.span_id.to_bytes()),
        )
    }
}

/// Whether a span starts a tree: it has no parent, its parent is in another process, or its
/// parent is a span of another tracing system in this one (`llmtrace.parent.external`: an HTTP
/// server's request span, which never reaches llmtrace's exporters).
pub(super) fn is_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID
        || span.parent_span_is_remote
        || span
            .attributes
            .iter()
            .any(|kv| kv.key.as_str() == lt::PARENT_EXTERNAL && kv.value == Value::Bool(true))
}

/// `Type: description`, or whichever of the two there is.
fn error_text(error_type: Option<&str>, description: &str) -> String {
    let error_type = error_type.map(str::trim).filter(|t| !t.is_empty());
    let description = description.trim();
    match (error_type, description.is_empty()) {
        (Some(t), false) => format!("{t}: {description}"),
        (Some(t), true) => t.to_owned(),
        (None, false) => description.to_owned(),
        (None, true) => "error".to_owned(),
    }
}

/// Attribute lookup that accepts the value types an exporter may meet for a key (integers as
/// floats or strings, ...), since spans can come from other instrumentation too.
struct Attrs<'a>(&'a [opentelemetry::KeyValue]);

impl<'a> Attrs<'a> {
    fn get(&self, key: &str) -> Option<&'a Value> {
        // The last value set wins, as when a span's attribute is set twice.
        self.0
            .iter()
            .rev()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| &kv.value)
    }

    fn str(&self, key: &str) -> Option<&'a str> {
        match self.get(key)? {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    fn int(&self, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::I64(v) => Some(*v),
            // `as` saturates, which is the most useful reading of an absurd float.
            Value::F64(v) if v.is_finite() => Some(v.round() as i64),
            Value::String(s) => s.as_str().trim().parse().ok(),
            _ => None,
        }
    }

    fn float(&self, key: &str) -> Option<f64> {
        let v = match self.get(key)? {
            Value::F64(v) => *v,
            Value::I64(v) => *v as f64,
            Value::String(s) => s.as_str().trim().parse().ok()?,
            _ => return None,
        };
        v.is_finite().then_some(v)
    }

    fn bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(v) => Some(*v),
            Value::String(s) => s.as_str().trim().parse().ok(),
            _ => None,
        }
    }
}

/// Arranges spans into trees, one per root, in the order the trees started.
///
/// Spans are grouped by trace id. A root is a span with no parent or with a remote parent
/// (one in another process); each root gets the spans below it. Spans whose parent is not
/// among `spans` hang under the trace's earliest root as orphans
/// ([`Node::is_orphan`]); a trace with no root at all gives an incomplete tree
/// ([`Tree::root`] is `None`) whose first level is the spans whose parent was not seen.
/// Siblings are in start order. Spans that ended after their root are kept in place and
/// marked ([`Node::is_late`]). Parent cycles are cut at their earliest span, so every span
/// appears exactly once.
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use llmtrace::export::tree;
/// use llmtrace::testing::Capture;
///
/// #[llmtrace::workflow(name = "support_answer")]
/// fn answer(question: &str) -> Result<String, String> {
///     let docs = search(question)?;
///     Ok(docs.join(" "))
/// }
///
/// #[llmtrace::retrieval(data_source = "help_center")]
/// fn search(query: &str) -> Result<Vec<String>, String> {
///     Ok(vec![format!("Refunds take 5 days ({query})")])
/// }
///
/// let capture = Capture::new();
/// capture.in_scope(|| answer("refund?")).unwrap();
/// let spans = capture.spans();
///
/// let trees = tree::build(spans.iter());
/// assert_eq!(trees.len(), 1);
/// let root = trees[0].root().expect("the root was captured");
/// assert_eq!(root.workflow_name(), Some("support_answer"));
/// let search = root.children().next().unwrap();
/// assert_eq!(search.name(), "retrieval help_center");
/// assert_eq!(search.document_count(), Some(1));
/// ```
pub fn build<'a>(spans: impl IntoIterator<Item = &'a SpanData>) -> Vec<Tree> {
    // Traces in the order they first appear, spans in input order (which decides between two
    // spans that share an id).
    let mut order: HashMap<TraceId, usize> = HashMap::new();
    let mut traces: Vec<(TraceId, Vec<Summary>, Vec<Summary>)> = Vec::new();
    for span in spans {
        let trace_id = span.span_context.trace_id();
        let i = *order.entry(trace_id).or_insert_with(|| {
            traces.push((trace_id, Vec::new(), Vec::new()));
            traces.len() - 1
        });
        let (_, roots, others) = &mut traces[i];
        if is_root(span) {
            roots.push(Summary::from_span(span));
        } else {
            others.push(Summary::from_span(span));
        }
    }
    let mut trees = Vec::new();
    for (trace_id, mut roots, others) in traces {
        roots.sort_by_key(Summary::sort_key);
        if roots.len() < 2 {
            trees.push(Tree::new(trace_id, roots.pop(), others));
            continue;
        }
        let owner = owning_roots(&roots, &others);
        let mut groups: Vec<Vec<Summary>> = vec![Vec::new(); roots.len()];
        for (span, r) in others.into_iter().zip(owner) {
            groups[r].push(span);
        }
        for (root, spans) in roots.into_iter().zip(groups) {
            trees.push(Tree::new(trace_id, Some(root), spans));
        }
    }
    trees.sort_by_key(|t| (t.started(), t.trace_id.to_bytes()));
    trees
}

/// For each of `spans`, the index of the root above it in `roots` (sorted, earliest first); the
/// earliest root for spans that reach none.
fn owning_roots(roots: &[Summary], spans: &[Summary]) -> Vec<usize> {
    // Reversed so that the first of two spans sharing an id wins, as in `Tree::new`.
    let root_by_id: HashMap<SpanId, usize> = roots
        .iter()
        .enumerate()
        .rev()
        .map(|(i, r)| (r.span_id, i))
        .collect();
    let index: HashMap<SpanId, usize> = spans
        .iter()
        .enumerate()
        .rev()
        .map(|(i, s)| (s.span_id, i))
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; spans.len()];
    let mut on_path = vec![false; spans.len()];
    let mut path = Vec::new();
    for start in 0..spans.len() {
        let mut at = start;
        // Up the parents until a root, a span already placed, a parent not seen or a cycle.
        let found = loop {
            if let Some(r) = owner[at] {
                break r;
            }
            if std::mem::replace(&mut on_path[at], true) {
                break 0;
            }
            path.push(at);
            let parent = spans[at].parent_id;
            if let Some(&r) = root_by_id.get(&parent) {
                break r;
            }
            match index.get(&parent) {
                Some(&p) => at = p,
                None => break 0,
            }
        };
        for i in path.drain(..) {
            owner[i] = Some(found);
        }
    }
    owner.into_iter().map(Option::unwrap_or_default).collect()
}

/// One trace's spans (or one root's, when a trace has several) arranged under their parents.
///
/// Built by [`build`]. Walk it from [`root`](Self::root) (or [`top_level`](Self::top_level)
/// for an incomplete tree) through [`Node::children`]. Its [`Display`](std::fmt::Display) is
/// the console exporter's text; see [`TreeText`](crate::export::tree::TreeText) to add notes to the first
/// line.
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use llmtrace::export::tree;
/// use llmtrace::testing::Capture;
///
/// #[llmtrace::workflow(name = "agent")]
/// fn agent() {
///     let _ = search();
///     let _ = search();
/// }
///
/// #[llmtrace::retrieval(data_source = "wiki")]
/// fn search() -> Result<Vec<String>, String> {
///     Ok(vec!["Orders ship in 2 days.".into()])
/// }
///
/// let capture = Capture::new();
/// capture.in_scope(agent);
/// let spans = capture.spans();
///
/// let trees = tree::build(spans.iter());
/// let trace = &trees[0];
/// assert_eq!(trace.len(), 3);
/// assert_eq!(trace.root().unwrap().children().len(), 2);
///
/// // Without the root, the same spans make an incomplete tree.
/// let children = spans.iter().filter(|s| s.name == "retrieval wiki");
/// let trees = tree::build(children);
/// let incomplete = &trees[0];
/// assert!(incomplete.root().is_none());
/// assert_eq!(incomplete.top_level().len(), 2);
/// assert_eq!(incomplete.trace_id(), trace.trace_id());
/// assert!(incomplete.to_string().starts_with("(incomplete: root not seen)"));
/// ```
#[derive(Debug)]
pub struct Tree {
    trace_id: TraceId,
    nodes: Vec<Summary>,
    root: Option<usize>,
    /// The nodes under the first line: the root's children, or for an incomplete trace every
    /// span whose parent was not seen. Each list is in start order.
    top: Vec<usize>,
    children: Vec<Vec<usize>>,
    /// Hung under the root because their parent was not seen.
    orphan: Vec<bool>,
    slowest: Vec<bool>,
}

impl Tree {
    /// Arranges `spans` under `root`, or, without one, as an incomplete tree.
    pub(super) fn new(trace_id: TraceId, root: Option<Summary>, spans: Vec<Summary>) -> Tree {
        let mut nodes = Vec::with_capacity(spans.len() + 1);
        let root = root.map(|r| {
            nodes.push(r);
            0
        });
        nodes.extend(spans);
        let n = nodes.len();
        // Reversed so that the first of two spans sharing an id is the parent.
        let index: HashMap<SpanId, usize> = nodes
            .iter()
            .enumerate()
            .rev()
            .map(|(i, node)| (node.span_id, i))
            .collect();
        let mut parent = vec![None; n];
        let mut loose = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            if Some(i) == root {
                continue;
            }
            match index.get(&node.parent_id) {
                Some(&p) if p != i => parent[i] = Some(p),
                _ => loose.push(i),
            }
        }
        let mut children = vec![Vec::new(); n];
        for (i, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                children[*p].push(i);
            }
        }
        let mut by_start: Vec<usize> = (0..n).collect();
        by_start.sort_by_key(|&i| nodes[i].sort_key());
        // Spans whose parents form a cycle hang from nothing: cut each cycle at its earliest
        // span so that every span is printed exactly once.
        let mut seen = vec![false; n];
        for &i in root.iter().chain(&loose) {
            mark_reachable(i, &children, &mut seen);
        }
        for &i in &by_start {
            if !seen[i] {
                if let Some(p) = parent[i].take() {
                    children[p].retain(|&c| c != i);
                }
                loose.push(i);
                mark_reachable(i, &children, &mut seen);
            }
        }
        let mut top = loose.clone();
        if let Some(r) = root {
            top.append(&mut children[r]);
        }
        let rank = {
            let mut rank = vec![0; n];
            for (pos, &i) in by_start.iter().enumerate() {
                rank[i] = pos;
            }
            rank
        };
        top.sort_by_key(|&i| rank[i]);
        for list in &mut children {
            list.sort_by_key(|&i| rank[i]);
        }
        let mut orphan = vec![false; n];
        if root.is_some() {
            for &i in &loose {
                orphan[i] = true;
            }
        }
        let mut slowest = vec![false; n];
        for list in children.iter().chain([&top]) {
            if let Some(i) = slowest_of(list, &nodes) {
                slowest[i] = true;
            }
        }
        Tree {
            trace_id,
            nodes,
            root,
            top,
            children,
            orphan,
            slowest,
        }
    }

    /// The trace this tree belongs to.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The root span, or `None` for an incomplete tree (the root was not among the spans).
    pub fn root(&self) -> Option<Node<'_>> {
        self.root.map(|index| self.node(index))
    }

    /// The spans on the first level below the tree's first line: the root's children (orphans
    /// included) or, for an incomplete tree, the spans whose parent was not seen. In start
    /// order.
    pub fn top_level(&self) -> impl ExactSizeIterator<Item = Node<'_>> + DoubleEndedIterator {
        self.nodes_at(&self.top)
    }

    /// How many spans the tree holds, the root included.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the tree holds no span at all.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The trace's token usage and cost: the roll-up totals the root carries
    /// (`llmtrace.trace.*`, which count spans this tree may not hold) where it has them, else
    /// the sum over the tree's spans.
    pub fn totals(&self) -> UsageCost {
        // An agent's usage is its calls' summed: counted with the calls, not again. An
        // evaluator's judges judge the trace: not part of what it cost.
        let summed = self
            .nodes
            .iter()
            .filter(|n| !n.aggregate && !n.evaluation)
            .map(|n| n.usage)
            .sum();
        match self.root {
            Some(r) => self.nodes[r].rollup.or(summed),
            None => summed,
        }
    }

    /// Whether [`totals`](Self::totals) are a lower bound: a call reported no usage
    /// (`llmtrace.usage.missing`) or had no price (`llmtrace.cost.unpriced`), or the root's
    /// roll-up counted unpriced calls (`llmtrace.trace.unpriced_calls`).
    pub fn totals_are_lower_bound(&self) -> bool {
        self.nodes
            .iter()
            .any(|n| n.usage_missing || n.unpriced || n.rollup_unpriced)
    }

    /// When the tree's first span started: the root's start, else the earliest span's.
    fn started(&self) -> Option<SystemTime> {
        match self.root {
            Some(r) => Some(self.nodes[r].start),
            None => self.nodes.iter().map(|n| n.start).min(),
        }
    }

    fn node(&self, index: usize) -> Node<'_> {
        Node { tree: self, index }
    }

    fn nodes_at<'a>(
        &'a self,
        list: &'a [usize],
    ) -> impl ExactSizeIterator<Item = Node<'a>> + DoubleEndedIterator {
        list.iter().map(move |&index| self.node(index))
    }
}

fn mark_reachable(from: usize, children: &[Vec<usize>], seen: &mut [bool]) {
    let mut stack = vec![from];
    while let Some(i) = stack.pop() {
        if !std::mem::replace(&mut seen[i], true) {
            stack.extend(&children[i]);
        }
    }
}

/// The longest of two or more siblings, unless they all took as long (nothing stands out).
fn slowest_of(siblings: &[usize], nodes: &[Summary]) -> Option<usize> {
    if siblings.len() < 2 {
        return None;
    }
    let longest = siblings.iter().copied().reduce(|a, b| {
        if nodes[b].duration() > nodes[a].duration() {
            b
        } else {
            a
        }
    })?;
    let shortest = siblings.iter().map(|&i| nodes[i].duration()).min()?;
    (nodes[longest].duration() > shortest).then_some(longest)
}

/// One span in a [`Tree`]: what the console shows of it, and its place in the tree.
///
/// A small copyable handle; it borrows the tree.
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use llmtrace::export::tree;
/// use llmtrace::testing::Capture;
///
/// #[llmtrace::workflow(name = "agent")]
/// fn agent() {
///     let _ = chat();
///     let _ = lookup_order();
/// }
///
/// #[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
/// fn chat() -> Result<String, String> {
///     llmtrace::current().record_usage(llmtrace::Usage::new(412, 38));
///     Ok("Refunds take 5 days.".into())
/// }
///
/// #[llmtrace::tool(name = "lookup_order")]
/// fn lookup_order() -> Result<u32, String> {
///     Err("no order B-7".into())
/// }
///
/// let capture = Capture::new();
/// capture.in_scope(agent);
/// let trees = tree::build(capture.spans().iter());
/// let root = trees[0].root().unwrap();
/// let [chat, tool] = [0, 1].map(|i| root.children().nth(i).unwrap());
/// assert_eq!(chat.name(), "chat gpt-4o");
/// assert_eq!(chat.usage().input_tokens, Some(412));
/// assert_eq!(tool.error(), Some("String: no order B-7"));
/// assert!(chat.start_time() <= tool.start_time());
/// assert!(root.duration() >= chat.duration());
/// ```
#[derive(Clone, Copy)]
pub struct Node<'a> {
    tree: &'a Tree,
    index: usize,
}

impl fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The span alone: the tree it borrows would print every other span too.
        f.debug_struct("Node")
            .field("span", self.summary())
            .finish_non_exhaustive()
    }
}

impl<'a> Node<'a> {
    pub(super) fn summary(self) -> &'a Summary {
        &self.tree.nodes[self.index]
    }

    /// The span's id.
    pub fn span_id(self) -> SpanId {
        self.summary().span_id
    }

    /// The id of the span's parent: [`SpanId::INVALID`] for a root without one, and for a
    /// root with a remote parent, that parent's id.
    pub fn parent_span_id(self) -> SpanId {
        self.summary().parent_id
    }

    /// The span's name: `chat gpt-4o`, `execute_tool lookup_order`, ...
    pub fn name(self) -> &'a str {
        &self.summary().name
    }

    /// `gen_ai.workflow.name`, which names the trace on a root's line.
    pub fn workflow_name(self) -> Option<&'a str> {
        self.summary().workflow.as_deref()
    }

    /// When the span started.
    pub fn start_time(self) -> SystemTime {
        self.summary().start
    }

    /// When the span ended.
    pub fn end_time(self) -> SystemTime {
        self.summary().end
    }

    /// How long the span took; zero when it claims to end before it starts.
    pub fn duration(self) -> Duration {
        self.summary().duration()
    }

    /// For a span whose status is error, `error.type` and the status description as
    /// `Type: description` (either alone when the other is empty, `error` when both are).
    pub fn error(self) -> Option<&'a str> {
        self.summary().error.as_deref()
    }

    /// Whether the call reported no token usage (`llmtrace.usage.missing`).
    pub fn is_usage_missing(self) -> bool {
        self.summary().usage_missing
    }

    /// Whether no price was known for the call's model (`llmtrace.cost.unpriced`).
    pub fn is_unpriced(self) -> bool {
        self.summary().unpriced
    }

    /// Whether the span's parent is not llmtrace's: in another process (W3C `traceparent`),
    /// or a span of another tracing system in this one (an HTTP server's request span).
    pub fn has_foreign_parent(self) -> bool {
        self.summary().foreign_parent
    }

    /// Whether the span was cancelled (`llmtrace.cancelled`): its future was dropped before
    /// it finished.
    pub fn is_cancelled(self) -> bool {
        self.summary().cancelled
    }

    /// The span's own token usage and cost; for an agent, its own calls' summed (see
    /// [`agent_counts`](Self::agent_counts)), which [`Tree::totals`] does not count again.
    pub fn usage(self) -> UsageCost {
        self.summary().usage
    }

    /// For an agent, how many model calls, tool calls and steps were its own (not its
    /// sub-agents').
    pub fn agent_counts(self) -> Option<AgentCounts> {
        self.summary().agent_counts
    }

    /// For a guardrail, whether it passed (`llmtrace.guardrail.passed`), with its reason.
    pub fn guardrail(self) -> Option<(bool, Option<&'a str>)> {
        let (passed, reason) = self.summary().guardrail.as_ref()?;
        Some((*passed, reason.as_deref()))
    }

    /// For a retry, its attempt number (`llmtrace.retry.attempt`).
    pub fn retry_attempt(self) -> Option<i64> {
        self.summary().attempt
    }

    /// The spans this one links to, in this trace or others.
    pub fn links(self) -> &'a [SpanLink] {
        &self.summary().links
    }

    /// The trace totals the span carries (`llmtrace.trace.*`, set on roots); see
    /// [`Tree::totals`] for the trace's totals whether or not the root has them.
    pub fn trace_totals(self) -> UsageCost {
        self.summary().rollup
    }

    /// How many documents a retrieval returned (`llmtrace.retrieval.documents.count`).
    pub fn document_count(self) -> Option<u64> {
        self.summary().docs
    }

    /// Time to the first chunk of a streamed response
    /// (`gen_ai.response.time_to_first_chunk`).
    pub fn time_to_first_chunk(self) -> Option<Duration> {
        self.summary().ttft
    }

    /// The spans directly below this one, in start order. A root's children include the
    /// orphans hung under it.
    pub fn children(self) -> impl ExactSizeIterator<Item = Node<'a>> + DoubleEndedIterator {
        let tree = self.tree;
        let list = if Some(self.index) == tree.root {
            &tree.top
        } else {
            &tree.children[self.index]
        };
        tree.nodes_at(list)
    }

    /// The child that took longest, when there are two or more children and they did not all
    /// take as long.
    pub fn slowest_child(self) -> Option<Node<'a>> {
        self.children().find(|c| c.is_slowest())
    }

    /// Whether this span is the slowest of its siblings (see [`slowest_child`](Self::slowest_child)).
    pub fn is_slowest(self) -> bool {
        self.tree.slowest[self.index]
    }

    /// Whether this span is the tree's root.
    pub fn is_root(self) -> bool {
        Some(self.index) == self.tree.root
    }

    /// Whether this span hangs under the root only because its parent was not seen.
    pub fn is_orphan(self) -> bool {
        self.tree.orphan[self.index]
    }

    /// Whether this span ended after its tree's root did (a stream that outlived its handler,
    /// a task that was not awaited). The root's roll-up totals do not count it.
    pub fn is_late(self) -> bool {
        self.tree
            .root
            .is_some_and(|r| r != self.index && self.summary().end > self.tree.nodes[r].end)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_spans::{Build, OTHER_TRACE, TRACE, span};
    use super::*;

    fn names<'a>(nodes: impl Iterator<Item = Node<'a>>) -> Vec<&'a str> {
        nodes.map(Node::name).collect()
    }

    /// Each span as `depth name`, depth first.
    fn outline(tree: &Tree) -> Vec<String> {
        fn walk(node: Node<'_>, depth: usize, out: &mut Vec<String>) {
            out.push(format!("{depth} {}", node.name()));
            for c in node.children() {
                walk(c, depth + 1, out);
            }
        }
        let mut out = Vec::new();
        match tree.root() {
            Some(root) => walk(root, 0, &mut out),
            None => tree.top_level().for_each(|n| walk(n, 1, &mut out)),
        }
        out
    }

    #[test]
    fn spans_nest_under_their_parents_in_start_order() {
        let spans = [
            span(TRACE, 4, 2, "embed", 30, 40),
            span(TRACE, 3, 1, "chat", 50, 90),
            span(TRACE, 2, 1, "retrieval", 10, 45),
            span(TRACE, 1, 0, "invoke_workflow answer", 0, 100).workflow("answer"),
            span(TRACE, 5, 2, "rerank", 20, 30),
        ];
        let trees = build(&spans);
        assert_eq!(trees.len(), 1);
        let tree = &trees[0];
        assert_eq!(tree.trace_id(), TraceId::from(TRACE));
        assert_eq!(tree.len(), 5);
        assert_eq!(
            outline(tree),
            [
                "0 invoke_workflow answer",
                "1 retrieval",
                "2 rerank",
                "2 embed",
                "1 chat"
            ]
        );
        let root = tree.root().unwrap();
        assert!(root.is_root());
        assert_eq!(root.workflow_name(), Some("answer"));
        assert_eq!(root.duration(), Duration::from_millis(100));
        assert_eq!(root.parent_span_id(), SpanId::INVALID);
        assert_eq!(names(tree.top_level()), ["retrieval", "chat"]);
        assert!(tree.top_level().all(|n| !n.is_orphan() && !n.is_late()));
    }

    #[test]
    fn slowest_child_only_when_one_stands_out() {
        let spans = [
            span(TRACE, 1, 0, "root", 0, 100),
            span(TRACE, 2, 1, "fast", 0, 10),
            span(TRACE, 3, 1, "slow", 10, 90),
            span(TRACE, 4, 3, "a", 10, 20),
            span(TRACE, 5, 3, "b", 20, 30),
            span(TRACE, 6, 2, "only child", 0, 5),
        ];
        let trees = build(&spans);
        let root = trees[0].root().unwrap();
        let slow = root.slowest_child().unwrap();
        assert_eq!(slow.name(), "slow");
        assert!(slow.is_slowest());
        // Equally long siblings, and a single child: nothing stands out.
        assert!(slow.slowest_child().is_none());
        let fast = root.children().next().unwrap();
        assert!(!fast.is_slowest());
        assert!(fast.slowest_child().is_none());
        assert!(!root.is_slowest());
    }

    #[test]
    fn spans_whose_parent_is_missing_are_orphans_under_the_root() {
        let spans = [
            span(TRACE, 1, 0, "root", 0, 100),
            span(TRACE, 2, 99, "lost", 10, 20),
            span(TRACE, 3, 1, "found", 5, 30),
            span(TRACE, 4, 4, "own parent", 40, 50),
        ];
        let trees = build(&spans);
        let tree = &trees[0];
        let top: Vec<_> = tree
            .top_level()
            .map(|n| (n.name(), n.is_orphan()))
            .collect();
        assert_eq!(
            top,
            [("found", false), ("lost", true), ("own parent", true)]
        );
    }

    #[test]
    fn a_trace_without_its_root_is_incomplete() {
        let spans = [
            span(TRACE, 3, 2, "tool", 20, 30),
            span(TRACE, 2, 1, "chat", 10, 50),
            span(TRACE, 4, 1, "chat again", 60, 70),
            // A cycle: cut at its earliest span, which goes to the first level.
            span(TRACE, 6, 5, "cycle b", 81, 90),
            span(TRACE, 5, 6, "cycle a", 80, 90),
        ];
        let trees = build(&spans);
        assert_eq!(trees.len(), 1);
        let tree = &trees[0];
        assert!(tree.root().is_none());
        assert_eq!(
            outline(tree),
            ["1 chat", "2 tool", "1 chat again", "1 cycle a", "2 cycle b"]
        );
        // Without a root nothing is an orphan or late: there is nothing to be either against.
        assert!(tree.top_level().all(|n| !n.is_orphan() && !n.is_late()));
        assert_eq!(
            tree.top_level().find(|n| n.is_slowest()).map(Node::name),
            Some("chat")
        );
    }

    #[test]
    fn late_children_stay_in_place_and_are_marked() {
        let spans = [
            span(TRACE, 1, 0, "handler", 0, 100),
            span(TRACE, 2, 1, "stream", 10, 250),
            span(TRACE, 3, 1, "in time", 20, 90),
        ];
        let trees = build(&spans);
        let root = trees[0].root().unwrap();
        let late: Vec<_> = root.children().map(|n| (n.name(), n.is_late())).collect();
        assert_eq!(late, [("stream", true), ("in time", false)]);
        assert!(!root.is_late());
    }

    #[test]
    fn traces_and_roots_each_get_a_tree_in_start_order() {
        let mut remote = span(TRACE, 10, 77, "POST /answer", 500, 900);
        remote.parent_span_is_remote = true;
        let spans = [
            span(OTHER_TRACE, 2, 1, "other chat", 0, 10),
            span(TRACE, 11, 10, "server chat", 600, 800),
            span(TRACE, 2, 1, "client chat", 100, 200),
            span(TRACE, 3, 2, "client tool", 120, 130),
            remote,
            span(TRACE, 1, 0, "client", 50, 1000),
            span(TRACE, 4, 42, "lost", 300, 310),
        ];
        let trees = build(&spans);
        let outlines: Vec<_> = trees.iter().map(outline).collect();
        assert_eq!(
            outlines,
            [
                vec!["1 other chat"],
                vec!["0 client", "1 client chat", "2 client tool", "1 lost"],
                vec!["0 POST /answer", "1 server chat"],
            ]
        );
        assert_eq!(trees[0].trace_id(), TraceId::from(OTHER_TRACE));
        let lost = trees[1].top_level().last().unwrap();
        assert!(
            lost.is_orphan(),
            "spans reaching no root go to the earliest"
        );
        assert_eq!(trees[2].root().unwrap().parent_span_id(), SpanId::from(77));
    }

    #[test]
    fn totals_from_the_roll_up_or_summed() {
        let summed = [
            span(TRACE, 1, 0, "root", 0, 100).usage(5, 5),
            span(TRACE, 2, 1, "chat", 0, 10).usage(100, 20).cost(0.01),
            span(TRACE, 3, 1, "embed", 10, 20).attr(gen_ai::USAGE_INPUT_TOKENS, 7),
        ];
        let tree = &build(&summed)[0];
        assert_eq!(
            tree.totals(),
            UsageCost {
                input_tokens: Some(112),
                output_tokens: Some(25),
                cost_usd: Some(0.01)
            }
        );
        // The roll-up wins part by part; a part it lacks is summed.
        let rolled_up = [
            span(TRACE, 1, 0, "root", 0, 100)
                .attr(lt::TRACE_INPUT_TOKENS, 25_000)
                .attr(lt::TRACE_COST_USD, 0.375),
            span(TRACE, 2, 1, "chat", 0, 10).usage(100, 20).cost(0.01),
        ];
        let tree = &build(&rolled_up)[0];
        let root = tree.root().unwrap();
        assert_eq!(root.trace_totals().input_tokens, Some(25_000));
        assert_eq!(root.usage(), UsageCost::default());
        assert_eq!(
            tree.totals(),
            UsageCost {
                input_tokens: Some(25_000),
                output_tokens: Some(20),
                cost_usd: Some(0.375)
            }
        );
        // An incomplete tree sums what it holds.
        let tree = &build(&rolled_up[1..])[0];
        assert_eq!(tree.totals().input_tokens, Some(100));
    }

    #[test]
    fn span_details_read_from_attributes() {
        let spans = [
            span(TRACE, 1, 0, "root", 0, 100),
            span(TRACE, 2, 1, "retrieval docs", 0, 10).attr(lt::RETRIEVAL_DOCUMENT_COUNT, 5),
            span(TRACE, 3, 1, "chat", 10, 30)
                .attr(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK, 0.25)
                .attr(lt::CANCELLED, true),
            span(TRACE, 4, 1, "tool", 30, 40).failed("Timeout", " after 5s\n"),
            span(TRACE, 5, 1, "odd", 40, 50)
                .attr(lt::RETRIEVAL_DOCUMENT_COUNT, -3)
                .attr(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK, -1.0),
        ];
        let trees = build(&spans);
        let [docs, chat, tool, odd] = [0, 1, 2, 3].map(|i| trees[0].top_level().nth(i).unwrap());
        assert_eq!(docs.document_count(), Some(5));
        assert_eq!(chat.time_to_first_chunk(), Some(Duration::from_millis(250)));
        assert!(chat.is_cancelled() && chat.error().is_none());
        assert_eq!(tool.error(), Some("Timeout: after 5s"));
        assert_eq!(odd.document_count(), None);
        assert_eq!(odd.time_to_first_chunk(), None);
    }

    #[test]
    fn error_text_from_type_and_description() {
        assert_eq!(error_text(Some("Io"), "disk full"), "Io: disk full");
        assert_eq!(error_text(Some("Io"), ""), "Io");
        assert_eq!(error_text(Some(" "), "disk full"), "disk full");
        assert_eq!(error_text(None, ""), "error");
    }

    #[test]
    fn usage_adds_what_either_side_knows() {
        let a = UsageCost {
            input_tokens: Some(i64::MAX),
            output_tokens: None,
            cost_usd: Some(0.5),
        };
        let b = UsageCost {
            input_tokens: Some(1),
            output_tokens: Some(2),
            cost_usd: None,
        };
        assert_eq!(
            [a, b].into_iter().sum::<UsageCost>(),
            UsageCost {
                input_tokens: Some(i64::MAX),
                output_tokens: Some(2),
                cost_usd: Some(0.5)
            }
        );
        assert_eq!(
            UsageCost::default() + UsageCost::default(),
            UsageCost::default()
        );
    }
}
