//! Agent totals: when an `#[agent]` span ends, it carries what its own spans did: its model
//! calls, tool calls and steps counted, their token usage and cost summed, and the model they
//! all used when they used one. Its own spans are those that ran inside it and not inside one
//! of its sub-agents (each span's scope names its innermost agent: see `Span::begin_agent`),
//! so a sub-agent's calls count for the sub-agent only.
//!
//! Runs after cost and the roll-up: the roll-up totals the trace from each span's own usage,
//! before this stage adds the agent's. As with the roll-up, an agent that ended while the rings
//! were read waits for the next read (a span of it may still be on its way); spans that ended
//! after their agent are not counted.
//!
//! An `#[evaluator]` is totalled the same way, over the model calls inside it (its judges, in
//! sub-agents too, not in a nested evaluator): their usage and cost go to
//! `llmtrace.evaluator.*`. They count for no agent: an evaluator starts its spans outside any
//! agent (see `Span::begin_evaluator`).

use super::pending::{Now, Pending};
use super::stage::{Drain, Stage};
use crate::record::{Field, Kind, Record, Value};
use crate::state::Counters;

/// What one span adds to its agent's totals.
#[derive(Clone, Debug)]
struct Part {
    end: u64,
    kind: Kind,
    input: Option<u64>,
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_write: Option<u64>,
    cost: Option<f64>,
    model: Option<Value>,
}

impl Part {
    fn of(rec: &Record) -> Part {
        Part {
            end: rec.end,
            kind: rec.kind(),
            input: rec.token(Field::InputTokens),
            output: rec.token(Field::OutputTokens),
            cache_read: rec.token(Field::CacheReadTokens),
            cache_write: rec.token(Field::CacheWriteTokens),
            cost: rec.cost(),
            model: match rec.kind() {
                Kind::LlmCall => rec
                    .get(Field::ResponseModel)
                    .or_else(|| rec.get(Field::Model))
                    .cloned(),
                _ => None,
            },
        }
    }
}

/// The agent stage.
#[derive(Debug, Default)]
pub(crate) struct AgentTotals {
    /// What spans did, by the span id of their agent, waiting for it to end.
    pending: Pending<u64, Part>,
    /// What model calls inside an evaluator did, by the evaluator's span id.
    judges: Pending<u64, Part>,
    /// Agents and evaluators that ended during the last read, totalled at the next one.
    waiting: Vec<Record>,
}

/// The agent a record ran for, and whether the record is that agent itself.
fn agent_of(rec: &Record) -> Option<(u64, bool)> {
    let agent = rec.scope.as_deref()?.agent.as_ref()?;
    Some((agent.span_id, agent.span_id == rec.span_id))
}

fn is_agent(rec: &Record) -> bool {
    rec.kind() == Kind::Agent && agent_of(rec).is_some_and(|(_, own)| own)
}

/// The evaluator a record ran inside, if it is not that evaluator.
fn evaluator_of(rec: &Record) -> Option<u64> {
    let evaluator = rec.scope.as_deref()?.evaluator?;
    (evaluator != rec.span_id).then_some(evaluator)
}

fn is_evaluator(rec: &Record) -> bool {
    rec.kind() == Kind::Evaluator
        && rec
            .scope
            .as_deref()
            .is_some_and(|s| s.evaluator == Some(rec.span_id))
}

/// Whether the stage puts totals on the record.
fn is_totalled(rec: &Record) -> bool {
    is_agent(rec) || is_evaluator(rec)
}

impl AgentTotals {
    fn add(&mut self, rec: &Record, now: &mut Now) {
        // An agent's record holds the sum of its calls: its calls are counted themselves.
        if let (Some(evaluator), false) = (evaluator_of(rec), rec.kind() == Kind::Agent) {
            if !self.judges.is_closed(evaluator) {
                self.judges.add(evaluator, Part::of(rec), now.get());
            }
        }
        let Some((agent, false)) = agent_of(rec) else {
            return;
        };
        if !self.pending.is_closed(agent) {
            self.pending.add(agent, Part::of(rec), now.get());
        }
    }

