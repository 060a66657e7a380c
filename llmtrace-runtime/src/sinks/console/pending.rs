//! Traces waiting for their root: spans reach the exporter one at a time as they end, children
//! before their parents and one trace often split over several batches, so each trace's spans
//! are kept until its root ends and the whole tree prints at once.
//!
//! Every store is bounded. A trace whose root never comes is printed as an incomplete tree when
//! it gets too old, when too many are waiting, or at shutdown; spans over the per-trace cap are
//! counted, not kept; spans that end after their root was printed get one "late" line each.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

use opentelemetry::trace::TraceId;
use opentelemetry_sdk::trace::SpanData;

use super::render::{
    TreeText, format_count, format_duration, keep_printed_text, late_line, plural, root_label,
    short_trace_id,
};
use super::tree::{Summary, Tree, is_root};
use crate::evaluation::console_text;
use crate::semconv::keys::{event, gen_ai};

/// Bounds on what the exporter keeps between batches.
#[derive(Clone, Copy, Debug)]
pub(super) struct Limits {
    /// Traces waiting for their root; beyond it the oldest is printed incomplete.
    pub(super) pending_traces: usize,
    /// Spans kept per waiting trace; beyond it spans are counted, not kept.
    pub(super) spans_per_trace: usize,
    /// How long a trace waits for its root, by the exporter's clock.
    pub(super) pending_age: Duration,
    /// Printed traces remembered, to recognise their late spans.
    pub(super) printed_traces: usize,
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

/// The traces waiting for their root, and the recently printed ones.
#[derive(Default)]
pub(super) struct PendingTraces {
    pending: HashMap<TraceId, Pending>,
    /// Pending traces by arrival, oldest first: the order of eviction and expiry.
    arrival: BTreeMap<u64, TraceId>,
    next_seq: u64,
    printed: Printed,
}

/// A trace whose root has not ended yet.
struct Pending {
    seq: u64,
    first_seen: SystemTime,
    spans: Vec<Summary>,
    dropped: u64,
    /// Evaluation results of the trace's spans (`★ relevance 0.82 (relevant)`), printed under
    /// its tree: those its spans carry as events, and those that arrived as log records while
    /// it waited for its root.
    evaluations: Vec<String>,
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

impl PendingTraces {
    /// How many traces are waiting for their root.
    pub(super) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Takes in one exported batch, received at `now`, and appends to `out` what it completes:
    /// the trees whose root it holds, late lines, and the traces evicted or expired.
    pub(super) fn receive(
        &mut self,
        batch: Vec<SpanData>,
        now: SystemTime,
        limits: &Limits,
        out: &mut String,
    ) {
        // Children first: a root and its children often share a batch, in any order.
        let (mut roots, children): (Vec<_>, Vec<_>) = batch.into_iter().partition(is_root);
        for span in &children {
            self.add(span, now, limits, out);
        }
        roots.sort_by_key(|s| (s.end_time, s.start_time));
        for root in &roots {
            self.finish(root, limits, out);
        }
        self.expire(now, limits, out);
    }

    /// Prints every trace still waiting, oldest first, as incomplete: the exporter is shutting
    /// down.
    pub(super) fn drain(&mut self, limits: &Limits, out: &mut String) {
        while let Some((trace_id, pending)) = self.pop_oldest() {
            print_incomplete(trace_id, pending, "still pending at shutdown", limits, out);
        }
    }

