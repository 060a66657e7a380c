//! Console exporter: one indented tree per finished trace, for a developer watching their app
//! run.
//!
//! Spans reach an exporter one at a time as they end: children before their parents, and one
//! trace often split over several batches. So the exporter keeps each trace's spans until its
//! root ends, then prints the whole tree at once:
//!
//! ```text
//! support_answer                2.41s  3,650 in / 520 out tokens  $0.015  trace 4bf92f3577b34da6
//! ├─ retrieval help_center      120ms                                     (5 docs)
//! ├─ chat gpt-4o                890ms  3,200 in / 450 out tokens  $0.012  ttft 320ms  ◀ slowest
//! ├─ execute_tool lookup_order   15ms                                     ✗ OrderNotFound: no order B-7
//! └─ chat gpt-4o                610ms    450 in /  70 out tokens  $0.003
//! ```
//!
//! Only what is printed is kept (labels, times, usage, errors), never prompts or responses, and
//! every store is bounded: traces whose root never comes are printed as incomplete trees when
//! they get too old, too many, or at shutdown; spans that end after their root was printed get
//! one "late" line each.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::io::{self, Write};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use opentelemetry::Value;
use opentelemetry::trace::{SpanId, Status, TraceId};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use crate::semconv::keys::{gen_ai, llmtrace as lt, openinference as oi};

/// Labels and error messages longer than this are cut, so one odd span cannot widen every line.
const MAX_LABEL_CHARS: usize = 60;
const MAX_ERROR_CHARS: usize = 120;
const INCOMPLETE_LABEL: &str = "(incomplete: root not seen)";

/// Bounds on what the exporter keeps between batches.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// Traces waiting for their root; beyond it the oldest is printed incomplete.
    pending_traces: usize,
    /// Spans kept per waiting trace; beyond it spans are counted, not kept.
    spans_per_trace: usize,
    /// How long a trace waits for its root, by the exporter's clock.
    pending_age: Duration,
    /// Printed traces remembered, to recognise their late spans.
    printed_traces: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            pending_traces: 1024,
            spans_per_trace: 1024,
            pending_age: Duration::from_secs(60),
            printed_traces: 1024,
        }
    }
}

type Clock = Box<dyn Fn() -> SystemTime + Send + Sync>;

/// Prints each finished trace as an indented tree: one line per span with its duration, token
/// usage, cost, retrieved documents, time to first chunk, and errors or cancellation; totals
/// and the trace id on the root's line; the slowest child of each span marked.
///
/// Writes to stderr unless built [`with_writer`](Self::with_writer). Spans are buffered per
/// trace until the root span ends; the buffer is bounded: a trace whose root never comes is
/// printed as an incomplete tree when it gets too old, when too many are pending, or at
/// shutdown. The output holds no wall-clock time, only durations, so it is reproducible from
/// the spans alone.
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// let _guard = llmtrace::init()
///     .with_exporter(llmtrace::export::ConsoleExporter::new())
///     .install();
/// ```
pub struct ConsoleExporter {
    state: Mutex<State>,
    clock: Clock,
    limits: Limits,
}