    /// Puts its totals on an agent or an evaluator.
    fn total(&mut self, rec: &mut Record) {
        if is_evaluator(rec) {
            self.total_evaluator(rec);
        } else {
            self.total_agent(rec);
        }
    }

    /// Puts the usage and cost of the model calls inside it on an evaluator.
    fn total_evaluator(&mut self, evaluator: &mut Record) {
        let mut parts = self.judges.take(evaluator.span_id).unwrap_or_default();
        self.judges.close(evaluator.span_id);
        parts.retain(|p| p.end <= evaluator.end);
        let input = parts
            .iter()
            .filter_map(|p| p.input)
            .reduce(u64::saturating_add);
        let output = parts
            .iter()
            .filter_map(|p| p.output)
            .reduce(u64::saturating_add);
        if let Some(n) = input {
            evaluator.set(Field::EvaluatorInputTokens, Value::from(n));
        }
        if let Some(n) = output {
            evaluator.set(Field::EvaluatorOutputTokens, Value::from(n));
        }
        let cost: Vec<f64> = parts.iter().filter_map(|p| p.cost).collect();
        if !cost.is_empty() {
            evaluator.set(Field::EvaluatorCost, Value::F64(cost.iter().sum()));
        }
    }

    /// Puts the totals of its own spans on an agent.
    fn total_agent(&mut self, agent: &mut Record) {
        let mut parts = self.pending.take(agent.span_id).unwrap_or_default();
        // Closed even with no spans: one that ends after it does not open it again.
        self.pending.close(agent.span_id);
        parts.retain(|p| p.end <= agent.end);
        let count = |kind: Kind| parts.iter().filter(|p| p.kind == kind).count() as i64;
        agent.set(Field::AgentInferenceCalls, Value::I64(count(Kind::LlmCall)));
        agent.set(Field::AgentToolCalls, Value::I64(count(Kind::Tool)));
        agent.set(Field::AgentSteps, Value::I64(count(Kind::Step)));
        // The agent's own usage and cost (a hosted agent's, recorded in its span) plus its
        // calls'.
        let own = Part::of(agent);
        let sum = |read: fn(&Part) -> Option<u64>| -> Option<u64> {
            std::iter::once(&own)
                .chain(&parts)
                .filter_map(read)
                .reduce(u64::saturating_add)
        };
        for (field, total) in [
            (Field::InputTokens, sum(|p| p.input)),
            (Field::OutputTokens, sum(|p| p.output)),
            (Field::CacheReadTokens, sum(|p| p.cache_read)),
            (Field::CacheWriteTokens, sum(|p| p.cache_write)),
        ] {
            if let Some(n) = total {
                agent.set(field, Value::from(n));
            }
        }
        let cost: Vec<f64> = std::iter::once(&own)
            .chain(&parts)
            .filter_map(|p| p.cost)
            .collect();
        if !cost.is_empty() {
            agent.set(Field::AgentCost, Value::F64(cost.iter().sum()));
        }
        // `gen_ai.request.model` on an agent: its own, else the one model all its calls used.
        if agent.get(Field::Model).is_none() {
            let mut models = parts.iter().filter_map(|p| p.model.as_ref());
            if let Some(first) = models.next() {
                if models.all(|m| m.as_str() == first.as_str()) {
                    agent.set(Field::Model, first.clone());
                }
            }
        }
    }

    /// Puts released agents before the first local root in `records`: an agent's ancestors
    /// (its root among them) come after it, as they ended after it.
    fn release(records: &mut Vec<Record>, agents: Vec<Record>) {
        if agents.is_empty() {
            return;
        }
        let at = records
            .iter()
            .position(Record::is_local_root)
            .unwrap_or(records.len());
        records.splice(at..at, agents);
    }
}

