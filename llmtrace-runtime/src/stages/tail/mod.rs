//! The tail sampler on the export worker: spans wait, grouped by trace, until their root ends;
//! the trace is then kept or dropped whole. Decisions are remembered for a while, so spans that
//! end after their root follow them.
//!
//! Memory is bounded three ways: traces waiting (the oldest is decided early when a new one
//! would exceed the bound), spans per waiting trace (more are dropped and counted), and age (a
//! trace whose root does not come is decided on what it recorded).

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

mod sampler;

pub use sampler::TailSampler;

use super::stage::{Drain, Stage};
use crate::record::Record;
use crate::record::clock;
use crate::record::ids::TraceMap;
use crate::state::Counters;
use sampler::Evidence;

/// Decisions remembered for late spans, at most.
const DECISIONS: usize = 16_384;

struct Waiting {
    spans: Vec<Record>,
    evidence: Evidence,
    since: Instant,
}

/// See the module docs.
pub(crate) struct TailStage {
    sampler: TailSampler,
    waiting: TraceMap<Waiting>,
    /// Waiting traces by arrival (entries of traces already decided are skipped).
    arrivals: VecDeque<(Instant, u128)>,
    decided: TraceMap<bool>,
    decided_order: VecDeque<u128>,
}

impl std::fmt::Debug for TailStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TailStage")
            .field("sampler", &self.sampler)
            .field("waiting", &self.waiting.len())
            .field("decided", &self.decided.len())
            .finish()
    }
}

impl TailStage {
    pub(crate) fn new(sampler: TailSampler) -> Self {
        TailStage {
            sampler,
            waiting: TraceMap::default(),
            arrivals: VecDeque::new(),
            decided: TraceMap::default(),
            decided_order: VecDeque::new(),
        }
    }

    /// Spans waiting for a decision.
    #[cfg(test)]
    fn buffered(&self) -> usize {
        self.waiting.values().map(|w| w.spans.len()).sum()
    }

    fn remember(&mut self, trace_id: u128, keep: bool) {
        if self.decided.insert(trace_id, keep).is_none() {
            self.decided_order.push_back(trace_id);
            if self.decided_order.len() > DECISIONS {
                if let Some(old) = self.decided_order.pop_front() {
                    self.decided.remove(&old);
                }
            }
        }
    }

    /// Decides a waiting trace (`root` when it ended) and releases or drops its spans.
    fn decide(
        &mut self,
        trace_id: u128,
        root: Option<Record>,
        out: &mut Vec<Record>,
        counters: &Counters,
    ) {
        let mut waiting = self.waiting.remove(&trace_id).unwrap_or(Waiting {
            spans: Vec::new(),
            evidence: Evidence::default(),
            since: Instant::now(),
        });
        let took = root.as_ref().map(|r| {
            waiting.evidence.add(r, &self.sampler);
            Duration::from_nanos(clock::nanos_between(r.start, r.end))
        });
        let keep = waiting.evidence.keep(&self.sampler, trace_id, took);
        self.remember(trace_id, keep);
        let spans = waiting.spans.into_iter().chain(root);
        if keep {
            out.extend(spans);
        } else {
            counters
                .sampled_out
                .fetch_add(spans.count() as u64, Ordering::Relaxed);
        }
    }

