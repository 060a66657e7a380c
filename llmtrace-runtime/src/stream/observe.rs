//! Accumulating what a stream's chunks report, and writing it into the span when the stream
//! ends or is dropped.

use std::fmt::{Display, Write};

use super::chunk::StreamChunk;
use crate::capture::{self, capture_limit};
use crate::message::{self, Message};
use crate::record::clock;
use crate::record::{FLAG_TRUNCATED, Field, Record, Tally, Target, Value};
use crate::usage::Usage;

/// What the chunks so far reported.
#[derive(Debug, Default)]
pub(crate) struct Accumulated {
    chunks: u64,
    /// Chunks with content, and when the first and the last of them arrived.
    content_chunks: u64,
    first_content: Option<u64>,
    last_content: Option<u64>,
    text: String,
    text_cut: bool,
    usage: Option<Usage>,
    model: Option<Box<str>>,
    id: Option<Box<str>>,
    finish_reasons: Vec<Box<str>>,
}

/// Hands one item's report to the accumulator (and errors to the record).
#[doc(hidden)]
#[derive(Debug)]
pub struct Observer<'a> {
    pub(crate) acc: &'a mut Accumulated,
    pub(crate) target: Target<'a>,
    pub(crate) capture_text: bool,
}

impl Observer<'_> {
    pub(crate) fn chunk<C: StreamChunk + ?Sized>(&mut self, chunk: &C) {
        let acc = &mut *self.acc;
        acc.chunks += 1;
        if chunk.has_content() {
            let now = clock::now();
            acc.content_chunks += 1;
            acc.first_content.get_or_insert(now);
            acc.last_content = Some(now);
        }
        if self.capture_text {
            if let Some(text) = chunk.text() {
                push_bounded(&mut acc.text, &mut acc.text_cut, text);
            }
        }
        if let Some(usage) = chunk.usage() {
            acc.usage = Some(usage);
        }
        if acc.model.is_none() {
            acc.model = chunk.response_model().map(Box::from);
        }
        if acc.id.is_none() {
            acc.id = chunk.response_id().map(Box::from);
        }
        if let Some(reason) = chunk.finish_reason() {
            acc.finish_reasons.push(reason.into());
        }
    }

    pub(crate) fn error<E: Display>(&mut self, error: &E) {
        let error_type = capture::short_type_name(std::any::type_name::<E>());
        let error_type = match error_type {
            std::borrow::Cow::Borrowed(s) => Value::Str(s),
            std::borrow::Cow::Owned(s) => Value::String(s.into_boxed_str()),
        };
        match &mut self.target {
            Target::Record(rec) => {
                let message = capture::message(|s| write!(s, "{error}"));
                rec.set_error(error_type, Some(message));
            }
            Target::Tally(tally) => tally.fail(error_type),
        }
    }
}

/// Appends `text` up to the capture limit, cutting on a character boundary.
fn push_bounded(buf: &mut String, cut: &mut bool, text: &str) {
    if *cut {
        return;
    }
    let room = capture_limit().saturating_sub(buf.len());
    if text.len() <= room {
        buf.push_str(text);
        return;
    }
    let mut end = room;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    buf.push_str(&text[..end]);
    *cut = true;
}

/// Seconds per chunk after the first: the time from the first chunk with content to the last,
/// over the chunks with content after the first; `None` with fewer than two.
pub(crate) fn per_output_chunk(first_to_last_ns: u64, content_chunks: u64) -> Option<f64> {
    (content_chunks >= 2).then(|| first_to_last_ns as f64 / 1e9 / (content_chunks - 1) as f64)
}

impl Accumulated {
    /// Seconds from `start` to the first chunk with content, and per chunk after the first.
    fn timings(&self, start: u64) -> (Option<f64>, Option<f64>) {
        let Some(first) = self.first_content else {
            return (None, None);
        };
        let to_first = clock::nanos_between(start, first) as f64 / 1e9;
        let last = self.last_content.unwrap_or(first);
        let per_chunk = per_output_chunk(clock::nanos_between(first, last), self.content_chunks);
        (Some(to_first), per_chunk)
    }

    /// Writes what a sampled-out call's metrics need: usage, model and timings.
    pub(crate) fn write_tally(&mut self, tally: &mut Tally) {
        (tally.time_to_first_chunk, tally.time_per_output_chunk) = self.timings(tally.start);
        if let Some(usage) = self.usage {
            usage.tally(tally);
        }
        if let Some(model) = self.model.take() {
            tally.response_model = Some(crate::usage::intern::name_value(&model));
        }
    }

    /// Writes the report into the span's record, or a sampled-out call's tally.
    pub(crate) fn write_to(&mut self, target: Target<'_>) {
        match target {
            Target::Record(rec) => self.write(rec),
            Target::Tally(tally) => self.write_tally(tally),
        }
    }

    /// Writes the report into the span's record.
    pub(crate) fn write(&mut self, rec: &mut Record) {
        rec.set(Field::ChunkCount, Value::I64(self.chunks as i64));
        let (to_first, per_chunk) = self.timings(rec.start);
        if let Some(secs) = to_first {
            rec.set(Field::TimeToFirstChunk, Value::F64(secs));
        }
        if let Some(secs) = per_chunk {
            rec.set(Field::TimePerOutputChunk, Value::F64(secs));
        }
        if let Some(usage) = self.usage {
            usage.record(rec);
        }
        if let Some(model) = self.model.take() {
            rec.set(
                Field::ResponseModel,
                crate::usage::intern::name_value(&model),
            );
        }
        if let Some(id) = self.id.take() {
            rec.set(Field::ResponseId, Value::String(id));
        }
        if !self.finish_reasons.is_empty() {
            let reasons = std::mem::take(&mut self.finish_reasons).into_boxed_slice();
            rec.set(Field::FinishReasons, Value::StringList(reasons));
        }
        if !self.text.is_empty() {
            let mut out = Message::assistant(self.text.as_str());
            if let Some(Value::StringList(reasons)) = rec.get(Field::FinishReasons) {
                if let Some(first) = reasons.first() {
                    out.finish_reason = Some(first.to_string().into());
                }
            }
            message::record_output(rec, &[out]);
            if self.text_cut {
                rec.flags |= FLAG_TRUNCATED;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_per_output_chunk_spreads_first_to_last_over_the_chunks_after_the_first() {
        // Four chunks with content, the last 1.5 s after the first: three gaps of 0.5 s.
        assert_eq!(per_output_chunk(1_500_000_000, 4), Some(0.5));
        assert_eq!(per_output_chunk(250_000_000, 2), Some(0.25));
        // One chunk has no chunk after it.
        assert_eq!(per_output_chunk(0, 1), None);
        assert_eq!(per_output_chunk(0, 0), None);
    }

    #[test]
    fn text_is_bounded_on_a_char_boundary() {
        let mut buf = "a".repeat(capture_limit() - 1);
        let mut cut = false;
        push_bounded(&mut buf, &mut cut, "é and more");
        assert!(cut);
        assert_eq!(buf.len(), capture_limit() - 1);
        push_bounded(&mut buf, &mut cut, "x");
        assert_eq!(buf.len(), capture_limit() - 1);
    }
}
