//! Roll-up: when a trace's root ends, it carries the tokens and cost of the whole trace (its own
//! and those of every span of the trace that ended before it), as `llmtrace.trace.*`.
//!
//! Runs on the export worker after cost is computed. Spans reach the worker through per-thread
//! rings read one after the other, so a child that ended just before its root may arrive one
//! drain later than the root: a root is held for one drain before it is totalled (flush totals
//! at once, after its final drain). Children that ended after the root ("late children") are
//! not counted, as their end time shows, and do not reopen the trace.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use super::worker::Stage;
use crate::pipeline::Counters;
use crate::span::{FLAG_PARENT_REMOTE, Field, Record, Value};

/// Traces with contributions waiting for their root, at most.
const MAX_OPEN: usize = 8192;
/// A trace whose root has not ended this long after its last contribution is forgotten (its
/// root is in another process, or was dropped).
const MAX_AGE: Duration = Duration::from_secs(300);
/// Traces remembered as totalled, so their late children do not open them again.
const CLOSED: usize = 4096;

/// What one span adds to its trace's totals.
#[derive(Clone, Copy, Debug, Default)]
struct Contribution {
    end: u64,
    input: i64,
    output: i64,
    cost: Option<f64>,
    unpriced: bool,
}

impl Contribution {
    /// What `rec` reports, if anything.
    fn of(rec: &Record) -> Option<Contribution> {
        let input = rec.get(Field::InputTokens).and_then(Value::as_i64);
        let output = rec.get(Field::OutputTokens).and_then(Value::as_i64);
        let cost = rec.get(Field::CostTotal).and_then(Value::as_f64);
        let unpriced = rec.get(Field::Unpriced).is_some();
        if input.is_none() && output.is_none() && cost.is_none() && !unpriced {
            return None;
        }
        Some(Contribution {
            end: rec.end,
            input: input.unwrap_or(0),
            output: output.unwrap_or(0),
            cost,
            unpriced,
        })
    }
}

#[derive(Debug)]
struct Open {
    parts: Vec<Contribution>,
    touched: Instant,
}

/// The roll-up stage.
#[derive(Debug, Default)]
pub(crate) struct Rollup {
    open: HashMap<u128, Open>,
    /// Roots that arrived in the last drain, totalled at the next one.
    waiting: Vec<Record>,
    closed: HashSet<u128>,
    closed_order: VecDeque<u128>,
    last_sweep: Option<Instant>,
}

fn is_root(rec: &Record) -> bool {
    rec.parent_id == 0 || rec.flags & FLAG_PARENT_REMOTE != 0
}

impl Rollup {
    fn add(&mut self, rec: &Record, now: Instant) {
        if self.closed.contains(&rec.trace_id) {
            return;
        }
        let Some(part) = Contribution::of(rec) else {
            return;
        };
        let open = self.open.entry(rec.trace_id).or_insert_with(|| Open {
            parts: Vec::new(),
            touched: now,
        });
        open.parts.push(part);
        open.touched = now;
    }

    /// Puts the trace's totals on its root.
    fn total(&mut self, root: &mut Record) {
        let mut parts = self
            .open
            .remove(&root.trace_id)
            .map(|o| o.parts)
            .unwrap_or_default();
        parts.retain(|p| p.end <= root.end);
        parts.extend(Contribution::of(root));
        self.close(root.trace_id);
        if parts.is_empty() {
            return;
        }
        let input: i64 = parts.iter().map(|p| p.input).sum();
        let output: i64 = parts.iter().map(|p| p.output).sum();
        root.set(Field::TraceInputTokens, Value::I64(input));
        root.set(Field::TraceOutputTokens, Value::I64(output));
        let costs: Vec<f64> = parts.iter().filter_map(|p| p.cost).collect();
        if !costs.is_empty() {
            root.set(Field::TraceCost, Value::F64(costs.iter().sum()));
        }
        let unpriced = parts.iter().filter(|p| p.unpriced).count();
        if unpriced > 0 {
            root.set(Field::TraceUnpricedCalls, Value::I64(unpriced as i64));
        }
    }

    fn close(&mut self, trace_id: u128) {
        if self.closed.insert(trace_id) {
            self.closed_order.push_back(trace_id);
            if self.closed_order.len() > CLOSED {
                if let Some(old) = self.closed_order.pop_front() {
                    self.closed.remove(&old);
                }
            }
        }
    }

    /// Forgets traces whose root never came, oldest first past the bound.
    fn sweep(&mut self, now: Instant) {
        let due = self
            .last_sweep
            .is_none_or(|t| now.duration_since(t) >= Duration::from_secs(10));
        if !due && self.open.len() <= MAX_OPEN {
            return;
        }
        self.last_sweep = Some(now);
        self.open
            .retain(|_, o| now.duration_since(o.touched) < MAX_AGE);
        if self.open.len() > MAX_OPEN {
            let mut by_age: Vec<(Instant, u128)> =
                self.open.iter().map(|(id, o)| (o.touched, *id)).collect();
            by_age.sort_unstable();
            for (_, id) in &by_age[..self.open.len() - MAX_OPEN] {
                self.open.remove(id);
            }
        }
    }
}

