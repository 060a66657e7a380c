//! The check that tells captured content with nothing to redact from its typed items
//! ([`Redactor::captured_is_clean`]), against the JSON walk it stands in for.

use super::redactor;
use crate::capture::InputWriter;
use crate::record::{Callsite, Captured, Field, Kind, Record, Value};

static CALL: Callsite = Callsite::new(Kind::Tool, "t", "m", &[], &[], 0);

/// A parameter's value, captured as the macros capture it.
#[derive(Debug, Clone)]
pub(super) enum Param {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Not a leaf: serialized as JSON on the caller's thread.
    List(Vec<String>),
}

/// The parameters captured as a function's input, names written with each value.
pub(super) fn captured(params: &[(String, Param)]) -> Captured {
    let mut w = InputWriter::new();
    for (name, p) in params {
        match p {
            Param::Text(s) => w.field(name, s.as_str()),
            Param::Int(n) => w.field(name, n),
            Param::Float(f) => w.field(name, f),
            Param::Bool(b) => w.field(name, b),
            Param::List(items) => w.field(name, items),
        }
    }
    let mut rec = Record::new(&CALL, 1, 1, 0, None, 0);
    w.finish(&mut rec);
    match rec.get(Field::Input) {
        Some(Value::Captured(c)) => c.clone(),
        other => panic!("not captured: {other:?}"),
    }
}

/// Asserts what the check says, and that a clean verdict is what redacting the JSON finds.
pub(super) fn check(c: &Captured) -> bool {
    let clean = redactor().captured_is_clean(c);
    if clean {
        let json = c.to_json();
        let walked = redactor().redact_json(&json);
        assert_eq!(walked.count, 0, "{json} said clean");
        assert_eq!(walked.text, json);
    }
    clean
}

fn params(list: &[(&str, Param)]) -> Vec<(String, Param)> {
    list.iter()
        .map(|(n, p)| (n.to_string(), p.clone()))
        .collect()
}

#[test]
fn plain_parameters_are_clean() {
    for list in [
        params(&[
            ("question", Param::Text("What is the refund policy?".into())),
            ("max_tokens", Param::Int(256)),
        ]),
        params(&[("t", Param::Float(0.3)), ("stream", Param::Bool(true))]),
        params(&[
            ("id", Param::Int(-42)),
            ("empty", Param::Text(String::new())),
        ]),
        params(&[]),
    ] {
        assert!(check(&captured(&list)), "{list:?}");
    }
}

#[test]
fn anything_the_walk_would_change_or_cannot_be_told_is_not_clean() {
    for list in [
        // A match in a value, and in a key.
        params(&[("to", Param::Text("write to ana@example.com".into()))]),
        params(&[("ana@example.com", Param::Int(1))]),
        // A key naming a secret hides its value.
        params(&[("api_key", Param::Text("abc".into()))]),
        params(&[("password", Param::Int(1234))]),
        // A card number given as a number.
        params(&[("n", Param::Int(4_111_111_111_111_111))]),
        // JSON inside a string is redacted as JSON.
        params(&[("args", Param::Text("{\"a\": 1}".into()))]),
        // A value serialized on the caller's thread is walked.
        params(&[("items", Param::List(vec!["a".into()]))]),
    ] {
        assert!(!check(&captured(&list)), "{list:?}");
    }
}

#[test]
fn single_values_are_checked_too() {
    let mut rec = Record::new(&CALL, 1, 1, 0, None, 0);
    crate::capture::record_json(&mut rec, Field::Output, "the answer is 42");
    let Some(Value::Captured(c)) = rec.get(Field::Output) else {
        panic!("not captured");
    };
    assert!(check(c));
    crate::capture::record_json(&mut rec, Field::Output, "mail bob@example.org");
    let Some(Value::Captured(c)) = rec.get(Field::Output) else {
        panic!("not captured");
    };
    assert!(!check(c));
}
