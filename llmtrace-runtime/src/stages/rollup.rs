//! Roll-up: when a trace's root ends, it carries the tokens and cost of the whole trace (its own
//! and those of every span of the trace that ended before it), as `llmtrace.trace.*`.
//!
//! Runs after cost is computed. In native mode spans reach the export worker through per-thread
//! rings read one after the other, so a child that ended just before its root may arrive one
//! read later than the root, if it was pushed while the rings were being read. A root that
//! ended before the read began is totalled at once: its children ended, and were pushed,
//! before it. Only a root that ended during the read is held until the next one (a flush totals
//! at once, after its final read). Children that ended after the root ("late children") are
//! not counted, as their end time shows, and do not reopen the trace. Spans inside an
//! `#[evaluator]` (an LLM judge's calls) judge the trace rather than serve it: they are not
//! counted (the evaluator carries their totals, see the agent stage). In the host modes the stage
//! sees each span as it ends, so every root is totalled at once.

use super::pending::{Now, Pending};
use super::stage::{Drain, Stage};
use crate::record::{Field, Record, Value};
use crate::state::Counters;

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
        let input = rec.token(Field::InputTokens).map(|n| n as i64);
        let output = rec.token(Field::OutputTokens).map(|n| n as i64);
        let cost = rec.cost();
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

/// The roll-up stage.
#[derive(Debug, Default)]
pub(crate) struct Rollup {
    /// Contributions by trace id, waiting for the trace's root.
    pending: Pending<u128, Contribution>,
    /// Roots that arrived in the last drain, totalled at the next one.
    waiting: Vec<Record>,
}

impl Rollup {
    fn add(&mut self, rec: &Record, now: &mut Now) {
        if self.pending.is_closed(rec.trace_id) || rec.in_evaluator() {
            return;
        }
        if let Some(part) = Contribution::of(rec) {
            self.pending.add(rec.trace_id, part, now.get());
        }
    }

    /// Puts the trace's totals on its root: its own usage and cost and those of the spans
    /// below it. A root nothing below it reported on (a lone model call) gets no totals: they
    /// would repeat its own.
    fn total(&mut self, root: &mut Record) {
        let Some(mut parts) = self.pending.take(root.trace_id) else {
            return;
        };
        parts.retain(|p| p.end <= root.end);
        if parts.is_empty() {
            return;
        }
        parts.extend(Contribution::of(root));
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
}

impl Stage for Rollup {
    fn process(&mut self, records: &mut Vec<Record>, drain: &Drain, _: &Counters) {
        // Roots alone, ended before this read, with no children's parts open and no root held:
        // each is a trace of one span, which has no totals to carry. The host modes run this
        // on the thread that ends each span, most of them such roots.
        if self.waiting.is_empty()
            && self.pending.open_len() == 0
            && records
                .iter()
                .all(|r| r.is_local_root() && r.end < drain.started)
        {
            return;
        }
        let mut now = Now::default();
        for rec in records.iter().filter(|r| !r.is_local_root()) {
            self.add(rec, &mut now);
        }
        // Roots held from the previous read: every child pushed before them has arrived.
        let ready = std::mem::take(&mut self.waiting);
        // Roots that ended while the rings were read wait for the next read; the others (nearly
        // all) are totalled where they are, without moving.
        self.waiting
            .extend(records.extract_if(.., |r| r.is_local_root() && r.end >= drain.started));
        for root in records.iter_mut().filter(|r| r.is_local_root()) {
            self.total(root);
        }
        for mut root in ready {
            self.total(&mut root);
            records.push(root);
        }
        self.pending.sweep(&mut now);
    }

    fn flush(&mut self, records: &mut Vec<Record>, _: &Counters) {
        if self.waiting.is_empty() {
            return;
        }
        // Called right after `process` on a final drain: nothing pushed earlier is missing.
        for mut root in std::mem::take(&mut self.waiting) {
            self.total(&mut root);
            records.push(root);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Callsite, Kind};

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

    /// A read that began after every record of these tests ended.
    fn late_read() -> Drain {
        Drain { started: u64::MAX }
    }

    /// A read that began before every record of these tests ended.
    fn early_read() -> Drain {
        Drain { started: 0 }
    }

    #[test]
    fn a_root_totals_children_that_ended_before_it() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut out = vec![
            call(7, 10, 100, 20, Some(0.5)),
            call(7, 20, 50, 5, None),
            rec(&FLOW, 7, 0, 30),
        ];
        // The root ended while the rings were read: it waits one read, in case a child is
        // still on its way.
        stage.process(&mut out, &early_read(), &c);
        assert_eq!(out.len(), 2);
        let mut out = vec![call(7, 25, 1, 1, Some(0.25))];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(out.len(), 2);
        let root = out.last().unwrap();
        assert_eq!(root.parent_id, 0);
        assert_eq!(totals(root), (Some(151), Some(26), Some(0.75), Some(1)));
    }