impl Stage for Rollup {
    fn process(&mut self, records: Vec<Record>, out: &mut Vec<Record>, _: &Counters) {
        let now = Instant::now();
        let mut roots = Vec::new();
        for rec in records {
            if is_root(&rec) {
                roots.push(rec);
            } else {
                self.add(&rec, now);
                out.push(rec);
            }
        }
        // Roots of the previous drain: every child pushed before them has arrived by now.
        for mut root in std::mem::replace(&mut self.waiting, roots) {
            self.total(&mut root);
            out.push(root);
        }
        self.sweep(now);
    }

    fn flush(&mut self, out: &mut Vec<Record>, _: &Counters) {
        // Called right after `process` on a final drain: nothing pushed earlier is missing.
        for mut root in std::mem::take(&mut self.waiting) {
            self.total(&mut root);
            out.push(root);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::{Callsite, Kind};

    static LLM: Callsite = Callsite::new(Kind::LlmCall, "chat", "m", &[], &[], 0);
    static FLOW: Callsite = Callsite::new(Kind::Workflow, "flow", "m", &[], &[], 0);

    fn rec(callsite: &'static Callsite, trace: u128, parent: u64, end: u64) -> Record {
        let mut r = Record::new(callsite, trace, end, parent, None, 0);
        r.end = end;
        r
    }

    fn call(trace: u128, end: u64, input: i64, output: i64, cost: Option<f64>) -> Record {
        let mut r = rec(&LLM, trace, 1, end);
        r.set(Field::InputTokens, Value::I64(input));
        r.set(Field::OutputTokens, Value::I64(output));
        match cost {
            Some(c) => r.set(Field::CostTotal, Value::F64(c)),
            None => r.set(Field::Unpriced, Value::Bool(true)),
        }
        r
    }

    fn totals(r: &Record) -> (Option<i64>, Option<i64>, Option<f64>, Option<i64>) {
        (
            r.get(Field::TraceInputTokens).and_then(Value::as_i64),
            r.get(Field::TraceOutputTokens).and_then(Value::as_i64),
            r.get(Field::TraceCost).and_then(Value::as_f64),
            r.get(Field::TraceUnpricedCalls).and_then(Value::as_i64),
        )
    }

    fn counters() -> Counters {
        Counters::default()
    }

    #[test]
    fn a_root_totals_children_that_ended_before_it() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut out = Vec::new();
        stage.process(
            vec![
                call(7, 10, 100, 20, Some(0.5)),
                call(7, 20, 50, 5, None),
                rec(&FLOW, 7, 0, 30),
            ],
            &mut out,
            &c,
        );
        // The root waits one drain, in case a child is still on its way.
        assert_eq!(out.len(), 2);
        stage.process(vec![call(7, 25, 1, 1, Some(0.25))], &mut out, &c);
        assert_eq!(out.len(), 4);
        let root = out.last().unwrap();
        assert_eq!(root.parent_id, 0);
        assert_eq!(totals(root), (Some(151), Some(26), Some(0.75), Some(1)));
    }

    #[test]
    fn late_children_are_not_counted_and_do_not_reopen() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut out = Vec::new();
        stage.process(
            vec![call(9, 10, 10, 1, Some(0.1)), rec(&FLOW, 9, 0, 30)],
            &mut out,
            &c,
        );
        // Ended after the root (a stream outliving its handler).
        stage.process(vec![call(9, 40, 1000, 1000, Some(9.0))], &mut out, &c);
        let root = out.iter().find(|r| r.parent_id == 0).unwrap();
        assert_eq!(totals(root), (Some(10), Some(1), Some(0.1), None));
        stage.process(vec![call(9, 50, 5, 5, Some(1.0))], &mut out, &c);
        assert!(stage.open.is_empty());
    }

    #[test]
    fn flush_totals_waiting_roots_and_a_lone_call_is_its_own_total() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut out = Vec::new();
        let mut lone = call(3, 5, 12, 3, Some(0.01));
        lone.parent_id = 0;
        stage.process(vec![lone, rec(&FLOW, 4, 0, 9)], &mut out, &c);
        assert!(out.is_empty());
        stage.flush(&mut out, &c);
        assert_eq!(out.len(), 2);
        assert_eq!(totals(&out[0]), (Some(12), Some(3), Some(0.01), None));
        // A root with nothing to total gets no roll-up.
        assert_eq!(totals(&out[1]), (None, None, None, None));
    }

    #[test]
    fn open_traces_are_bounded() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut out = Vec::new();
        let children: Vec<Record> = (0..MAX_OPEN as u128 + 100)
            .map(|t| call(t + 1000, 1, 1, 1, Some(0.0)))
            .collect();
        stage.process(children, &mut out, &c);
        assert!(stage.open.len() <= MAX_OPEN);
    }
}