impl fmt::Debug for ConsoleExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ConsoleExporter");
        // `try_lock`: formatting must not wait for (or deadlock with) an export in progress.
        if let Ok(state) = self.state.try_lock() {
            d.field("pending_traces", &state.pending.len());
        }
        d.field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Default for ConsoleExporter {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsoleExporter {
    /// A console exporter writing to stderr, timing pending traces by the system clock.
    pub fn new() -> Self {
        Self::with_writer(io::stderr())
    }

    /// A console exporter writing to `writer` (a file, a buffer in a test, ...). Write errors
    /// are ignored: the console is not worth failing an export for.
    pub fn with_writer(writer: impl Write + Send + 'static) -> Self {
        ConsoleExporter {
            state: Mutex::new(State {
                out: Box::new(writer),
                pending: HashMap::new(),
                arrival: BTreeMap::new(),
                next_seq: 0,
                printed: Printed::default(),
                shut_down: false,
            }),
            clock: Box::new(SystemTime::now),
            limits: Limits::default(),
        }
    }

    /// Replaces the clock that decides when a trace has waited too long for its root (60 s).
    /// The clock never appears in the output.
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while printing leaves the state consistent enough to keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn export_now(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let now = (self.clock)();
        let mut state = self.lock();
        if state.shut_down {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        let mut text = String::new();
        // Children first: a root and its children often share a batch, in any order.
        let (mut roots, children): (Vec<_>, Vec<_>) = batch.into_iter().partition(is_root);
        for span in &children {
            state.add(span, now, &self.limits, &mut text);
        }
        roots.sort_by_key(|s| (s.end_time, s.start_time));
        for root in &roots {
            state.finish(root, &self.limits, &mut text);
        }
        state.expire(now, &self.limits, &mut text);
        state.write(&text);
        Ok(())
    }
}

impl SpanExporter for ConsoleExporter {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        // Printing never waits on anything but the writer, so the work is done before returning.
        std::future::ready(self.export_now(batch))
    }

    fn force_flush(&self) -> OTelSdkResult {
        // Pending traces stay pending: their roots may still be running.
        let _ = self.lock().out.flush();
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        let mut state = self.lock();
        if state.shut_down {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        state.shut_down = true;
        let mut text = String::new();
        while let Some((trace_id, pending)) = state.pop_oldest() {
            print_incomplete(
                trace_id,
                pending,
                "still pending at shutdown",
                &self.limits,
                &mut text,
            );
        }
        state.write(&text);
        Ok(())
    }
}

// ---- state between batches ------------------------------------------------------------------

struct State {
    out: Box<dyn Write + Send>,
    pending: HashMap<TraceId, Pending>,
    /// Pending traces by arrival, oldest first: the order of eviction and expiry.
    arrival: BTreeMap<u64, TraceId>,
    next_seq: u64,
    printed: Printed,
    shut_down: bool,
}

/// A trace whose root has not ended yet.
struct Pending {
    seq: u64,
    first_seen: SystemTime,
    nodes: Vec<Node>,
    dropped: u64,
}

/// Recently printed traces, for naming the root in late spans' lines.
#[derive(Default)]
struct Printed {
    order: VecDeque<TraceId>,
    roots: HashMap<TraceId, PrintedRoot>,
}

struct PrintedRoot {
    label: String,
    end: SystemTime,
}

impl Printed {
    fn insert(&mut self, trace_id: TraceId, root: PrintedRoot, cap: usize) {
        // A second local root in the same trace replaces the first without a second slot.
        if self.roots.insert(trace_id, root).is_none() {
            self.order.push_back(trace_id);
        }
        while self.order.len() > cap {
            if let Some(old) = self.order.pop_front() {
                self.roots.remove(&old);
            }
        }
    }
}

impl State {
    fn add(&mut self, span: &SpanData, now: SystemTime, limits: &Limits, out: &mut String) {
        let trace_id = span.span_context.trace_id();
        let node = Node::from_span(span, false);
        if let Some(root) = self.printed.roots.get(&trace_id) {
            late_line(trace_id, root, &node, out);
            return;
        }
        if !self.pending.contains_key(&trace_id) {
            if self.pending.len() >= limits.pending_traces {
                self.evict_oldest(limits, out);
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            self.arrival.insert(seq, trace_id);
            let pending = Pending {
                seq,
                first_seen: now,
                nodes: Vec::new(),
                dropped: 0,
            };
            self.pending.insert(trace_id, pending);
        }
        if let Some(pending) = self.pending.get_mut(&trace_id) {
            if pending.nodes.len() < limits.spans_per_trace {
                pending.nodes.push(node);
            } else {
                pending.dropped += 1;
            }
        }
    }

    fn evict_oldest(&mut self, limits: &Limits, out: &mut String) {
        if let Some((trace_id, pending)) = self.pop_oldest() {
            let reason = format!(
                "evicted: {} traces already pending",
                format_count(limits.pending_traces as i64)
            );
            print_incomplete(trace_id, pending, &reason, limits, out);
        }
    }

    fn finish(&mut self, root: &SpanData, limits: &Limits, out: &mut String) {
        let trace_id = root.span_context.trace_id();
        let root = Node::from_span(root, true);
        let (nodes, dropped) = match self.take(trace_id) {
            Some(p) => (p.nodes, p.dropped),
            None => (Vec::new(), 0),
        };
        self.printed.insert(
            trace_id,
            PrintedRoot {
                label: root.label.clone(),
                end: root.end,
            },
            limits.printed_traces,
        );
        let tree = Tree::build(Some(root), nodes);
        print_tree(&tree, trace_id, None, dropped, limits, out);
    }

    /// Prints the traces that have waited too long for their root.
    fn expire(&mut self, now: SystemTime, limits: &Limits, out: &mut String) {
        while let Some((_, &trace_id)) = self.arrival.first_key_value() {
            let first_seen = self.pending.get(&trace_id).map(|p| p.first_seen);
            // A clock that went backwards makes nothing old.
            let too_old = first_seen
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > limits.pending_age);
            if !too_old {
                break;
            }
            if let Some(pending) = self.take(trace_id) {
                let reason = format!("no root within {}", format_duration(limits.pending_age));
                print_incomplete(trace_id, pending, &reason, limits, out);
            }
        }
    }

    fn take(&mut self, trace_id: TraceId) -> Option<Pending> {
        let pending = self.pending.remove(&trace_id)?;
        self.arrival.remove(&pending.seq);
        Some(pending)
    }

    fn pop_oldest(&mut self) -> Option<(TraceId, Pending)> {
        let (_, trace_id) = self.arrival.pop_first()?;
        let pending = self.pending.remove(&trace_id)?;
        Some((trace_id, pending))
    }

    fn write(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}

fn is_root(span: &SpanData) -> bool {
    span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote
}

fn print_incomplete(
    trace_id: TraceId,
    pending: Pending,
    reason: &str,
    limits: &Limits,
    out: &mut String,
) {
    // Not remembered as printed: if the root does come, it prints with the spans after this.
    let tree = Tree::build(None, pending.nodes);
    print_tree(&tree, trace_id, Some(reason), pending.dropped, limits, out);
}

/// Prints `tree`, its first line ending with `note`, the spans dropped and the trace id.
fn print_tree(
    tree: &Tree,
    trace_id: TraceId,
    note: Option<&str>,
    dropped: u64,
    limits: &Limits,
    out: &mut String,
) {
    let mut head = tree.root_row();
    head.notes.extend(note.map(str::to_owned));
    head.notes.extend(dropped_note(dropped, limits));
    head.notes
        .push(format!("trace {}", short_trace_id(trace_id)));
    render_rows(&tree.rows(head), out);
}

fn dropped_note(dropped: u64, limits: &Limits) -> Option<String> {
    (dropped > 0).then(|| {
        format!(
            "+{} {} dropped (over {} per trace)",
            format_count(i64::try_from(dropped).unwrap_or(i64::MAX)),
            plural(dropped, "span", "spans"),
            format_count(limits.spans_per_trace as i64)
        )
    })
}

fn late_line(trace_id: TraceId, root: &PrintedRoot, node: &Node, out: &mut String) {
    let mut row = node.row(format!(
        "↳ late in {} (trace {}): ",
        root.label,
        short_trace_id(trace_id)
    ));
    row.notes.push(match node.end.duration_since(root.end) {
        Ok(after) => format!("ended {} after the root", format_duration(after)),
        Err(e) => format!("ended {} before the root", format_duration(e.duration())),
    });
    render_rows(&[row], out);
}

// ---- spans, reduced to what is printed ------------------------------------------------------

/// Token usage and cost of one span, or of a trace.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Usage {
    input: Option<i64>,
    output: Option<i64>,
    cost: Option<f64>,
}

impl Usage {
    fn plus(self, other: Usage) -> Usage {
        fn add<T>(a: Option<T>, b: Option<T>, f: impl Fn(T, T) -> T) -> Option<T> {
            match (a, b) {
                (Some(a), Some(b)) => Some(f(a, b)),
                (a, b) => a.or(b),
            }
        }
        Usage {
            input: add(self.input, other.input, i64::saturating_add),
            output: add(self.output, other.output, i64::saturating_add),
            cost: add(self.cost, other.cost, |a, b| a + b),
        }
    }

    /// Each field of `self`, or of `fallback` where `self` has none.
    fn or(self, fallback: Usage) -> Usage {
        Usage {
            input: self.input.or(fallback.input),
            output: self.output.or(fallback.output),
            cost: self.cost.or(fallback.cost),
        }
    }

    fn has_tokens(&self) -> bool {
        self.input.is_some() || self.output.is_some()
    }
}

/// One span, as much of it as the console shows; prompts and responses are not kept.
#[derive(Debug)]
struct Node {
    span_id: SpanId,
    parent_id: SpanId,
    label: String,
    start: SystemTime,
    end: SystemTime,
    usage: Usage,
    /// The trace totals a root carries (`llmtrace.trace.*`).
    rollup: Usage,
    docs: Option<i64>,
    ttft: Option<Duration>,
    error: Option<String>,
    cancelled: bool,
}

impl Node {
    fn from_span(span: &SpanData, root: bool) -> Node {
        let attrs = Attrs(&span.attributes);
        let workflow = root.then(|| attrs.str(gen_ai::WORKFLOW_NAME)).flatten();
        let error = match &span.status {
            Status::Error { description } => Some(error_text(
                attrs.str(gen_ai::ERROR_TYPE),
                description.as_ref(),
            )),
            _ => None,
        };
        Node {
            span_id: span.span_context.span_id(),
            parent_id: span.parent_span_id,
            label: clean(workflow.unwrap_or(&span.name), MAX_LABEL_CHARS),
            start: span.start_time,
            end: span.end_time,
            usage: Usage {
                input: attrs.int(gen_ai::USAGE_INPUT_TOKENS),
                output: attrs.int(gen_ai::USAGE_OUTPUT_TOKENS),
                cost: attrs.float(oi::LLM_COST_TOTAL),
            },
            rollup: Usage {
                input: attrs.int(lt::TRACE_INPUT_TOKENS),
                output: attrs.int(lt::TRACE_OUTPUT_TOKENS),
                cost: attrs.float(lt::TRACE_COST_USD),
            },
            docs: attrs.int(lt::RETRIEVAL_DOCUMENT_COUNT).filter(|n| *n >= 0),
            ttft: attrs
                .float(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK)
                .and_then(|s| Duration::try_from_secs_f64(s).ok()),
            error,
            cancelled: attrs.bool(lt::CANCELLED).unwrap_or(false),
        }
    }

    /// Zero when the span claims to end before it starts.
    fn duration(&self) -> Duration {
        self.end.duration_since(self.start).unwrap_or_default()
    }

    fn sort_key(&self) -> (SystemTime, SystemTime, u64) {
        (
            self.start,
            self.end,
            u64::from_be_bytes(self.span_id.to_bytes()),
        )
    }

    /// This span's line, its label after `prefix` (the tree drawing).
    fn row(&self, prefix: String) -> Row {
        let mut notes = Vec::new();
        if let Some(n) = self.docs {
            let docs = plural(n.unsigned_abs(), "doc", "docs");
            notes.push(format!("({} {docs})", format_count(n)));
        }
        if let Some(ttft) = self.ttft {
            notes.push(format!("ttft {}", format_duration(ttft)));
        }
        if let Some(error) = &self.error {
            notes.push(format!("✗ {error}"));
        }
        if self.cancelled {
            notes.push("⊘ cancelled".to_owned());
        }
        Row {
            label: prefix + &self.label,
            duration: Some(self.duration()),
            usage: self.usage,
            notes,
        }
    }
}

fn error_text(error_type: Option<&str>, description: &str) -> String {
    let error_type = error_type.map(str::trim).filter(|t| !t.is_empty());
    let description = description.trim();
    let text = match (error_type, description.is_empty()) {
        (Some(t), false) => format!("{t}: {description}"),
        (Some(t), true) => t.to_owned(),
        (None, false) => description.to_owned(),
        (None, true) => "error".to_owned(),
    };
    clean(&text, MAX_ERROR_CHARS)
}

/// One line per label: control characters (newlines in an error message) become spaces, and
/// long text is cut with an ellipsis.
fn clean(text: &str, max_chars: usize) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max_chars + 1)
        .collect();
    if out.chars().count() > max_chars {
        let cut = out
            .char_indices()
            .nth(max_chars.saturating_sub(1))
            .map_or(out.len(), |(i, _)| i);
        out.truncate(cut);
        out.push('…');
    }
    out
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

// ---- the tree -------------------------------------------------------------------------------

/// A trace's spans arranged for printing.
struct Tree {
    nodes: Vec<Node>,
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
    fn build(root: Option<Node>, spans: Vec<Node>) -> Tree {
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
            nodes,
            root,
            top,
            children,
            orphan,
            slowest,
        }
    }

    fn summed_usage(&self) -> Usage {
        self.nodes
            .iter()
            .fold(Usage::default(), |sum, n| sum.plus(n.usage))
    }

    /// The root's line, with the trace totals: the root's roll-up where it has one, else the
    /// sum over the spans printed.
    fn root_row(&self) -> Row {
        match self.root {
            Some(r) => {
                let root = &self.nodes[r];
                let mut row = root.row(String::new());
                row.usage = root.rollup.or(self.summed_usage());
                row
            }
            None => Row {
                label: INCOMPLETE_LABEL.to_owned(),
                duration: None,
                usage: self.summed_usage(),
                notes: Vec::new(),
            },
        }
    }

    /// `head`, then every span below it, depth first in start order.
    fn rows(&self, head: Row) -> Vec<Row> {
        let mut rows = Vec::with_capacity(self.nodes.len() + 1);
        rows.push(head);
        // An explicit stack: a trace can nest deeper than the thread's stack would allow.
        let mut stack: Vec<(usize, String, bool)> = Vec::new();
        push_children(&mut stack, &self.top, "");
        while let Some((i, indent, last)) = stack.pop() {
            let branch = if last { "└─ " } else { "├─ " };
            let mut row = self.nodes[i].row(format!("{indent}{branch}"));
            if self.orphan[i] {
                row.notes.push("(parent not seen)".to_owned());
            }
            if self.slowest[i] {
                row.notes.push("◀ slowest".to_owned());
            }
            rows.push(row);
            let indent = format!("{indent}{}", if last { "   " } else { "│  " });
            push_children(&mut stack, &self.children[i], &indent);
        }
        rows
    }
}