    #[test]
    fn late_children_are_not_counted_and_do_not_reopen() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut out = vec![call(9, 10, 10, 1, Some(0.1)), rec(&FLOW, 9, 0, 30)];
        stage.process(&mut out, &early_read(), &c);
        // Ended after the root (a stream outliving its handler), arriving while it waits.
        let mut out = vec![call(9, 40, 1000, 1000, Some(9.0))];
        stage.process(&mut out, &late_read(), &c);
        let root = out.iter().find(|r| r.parent_id == 0).unwrap();
        assert_eq!(totals(root), (Some(10), Some(1), Some(0.1), None));
        stage.process(&mut vec![call(9, 50, 5, 5, Some(1.0))], &late_read(), &c);
        assert_eq!(stage.pending.open_len(), 0);
    }

    #[test]
    fn roots_ended_before_the_read_are_totalled_at_once() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut out = vec![call(8, 10, 4, 2, Some(0.5)), rec(&FLOW, 8, 0, 30)];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(out.len(), 2);
        assert_eq!(totals(&out[1]), (Some(4), Some(2), Some(0.5), None));
        assert!(stage.waiting.is_empty());
    }

    #[test]
    fn flush_totals_waiting_roots_and_lone_roots_get_no_totals() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut lone = call(3, 5, 12, 3, Some(0.01));
        lone.parent_id = 0;
        let mut parent = call(5, 9, 1, 1, Some(0.5));
        parent.parent_id = 0;
        let mut out = vec![
            lone,
            rec(&FLOW, 4, 0, 9),
            call(5, 8, 2, 2, Some(0.25)),
            parent,
        ];
        stage.process(&mut out, &early_read(), &c);
        assert_eq!(out.len(), 1);
        stage.flush(&mut out, &c);
        assert_eq!(out.len(), 4);
        // A lone call's totals would be its own numbers; a root with nothing below: nothing.
        assert_eq!(totals(&out[1]), (None, None, None, None));
        assert_eq!(totals(&out[2]), (None, None, None, None));
        // A call with a call below it totals both.
        assert_eq!(totals(&out[3]), (Some(3), Some(3), Some(0.75), None));
    }

    #[test]
    fn lone_roots_pass_through_and_one_ending_during_the_read_still_waits() {
        let mut stage = Rollup::default();
        let c = counters();
        // Roots alone, ended before the read: passed on as they are, nothing kept.
        let mut out = vec![rec(&FLOW, 1, 0, 10), rec(&FLOW, 2, 0, 20)];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(out.len(), 2);
        assert_eq!(totals(&out[0]), (None, None, None, None));
        assert!(stage.waiting.is_empty() && stage.pending.open_len() == 0);
        // A root alone that ended during the read waits one read all the same: a child of it
        // may still be on its way.
        let mut out = vec![rec(&FLOW, 3, 0, 30)];
        stage.process(&mut out, &early_read(), &c);
        assert!(out.is_empty());
        let mut out = vec![call(3, 25, 4, 2, Some(0.5))];
        stage.process(&mut out, &late_read(), &c);
        let root = out.iter().find(|r| r.parent_id == 0).unwrap();
        assert_eq!(totals(root), (Some(4), Some(2), Some(0.5), None));
        // A child's part open: a lone root read meanwhile leaves it for its own root.
        stage.process(&mut vec![call(5, 8, 2, 2, Some(0.25))], &late_read(), &c);
        let mut out = vec![rec(&FLOW, 6, 0, 9)];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(totals(&out[0]), (None, None, None, None));
        let mut out = vec![rec(&FLOW, 5, 0, 9)];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(totals(&out[0]), (Some(2), Some(2), Some(0.25), None));
    }

    #[test]
    fn calls_inside_an_evaluator_are_not_counted() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut judge = call(6, 10, 40, 2, Some(0.25));
        judge.scope = Some(std::sync::Arc::new(crate::record::Scope {
            evaluator: Some(42),
            ..crate::record::Scope::default()
        }));
        let mut out = vec![judge, call(6, 12, 100, 10, Some(0.5)), rec(&FLOW, 6, 0, 30)];
        stage.process(&mut out, &late_read(), &c);
        let root = out.iter().find(|r| r.parent_id == 0).unwrap();
        assert_eq!(totals(root), (Some(100), Some(10), Some(0.5), None));
    }

    #[test]
    fn open_traces_are_bounded() {
        let mut stage = Rollup::default();
        let c = counters();
        let mut children: Vec<Record> = (0..super::super::pending::MAX_OPEN as u128 + 100)
            .map(|t| call(t + 1000, 1, 1, 1, Some(0.0)))
            .collect();
        stage.process(&mut children, &late_read(), &c);
        assert!(stage.pending.open_len() <= super::super::pending::MAX_OPEN);
    }
}