    fn hold(&mut self, rec: Record, now: Instant, out: &mut Vec<Record>, counters: &Counters) {
        let trace_id = rec.trace_id;
        if !self.waiting.contains_key(&trace_id) {
            // Room for one more trace: the oldest waiting one is decided now.
            while self.waiting.len() >= self.sampler.max_traces {
                let Some((_, oldest)) = self.arrivals.pop_front() else {
                    break;
                };
                if self.waiting.contains_key(&oldest) {
                    self.decide(oldest, None, out, counters);
                }
            }
            self.arrivals.push_back((now, trace_id));
        }
        let waiting = self.waiting.entry(trace_id).or_insert_with(|| Waiting {
            spans: Vec::new(),
            evidence: Evidence::default(),
            since: now,
        });
        // A dropped span still counts as evidence: a trace whose 2,000th span failed is kept.
        waiting.evidence.add(&rec, &self.sampler);
        if waiting.spans.len() < self.sampler.max_spans_per_trace {
            waiting.spans.push(rec);
        } else {
            counters.dropped_limits.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Decides traces that waited too long for their root.
    fn expire(&mut self, now: Instant, out: &mut Vec<Record>, counters: &Counters) {
        while let Some(&(since, trace_id)) = self.arrivals.front() {
            let current = self.waiting.get(&trace_id).map(|w| w.since);
            if current.is_some() && now.duration_since(since) < self.sampler.max_age {
                break;
            }
            self.arrivals.pop_front();
            if current == Some(since) {
                self.decide(trace_id, None, out, counters);
            }
        }
    }
}

impl Stage for TailStage {
    fn process(&mut self, records: &mut Vec<Record>, _: &Drain, counters: &Counters) {
        let now = Instant::now();
        for rec in std::mem::take(records) {
            // A test capture sees every span it started, whatever any sampler says.
            if rec.scope.as_ref().is_some_and(|s| s.capture.is_some()) {
                records.push(rec);
                continue;
            }
            if let Some(&keep) = self.decided.get(&rec.trace_id) {
                if keep {
                    records.push(rec);
                } else {
                    counters.sampled_out.fetch_add(1, Ordering::Relaxed);
                }
            } else if rec.is_local_root() {
                self.decide(rec.trace_id, Some(rec), records, counters);
            } else {
                self.hold(rec, now, records, counters);
            }
        }
        self.expire(now, records, counters);
    }

    fn flush(&mut self, records: &mut Vec<Record>, counters: &Counters) {
        // A flush exports what ended so far: waiting traces are decided on what they have.
        let ids: Vec<u128> = self.arrivals.drain(..).map(|(_, id)| id).collect();
        for id in ids {
            if self.waiting.contains_key(&id) {
                self.decide(id, None, records, counters);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Callsite, Field, Kind, Status, Value};

    static TOOL: Callsite = Callsite::new(Kind::Tool, "lookup", "m", &[], &[], 0);
    static FLOW: Callsite = Callsite::new(Kind::Workflow, "flow", "m", &[], &[], 0);

    fn span(trace: u128, parent: u64, millis: u64) -> Record {
        crate::record::clock::init();
        let start = clock::now();
        let mut r = Record::new(
            if parent == 0 { &FLOW } else { &TOOL },
            trace,
            trace as u64 + parent,
            parent,
            None,
            start,
        );
        // Durations are raw clock units; the test clock runs at least as fast as nanoseconds
        // only on some machines, so spans are timed for real.
        if millis > 0 {
            std::thread::sleep(Duration::from_millis(millis));
        }
        r.end = clock::now();
        r
    }

    fn failed(mut r: Record) -> Record {
        r.status = Status::Error;
        r
    }

    fn run(stage: &mut TailStage, records: Vec<Record>, counters: &Counters) -> Vec<Record> {
        let mut records = records;
        stage.process(&mut records, &Drain { started: 0 }, counters);
        records
    }

    /// Trace ids whose high bits put them above any rate below 1: the base rate keeps none.
    fn id(n: u128) -> u128 {
        (u128::MAX << 64) | n
    }

    #[test]
    fn a_zero_rate_keeps_exactly_the_errors_and_the_slow() {
        let mut stage = TailStage::new(
            TailSampler::keep_fraction(0.0).keep_slower_than(Duration::from_millis(30)),
        );
        let c = Counters::default();
        let mut out = Vec::new();
        // Trace 1: a failing child. Trace 2: ordinary. Trace 3: slow root.
        out.extend(run(
            &mut stage,
            vec![failed(span(id(1), 7, 0)), span(id(2), 7, 0)],
            &c,
        ));
        assert!(out.is_empty(), "children wait for their root");
        out.extend(run(
            &mut stage,
            vec![span(id(1), 0, 0), span(id(2), 0, 0), span(id(3), 0, 40)],
            &c,
        ));
        let kept: Vec<(u128, u64)> = out.iter().map(|r| (r.trace_id, r.parent_id)).collect();
        assert_eq!(kept, [(id(1), 7), (id(1), 0), (id(3), 0)]);
        assert_eq!(c.sampled_out.load(Ordering::Relaxed), 2);
        // A late child follows its trace's decision.
        let late = run(&mut stage, vec![span(id(2), 9, 0), span(id(1), 9, 0)], &c);
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].trace_id, id(1));
        assert_eq!(c.sampled_out.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn rules_on_attributes_tokens_and_cost() {
        let mut stage = TailStage::new(
            TailSampler::keep_fraction(0.0)
                .keep_tokens_over(1_000)
                .keep_cost_over(0.10)
                .keep_when("gen_ai.tool.name", "lookup"),
        );
        let c = Counters::default();
        let mut tokens = span(id(1), 0, 0);
        tokens.set(Field::InputTokens, Value::I64(900));
        tokens.set(Field::OutputTokens, Value::I64(101));
        let mut cost = span(id(2), 0, 0);
        cost.set(Field::CostTotal, Value::F64(0.11));
        let mut cheap = span(id(3), 0, 0);
        cheap.set(Field::CostTotal, Value::F64(0.09));
        let named = span(id(4), 7, 0);
        let out = run(
            &mut stage,
            vec![tokens, cost, cheap, named, span(id(4), 0, 0)],
            &c,
        );
        let kept: Vec<u128> = out.iter().map(|r| r.trace_id).collect();
        assert_eq!(kept, [id(1), id(2), id(4), id(4)]);
    }

    #[test]
    fn the_base_rate_keeps_its_fraction_by_trace_id() {
        let sampler = TailSampler::keep_fraction(0.25);
        let kept = (0..4_000u128)
            .filter(|i| sampler.by_rate(i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)))
            .count();
        assert!((800..1_200).contains(&kept), "{kept}");
        assert!(TailSampler::keep_fraction(1.0).by_rate(id(5)));
        assert!(!TailSampler::keep_fraction(0.0).by_rate(0));
    }

    #[test]
    fn memory_holds_under_a_flood_of_traces_that_never_end() {
        let mut stage = TailStage::new(
            TailSampler::keep_fraction(0.0)
                .max_traces(50)
                .max_spans_per_trace(4),
        );
        let c = Counters::default();
        for round in 0..20u128 {
            let flood: Vec<Record> = (0..100u128)
                .flat_map(|t| (0..10).map(move |s| span(id(round * 1_000 + t), 1 + s, 0)))
                .collect();
            run(&mut stage, flood, &c);
            assert!(stage.waiting.len() <= 50);
            assert!(stage.buffered() <= 50 * 4);
        }
        // 2,000 traces of 10 spans: those past 4 per trace dropped and counted, the others
        // decided early (no error, rate 0: not kept).
        assert_eq!(c.dropped_limits.load(Ordering::Relaxed), 2_000 * 6);
        let mut out = Vec::new();
        stage.flush(&mut out, &c);
        assert!(out.is_empty());
        assert_eq!(c.sampled_out.load(Ordering::Relaxed), 2_000 * 4);
        assert!(stage.waiting.is_empty());
    }

    #[test]
    fn an_error_in_a_trace_decided_early_is_still_kept() {
        let mut stage = TailStage::new(TailSampler::keep_fraction(0.0).max_traces(1));
        let c = Counters::default();
        let out = run(
            &mut stage,
            vec![failed(span(id(1), 7, 0)), span(id(2), 7, 0)],
            &c,
        );
        // Trace 2 pushed trace 1 out: decided on its error, and kept.
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].trace_id, id(1));
    }

    #[test]
    fn traces_whose_root_never_comes_expire() {
        let mut stage =
            TailStage::new(TailSampler::keep_fraction(0.0).max_age(Duration::from_millis(20)));
        let c = Counters::default();
        run(&mut stage, vec![failed(span(id(1), 7, 0))], &c);
        std::thread::sleep(Duration::from_millis(30));
        let out = run(&mut stage, Vec::new(), &c);
        assert_eq!(out.len(), 1);
        assert!(stage.waiting.is_empty());
    }
}
