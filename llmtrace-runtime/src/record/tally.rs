//! What a sampled-out call keeps for the metrics: its callsite, start and end, token counts,
//! answering model, error type, the arguments the metrics' attributes read, and an agent's call
//! counts. No span record is built for it; the stages that price and count calls turn it into
//! one (see `handoff::tally`).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use super::{Callsite, Field, Kind, Record, Status, Tokens, Value};

/// The calls a sampled-out agent made itself (not those of its sub-agents), counted by the
/// tallies of the calls as they end: shared, because a call can end on another thread.
#[derive(Debug, Default)]
pub(crate) struct AgentCalls {
    inference: AtomicU32,
    tools: AtomicU32,
    /// The model of the first model call, and whether a later one used another: an agent that
    /// names no model gets the one model all its calls used (as the agent stage does).
    model: OnceLock<Value>,
    mixed: AtomicBool,
    /// The agent's name, which its tools carry (`gen_ai.agent.name` on their metrics, as the
    /// agent's scope gives it to recorded tools).
    name: OnceLock<Value>,
}

/// The metrics of one sampled-out call.
///
/// What most calls have is inline; the rest (an error, run-time arguments, an agent) is boxed:
/// the tally moves from the guard to its ring by value, and at 128 bytes or less those moves
/// stay a few register copies rather than calls of `memcpy`.
#[doc(hidden)]
#[derive(Debug)]
pub struct Tally {
    pub(crate) callsite: &'static Callsite,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) tokens: Tokens,
    /// The model that answered (`gen_ai.response.model`).
    pub(crate) response_model: Option<Value>,
    /// Seconds from the start to the first chunk with content, for a stream.
    pub(crate) time_to_first_chunk: Option<f64>,
    /// Seconds per chunk after the first, for a stream.
    pub(crate) time_per_output_chunk: Option<f64>,
    more: Option<Box<More>>,
}

/// What fewer calls have.
#[derive(Debug, Default)]
struct More {
    /// The error type of a failed call.
    error_type: Option<Value>,
    /// Arguments given as expressions that the metrics' attributes read (the request model, a
    /// provider chosen at run time), and a cost recorded by hand.
    fields: Vec<(Field, Value)>,
    /// The agent this call works for (see [`Tally::under`]); for an agent, its own calls.
    agent: Option<Arc<AgentCalls>>,
    /// An agent's model calls and tools, read when it ends.
    agent_calls: Option<(u32, u32)>,
    /// The one model an agent's calls used, read when it ends.
    agent_model: Option<Value>,
}

impl Tally {
    #[inline(always)]
    pub(crate) fn new(callsite: &'static Callsite, start: u64) -> Self {
        Tally {
            callsite,
            start,
            end: start,
            tokens: Tokens::default(),
            response_model: None,
            time_to_first_chunk: None,
            time_per_output_chunk: None,
            more: None,
        }
    }

    /// Whether calls of this kind have metrics: model calls (token usage, durations, cost),
    /// tools (their duration) and agents (their duration and call counts).
    #[inline(always)]
    pub(crate) fn counts(callsite: &Callsite) -> bool {
        matches!(
            callsite.kind,
            Kind::LlmCall | Kind::Embeddings | Kind::Tool | Kind::Agent
        )
    }

    /// Sets the agent this call counts for, from the tally of the span it started in (`None`
    /// when that span is not tallied): an agent counts its own calls, an evaluator's calls count
    /// for no agent (as for recorded spans: see `Span::begin_agent` and the agent stage).
    #[inline(always)]
    pub(crate) fn under(&mut self, parent: Option<&Tally>) {
        // Most sampled-out calls run in no tallied span and are no agent: one check.
        if parent.is_some() || matches!(self.callsite.kind, Kind::Agent | Kind::Evaluator) {
            self.join_agent(parent);
        }
    }

    #[inline(never)]
    fn join_agent(&mut self, parent: Option<&Tally>) {
        let agent = match self.callsite.kind {
            Kind::Agent => {
                let calls = AgentCalls::default();
                if let Some(name) = self.callsite.get(Field::AgentName) {
                    let _ = calls.name.set(name.clone());
                }
                Arc::new(calls)
            }
            Kind::Evaluator => return,
            _ => match parent.and_then(|p| p.more.as_ref()?.agent.as_ref()) {
                Some(agent) => agent.clone(),
                None => return,
            },
        };
        self.more_mut().agent = Some(agent);
    }

    fn more_mut(&mut self) -> &mut More {
        self.more.get_or_insert_with(Box::default)
    }

    /// At the end of the call: counts it for its agent, or, for an agent, reads its counts
    /// (calls that end after their agent are not counted, as for recorded agents).
    #[inline]
    pub(crate) fn ended(&mut self) {
        if self.more.as_ref().is_some_and(|m| m.agent.is_some()) {
            self.count_for_agent();
        }
    }

