//! Request parameters and costs given as expressions are checked where the stages run: a value
//! that is not finite or out of its range (`temperature = NaN`, `top_p = 7.5`, a cost of
//! `-1`) is left out, counted in [`Stats::invalid_values`](crate::Stats::invalid_values), and
//! reported once per instrumented function. Literals are the program's own and are not checked
//! here.

use std::sync::atomic::Ordering;

use super::stage::{Drain, Stage};
use crate::record::{Field, Record, Value};
use crate::state::{Counters, warn};

/// The range of a field's values, when it has one.
fn range(field: Field) -> Option<(f64, f64)> {
    Some(match field {
        Field::Temperature | Field::TimeToFirstChunk => (0.0, f64::MAX),
        Field::TopP => (0.0, 1.0),
        Field::FrequencyPenalty | Field::PresencePenalty => (-2.0, 2.0),
        Field::MaxTokens | Field::TopK | Field::RetrievalTopK => (0.0, f64::MAX),
        Field::ChoiceCount => (1.0, f64::MAX),
        Field::ServerPort => (0.0, 65_535.0),
        Field::CostInput | Field::CostOutput | Field::CostCacheRead | Field::CostCacheWrite => {
            (0.0, f64::MAX)
        }
        _ => return None,
    })
}

/// Whether `value` is a number in `range` (values that are not numbers are left to the
/// mapper, which writes them as they are).
fn in_range(value: &Value, (low, high): (f64, f64)) -> bool {
    match value.as_f64() {
        Some(v) => v.is_finite() && (low..=high).contains(&v),
        None => true,
    }
}

/// Whether a cost (kept apart from `attrs`, see `record::Tokens`) is in its range.
fn cost_ok(usd: f64) -> bool {
    in_range(&Value::F64(usd), (0.0, f64::MAX))
}

/// See the module docs.
#[derive(Debug, Default)]
pub(crate) struct ParamCheck;

impl ParamCheck {
    fn check(rec: &mut Record, counters: &Counters) {
        let before = rec.attrs.len();
        let mut first_bad: Option<(Field, Value)> = None;
        rec.attrs.retain(|(field, value)| {
            let ok = range(*field).is_none_or(|r| in_range(value, r));
            if !ok && first_bad.is_none() {
                first_bad = Some((*field, value.clone()));
            }
            ok
        });
        let mut dropped = before - rec.attrs.len();
        if let Some(usd) = rec.cost().filter(|usd| !cost_ok(*usd)) {
            rec.tokens.clear_cost();
            first_bad.get_or_insert((Field::CostTotal, Value::F64(usd)));
            dropped += 1;
        }
        if dropped == 0 {
            return;
        }
        counters
            .invalid_values
            .fetch_add(dropped as u64, Ordering::Relaxed);
        let callsite = rec.callsite;
        if let Some((field, value)) = first_bad {
            if !callsite.warned.swap(true, Ordering::Relaxed) {
                warn::warn(format_args!(
                    "{}::{}: {field:?} = {value:?} is not a finite number in its range; left out \
                     of the span (reported once per function, counted in stats().invalid_values)",
                    callsite.module_path, callsite.fn_name
                ));
            }
        }
    }
}

impl Stage for ParamCheck {
    fn process(&mut self, records: &mut Vec<Record>, _: &Drain, counters: &Counters) {
        for rec in records.iter_mut() {
            // Only values set at run time are in `attrs`: one pass tells the common case, every
            // value fine, and only a record with a bad one is rewritten.
            let fine = rec
                .attrs
                .iter()
                .all(|(f, v)| range(*f).is_none_or(|r| in_range(v, r)));
            if !fine || rec.cost().is_some_and(|usd| !cost_ok(usd)) {
                Self::check(rec, counters);
            }
        }
    }

    fn flush(&mut self, _: &mut Vec<Record>, _: &Counters) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Callsite, Kind};

    static CALL: Callsite = Callsite::new(Kind::LlmCall, "chat", "app", &[], &[], 0);

    #[test]
    fn values_out_of_range_are_left_out_and_counted() {
        let counters = Counters::default();
        let mut rec = Record::new(&CALL, 1, 1, 0, None, 0);
        rec.set(Field::Temperature, Value::F64(f64::NAN));
        rec.set(Field::TopP, Value::F64(7.5));
        rec.set(Field::FrequencyPenalty, Value::F64(-2.0));
        rec.set(Field::MaxTokens, Value::I64(-1));
        rec.set(Field::ChoiceCount, Value::I64(1));
        rec.set(Field::CostTotal, Value::F64(f64::INFINITY));
        rec.set(Field::Model, Value::Str("gpt-4o"));
        let mut records = vec![rec];
        ParamCheck.process(&mut records, &Drain { started: 0 }, &counters);
        let rec = &records[0];
        for gone in [Field::Temperature, Field::TopP, Field::MaxTokens] {
            assert!(rec.get(gone).is_none(), "{gone:?}");
        }
        assert_eq!(rec.cost(), None);
        assert_eq!(rec.get(Field::FrequencyPenalty), Some(&Value::F64(-2.0)));
        assert_eq!(rec.get(Field::ChoiceCount), Some(&Value::I64(1)));
        assert_eq!(rec.get(Field::Model), Some(&Value::Str("gpt-4o")));
        assert_eq!(counters.invalid_values.load(Ordering::Relaxed), 4);
        assert!(CALL.warned.load(Ordering::Relaxed));
    }

    #[test]
    fn a_cost_alone_out_of_range_is_left_out_and_counted() {
        let counters = Counters::default();
        let mut fine = Record::new(&CALL, 1, 1, 0, None, 0);
        fine.set(Field::CostTotal, Value::F64(0.0038));
        let mut negative = Record::new(&CALL, 1, 2, 0, None, 0);
        negative.set(Field::CostTotal, Value::I64(-1));
        let mut records = vec![fine, negative];
        ParamCheck.process(&mut records, &Drain { started: 0 }, &counters);
        assert_eq!(records[0].cost(), Some(0.0038));
        assert_eq!(records[1].cost(), None);
        assert_eq!(counters.invalid_values.load(Ordering::Relaxed), 1);
    }
}
