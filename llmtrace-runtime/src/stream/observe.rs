//! Accumulating what a stream's chunks report, and writing it into the span when the stream
//! ends or is dropped.

use std::fmt::{Display, Write};

use super::chunk::StreamChunk;
use crate::capture::{self, capture_limit};
use crate::message::{self, Message};
use crate::record::clock;
use crate::record::{FLAG_TRUNCATED, Field, Record, Value};
use crate::usage::Usage;

/// What the chunks so far reported.
#[derive(Debug, Default)]
pub(crate) struct Accumulated {
    chunks: u64,
    first_content: Option<u64>,
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
    pub(crate) rec: &'a mut Record,
    pub(crate) capture_text: bool,
}

impl Observer<'_> {
    pub(crate) fn chunk<C: StreamChunk + ?Sized>(&mut self, chunk: &C) {
        let acc = &mut *self.acc;
        acc.chunks += 1;
        if acc.first_content.is_none() && chunk.has_content() {
            acc.first_content = Some(clock::now());
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
        let message = capture::message(|s| write!(s, "{error}"));
        let error_type = match error_type {
            std::borrow::Cow::Borrowed(s) => Value::Str(s),
            std::borrow::Cow::Owned(s) => Value::String(s.into_boxed_str()),
        };
        self.rec.set_error(error_type, Some(message));
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

impl Accumulated {
    /// Writes the report into the span's record.
    pub(crate) fn write(&mut self, rec: &mut Record) {
        rec.set(Field::ChunkCount, Value::I64(self.chunks as i64));
        if let Some(at) = self.first_content {
            let secs = clock::nanos_between(rec.start, at) as f64 / 1e9;
            rec.set(Field::TimeToFirstChunk, Value::F64(secs));
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