    fn add(&mut self, span: &SpanData, now: SystemTime, limits: &Limits, out: &mut String) {
        let trace_id = span.span_context.trace_id();
        let mut summary = Summary::from_span(span);
        if let Some(root) = self.printed.roots.get(&trace_id) {
            late_line(trace_id, &root.label, root.end, &summary, out);
            for line in evaluation_lines(span) {
                let _ = writeln!(out, "  {line}");
            }
            return;
        }
        if !self.pending.contains_key(&trace_id) {
            if self.pending.len() >= limits.pending_traces {
                self.evict_oldest(limits, out);
            }
            let seq = self.next_seq;
            self.next_seq += 1;
            self.arrival.insert(seq, trace_id);
            self.pending.insert(trace_id, Pending::new(seq, now));
        }
        if let Some(pending) = self.pending.get_mut(&trace_id) {
            pending.evaluations.extend(evaluation_lines(span));
            if pending.spans.len() < limits.spans_per_trace {
                // Only what a line can show is kept: a long name or error message would
                // otherwise be held for as long as the trace waits.
                keep_printed_text(&mut summary);
                pending.spans.push(summary);
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
        let own = evaluation_lines(root);
        let root = Summary::from_span(root);
        let (spans, dropped, mut evaluations) = match self.take(trace_id) {
            Some(p) => (p.spans, p.dropped, p.evaluations),
            None => (Vec::new(), 0, Vec::new()),
        };
        evaluations.extend(own);
        self.printed.insert(
            trace_id,
            PrintedRoot {
                label: root_label(&root),
                end: root.end,
            },
            limits.printed_traces,
        );
        let tree = Tree::new(trace_id, Some(root), spans);
        print_tree(&tree, None, dropped, limits, out);
        print_evaluations(&evaluations, out);
    }

    /// Shows an evaluation that arrived as a log record: under its trace's tree when the trace
    /// is still waiting for its root, else on a line of its own naming the trace.
    pub(super) fn evaluation(&mut self, trace_id: TraceId, text: String, out: &mut String) {
        if let Some(pending) = self.pending.get_mut(&trace_id) {
            if pending.evaluations.len() < MAX_EVALUATIONS_PER_TRACE {
                pending.evaluations.push(text);
            }
            return;
        }
        let _ = match self.printed.roots.get(&trace_id) {
            Some(root) => writeln!(
                out,
                "{text}  on {} (trace {})",
                root.label,
                short_trace_id(trace_id)
            ),
            None => writeln!(out, "{text}  (trace {})", short_trace_id(trace_id)),
        };
    }

    /// Prints the traces that have waited too long for their root: on every batch, and on the
    /// exporter's timer when no batch comes.
    pub(super) fn expire(&mut self, now: SystemTime, limits: &Limits, out: &mut String) {
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
}

fn print_incomplete(
    trace_id: TraceId,
    pending: Pending,
    reason: &str,
    limits: &Limits,
    out: &mut String,
) {
    // Not remembered as printed: if the root does come, it prints with the spans after this.
    let tree = Tree::new(trace_id, None, pending.spans);
    print_tree(&tree, Some(reason), pending.dropped, limits, out);
    print_evaluations(&pending.evaluations, out);
}

/// Evaluation lines kept per waiting trace, at most.
const MAX_EVALUATIONS_PER_TRACE: usize = 64;

impl Pending {
    fn new(seq: u64, first_seen: SystemTime) -> Self {
        Pending {
            seq,
            first_seen,
            spans: Vec::new(),
            dropped: 0,
            evaluations: Vec::new(),
        }
    }
}

/// The `gen_ai.evaluation.result` events of a span, as console lines.
fn evaluation_lines(span: &SpanData) -> impl Iterator<Item = String> + '_ {
    span.events
        .iter()
        .filter(|e| e.name == event::EVALUATION_RESULT)
        .take(MAX_EVALUATIONS_PER_TRACE)
        .map(|e| {
            let attr = |key: &str| e.attributes.iter().find(|kv| kv.key.as_str() == key);
            let name = attr(gen_ai::EVALUATION_NAME).map(|kv| kv.value.as_str());
            let score = attr(gen_ai::EVALUATION_SCORE_VALUE).and_then(|kv| match kv.value {
                opentelemetry::Value::F64(v) => Some(v),
                opentelemetry::Value::I64(v) => Some(v as f64),
                _ => None,
            });
            let label = attr(gen_ai::EVALUATION_SCORE_LABEL).map(|kv| kv.value.as_str());
            console_text(
                name.as_deref().unwrap_or("evaluation"),
                score,
                label.as_deref(),
            )
        })
}

/// Evaluation lines under a tree, indented as its children are.
fn print_evaluations(lines: &[String], out: &mut String) {
    for line in lines {
        let _ = writeln!(out, "  {line}");
    }
}

/// Prints `tree`, its first line ending with `note` and the spans dropped.
fn print_tree(tree: &Tree, note: Option<&str>, dropped: u64, limits: &Limits, out: &mut String) {
    let mut text = TreeText::new(tree);
    for note in note
        .map(str::to_owned)
        .into_iter()
        .chain(dropped_note(dropped, limits))
    {
        text = text.note(note);
    }
    let _ = write!(out, "{text}");
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
