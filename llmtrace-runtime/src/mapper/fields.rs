//! A record's run-time fields, indexed in one pass so that the response side reads every field
//! in constant time and moves content out without copying it.

use super::format::Tokens;
use super::out::Out;
use crate::record::{self, Field, Record, Value};
use crate::semconv::Conventions;
use crate::semconv::table::FieldCopy;

/// Where each run-time field sits in a record's attributes. Literal macro arguments are not
/// here: they are request fields, read through [`Record::get`].
#[derive(Debug)]
pub(super) struct Fields<'a> {
    attrs: &'a mut [(Field, Value)],
    tokens: record::Tokens,
    pos: [u8; Field::COUNT],
    /// One bit per field present (and not taken yet), so that the copies skip absent fields
    /// with a bit test: most spans carry few of the fields the table copies.
    present: FieldSet,
}

/// A set of fields, one bit each.
pub(super) type FieldSet = u128;

// `FieldSet` has a bit for every field.
const _: () = assert!(Field::COUNT <= FieldSet::BITS as usize);

/// A field's bit in a set of fields.
pub(super) const fn bit(field: Field) -> FieldSet {
    1 << field as u32
}

/// The set of fields a record has, set at run time or given as literals.
#[inline]
pub(super) fn present(rec: &Record) -> FieldSet {
    let run_time = rec.attrs.iter().fold(0, |set, (f, _)| set | bit(*f));
    rec.callsite
        .statics
        .iter()
        .fold(run_time, |set, (f, _)| set | bit(*f))
}

impl<'a> Fields<'a> {
    #[inline]
    pub(super) fn index(rec: &'a mut Record) -> Self {
        let mut pos = [u8::MAX; Field::COUNT];
        let mut present = 0;
        for (i, (field, _)) in rec.attrs.iter().enumerate().take(usize::from(u8::MAX)) {
            pos[*field as usize] = i as u8;
            present |= bit(*field);
        }
        Fields {
            attrs: &mut rec.attrs,
            tokens: rec.tokens,
            pos,
            present,
        }
    }

    #[inline]
    pub(super) fn get(&self, field: Field) -> Option<&Value> {
        match self.pos[field as usize] {
            u8::MAX => None,
            i => Some(&self.attrs[usize::from(i)].1),
        }
    }

    /// A number field as a double (integers widened).
    #[inline]
    pub(super) fn f64(&self, field: Field) -> Option<f64> {
        self.get(field).and_then(Value::as_f64)
    }

    /// Moves a value out (content is moved, not copied); a second take finds nothing.
    #[inline]
    pub(super) fn take(&mut self, field: Field) -> Option<Value> {
        self.present &= !bit(field);
        match std::mem::replace(&mut self.pos[field as usize], u8::MAX) {
            u8::MAX => None,
            i => Some(std::mem::replace(
                &mut self.attrs[usize::from(i)].1,
                Value::Bool(false),
            )),
        }
    }

    /// The table's plain copies (see [`Out::copy`]), each value moved out of the record.
    // Always inlined: at a call that names the kind, `copies` is a constant, and the set of
    // fields it reads is folded into one.
    #[inline(always)]
    pub(super) fn copy<const N: usize>(
        &mut self,
        copies: &[FieldCopy; N],
        c: &Conventions,
        out: &mut Out,
    ) {
        // Most spans carry none of the fields copied: one test for the whole list then.
        let (mut read, mut defaults) = (0, false);
        for copy in copies {
            read |= bit(copy.field);
            defaults |= copy.default.is_some();
        }
        if self.present & read == 0 && !defaults {
            return;
        }
        for copy in copies {
            if self.present & bit(copy.field) == 0 && copy.default.is_none() {
                continue;
            }
            if !c.emits(copy.profile) {
                continue;
            }
            match self.take(copy.field) {
                Some(v) => out.attr(copy.key, v),
                None => {
                    if let Some(default) = copy.default {
                        out.attr(copy.key, default);
                    }
                }
            }
        }
    }

    /// The cost in USD, recorded by the application or by the cost stage.
    #[inline]
    pub(super) fn cost(&self) -> Option<f64> {
        self.tokens.cost()
    }

    /// The token counts, as the conventions define them.
    #[inline]
    pub(super) fn tokens(&self) -> Tokens {
        let count = |field| self.tokens.get(field).map(|n| n as i64);
        // Breakdowns are recorded only when non-zero (GenAI conventions): a provider reporting
        // `cached_tokens: 0` on every response would otherwise fill every span with zeros.
        let part = |field| count(field).filter(|n| *n != 0);
        Tokens {
            input: count(Field::InputTokens),
            output: count(Field::OutputTokens),
            cache_read: part(Field::CacheReadTokens),
            cache_write: part(Field::CacheWriteTokens),
            reasoning: part(Field::ReasoningTokens),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapper::test_support::record;
    use crate::record::Kind;

    #[test]
    fn fields_are_read_and_taken_once() {
        let mut rec = record(Kind::LlmCall);
        rec.set(Field::ResponseId, Value::String("r-1".into()));
        rec.set(Field::TimeToFirstChunk, Value::I64(2));
        let mut fields = Fields::index(&mut rec);
        assert_eq!(
            fields.get(Field::ResponseId),
            Some(&Value::String("r-1".into()))
        );
        assert_eq!(fields.f64(Field::TimeToFirstChunk), Some(2.0));
        assert_eq!(fields.get(Field::Model), None);
        assert_eq!(
            fields.take(Field::ResponseId),
            Some(Value::String("r-1".into()))
        );
        assert_eq!(fields.take(Field::ResponseId), None);
        assert_eq!(fields.get(Field::ResponseId), None);
    }

    #[test]
    fn zero_breakdowns_are_left_out() {
        let mut rec = record(Kind::LlmCall);
        for (field, n) in [
            (Field::InputTokens, 0),
            (Field::OutputTokens, 5),
            (Field::CacheReadTokens, 0),
            (Field::ReasoningTokens, 2),
        ] {
            rec.set(field, Value::I64(n));
        }
        let t = Fields::index(&mut rec).tokens();
        assert_eq!(
            (t.input, t.output, t.cache_read, t.cache_write, t.reasoning),
            (Some(0), Some(5), None, None, Some(2))
        );
    }
}