impl Stage for AgentTotals {
    fn process(&mut self, records: &mut Vec<Record>, drain: &Drain, _: &Counters) {
        // Spans outside every agent and evaluator, with no part open and no agent held: nothing
        // to add, total or forget. That is every span of an application without agents, and the
        // host modes run this on the thread that ends each span.
        if self.waiting.is_empty()
            && self.pending.open_len() == 0
            && self.judges.open_len() == 0
            && records.iter().all(|r| {
                r.scope
                    .as_deref()
                    .is_none_or(|s| s.agent.is_none() && s.evaluator.is_none())
            })
        {
            return;
        }
        let mut now = Now::default();
        for rec in records.iter() {
            self.add(rec, &mut now);
        }
        // Agents held from the previous read: every span pushed before them has arrived.
        let mut ready = std::mem::take(&mut self.waiting);
        // Agents that ended while the rings were read wait for the next read; the others are
        // totalled where they are.
        self.waiting
            .extend(records.extract_if(.., |r| is_totalled(r) && r.end >= drain.started));
        for agent in records.iter_mut().filter(|r| is_totalled(r)) {
            self.total(agent);
        }
        for agent in &mut ready {
            self.total(agent);
        }
        Self::release(records, ready);
        self.pending.sweep(&mut now);
        self.judges.sweep(&mut now);
    }