    fn count_for_agent(&mut self) {
        let Some(more) = self.more.as_deref() else {
            return;
        };
        let Some(agent) = more.agent.clone() else {
            return;
        };
        match self.callsite.kind {
            Kind::LlmCall => {
                agent.inference.fetch_add(1, Ordering::Relaxed);
                let model = self
                    .response_model
                    .as_ref()
                    .or_else(|| self.get(Field::Model));
                if let Some(model) = model {
                    let first = agent.model.get_or_init(|| model.clone());
                    if first.as_str() != model.as_str() {
                        agent.mixed.store(true, Ordering::Relaxed);
                    }
                }
            }
            Kind::Tool => {
                agent.tools.fetch_add(1, Ordering::Relaxed);
                if self.get(Field::AgentName).is_none() {
                    if let Some(name) = agent.name.get() {
                        self.set(Field::AgentName, name.clone());
                    }
                }
            }
            Kind::Agent => {
                let more = self.more_mut();
                more.agent_calls = Some((
                    agent.inference.load(Ordering::Relaxed),
                    agent.tools.load(Ordering::Relaxed),
                ));
                if !agent.mixed.load(Ordering::Relaxed) {
                    more.agent_model = agent.model.get().cloned();
                }
            }
            _ => {}
        }
    }

    /// A field set at run time, else the callsite's literal.
    fn get(&self, field: Field) -> Option<&Value> {
        self.more
            .as_ref()
            .and_then(|m| m.fields.iter().find(|(f, _)| *f == field))
            .map(|(_, v)| v)
            .or_else(|| self.callsite.get(field))
    }

    /// Sets a value the metrics read (see [`Tally::keeps`]); tokens go to their counts.
    pub(crate) fn set(&mut self, field: Field, value: Value) {
        if let Some(slot) = Tokens::slot(field) {
            if let Some(n) = value.as_i64().and_then(|n| u64::try_from(n).ok()) {
                self.tokens.set(slot, n);
            }
        } else if Tally::keeps(field) {
            if let (Field::AgentName, Kind::Agent) = (field, self.callsite.kind) {
                // An agent named at run time: its tools carry the name.
                if let Some(agent) = self.more.as_ref().and_then(|m| m.agent.as_ref()) {
                    let _ = agent.name.set(value.clone());
                }
            }
            let fields = &mut self.more_mut().fields;
            match fields.iter_mut().find(|(f, _)| *f == field) {
                Some(slot) => slot.1 = value,
                None => fields.push((field, value)),
            }
        }
    }

    /// The fields of a call's arguments or of the manual API that a tally keeps: those the
    /// metrics' attributes and the cost read. (The expansions record only these into a tally:
    /// `counted_field` in llmtrace-macros' `expand.rs` lists the same, but the cost; a test there
    /// checks it.)
    pub(crate) fn keeps(field: Field) -> bool {
        matches!(
            field,
            Field::Provider
                | Field::Model
                | Field::Operation
                | Field::ServerAddress
                | Field::ServerPort
                | Field::ToolType
                | Field::AgentName
                | Field::Name
                | Field::CostTotal
        )
    }

    /// Marks the call failed with this error type.
    pub(crate) fn fail(&mut self, error_type: Value) {
        self.more_mut().error_type = Some(error_type);
    }

    /// A token count, when the response reported it.
    pub(crate) fn set_token(&mut self, field: Field, count: u64) {
        if let Some(slot) = Tokens::slot(field) {
            self.tokens.set(slot, count);
        }
    }

    /// The record the stages that price and count calls read (on the export worker).
    pub(crate) fn into_record(self) -> Record {
        let mut rec = Record::new(self.callsite, 0, 0, 0, None, self.start);
        rec.end = self.end;
        rec.tokens = self.tokens;
        let more = self.more.map(|m| *m).unwrap_or_default();
        for (field, value) in more.fields {
            rec.set(field, value);
        }
        if let Some((inference, tools)) = more.agent_calls {
            rec.set(Field::AgentInferenceCalls, Value::I64(inference.into()));
            rec.set(Field::AgentToolCalls, Value::I64(tools.into()));
        }
        if let Some(model) = more.agent_model {
            if rec.get(Field::Model).is_none() {
                rec.set(Field::Model, model);
            }
        }
        if let Some(model) = self.response_model {
            rec.set(Field::ResponseModel, model);
        }
        if let Some(secs) = self.time_to_first_chunk {
            rec.set(Field::TimeToFirstChunk, Value::F64(secs));
        }
        if let Some(secs) = self.time_per_output_chunk {
            rec.set(Field::TimePerOutputChunk, Value::F64(secs));
        }
        if let Some(error_type) = more.error_type {
            rec.status = Status::Error;
            rec.set(Field::ErrorType, error_type);
        }
        rec
    }
}

/// Where a call's return value is recorded: the span's record, or a sampled-out call's tally.
#[doc(hidden)]
#[derive(Debug)]
pub enum Target<'a> {
    /// A recorded span.
    Record(&'a mut Record),
    /// A sampled-out call counted in the metrics.
    Tally(&'a mut Tally),
}

impl Target<'_> {
    /// Sets a field given as an expression argument; `None` sets nothing. A tally keeps only
    /// the fields its metrics read.
    #[inline]
    pub fn set_opt(&mut self, field: Field, value: Option<Value>) {
        match self {
            Target::Record(rec) => rec.set_opt(field, value),
            Target::Tally(tally) => {
                if let Some(v) = value {
                    tally.set(field, v);
                }
            }
        }
    }

    /// The record, when the span is recorded.
    #[inline]
    pub fn record(&mut self) -> Option<&mut Record> {
        match self {
            Target::Record(rec) => Some(rec),
            Target::Tally(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The guard moves a tally by value twice on its way to the ring: past 128 bytes, each move
    /// is a call of `memcpy` (measured: about 30 instructions each on the sampled-out path).
    #[test]
    fn a_tally_stays_small_enough_to_move_in_registers() {
        assert!(std::mem::size_of::<Tally>() <= 128);
    }
}
