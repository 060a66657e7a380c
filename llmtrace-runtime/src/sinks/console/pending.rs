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
};
use super::tree::{Summary, Tree, is_root};

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
                spans: Vec::new(),
                dropped: 0,
            };
            self.pending.insert(trace_id, pending);
        }
        if let Some(pending) = self.pending.get_mut(&trace_id) {
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
        let root = Summary::from_span(root);
        let (spans, dropped) = match self.take(trace_id) {
            Some(p) => (p.spans, p.dropped),
            None => (Vec::new(), 0),
        };
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
