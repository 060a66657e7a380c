//! Tests of the redaction engine: each detector on positive and negative examples, JSON,
//! configuration, a benign corpus that must come out untouched, and property tests over
//! generated secrets.

mod benign;
mod captured;
mod config;
mod detectors;
mod json;
mod properties;

use std::sync::LazyLock;

use super::{Redaction, Redactor};

/// The default redactor, compiled once for all tests.
pub(super) fn redactor() -> &'static Redactor {
    static REDACTOR: LazyLock<Redactor> = LazyLock::new(|| Redactor::new(&Redaction::default()));
    &REDACTOR
}

/// `text` redacted by the default redactor.
pub(super) fn text(s: &str) -> String {
    redactor().redact_text(s).text.into_owned()
}

/// Asserts each input is redacted to the expected output.
pub(super) fn assert_redacts(cases: &[(&str, &str)]) {
    for (input, expected) in cases {
        assert_eq!(text(input), *expected, "input: {input:?}");
    }
}

/// Asserts each input is left untouched, borrowed, with no redaction counted.
pub(super) fn assert_keeps(inputs: &[&str]) {
    for input in inputs {
        let r = redactor().redact_text(input);
        assert_eq!(r.text, *input, "input: {input:?}");
        assert!(
            matches!(r.text, std::borrow::Cow::Borrowed(_)),
            "{input:?} copied"
        );
        assert_eq!(r.count, 0, "input: {input:?}");
    }
}
