//! JSON content: string values decoded and redacted, keys and formatting kept, numbers that are
//! cards, credential keys, and text that is not (or no longer) JSON.

use std::borrow::Cow;

use serde_json::{Value, json};

use super::redactor;

fn redact(input: &str) -> (String, usize) {
    let r = redactor().redact_json(input);
    (r.text.into_owned(), r.count)
}

fn redact_valid(input: &str) -> (String, usize) {
    let (out, count) = redact(input);
    serde_json::from_str::<Value>(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    (out, count)
}

#[test]
fn string_values_and_keys_are_redacted() {
    let input = r#"{"role": "user", "bob@example.com": "write to bob@example.com",
        "nested": [{"ip": "10.1.2.3"}, "AKIAIOSFODNN7EXAMPLE"]}"#;
    let (out, count) = redact_valid(input);
    assert_eq!(
        out,
        r#"{"role": "user", "[REDACTED:email]": "write to [REDACTED:email]",
        "nested": [{"ip": "[REDACTED:ip]"}, "[REDACTED:api_key]"]}"#
    );
    assert_eq!(count, 4);
}

#[test]
fn nothing_found_borrows_the_input() {
    let input = r#"{"messages":[{"role":"user","content":"Where is order A-42?\nIt was due 2024-01-15."}],"max_tokens":512,"temperature":0.3}"#;
    let r = redactor().redact_json(input);
    assert!(matches!(r.text, Cow::Borrowed(_)));
    assert_eq!(r.count, 0);
}

