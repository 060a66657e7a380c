//! What a sampled-out call keeps for the metrics: its callsite, start and end, token counts,
//! answering model and error type. No span record is built for it; the export worker turns it
//! into one only to price and count it (see `handoff::tally`).

use super::{Callsite, Field, Kind, Record, Status, Tokens, Value};

/// The metrics of one sampled-out call.
#[doc(hidden)]
#[derive(Debug)]
pub struct Tally {
    pub(crate) callsite: &'static Callsite,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) tokens: Tokens,
    /// The error type of a failed call.
    pub(crate) error_type: Option<Value>,
    /// The model that answered (`gen_ai.response.model`).
    pub(crate) response_model: Option<Value>,
    /// Seconds from the start to the first chunk with content, for a stream.
    pub(crate) time_to_first_chunk: Option<f64>,
    /// Seconds per chunk after the first, for a stream.
    pub(crate) time_per_output_chunk: Option<f64>,
}

impl Tally {
    #[inline(always)]
    pub(crate) fn new(callsite: &'static Callsite, start: u64) -> Self {
        Tally {
            callsite,
            start,
            end: start,
            tokens: Tokens::default(),
            error_type: None,
            response_model: None,
            time_to_first_chunk: None,
            time_per_output_chunk: None,
        }
    }

    /// Whether calls of this kind have metrics: model calls (token usage, durations, cost) and
    /// tools (their duration).
    #[inline(always)]
    pub(crate) fn counts(callsite: &Callsite) -> bool {
        matches!(callsite.kind, Kind::LlmCall | Kind::Embeddings | Kind::Tool)
    }

    /// Marks the call failed with this error type.
    pub(crate) fn fail(&mut self, error_type: Value) {
        self.error_type = Some(error_type);
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
        if let Some(model) = self.response_model {
            rec.set(Field::ResponseModel, model);
        }
        if let Some(secs) = self.time_to_first_chunk {
            rec.set(Field::TimeToFirstChunk, Value::F64(secs));
        }
        if let Some(secs) = self.time_per_output_chunk {
            rec.set(Field::TimePerOutputChunk, Value::F64(secs));
        }
        if let Some(error_type) = self.error_type {
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
    /// The record, when the span is recorded.
    #[inline]
    pub fn record(&mut self) -> Option<&mut Record> {
        match self {
            Target::Record(rec) => Some(rec),
            Target::Tally(_) => None,
        }
    }
}
