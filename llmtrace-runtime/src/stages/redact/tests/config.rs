//! Custom patterns and functions, and the errors of bad patterns.

use std::borrow::Cow;

use crate::stages::redact::{Detector, Redaction, Redactor};

#[test]
fn custom_patterns_use_their_name_as_marker() {
    let redaction = Redaction::none()
        .pattern("employee_id", r"\bEMP-[0-9]{6}\b")
        .unwrap()
        .pattern("pin", r"(?i)pin: (?P<secret>[0-9]{4,8})")
        .unwrap();
    let r = Redactor::new(&redaction);
    let out = r.redact_text("EMP-123456 has PIN: 9876, EMP-12 not");
    assert_eq!(
        out.text,
        "[REDACTED:employee_id] has PIN: [REDACTED:pin], EMP-12 not"
    );
    assert_eq!(out.count, 2);
    let json = r.redact_json(r#"{"who":"EMP-654321"}"#);
    assert_eq!(json.text, r#"{"who":"[REDACTED:employee_id]"}"#);
}

#[test]
fn custom_patterns_compose_with_the_detectors() {
    let r = Redactor::new(
        &Redaction::default()
            .pattern("ticket", r"T-[0-9]{4}")
            .unwrap(),
    );
    assert_eq!(
        r.redact_text("T-1234 from bob@example.com").text,
        "[REDACTED:ticket] from [REDACTED:email]"
    );
}

#[test]
fn bad_patterns_are_errors() {
    let err = Redaction::default()
        .pattern("bad", "(unclosed")
        .unwrap_err();
    assert_eq!(err.name(), "bad");
    let message = err.to_string();
    assert!(
        message.starts_with("redaction pattern `bad` is invalid"),
        "{message}"
    );
    assert!(Redaction::default().pattern("empty", "x*").is_err());
    assert!(Redaction::default().pattern("", "x").is_err());
    assert!(Redaction::default().pattern("has space", "x").is_err());
    assert!(Redaction::default().pattern("a]b", "x").is_err());
    assert!(Redaction::default().pattern("ok.name-1_2", "x").is_ok());
    // Unicode classes and case-insensitivity are available to custom patterns.
    assert!(Redaction::default().pattern("w", r"(?i)\w+\d").is_ok());
}

#[test]
fn functions_run_after_the_detectors_and_are_counted() {
    let r = Redactor::new(&Redaction::default().with_fn(|text: &str| {
        if text.contains("confidential") {
            Cow::Owned(text.replace("confidential", "[REDACTED:internal]"))
        } else {
            Cow::Borrowed(text)
        }
    }));
    let out = r.redact_text("confidential: mail bob@example.com");
    assert_eq!(out.text, "[REDACTED:internal]: mail [REDACTED:email]");
    assert_eq!(out.count, 2);
    let out = r.redact_text("nothing here");
    assert!(matches!(out.text, Cow::Borrowed(_)));
    let out = r.redact_json(r#"["confidential", "public"]"#);
    assert_eq!(out.text, r#"["[REDACTED:internal]", "public"]"#);
    assert_eq!(out.count, 1);
}

#[test]
fn a_function_returning_an_equal_copy_changes_nothing() {
    let r = Redactor::new(&Redaction::none().with_fn(|text: &str| Cow::Owned(text.to_owned())));
    let out = r.redact_text("same");
    assert_eq!(out.count, 0);
    assert!(matches!(out.text, Cow::Borrowed(_)));
}

#[test]
fn a_panicking_function_fails_closed() {
    let r = Redactor::new(&Redaction::default().with_fn(|text: &str| {
        if text.contains("boom") {
            panic!("custom redaction failed");
        }
        Cow::Borrowed(text)
    }));
    let out = r.redact_text("boom: the secret");
    assert_eq!(out.text, "<capture failed>");
    assert_eq!(out.count, 1);
    let out = r.redact_json(r#"{"a":"boom: the secret","b":"fine"}"#);
    assert_eq!(out.text, r#"{"a":"<capture failed>","b":"fine"}"#);
}

#[test]
fn builder_and_debug() {
    let redaction = Redaction::none()
        .with(Detector::Email)
        .with(Detector::Ip)
        .without(Detector::Ip);
    assert!(redaction.is_enabled(Detector::Email));
    assert!(!redaction.is_enabled(Detector::Ip));
    assert!(!redaction.is_none());
    assert!(Redaction::none().is_none());
    assert!(
        format!("{redaction:?}").starts_with(
            r#"Redaction { detectors: ["email"], patterns: [], fns: 0, secret_fields: ["password""#
        ),
        "{redaction:?}"
    );
    let r = Redactor::new(&Redaction::default().pattern("t", "T-1").unwrap());
    assert!(format!("{r:?}").contains("[REDACTED:t]"));
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Redactor>();
    send_sync::<Redaction>();
}