    fn flush(&mut self, records: &mut Vec<Record>, _: &Counters) {
        if self.waiting.is_empty() {
            return;
        }
        // Called right after `process` on a final drain: nothing pushed earlier is missing.
        let mut ready = std::mem::take(&mut self.waiting);
        for agent in &mut ready {
            self.total(agent);
        }
        Self::release(records, ready);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::record::{AgentRef, Callsite, Scope};

    static LLM: Callsite = Callsite::new(Kind::LlmCall, "chat", "m", &[], &[], 0);
    static TOOL: Callsite = Callsite::new(Kind::Tool, "lookup", "m", &[], &[], 0);
    static STEP: Callsite = Callsite::new(Kind::Step, "step", "m", &[], &[], 0);
    static AGENT: Callsite = Callsite::new(Kind::Agent, "agent", "m", &[], &[], 0);

    fn scope_of(agent: u64) -> Option<Arc<Scope>> {
        Some(Arc::new(Scope {
            agent: Some(AgentRef {
                span_id: agent,
                name: Some(Value::Str("a")),
            }),
            ..Scope::default()
        }))
    }

    fn rec(callsite: &'static Callsite, span: u64, agent: u64, end: u64) -> Record {
        let mut r = Record::new(callsite, 1, span, 99, scope_of(agent), 0);
        r.end = end;
        r
    }

    fn call(span: u64, agent: u64, end: u64, input: i64, cost: f64, model: &'static str) -> Record {
        let mut r = rec(&LLM, span, agent, end);
        r.set(Field::InputTokens, Value::I64(input));
        r.set(Field::OutputTokens, Value::I64(1));
        r.set(Field::CostTotal, Value::F64(cost));
        r.set(Field::Model, Value::Str(model));
        r
    }

    fn int(r: &Record, field: Field) -> Option<i64> {
        r.get(field)
            .and_then(Value::as_i64)
            .or_else(|| r.token(field).map(|n| n as i64))
    }

    fn late_read() -> Drain {
        Drain { started: u64::MAX }
    }

    fn early_read() -> Drain {
        Drain { started: 0 }
    }

    #[test]
    fn an_agent_totals_its_own_spans_not_its_sub_agents() {
        let mut stage = AgentTotals::default();
        let c = Counters::default();
        // Agent 10 calls a model, a tool and a step, and a sub-agent 20 that calls a model.
        let mut out = vec![
            call(11, 10, 5, 100, 0.5, "gpt-4o"),
            rec(&TOOL, 12, 10, 6),
            rec(&STEP, 13, 10, 7),
            call(21, 20, 8, 1000, 9.0, "other"),
            rec(&AGENT, 20, 20, 9),
            rec(&AGENT, 10, 10, 30),
        ];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(out.len(), 6);
        let sub = out.iter().find(|r| r.span_id == 20).unwrap();
        assert_eq!(int(sub, Field::AgentInferenceCalls), Some(1));
        assert_eq!(int(sub, Field::InputTokens), Some(1000));
        let agent = out.iter().find(|r| r.span_id == 10).unwrap();
        assert_eq!(int(agent, Field::AgentInferenceCalls), Some(1));
        assert_eq!(int(agent, Field::AgentToolCalls), Some(1));
        assert_eq!(int(agent, Field::AgentSteps), Some(1));
        assert_eq!(int(agent, Field::InputTokens), Some(100));
        assert_eq!(int(agent, Field::OutputTokens), Some(1));
        assert_eq!(agent.get(Field::AgentCost), Some(&Value::F64(0.5)));
        assert_eq!(agent.get(Field::Model), Some(&Value::Str("gpt-4o")));
    }

    #[test]
    fn an_agent_that_ended_during_the_read_waits_one_read() {
        let mut stage = AgentTotals::default();
        let c = Counters::default();
        let mut out = vec![call(11, 10, 5, 100, 0.5, "m"), rec(&AGENT, 10, 10, 30)];
        stage.process(&mut out, &early_read(), &c);
        assert_eq!(out.len(), 1, "the agent is held");
        // Its model call pushed while the rings were read, and one that ended after it.
        let mut out = vec![
            call(12, 10, 20, 50, 0.25, "m"),
            call(13, 10, 40, 7, 1.0, "m"),
        ];
        stage.process(&mut out, &late_read(), &c);
        let agent = out.iter().find(|r| r.span_id == 10).unwrap();
        assert_eq!(int(agent, Field::AgentInferenceCalls), Some(2));
        assert_eq!(int(agent, Field::InputTokens), Some(150));
        // Late spans open nothing.
        stage.process(&mut vec![call(14, 10, 50, 1, 1.0, "m")], &late_read(), &c);
        assert_eq!(stage.pending.open_len(), 0);
    }

    #[test]
    fn spans_outside_agents_leave_what_is_open_or_held_alone() {
        let mut stage = AgentTotals::default();
        let c = Counters::default();
        let plain = |span: u64, end: u64| {
            let mut r = Record::new(&LLM, 1, span, 0, None, 0);
            r.end = end;
            r
        };
        // Nothing open or held: spans outside agents pass through as they are.
        let mut out = vec![plain(1, 5), plain(2, 6)];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(out.len(), 2);
        assert_eq!(int(&out[0], Field::AgentInferenceCalls), None);
        // An agent's call is open, spans outside agents come, then the agent: it counts the
        // call.
        stage.process(&mut vec![call(11, 10, 5, 100, 0.5, "m")], &late_read(), &c);
        assert_eq!(stage.pending.open_len(), 1);
        let mut out = vec![plain(3, 7)];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(stage.pending.open_len(), 1);
        let mut out = vec![rec(&AGENT, 10, 10, 30)];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(int(&out[0], Field::AgentInferenceCalls), Some(1));
        assert_eq!(int(&out[0], Field::InputTokens), Some(100));
        // An agent held for the next read is released by a read of spans outside agents.
        stage.process(&mut vec![rec(&AGENT, 20, 20, 30)], &early_read(), &c);
        let mut out = vec![plain(4, 40)];
        stage.process(&mut out, &late_read(), &c);
        assert_eq!(out.iter().map(|r| r.span_id).collect::<Vec<_>>(), [20, 4]);
    }

    #[test]
    fn released_agents_come_before_their_roots() {
        let mut stage = AgentTotals::default();
        let c = Counters::default();
        let mut out = vec![rec(&AGENT, 10, 10, 30)];
        stage.process(&mut out, &early_read(), &c);
        let mut root = Record::new(&LLM, 1, 1, 0, None, 0);
        root.end = 40;
        let mut out = vec![call(11, 10, 5, 1, 0.1, "m"), root];
        stage.process(&mut out, &late_read(), &c);
        let order: Vec<u64> = out.iter().map(|r| r.span_id).collect();
        assert_eq!(order, [11, 10, 1]);
        // A flush releases what waits.
        let mut out = vec![rec(&AGENT, 30, 30, 30)];
        stage.process(&mut out, &early_read(), &c);
        assert!(out.is_empty());
        stage.flush(&mut out, &c);
        assert_eq!(int(&out[0], Field::AgentInferenceCalls), Some(0));
    }
}