fn push_children(stack: &mut Vec<(usize, String, bool)>, children: &[usize], indent: &str) {
    let last = children.len().saturating_sub(1);
    for (k, &c) in children.iter().enumerate().rev() {
        stack.push((c, indent.to_owned(), k == last));
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
fn slowest_of(siblings: &[usize], nodes: &[Node]) -> Option<usize> {
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

// ---- layout ---------------------------------------------------------------------------------

/// One printed line before alignment.
#[derive(Debug)]
struct Row {
    label: String,
    duration: Option<Duration>,
    usage: Usage,
    notes: Vec<String>,
}

/// Writes `rows` as aligned columns: label, duration, tokens and cost, then free-form notes.
/// Columns no row uses take no space.
fn render_rows(rows: &[Row], out: &mut String) {
    struct Cells {
        duration: String,
        tokens: Option<(String, String)>,
        cost: String,
    }
    let cells: Vec<Cells> = rows
        .iter()
        .map(|r| Cells {
            duration: r.duration.map(format_duration).unwrap_or_default(),
            tokens: r.usage.has_tokens().then(|| {
                let side = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), format_count);
                (side(r.usage.input), side(r.usage.output))
            }),
            cost: r.usage.cost.map(format_cost).unwrap_or_default(),
        })
        .collect();
    let width = |f: &dyn Fn(usize) -> usize| (0..rows.len()).map(f).max().unwrap_or(0);
    let label_w = width(&|i| rows[i].label.chars().count());
    let duration_w = width(&|i| cells[i].duration.chars().count());
    let input_w = width(&|i| cells[i].tokens.as_ref().map_or(0, |t| t.0.len()));
    let output_w = width(&|i| cells[i].tokens.as_ref().map_or(0, |t| t.1.len()));
    let cost_w = width(&|i| cells[i].cost.chars().count());
    let any_tokens = cells.iter().any(|c| c.tokens.is_some());
    for (row, cells) in rows.iter().zip(&cells) {
        let mut line = format!("{:<label_w$}", row.label);
        if duration_w > 0 {
            line += &format!("  {:>duration_w$}", cells.duration);
        }
        if any_tokens {
            line += &match &cells.tokens {
                Some((i, o)) => format!("  {i:>input_w$} in / {o:>output_w$} out tokens"),
                None => " ".repeat(2 + input_w + " in / ".len() + output_w + " out tokens".len()),
            };
        }
        if cost_w > 0 {
            line += &format!("  {:>cost_w$}", cells.cost);
        }
        for note in &row.notes {
            line += "  ";
            line += note;
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

// ---- numbers --------------------------------------------------------------------------------

/// The first 16 hex digits of the trace id: enough to find the trace in a backend.
fn short_trace_id(trace_id: TraceId) -> String {
    let mut hex = format!("{trace_id:032x}");
    hex.truncate(16);
    hex
}

fn plural<'a>(n: u64, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// `1234567` as `1,234,567`.
fn format_count(n: i64) -> String {
    let digits = group_digits(&n.unsigned_abs().to_string());
    if n < 0 { format!("-{digits}") } else { digits }
}

fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// US dollars with as many decimals as a typical LLM call's cost needs: `$1,234.56`, `$0.015`,
/// and two significant digits below a tenth of a cent (`$0.00042`).
fn format_cost(usd: f64) -> String {
    if !usd.is_finite() {
        return "$?".to_owned();
    }
    let sign = if usd < 0.0 { "-" } else { "" };
    let v = usd.abs();
    let amount = if v == 0.0 {
        "0".to_owned()
    } else if v >= 1.0 {
        let fixed = format!("{v:.2}");
        match fixed.split_once('.') {
            Some((whole, cents)) => format!("{}.{cents}", group_digits(whole)),
            None => fixed,
        }
    } else if v >= 0.001 {
        format!("{v:.3}")
    } else if v >= 0.000_001 {
        let decimals = (-v.log10()).floor() as usize + 2;
        format!("{v:.decimals$}")
    } else {
        return format!("{sign}<$0.000001");
    };
    format!("{sign}${amount}")
}

/// Three significant digits at most, in the largest unit that keeps the number small:
/// `850µs`, `4.2ms`, `120ms`, `2.41s`, `12.3s`, `1m05s`, `2h03m`. Each bound is where rounding
/// would otherwise print a fourth digit (`999.6µs` is `1.0ms`, not `1000µs`).
fn format_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    let round = |unit: u128| (ns + unit / 2) / unit;
    if ns < 999_500 {
        format!("{}µs", round(1_000))
    } else if ns < 9_950_000 {
        let tenths = round(100_000);
        format!("{}.{}ms", tenths / 10, tenths % 10)
    } else if ns < 999_500_000 {
        format!("{}ms", round(1_000_000))
    } else if ns < 9_995_000_000 {
        let hundredths = round(10_000_000);
        format!("{}.{:02}s", hundredths / 100, hundredths % 100)
    } else if ns < 59_950_000_000 {
        let tenths = round(100_000_000);
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else if ns < 3_599_500_000_000 {
        let secs = round(1_000_000_000);
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        let mins = round(60_000_000_000);
        format!("{}h{:02}m", mins / 60, mins % 60)
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::pin::pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::task::{Context, Poll, Waker};
    use std::time::UNIX_EPOCH;

    use opentelemetry::trace::{SpanContext, SpanKind, TraceFlags, TraceState};
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};

    use super::*;

    const TRACE: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
    const OTHER_TRACE: u128 = 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c;
    const THIRD_TRACE: u128 = 0x5b8e_fff7_9803_8103_d269_b633_813f_c60c;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    fn span(trace: u128, id: u64, parent: u64, name: &str, start_ms: u64, end_ms: u64) -> SpanData {
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(trace),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Owned(name.to_owned()),
            start_time: at(start_ms),
            end_time: at(end_ms),
            attributes: Vec::new(),
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: InstrumentationScope::builder("llmtrace").build(),
        }
    }

    /// Attribute setters, so a test reads like the span it describes.
    trait Build: Sized {
        fn attr(self, key: &'static str, value: impl Into<Value>) -> Self;
        fn failed(self, error_type: &'static str, description: &'static str) -> Self;

        fn usage(self, input: i64, output: i64) -> Self {
            self.attr(gen_ai::USAGE_INPUT_TOKENS, input)
                .attr(gen_ai::USAGE_OUTPUT_TOKENS, output)
        }

        fn cost(self, usd: f64) -> Self {
            self.attr(oi::LLM_COST_TOTAL, usd)
        }

        fn workflow(self, name: &'static str) -> Self {
            self.attr(gen_ai::WORKFLOW_NAME, name)
        }
    }

    impl Build for SpanData {
        fn attr(mut self, key: &'static str, value: impl Into<Value>) -> Self {
            self.attributes.push(KeyValue::new(key, value));
            self
        }

        fn failed(mut self, error_type: &'static str, description: &'static str) -> Self {
            self.status = Status::error(description);
            self.attr(gen_ai::ERROR_TYPE, error_type)
        }
    }

    /// The console, as a test sees it.
    #[derive(Clone, Default)]
    struct Screen(Arc<Mutex<Vec<u8>>>);

    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Screen {
        /// What was printed since the last call.
        fn take(&self) -> String {
            String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
        }
    }

    /// A clock the test moves by hand, in milliseconds since the epoch.
    #[derive(Clone, Default)]
    struct TestClock(Arc<AtomicU64>);

    impl TestClock {
        fn set(&self, ms: u64) {
            self.0.store(ms, Ordering::SeqCst);
        }
    }

    fn console() -> (ConsoleExporter, Screen, TestClock) {
        let screen = Screen::default();
        let clock = TestClock::default();
        let now = clock.clone();
        let exporter = ConsoleExporter::with_writer(screen.clone())
            .with_clock(move || at(now.0.load(Ordering::SeqCst)));
        (exporter, screen, clock)
    }

    /// The export future does its work before it is returned, so one poll completes it.
    fn block_on<F: Future>(future: F) -> F::Output {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(out) => out,
            Poll::Pending => panic!("the console export future is always ready"),
        }
    }

    fn send(exporter: &ConsoleExporter, batch: Vec<SpanData>) {
        block_on(exporter.export(batch)).unwrap();
    }

    /// Exports each batch in turn and collects what each one printed, under a heading.
    fn steps(exporter: &ConsoleExporter, screen: &Screen, batches: Vec<Vec<SpanData>>) -> String {
        let mut out = String::new();
        for (n, batch) in batches.into_iter().enumerate() {
            send(exporter, batch);
            out += &format!("--- batch {} ---\n{}", n + 1, screen.take());
        }
        out
    }

    fn support_answer() -> Vec<SpanData> {
        vec![
            span(TRACE, 1, 0, "invoke_workflow support_answer", 0, 2410).workflow("support_answer"),
            span(TRACE, 2, 1, "retrieval help_center", 5, 125)
                .attr(lt::RETRIEVAL_DOCUMENT_COUNT, 5),
            span(TRACE, 6, 2, "embeddings text-embedding-3-small", 8, 48)
                .attr(gen_ai::USAGE_INPUT_TOKENS, 12),
            span(TRACE, 3, 1, "chat gpt-4o", 130, 1020)
                .usage(3200, 450)
                .cost(0.012)
                .attr(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK, 0.32),
            span(TRACE, 4, 1, "execute_tool lookup_order", 1030, 1045)
                .failed("OrderNotFound", "no order B-7"),
            span(TRACE, 5, 1, "chat gpt-4o", 1050, 1660)
                .usage(450, 70)
                .cost(0.003),
        ]
    }

    #[test]
    fn workflow_tree_printed_when_the_root_ends() {
        let (exporter, screen, _) = console();
        let mut s = support_answer().into_iter().map(Some).collect::<Vec<_>>();
        let mut take = |i: usize| s[i].take().unwrap();
        // Shuffled over three batches, the root first in the last one.
        let batches = vec![
            vec![take(5), take(4)],
            vec![take(2), take(1)],
            vec![take(0), take(3)],
        ];
        insta::assert_snapshot!(steps(&exporter, &screen, batches));
    }

    #[test]
    fn slowest_child_marked_at_every_level() {
        let (exporter, screen, _) = console();
        let batch = vec![
            span(TRACE, 1, 0, "invoke_workflow agent", 0, 5000).workflow("agent"),
            span(TRACE, 2, 1, "chat gpt-4o", 0, 800),
            span(TRACE, 3, 1, "invoke_workflow research", 900, 4500),
            span(TRACE, 4, 3, "retrieval web", 900, 1900),
            span(TRACE, 5, 3, "retrieval wiki", 900, 3900),
            span(TRACE, 6, 3, "chat claude-sonnet", 3900, 4500),
            // Equally slow siblings: nothing stands out, nothing is marked.
            span(TRACE, 7, 6, "execute_tool a", 3950, 4000),
            span(TRACE, 8, 6, "execute_tool b", 4000, 4050),
            span(TRACE, 9, 1, "chat gpt-4o", 4500, 4990),
        ];
        let mut batch = batch;
        batch.reverse();
        send(&exporter, batch);
        insta::assert_snapshot!(screen.take());
    }

    #[test]
    fn cancelled_and_usage_missing_spans() {
        let (exporter, screen, _) = console();
        send(
            &exporter,
            vec![
                span(TRACE, 3, 1, "chat gpt-4o", 40, 3000)
                    .attr(lt::CANCELLED, true)
                    .attr(lt::USAGE_MISSING, true),
                span(TRACE, 2, 1, "chat local-llama", 0, 30).attr(lt::USAGE_MISSING, true),
                span(TRACE, 1, 0, "invoke_workflow answer_with_timeout", 0, 3001)
                    .workflow("answer_with_timeout")
                    .failed("Elapsed", "deadline has elapsed"),
            ],
        );
        insta::assert_snapshot!(screen.take());
    }

    #[test]
    fn late_children_get_one_line_each() {
        let (exporter, screen, _) = console();
        let batches = vec![
            vec![
                span(TRACE, 2, 1, "chat gpt-4o", 10, 400).usage(100, 20),
                span(TRACE, 1, 0, "invoke_workflow support_answer", 0, 850)
                    .workflow("support_answer"),
            ],
            // A spawned task that outlived the workflow, and one that ended in time but was
            // exported from another thread's buffer after the root.
            vec![
                span(TRACE, 3, 1, "chat gpt-4o", 20, 1200)
                    .usage(450, 70)
                    .cost(0.003),
                span(TRACE, 4, 1, "execute_tool notify", 30, 800),
            ],
        ];
        insta::assert_snapshot!(steps(&exporter, &screen, batches));
    }

    #[test]
    fn totals_from_roll_up_or_summed() {
        let (exporter, screen, _) = console();
        let batches = vec![
            // The roll-up counts spans this exporter never saw (sampled out, other process).
            vec![
                span(TRACE, 2, 1, "chat gpt-4o", 0, 100)
                    .usage(1200, 300)
                    .cost(0.01),
                span(TRACE, 1, 0, "invoke_workflow with_roll_up", 0, 200)
                    .workflow("with_roll_up")
                    .attr(lt::TRACE_INPUT_TOKENS, 25_000)
                    .attr(lt::TRACE_OUTPUT_TOKENS, 4_000)
                    .attr(lt::TRACE_COST_USD, 0.375),
            ],
            vec![
                span(OTHER_TRACE, 2, 1, "chat gpt-4o", 0, 100)
                    .usage(1200, 300)
                    .cost(0.01),
                span(OTHER_TRACE, 3, 1, "chat gpt-4o-mini", 100, 150)
                    .usage(800, 40)
                    .cost(0.000_15),
                span(OTHER_TRACE, 1, 0, "invoke_workflow summed", 0, 200)
                    .workflow("summed")
                    .usage(5, 5),
            ],
        ];
        insta::assert_snapshot!(steps(&exporter, &screen, batches));
    }

    #[test]
    fn pending_traces_printed_incomplete_at_shutdown() {
        let (exporter, screen, _) = console();
        send(
            &exporter,
            vec![
                span(TRACE, 3, 2, "execute_tool search", 100, 180),
                span(TRACE, 2, 1, "chat gpt-4o", 50, 900)
                    .usage(640, 12)
                    .cost(0.0017),
                span(TRACE, 4, 1, "chat gpt-4o", 950, 1400).usage(700, 88),
                span(OTHER_TRACE, 7, 6, "retrieval docs", 0, 20),
            ],
        );
        assert_eq!(screen.take(), "", "nothing printed before the roots end");
        exporter.force_flush().unwrap();
        assert_eq!(
            screen.take(),
            "",
            "a flush does not give up on running roots"
        );
        exporter.shutdown().unwrap();
        insta::assert_snapshot!(screen.take());
        assert!(matches!(
            block_on(exporter.export(vec![span(TRACE, 1, 0, "late", 0, 1)])),
            Err(OTelSdkError::AlreadyShutdown)
        ));
        assert!(exporter.shutdown().is_err());
    }

    #[test]
    fn spans_over_the_per_trace_cap_are_counted() {
        let (mut exporter, screen, _) = console();
        exporter.limits.spans_per_trace = 3;
        let children: Vec<SpanData> = (2..=6)
            .map(|id| span(TRACE, id, 1, "execute_tool step", id * 10, id * 10 + 5))
            .collect();
        send(&exporter, children[..2].to_vec());
        send(&exporter, children[2..].to_vec());
        send(
            &exporter,
            vec![span(TRACE, 1, 0, "invoke_workflow many_steps", 0, 100).workflow("many_steps")],
        );
        insta::assert_snapshot!(screen.take());
    }

    #[test]
    fn traces_waiting_too_long_printed_incomplete() {
        let (exporter, screen, clock) = console();
        let mut out = String::new();
        let mut step = |now_ms: u64, batch: Vec<SpanData>| {
            clock.set(now_ms);
            send(&exporter, batch);
            out += &format!("--- clock at {now_ms} ms ---\n{}", screen.take());
        };
        step(
            0,
            vec![span(TRACE, 2, 1, "chat gpt-4o", 0, 500).usage(10, 2)],
        );
        step(30_000, vec![span(OTHER_TRACE, 2, 1, "chat gpt-4o", 0, 500)]);
        // The first trace has waited more than a minute, the second not yet.
        step(61_000, Vec::new());
        // Its root does come after all: printed with the spans kept since, not as late lines.
        step(61_500, vec![span(TRACE, 3, 1, "chat gpt-4o", 600, 61_400)]);
        step(
            62_000,
            vec![span(TRACE, 1, 0, "invoke_workflow slow_agent", 0, 62_000).workflow("slow_agent")],
        );
        step(91_000, Vec::new());
        insta::assert_snapshot!(out);
    }

    #[test]
    fn oldest_pending_trace_evicted_when_full() {
        let (mut exporter, screen, _) = console();
        exporter.limits.pending_traces = 2;
        let batches = vec![
            vec![span(TRACE, 2, 1, "chat a", 0, 10)],
            vec![span(OTHER_TRACE, 2, 1, "chat b", 0, 10)],
            vec![
                span(OTHER_TRACE, 3, 1, "chat b", 10, 20),
                span(THIRD_TRACE, 2, 1, "chat c", 0, 10),
            ],
        ];
        insta::assert_snapshot!(steps(&exporter, &screen, batches));
        assert_eq!(exporter.lock().pending.len(), 2);
    }

    #[test]
    fn odd_spans_never_panic() {
        let (exporter, screen, _) = console();
        let batch = vec![
            // Parent never seen.
            span(TRACE, 2, 99, "chat gpt-4o", 10, 20),
            // Ends before it starts; a NaN cost and a negative count are ignored.
            span(TRACE, 3, 1, "backwards", 50, 40)
                .cost(f64::NAN)
                .attr(lt::RETRIEVAL_DOCUMENT_COUNT, -1)
                .attr(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK, -0.5),
            // A parent cycle, and its own parent.
            span(TRACE, 4, 5, "cycle a", 60, 70),
            span(TRACE, 5, 4, "cycle b", 61, 71),
            span(TRACE, 6, 6, "self parent", 80, 90),
            // Values of unexpected types, and text that would break the line.
            span(
                TRACE,
                7,
                1,
                "multi\nline\tname that goes on and on and on and on and on and on",
                100,
                110,
            )
            .attr(gen_ai::USAGE_INPUT_TOKENS, "1500")
            .attr(gen_ai::USAGE_OUTPUT_TOKENS, 12.0)
            .attr(oi::LLM_COST_TOTAL, "0.5")
            .failed("", "line one\nline two"),
            span(TRACE, 8, 1, "only output", 120, 130).attr(gen_ai::USAGE_OUTPUT_TOKENS, 9),
            span(TRACE, 1, 0, "root without workflow name", 0, 200),
        ];
        send(&exporter, batch);
        insta::assert_snapshot!(screen.take());
    }

    #[test]
    fn remote_parent_makes_a_root() {
        let (exporter, screen, _) = console();
        let mut root = span(TRACE, 1, 77, "POST /answer", 0, 300);
        root.parent_span_is_remote = true;
        send(
            &exporter,
            vec![
                span(TRACE, 2, 1, "chat gpt-4o", 10, 290).usage(10, 10),
                root,
            ],
        );
        insta::assert_snapshot!(screen.take());
    }

    #[test]
    fn durations() {
        let cases = [
            (0, "0µs"),
            (850_000, "850µs"),
            (999_499, "999µs"),
            (999_500, "1.0ms"),
            (4_240_000, "4.2ms"),
            (9_950_000, "10ms"),
            (120_000_000, "120ms"),
            (999_500_000, "1.00s"),
            (2_414_000_000, "2.41s"),
            (9_995_000_000, "10.0s"),
            (12_340_000_000, "12.3s"),
            (59_950_000_000, "1m00s"),
            (65_000_000_000, "1m05s"),
            (3_599_000_000_000, "59m59s"),
            (3_599_500_000_000, "1h00m"),
            (7_380_000_000_000, "2h03m"),
        ];
        for (ns, text) in cases {
            assert_eq!(format_duration(Duration::from_nanos(ns)), text, "{ns} ns");
        }
        assert_eq!(format_duration(Duration::MAX), "5124095576030431h00m");
    }

    #[test]
    fn counts() {
        for (n, text) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (3200, "3,200"),
            (1_234_567, "1,234,567"),
            (-45_000, "-45,000"),
            (i64::MIN, "-9,223,372,036,854,775,808"),
        ] {
            assert_eq!(format_count(n), text);
        }
    }

    #[test]
    fn costs() {
        for (usd, text) in [
            (0.0, "$0"),
            (0.015, "$0.015"),
            (0.0125, "$0.013"),
            (0.001, "$0.001"),
            (0.000_42, "$0.00042"),
            (0.000_015_5, "$0.000016"),
            (0.000_000_1, "<$0.000001"),
            (2.5, "$2.50"),
            (1234.567, "$1,234.57"),
            (-0.02, "-$0.020"),
            (f64::NAN, "$?"),
            (f64::INFINITY, "$?"),
        ] {
            assert_eq!(format_cost(usd), text, "{usd}");
        }
    }

    #[test]
    fn text_kept_on_one_line_and_short() {
        assert_eq!(clean("a\nb\tc", 10), "a b c");
        assert_eq!(clean("abcdef", 6), "abcdef");
        assert_eq!(clean("abcdefg", 6), "abcde…");
        assert_eq!(clean("ééééééé", 3), "éé…");
        assert_eq!(error_text(Some("Io"), ""), "Io");
        assert_eq!(error_text(None, ""), "error");
        assert_eq!(short_trace_id(TraceId::from(TRACE)), "4bf92f3577b34da6");
    }
}
