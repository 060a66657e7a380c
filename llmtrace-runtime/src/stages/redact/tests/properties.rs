//! Property tests: secrets in their real formats, at random places in random text and JSON
//! (nested, escaped with `\u` and `\/`), cut by a size cap after redaction or cut before it.
//! Whatever the input, redaction never panics, a secret never comes out whole (raw, escaped or
//! decoded), and JSON stays JSON.

use std::net::Ipv6Addr;

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

use super::redactor;
use crate::capture::json::to_string_capped;
use crate::stages::redact::detectors::next_digit;
use crate::stages::redact::json::with_scratch;

/// A generated secret: its text, and the parts of it that must never come out whole.
#[derive(Debug, Clone)]
struct Secret {
    text: String,
    fragments: Vec<String>,
}

impl Secret {
    fn whole(text: String) -> Self {
        Secret {
            fragments: vec![text.clone()],
            text,
        }
    }
}

fn luhn_complete(mut digits: Vec<u8>) -> Vec<u8> {
    let mut sum = 0;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut d = u32::from(*d);
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    digits.push(((10 - sum % 10) % 10) as u8);
    digits
}

fn card() -> impl Strategy<Value = Secret> {
    (
        2u8..=6,
        select(vec![13usize, 15, 16, 19]),
        prop::collection::vec(0u8..10, 18),
        select(vec!["", " ", "-", "."]),
    )
        .prop_map(|(first, len, rest, sep)| {
            let mut digits = vec![first];
            digits.extend_from_slice(&rest[..len - 2]);
            let digits: String = luhn_complete(digits)
                .into_iter()
                .map(|d| char::from(b'0' + d))
                .collect();
            let groups: &[usize] = match len {
                13 => &[4, 4, 4, 1],
                15 => &[4, 6, 5],
                16 => &[4, 4, 4, 4],
                _ => &[4, 4, 4, 4, 3],
            };
            let mut text = String::new();
            let mut at = 0;
            for g in groups {
                if at > 0 {
                    text.push_str(sep);
                }
                text.push_str(&digits[at..at + g]);
                at += g;
            }
            Secret::whole(text)
        })
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn jwt() -> impl Strategy<Value = Secret> {
    (
        select(vec!["HS256", "RS256", "ES384"]),
        "[a-z0-9]{1,12}",
        1_600_000_000u64..1_900_000_000,
        "[A-Za-z0-9_-]{43,86}",
    )
        .prop_map(|(alg, sub, iat, signature)| {
            let header = base64url(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
            let payload = base64url(format!(r#"{{"sub":"{sub}","iat":{iat}}}"#).as_bytes());
            Secret::whole(format!("{header}.{payload}.{signature}"))
        })
}

fn pem() -> impl Strategy<Value = Secret> {
    (
        select(vec!["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "]),
        prop::collection::vec("[A-Za-z0-9+/]{64}", 1..5),
        "[A-Za-z0-9+/]{4,60}",
    )
        .prop_map(|(kind, lines, last)| {
            let text = format!(
                "-----BEGIN {kind}PRIVATE KEY-----\n{}\n{last}==\n-----END {kind}PRIVATE KEY-----",
                lines.join("\n")
            );
            Secret {
                text,
                fragments: lines,
            }
        })
}

fn ipv6() -> impl Strategy<Value = Secret> {
    (
        0x2000u16..0x4000,
        prop::array::uniform7(any::<u16>()),
        0u8..3,
    )
        .prop_map(|(first, rest, zeros)| {
            let mut s = [first, 0, 0, 0, 0, 0, 0, 0];
            s[1..].copy_from_slice(&rest);
            // Runs of zeros, for `::` forms.
            for z in s.iter_mut().skip(2).take(usize::from(zeros) * 2) {
                *z = 0;
            }
            Secret::whole(Ipv6Addr::from(s).to_string())
        })
}

fn secret() -> impl Strategy<Value = Secret> {
    prop_oneof![
        card(),
        "(AKIA|ASIA)[A-Z0-9]{16}".prop_map(Secret::whole),
        "sk-[A-Za-z0-9]{20,47}[0-9]".prop_map(Secret::whole),
        "sk-proj-[0-9][A-Za-z0-9_-]{40,120}[A-Za-z0-9]".prop_map(Secret::whole),
        "sk-ant-api03-[A-Za-z0-9_-]{93}AA".prop_map(Secret::whole),
        "gh[pousr]_[A-Za-z0-9]{36}".prop_map(Secret::whole),
        "github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}".prop_map(Secret::whole),
        "AIza[A-Za-z0-9_-]{35}".prop_map(Secret::whole),
        "hf_[A-Za-z0-9]{34}".prop_map(Secret::whole),
        "xapp-[0-9]-[A-Z0-9]{11}-[0-9]{13}-[a-f0-9]{64}".prop_map(Secret::whole),
        (
            select(vec!["postgres", "postgresql", "mysql", "mongodb+srv", "redis", "amqp", "https"]),
            "[a-z][a-z0-9_]{0,10}",
            "[A-Za-z0-9!$&'()*+,;=._~-]{4,30}",
            "[a-z][a-z0-9.-]{0,20}[a-z0-9]",
        )
            .prop_map(|(scheme, user, password, host)| Secret {
                text: format!("{scheme}://{user}:{password}@{host}:5432/db"),
                fragments: vec![password],
            }),
        // `Basic` and base64 of `user:password`, with or without a header name.
        ("[a-z]{1,12}", "[A-Za-z0-9!#%&*]{4,24}", any::<bool>()).prop_map(|(user, pw, header)| {
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
            Secret {
                text: format!("{}Basic {b64}", if header { "Authorization: " } else { "" }),
                fragments: vec![b64],
            }
        }),
        "[A-Za-z0-9._~+/-]{12,40}[0-9]".prop_map(|token| Secret {
            text: format!("Bearer {token}"),
            fragments: vec![token],
        }),
        "[A-Za-z0-9+/]{12,40}={0,2}".prop_map(|b64| Secret {
            text: format!("Authorization: Basic {b64}"),
            fragments: vec![b64],
        }),
        jwt(),
        pem(),
        "[a-z0-9][a-z0-9._+-]{0,15}@[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?\\.(com|org|net|io|co\\.uk|de|fr)"
            .prop_map(Secret::whole),
        prop_oneof![
            "\\([2-9][0-9]{2}\\) [2-9][0-9]{2}-[0-9]{4}",
            "[2-9][0-9]{2}-[2-9][0-9]{2}-[0-9]{4}",
            "[2-9][0-9]{2}\\.[2-9][0-9]{2}\\.[0-9]{4}",
            "\\+1 [2-9][0-9]{2} [2-9][0-9]{2} [0-9]{4}",
            "\\+44 20 [0-9]{4} [0-9]{4}",
            "\\+[1-9][0-9]{1,2}( [0-9]{3,4}){2,3}",
            "\\+[1-9][0-9]{1,2}(-[0-9]{3,4}){2,3}",
            "0[1-9][0-9]{2} [0-9]{3,4} [0-9]{4}",
        ]
        .prop_map(Secret::whole),
        (1u8..=223, any::<u8>(), any::<u8>(), any::<u8>())
            .prop_filter("not loopback", |(a, ..)| *a != 127)
            .prop_map(|(a, b, c, d)| Secret::whole(format!("{a}.{b}.{c}.{d}"))),
        ipv6(),
    ]
}

/// Words of ordinary content, some of them data-like.
const WORDS: &[&str] = &[
    "the",
    "order",
    "A-42",
    "B-7",
    "shipped",
    "on",
    "2024-01-15",
    "at",
    "12:30:45",
    "v1.2.3",
    "costs",
    "$1,234.56",
    "café",
    "日本語",
    "😀",
    "localhost:8080",
    "HTTP/1.1",
    "200",
    "OK",
    "99.9%",
    "id",
    "4111111111111112",
    "550e8400-e29b-41d4-a716-446655440000",
    "Where",
    "is",
    "my",
    "refund?",
    "\"quoted\"",
    "back\\slash",
    "a/b",
    "tab\there",
    "line\nbreak",
    "<b>",
    "{json}",
    "x=1;",
    "naïve",
    "1718031234567",
    "gpt-4o",
    "€",
    "\u{7}",
];

fn words() -> impl Strategy<Value = String> {
    prop::collection::vec(select(WORDS), 0..12).prop_map(|w| w.join(" "))
}

/// Random text with a secret inside, between delimiters it can be next to.
fn text_with_secret() -> impl Strategy<Value = (String, Secret)> {
    (
        words(),
        select(vec![" ", "\n", "\t", "(", "\"", "<", "[", "="]),
        secret(),
        select(vec!["", "\n", ")", "\"", ">", "]", ",", ".", ";", "!"]),
        words(),
    )
        .prop_map(|(before, left, secret, right, after)| {
            (
                format!("{before}{left}{}{right} {after}", secret.text),
                secret,
            )
        })
}

/// Wraps a string value in random JSON structure, with ordinary siblings.
fn document(content: String, shape: Vec<u8>) -> Value {
    let mut value = Value::String(content);
    for (i, s) in shape.into_iter().enumerate() {
        value = match s % 4 {
            0 => serde_json::json!({"role": "user", "content": value, "n": i}),
            1 => serde_json::json!(["x", value, 4111111111111112_u64, null]),
            2 => serde_json::json!({"messages": [value], "model": "gpt-4o", "temperature": 0.3}),
            _ => serde_json::json!({"deep": {"deeper": value}, "ok": true}),
        };
    }
    value
}

/// Serializes `value` as JSON, escaping characters of strings at random (`\uXXXX` in either
/// case, surrogate pairs, `\/`): valid JSON whose text hides what it says.
fn escaped_json(value: &Value, seed: u64) -> String {
    fn next(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }
    fn string(out: &mut String, s: &str, state: &mut u64) {
        out.push('"');
        for c in s.chars() {
            let r = next(state) % 4;
            let unicode = |out: &mut String, c: char| {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    if r == 0 {
                        out.push_str(&format!("\\u{u:04X}"));
                    } else {
                        out.push_str(&format!("\\u{u:04x}"));
                    }
                }
            };
            match c {
                '"' if r != 0 => out.push_str("\\\""),
                '\\' if r != 0 => out.push_str("\\\\"),
                '/' if r == 1 => out.push_str("\\/"),
                '\n' if r != 0 => out.push_str("\\n"),
                '\t' if r != 0 => out.push_str("\\t"),
                c if r == 0 || c < ' ' || c == '"' || c == '\\' => unicode(out, c),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    fn write(out: &mut String, v: &Value, state: &mut u64) {
        match v {
            Value::String(s) => string(out, s, state),
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(out, item, state);
                }
                out.push(']');
            }
            Value::Object(map) => {
                out.push('{');
                for (i, (k, item)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    string(out, k, state);
                    out.push_str(": ");
                    write(out, item, state);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    let mut state = seed | 1;
    write(&mut out, value, &mut state);
    out
}

/// Every string (keys and values) in a JSON value.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Value::Object(map) => map.iter().for_each(|(k, i)| {
            out.push(k.clone());
            strings(i, out);
        }),
        _ => {}
    }
}

/// Fails when any fragment of `secret` is in `text` raw, or in any string of it read as JSON.
fn assert_hidden(text: &str, secret: &Secret) -> Result<(), TestCaseError> {
    let json: Option<Value> = serde_json::from_str(text).ok();
    let mut decoded = Vec::new();
    if let Some(v) = &json {
        strings(v, &mut decoded);
    }
    for f in &secret.fragments {
        prop_assert!(!text.contains(f.as_str()), "{f:?} survived in {text:?}");
        let escaped = serde_json::to_string(f).unwrap();
        prop_assert!(
            !text.contains(&escaped[1..escaped.len() - 1]),
            "{f:?} survived escaped in {text:?}"
        );
        for s in &decoded {
            prop_assert!(
                !s.contains(f.as_str()),
                "{f:?} survived decoded in {text:?}"
            );
        }
    }
    Ok(())
}

/// `doc` with every string redacted on its own by [`Redactor::redact_text`](crate::stages::redact::Redactor::redact_text).
fn each_string_redacted(doc: &Value) -> Value {
    match doc {
        Value::String(s) => Value::String(redactor().redact_text(s).text.into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(each_string_redacted).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), each_string_redacted(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Decodes every JSON escape in `text`, leniently, as if it were all one string.
fn decode_all(text: &str) -> String {
    let mut out = String::new();
    crate::stages::redact::json::decode_into(text, true, &mut out);
    out
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn secrets_in_text_never_survive((text, secret) in text_with_secret()) {
        let r = redactor().redact_text(&text);
        prop_assert!(r.count >= 1, "nothing found in {text:?}");
        assert_hidden(&r.text, &secret)?;
    }

    #[test]
    fn secrets_in_json_never_survive(
        (text, secret) in text_with_secret(),
        shape in prop::collection::vec(any::<u8>(), 0..5),
        seed in any::<u64>(),
        budget in 16usize..4096,
    ) {
        let input = escaped_json(&document(text, shape), seed);
        prop_assert!(serde_json::from_str::<Value>(&input).is_ok(), "generated invalid JSON {input}");
        let r = redactor().redact_json(&input);
        prop_assert!(r.count >= 1, "nothing found in {input}");
        let value: Value = serde_json::from_str(&r.text)
            .map_err(|e| TestCaseError::fail(format!("invalid JSON out ({e}): {}", r.text)))?;
        assert_hidden(&r.text, &secret)?;
        // The size cap comes after redaction: whatever it cuts, no secret comes back.
        let (capped, _) = to_string_capped(&value, budget).unwrap();
        prop_assert!(serde_json::from_str::<Value>(&capped).is_ok(), "invalid capped JSON {capped}");
        assert_hidden(&capped, &secret)?;
    }

    #[test]
    fn json_cut_before_redaction_hides_what_is_left(
        (text, secret) in text_with_secret(),
        shape in prop::collection::vec(any::<u8>(), 0..4),
        seed in any::<u64>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let input = escaped_json(&document(text, shape), seed);
        let mut at = cut.index(input.len() + 1);
        while !input.is_char_boundary(at) {
            at -= 1;
        }
        let r = redactor().redact_json(&input[..at]);
        assert_hidden(&r.text, &secret)?;
        let decoded = decode_all(&r.text);
        for f in &secret.fragments {
            prop_assert!(!decoded.contains(f.as_str()), "{f:?} survived in {}", r.text);
        }
    }

    #[test]
    fn json_values_are_redacted_as_their_text_alone(
        (text, _secret) in text_with_secret(),
        other in text_with_secret(),
        shape in prop::collection::vec(any::<u8>(), 0..5),
        seed in any::<u64>(),
    ) {
        // Redacting the document's strings in one pass gives what redacting each one does.
        let doc = serde_json::json!([document(text, shape), other.0, "short", ""]);
        let input = escaped_json(&doc, seed);
        let out: Value = serde_json::from_str(&redactor().redact_json(&input).text).unwrap();
        prop_assert_eq!(out, each_string_redacted(&doc));
    }

    #[test]
    fn next_digit_finds_the_first_digit(text in any::<String>(), from in any::<prop::sample::Index>()) {
        let b = text.as_bytes();
        let from = from.index(b.len() + 1);
        let naive = b[from..].iter().position(u8::is_ascii_digit).map_or(b.len(), |i| from + i);
        prop_assert_eq!(next_digit(b, from), naive);
    }

    #[test]
    fn ordinary_content_is_left_alone(
        text in words(),
        shape in prop::collection::vec(any::<u8>(), 0..5),
        seed in any::<u64>(),
    ) {
        let r = redactor().redact_text(&text);
        prop_assert_eq!(r.count, 0, "redacted {:?} to {:?}", text, r.text);
        let input = escaped_json(&document(text, shape), seed);
        let r = redactor().redact_json(&input);
        prop_assert_eq!(r.count, 0, "redacted {} to {}", input, r.text);
        prop_assert_eq!(&*r.text, input.as_str());
    }

    #[test]
    fn any_text_never_panics(text in any::<String>()) {
        let r = redactor().redact_text(&text);
        prop_assert!(r.count > 0 || r.text == text);
        let _ = redactor().redact_json(&text);
    }

    #[test]
    fn the_walk_accepts_exactly_what_serde_json_accepts(
        text in r#"[\[\]{}",:\\u0-9a-fA-FE \t\n./+\-tnrulsx\x01é]{0,40}"#,
        (doc, _) in text_with_secret(),
        shape in prop::collection::vec(any::<u8>(), 0..4),
        seed in any::<u64>(),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let valid = escaped_json(&document(doc, shape), seed);
        // A valid document, the same cut, and the same with one byte changed (when still text).
        let mut at = cut.index(valid.len() + 1);
        while !valid.is_char_boundary(at) {
            at -= 1;
        }
        let mut changed = valid.clone().into_bytes();
        if let Some(b) = changed.get_mut(at) {
            *b = byte;
        }
        let changed = String::from_utf8(changed).unwrap_or_default();
        for input in [text.as_str(), valid.as_str(), &valid[..at], changed.as_str()] {
            let serde = serde_json::from_str::<serde::de::IgnoredAny>(input).is_ok();
            let walk = with_scratch(|s| redactor().walk_strict(input, s).is_ok());
            prop_assert_eq!(walk, serde, "{:?}", input);
        }
    }

    #[test]
    fn json_like_text_never_panics_and_json_stays_json(
        text in r#"[\[\]{}",:\\u0-9a-fA-F ./@+\-tnrl"sk_AKIé😀]{0,80}"#,
    ) {
        let r = redactor().redact_json(&text);
        if serde_json::from_str::<Value>(&text).is_ok() {
            prop_assert!(serde_json::from_str::<Value>(&r.text).is_ok(), "{} -> {}", text, r.text);
        }
    }

    #[test]
    fn secrets_as_object_keys_never_survive(
        (text, secret) in text_with_secret(),
        shape in prop::collection::vec(any::<u8>(), 0..4),
        seed in any::<u64>(),
    ) {
        let mut map = serde_json::Map::new();
        map.insert(text, Value::from(1));
        map.insert(secret.text.clone(), Value::from(2));
        map.insert("plain".into(), Value::from("kept"));
        let input = escaped_json(&wrap(Value::Object(map), shape), seed);
        let r = redactor().redact_json(&input);
        let out: Value = serde_json::from_str(&r.text)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", r.text)))?;
        assert_hidden(&r.text, &secret)?;
        // No entry lost to a collision of redacted keys.
        prop_assert_eq!(count_entries(&out), count_entries(&serde_json::from_str(&input).unwrap()));
    }

    #[test]
    fn credential_named_fields_are_hidden_at_any_depth(
        name in select(vec![
            "password", "userPassword", "ACCESS_TOKEN", "refresh-token", "x-api-key",
            "client_secret", "Authorization", "private_key", "Set-Cookie", "ssn", "passwd",
        ]),
        secret in "[A-Za-z0-9]{8,24}",
        form in 0u8..3,
        shape in prop::collection::vec(any::<u8>(), 0..6),
        seed in any::<u64>(),
    ) {
        let value = match form {
            0 => Value::from(secret.clone()),
            1 => serde_json::json!({"inner": secret.clone(), "n": 1}),
            _ => serde_json::json!([secret.clone()]),
        };
        let fields = serde_json::json!({
            name: value,
            "tokens": 5, "max_tokens": 9, "input_tokens": 3, "token_count": 7,
            "label": "kept",
        });
        let input = escaped_json(&wrap(fields, shape), seed);
        let r = redactor().redact_json(&input);
        prop_assert!(!r.text.contains(&secret), "{} survived in {}", secret, r.text);
        let out: Value = serde_json::from_str(&r.text).unwrap();
        let mut found = Vec::new();
        fields_named(&out, "max_tokens", &mut found);
        fields_named(&out, "token_count", &mut found);
        fields_named(&out, "label", &mut found);
        prop_assert_eq!(found, vec![Value::from(9), Value::from(7), Value::from("kept")]);
    }

    #[test]
    fn json_inside_json_strings_never_hides_a_secret(
        (text, secret) in text_with_secret(),
        shape in prop::collection::vec(any::<u8>(), 0..3),
        outer in prop::collection::vec(any::<u8>(), 0..3),
        seed in any::<u64>(),
    ) {
        // A tool call's arguments: JSON, escaped at random, inside a JSON string, itself in
        // JSON escaped at random.
        let arguments = escaped_json(&document(text, shape), seed);
        let call = serde_json::json!({"function": {"name": "send", "arguments": arguments}});
        let input = escaped_json(&wrap(call, outer), seed.rotate_left(7));
        let r = redactor().redact_json(&input);
        prop_assert!(r.count >= 1, "nothing found in {}", input);
        assert_hidden(&r.text, &secret)?;
        // Read back level by level, every string of every level.
        let mut decoded = Vec::new();
        nested_strings(&serde_json::from_str(&r.text).unwrap(), &mut decoded);
        for f in &secret.fragments {
            for s in &decoded {
                prop_assert!(!s.contains(f.as_str()), "{f:?} survived nested in {}", r.text);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..config() })]

    #[test]
    fn no_prefix_of_a_secret_survives_the_error_message_cut(
        (text, secret) in text_with_secret(),
        filler in 4096usize - 200..4096 + 20,
    ) {
        use crate::record::{Callsite, Kind, Record, Value as RecordValue};
        use crate::stages::content::ContentStage;
        use crate::state::Counters;
        static CALL: Callsite = Callsite::new(Kind::Tool, "t", "m", &[], &[], 0);
        // Captured as an error's message is, with its margin, then cleaned as the stage does.
        let message = crate::capture::message(|m| {
            use std::fmt::Write;
            write!(m, "{} {text}", "x".repeat(filler))
        });
        static STAGE: std::sync::LazyLock<ContentStage> = std::sync::LazyLock::new(|| {
            let mut stage = ContentStage::new(32 * 1024, crate::Redaction::default());
            stage.start();
            stage
        });
        let stage = &*STAGE;
        let mut rec = Record::new(&CALL, 1, 1, 0, None, 0);
        rec.set_error(RecordValue::Str("E"), Some(message));
        stage.process_record(&mut rec, &Counters::default());
        let out = rec.extra.as_ref().unwrap().status_message.as_deref().unwrap();
        prop_assert!(out.len() <= crate::capture::MAX_MESSAGE, "{}", out.len());
        for f in &secret.fragments {
            // No prefix of 8 characters or more, wherever the cut fell.
            let mut end = f.len().min(8);
            while !f.is_char_boundary(end) {
                end += 1;
            }
            prop_assert!(
                !out.contains(&f[..end]),
                "{:?} survived the cut: {:?}",
                &f[..end],
                &out[out.len().saturating_sub(80)..]
            );
        }
    }
}

/// Wraps `value` in random structure (objects and arrays around it).
fn wrap(mut value: Value, shape: Vec<u8>) -> Value {
    for (i, s) in shape.into_iter().enumerate() {
        value = match s % 3 {
            0 => serde_json::json!({"k": value, "i": i}),
            1 => serde_json::json!([1, value]),
            _ => serde_json::json!({"a": {"b": value}}),
        };
    }
    value
}

/// Object entries in all of `v`.
fn count_entries(v: &Value) -> usize {
    match v {
        Value::Object(map) => map.len() + map.values().map(count_entries).sum::<usize>(),
        Value::Array(items) => items.iter().map(count_entries).sum(),
        _ => 0,
    }
}

/// The values of every field named `name` in `v`, in order.
fn fields_named(v: &Value, name: &str, out: &mut Vec<Value>) {
    match v {
        Value::Object(map) => {
            for (k, value) in map {
                if k == name {
                    out.push(value.clone());
                }
                fields_named(value, name, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| fields_named(i, name, out)),
        _ => {}
    }
}

/// Every string of `v`, and of the JSON documents inside its strings, to any depth.
fn nested_strings(v: &Value, out: &mut Vec<String>) {
    let mut flat = Vec::new();
    strings(v, &mut flat);
    for s in flat {
        if let Ok(inner) = serde_json::from_str::<Value>(&s) {
            if inner.is_object() || inner.is_array() {
                nested_strings(&inner, out);
            }
        }
        out.push(s);
    }
}

/// A parameter: plain words, a number, a secret in text, a card number as a number, JSON in a
/// string, or a list (serialized on the caller's thread).
fn param() -> impl Strategy<Value = super::captured::Param> {
    use super::captured::Param;
    prop_oneof![
        4 => words().prop_map(Param::Text),
        2 => any::<i64>().prop_map(Param::Int),
        1 => any::<f64>().prop_map(Param::Float),
        1 => any::<bool>().prop_map(Param::Bool),
        2 => text_with_secret().prop_map(|(text, _)| Param::Text(text)),
        1 => card().prop_map(|c| Param::Int(c.text.parse().unwrap_or(4_111_111_111_111_111))),
        1 => words().prop_map(|w| Param::Text(format!("{{\"q\": \"{w}\"}}"))),
        1 => prop::collection::vec(words(), 0..3).prop_map(Param::List),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..config() })]

    /// Whatever the parameters, content the typed check calls clean is content the JSON walk
    /// leaves untouched (`check` asserts it), and a secret is never called clean.
    #[test]
    fn captured_content_called_clean_is_what_the_walk_leaves(
        list in prop::collection::vec(
            (select(vec!["question", "n", "password", "user", "api_key", "ana@example.com"]), param()),
            0..4,
        ),
    ) {
        use super::captured::{Param, captured, check};
        let list: Vec<(String, Param)> =
            list.into_iter().map(|(n, p)| (n.to_owned(), p)).collect();
        let c = captured(&list);
        let clean = check(&c);
        let has_secret = list.iter().any(|(_, p)| matches!(p, Param::Text(t) if redactor().redact_text(t).count > 0));
        prop_assert!(!(clean && has_secret), "{list:?} called clean");
    }
}
