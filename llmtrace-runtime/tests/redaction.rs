//! The redaction API as a user (and the pipeline) sees it: configuration, errors, markers,
//! `Sensitive`, and the compiled redactor on text and JSON.

use std::alloc::{GlobalAlloc, Layout, System};
use std::borrow::Cow;
use std::cell::Cell;

use llmtrace_runtime::__private::Redactor;
use llmtrace_runtime::{Detector, InvalidPattern, Redaction, Sensitive};

/// Counts the allocations of the current thread while it counts (tests run on threads of one
/// process).
struct CountingAlloc;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn allocations(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[test]
fn nothing_to_redact_allocates_nothing() {
    let r = Redactor::new(&Redaction::default());
    let text = "Where is order A-42? It shipped 2024-01-15 at 12:30:45 (v1.2.3, id \
        550e8400-e29b-41d4-a716-446655440000, 4111111111111112, 99.9%, localhost:8080).\n"
        .repeat(40);
    let json = serde_json::to_string(&serde_json::json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}],
        "max_tokens": 512,
    }))
    .unwrap();
    // Once, for the regex engines' caches and this thread's buffers.
    let _ = (r.redact_text(&text), r.redact_json(&json));
    assert_eq!(
        allocations(|| assert!(matches!(r.redact_text(&text).text, Cow::Borrowed(_)))),
        0
    );
    assert_eq!(
        allocations(|| assert!(matches!(r.redact_json(&json).text, Cow::Borrowed(_)))),
        0
    );
    // The counter counts.
    assert!(allocations(|| drop(r.redact_text("bob@example.com"))) > 0);
}

#[test]
fn default_redaction_finds_every_kind() {
    let r = Redactor::new(&Redaction::default());
    let input = "mail bob@example.com, call +44 20 7946 0958, card 4111 1111 1111 1111, \
        key AKIAIOSFODNN7EXAMPLE, Authorization: Bearer abc123def456ghi789, \
        token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlMTIz, from 203.0.113.9, \
        -----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY----- \
        db postgres://app:s3cret-pw@db:5432/orders";
    let out = r.redact_text(input);
    assert_eq!(
        out.text,
        "mail [REDACTED:email], call [REDACTED:phone], card [REDACTED:card], \
        key [REDACTED:api_key], Authorization: Bearer [REDACTED:bearer], \
        token [REDACTED:jwt], from [REDACTED:ip], \
        [REDACTED:private_key] \
        db postgres://app:[REDACTED:password]@db:5432/orders"
    );
    assert_eq!(out.count, 9);
    // Every detector that finds text in text (secret fields are found by key, in JSON).
    for d in Detector::ALL {
        if d != Detector::SecretField {
            assert!(out.text.contains(d.marker()), "{d:?}");
        }
    }
    let json = r.redact_json(r#"{"password":"s3cret-pw"}"#);
    assert_eq!(json.text, r#"{"password":"[REDACTED:secret]"}"#);
}

#[test]
fn json_stays_json() {
    let r = Redactor::new(&Redaction::default().without(Detector::Ip));
    let out = r.redact_json(
        r#"{"messages":[{"role":"user","content":"I am bob\u0040example.com at 10.0.0.8"}],"card":4111111111111111}"#,
    );
    assert_eq!(
        out.text,
        r#"{"messages":[{"role":"user","content":"I am [REDACTED:email] at 10.0.0.8"}],"card":"[REDACTED:card]"}"#
    );
    assert_eq!(out.count, 2);
    let benign = r#"{"messages":[{"role":"user","content":"Where is order A-42?"}]}"#;
    assert!(matches!(r.redact_json(benign).text, Cow::Borrowed(_)));
}

#[test]
fn custom_patterns_and_functions() -> Result<(), InvalidPattern> {
    let redaction = Redaction::none()
        .pattern("employee", r"\bE[0-9]{5}\b")?
        .with_fn(|text: &str| {
            if text.starts_with("secret:") {
                Cow::Owned("secret: [REDACTED:note]".to_owned())
            } else {
                Cow::Borrowed(text)
            }
        });
    let r = Redactor::new(&redaction);
    assert_eq!(
        r.redact_text("E12345 bob@example.com").text,
        "[REDACTED:employee] bob@example.com"
    );
    assert_eq!(
        r.redact_json(r#"["secret: x"]"#).text,
        r#"["secret: [REDACTED:note]"]"#
    );
    Ok(())
}

#[test]
fn a_bad_pattern_is_a_clear_error() {
    let err = Redaction::default()
        .pattern("order", "[unclosed")
        .unwrap_err();
    assert_eq!(err.name(), "order");
    assert!(
        err.to_string()
            .contains("redaction pattern `order` is invalid"),
        "{err}"
    );
    let _: &dyn std::error::Error = &err;
}

#[test]
fn sensitive_values_are_never_shown() {
    #[derive(serde::Serialize, Debug)]
    struct Request {
        model: &'static str,
        api_key: Sensitive<String>,
    }
    let req = Request {
        model: "gpt-4o",
        api_key: Sensitive::new("sk-proj-123".to_owned()),
    };
    assert_eq!(
        serde_json::to_string(&req).unwrap(),
        r#"{"model":"gpt-4o","api_key":"[REDACTED]"}"#
    );
    assert_eq!(
        format!("{req:?}"),
        r#"Request { model: "gpt-4o", api_key: [REDACTED] }"#
    );
    assert_eq!(req.api_key.to_string(), "[REDACTED]");
    assert_eq!(req.api_key.as_str(), "sk-proj-123");
    let key: Sensitive<&str> = "k".into();
    assert_eq!(key.into_inner(), "k");
}