#[test]
fn escapes_cannot_hide_a_secret() {
    for (input, expected) in [
        (
            r#"["\u0041KIAIOSFODNN7EXAMPLE"]"#,
            r#"["[REDACTED:api_key]"]"#,
        ),
        (r#"["bob\u0040example.com"]"#, r#"["[REDACTED:email]"]"#),
        (
            r#"["http:\/\/10.0.0.7\/x"]"#,
            r#"["http://[REDACTED:ip]/x"]"#,
        ),
        (
            r#"{"q":"say \"bob@example.com\"\nthanks"}"#,
            r#"{"q":"say \"[REDACTED:email]\"\nthanks"}"#,
        ),
        // After `\n` the key starts a word: found only once decoded.
        (
            r#"["x\nAKIAIOSFODNN7EXAMPLE"]"#,
            r#"["x\n[REDACTED:api_key]"]"#,
        ),
        (
            r#"["-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----"]"#,
            r#"["[REDACTED:private_key]"]"#,
        ),
        (r#"["4111\u00201111 1111 1111"]"#, r#"["[REDACTED:card]"]"#),
        (
            r#"["\ud83d\ude00 415-555-0132"]"#,
            r#"["😀 [REDACTED:phone]"]"#,
        ),
    ] {
        assert_eq!(redact_valid(input).0, expected, "input: {input}");
    }
}

#[test]
fn card_numbers_given_as_numbers_become_the_marker() {
    let (out, count) = redact_valid(
        r#"{"card":4111111111111111,"n":4111111111111112,"neg":-5500000000000004,"f":4111111111111111.5,"e":41e3}"#,
    );
    assert_eq!(
        out,
        r#"{"card":"[REDACTED:card]","n":4111111111111112,"neg":"[REDACTED:card]","f":4111111111111111.5,"e":41e3}"#
    );
    assert_eq!(count, 2);
}

#[test]
fn credential_keys_hide_their_whole_value() {
    let input = json!({
        "headers": {
            "Authorization": "Basic dXNlcjpwYXNz",
            "x-api-key": "anything at all",
            "Content-Type": "application/json",
        },
        "openaiApiKey": "my-key",
        "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "authorization": "",
        "api_key": 12,
        "max_tokens": 100,
    })
    .to_string();
    let (out, _) = redact_valid(&input);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["headers"]["Authorization"], "[REDACTED:bearer]");
    assert_eq!(v["headers"]["x-api-key"], "[REDACTED:api_key]");
    assert_eq!(v["headers"]["Content-Type"], "application/json");
    assert_eq!(v["openaiApiKey"], "[REDACTED:api_key]");
    assert_eq!(v["aws_secret_access_key"], "[REDACTED:api_key]");
    assert_eq!(v["authorization"], "");
    assert_eq!(v["api_key"], "[REDACTED:api_key]");
    assert_eq!(v["max_tokens"], 100);
}

#[test]
fn formatting_and_key_order_are_kept() {
    let input = "{\n  \"z\": \"415-555-0132\",\n  \"a\": [ 1 , 2.50 ],\n  \"m\": \"é\"\n}";
    let (out, _) = redact_valid(input);
    assert_eq!(
        out,
        "{\n  \"z\": \"[REDACTED:phone]\",\n  \"a\": [ 1 , 2.50 ],\n  \"m\": \"é\"\n}"
    );
}

#[test]
fn text_that_is_not_json_is_redacted_as_text() {
    // Cut in the middle of a string, after an escaped secret, and plain text.
    let (out, count) = redact(
        r#"{"a":"\u0041KIAIOSFODNN7EXAMPLE","b":"mail bob@example.com and 4111 1111 1111 1111 and mo"#,
    );
    assert_eq!(
        out,
        r#"{"a":"[REDACTED:api_key]","b":"mail [REDACTED:email] and [REDACTED:card] and mo"#
    );
    assert_eq!(count, 3);
    assert_eq!(redact("plain 10.1.2.3 text").0, "plain [REDACTED:ip] text");
    assert_eq!(redact("").0, "");
    assert_eq!(redact("\"unterminated \\").0, "\"unterminated \\");
    // A cut PEM block goes to the end.
    assert_eq!(
        redact(r#"{"k":"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIIrYSSNQFaA2Hwf1duRSxKtLYX5CB04fSeQ6tF1aY"#).0,
        r#"{"k":"[REDACTED:private_key]"#
    );
}

#[test]
fn scalars_and_odd_documents() {
    assert_eq!(
        redact_valid("\"bob@example.com\"").0,
        "\"[REDACTED:email]\""
    );
    assert_eq!(redact_valid("4111111111111111").0, "\"[REDACTED:card]\"");
    assert_eq!(redact_valid("null").0, "null");
    assert_eq!(redact_valid(" [ ] ").0, " [ ] ");
    assert_eq!(
        redact_valid(r#"{"":"","a":{"b":{"c":["10.9.8.7",true,null]}}}"#).0,
        r#"{"":"","a":{"b":{"c":["[REDACTED:ip]",true,null]}}}"#
    );
}

#[test]
fn the_walk_accepts_exactly_what_serde_json_accepts() {
    use crate::stages::redact::json::with_scratch;
    let deep = format!("{}{}", "[".repeat(500), "]".repeat(500));
    for input in [
        "",
        " ",
        "0",
        "-0",
        "01",
        "-",
        "1.",
        ".5",
        "1e",
        "1e+",
        "1E-2",
        "2.5e10",
        "tru",
        "true ",
        "nul",
        "[1,]",
        "[,1]",
        "{\"a\":1,}",
        "{\"a\" 1}",
        "{1:2}",
        "\"\t\"",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12G4\"",
        "\"\\ud800\"",
        "\"\\ud800\\udc00\"",
        "\"a\" \"b\"",
        "1 2",
        "[1 2]",
        "{\"a\":[{\"b\":null}]}",
        "\"\u{7f}\"",
        "\"é\"",
        "[]]",
        "{}}",
        "\u{feff}1",
        &deep,
    ] {
        let serde = serde_json::from_str::<serde::de::IgnoredAny>(input).is_ok();
        let walk = with_scratch(|s| redactor().walk_strict(input, s).is_ok());
        assert_eq!(walk, serde, "{input:?}");
    }
}

#[test]
fn deeper_documents_are_walked_leniently_and_still_redacted() {
    let deep = format!(
        "{}\"bob@example.com\"{}",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    let (out, count) = redact(&deep);
    assert_eq!(count, 1);
    assert_eq!(
        out,
        format!(
            "{}\"[REDACTED:email]\"{}",
            "[".repeat(1000),
            "]".repeat(1000)
        )
    );
}

#[test]
fn text_that_only_looks_like_json_is_redacted_as_text() {
    // Quotes at both ends, a backslash inside: not a JSON string, so not decoded again.
    let inner = r#""quoted""postgres://a:pw-123@db:5432/x back\slash "quoted""#;
    let input = serde_json::json!({ "v": inner }).to_string();
    let (out, count) = redact_valid(&input);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["v"],
        r#""quoted""postgres://a:[REDACTED:password]@db:5432/x back\slash "quoted""#
    );
    assert_eq!(count, 1);
}
