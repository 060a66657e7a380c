//! Each built-in detector on what it must find and what it must leave.

use super::{assert_keeps, assert_redacts, redactor, text};
use crate::stages::redact::detectors::builtins;
use crate::stages::redact::{Detector, Redaction, Redactor};

#[test]
fn every_builtin_pattern_compiles() {
    let all = Detector::ALL.iter().fold(0, |bits, d| bits | d.bit());
    let b = builtins(all);
    assert_eq!(b.rules.len(), 16);
    assert!(b.literal.is_some() && b.label.is_some());
    for d in Detector::ALL {
        // Secret fields are found by key name, not by a pattern.
        let patterns = d != Detector::SecretField;
        assert_eq!(!builtins(d.bit()).rules.is_empty(), patterns, "{d:?}");
        assert_eq!(d.marker(), format!("[REDACTED:{}]", d.name()));
        assert_eq!(
            d.rank(),
            Detector::ALL.iter().position(|x| *x == d).unwrap()
        );
    }
}

#[test]
fn email() {
    assert_redacts(&[
        ("mail bob@example.com now", "mail [REDACTED:email] now"),
        ("<jane.doe+tag@mail.example.co.uk>", "<[REDACTED:email]>"),
        ("a_b%c-d@sub-domain.io.", "[REDACTED:email]."),
        (
            "Écrire à zoë.o'neil@exemple.fr",
            "Écrire à [REDACTED:email]",
        ),
        (
            "\"x@y.org\",\"z@w.net\"",
            "\"[REDACTED:email]\",\"[REDACTED:email]\"",
        ),
    ]);
    assert_keeps(&[
        "user@localhost",
        "icon@2x.png and logo@3x.JPG",
        "@decorator.name",
        "npm i @scope/pkg",
        "a @ b.com",
        "foo@bar",
        "name@-bad-.c",
    ]);
}

#[test]
fn phone() {
    assert_redacts(&[
        ("call (415) 555-0132 today", "call [REDACTED:phone] today"),
        ("415-555-0132", "[REDACTED:phone]"),
        ("415.555.0132.", "[REDACTED:phone]."),
        ("1-800-555-0199", "[REDACTED:phone]"),
        ("+44 20 7946 0958", "[REDACTED:phone]"),
        ("+1 (415) 555-0132", "[REDACTED:phone]"),
        ("tel:+14155550132", "tel:[REDACTED:phone]"),
        ("+33 1 23 45 67 89", "[REDACTED:phone]"),
        ("+49-30-1234-5678", "[REDACTED:phone]"),
        ("+86 138 0013 8000", "[REDACTED:phone]"),
        ("Tel. 020 7946 0958", "Tel. [REDACTED:phone]"),
        ("phone=415-555-0132,", "phone=[REDACTED:phone],"),
        // Groups past E.164's 15 digits are another number.
        ("+44 20 7946 0958 2024", "[REDACTED:phone] 2024"),
        ("+1 415 555 0132 550e8400", "[REDACTED:phone] 550e8400"),
        // A rejected candidate (`1 (415)...` after `1.`, `080 0100 000` inside `8080`) does not
        // hide the number that starts inside it.
        ("HTTP/1.1 (415) 555-0132", "HTTP/1.1 [REDACTED:phone]"),
        ("port 8080 0100 000 0000", "port 8080 [REDACTED:phone]"),
    ]);
    assert_keeps(&[
        "2024-01-15",
        "2024-01-15T12:30:45+05:30",
        "12:30:45",
        "v1.2.3",
        "1.22.333",
        "123e4567-e89b-12d3-a456-426614174000",
        "00000000-0000-0000-0000-000000000000",
        "$1,234.56",
        "A-42",
        "order B-7",
        "4111111111111112",
        "let big = 12345678901234567890;",
        "1.0.0+20130313144700",
        "x = 2+2",
        "+5 points",
        "+100.00",
        "+1234.56",
        "ID-415-555-0132",
        "415-555-0132-99",
        "100 200 3000",
        "512 256 1024",
        "pi is 3.14159265358979",
        "01-02-2024",
        "192.168.100.1000",
    ]);
}

#[test]
fn payment_card() {
    assert_redacts(&[
        ("card 4111111111111111 ok", "card [REDACTED:card] ok"),
        ("4111 1111 1111 1111", "[REDACTED:card]"),
        ("4111-1111-1111-1111", "[REDACTED:card]"),
        ("amex 3782 822463 10005.", "amex [REDACTED:card]."),
        ("5500000000000004,", "[REDACTED:card],"),
        ("4222222222222", "[REDACTED:card]"),
        ("6011 1111 1111 1117 cvv 123", "[REDACTED:card] cvv 123"),
        ("4111 1111 1111 1111 123", "[REDACTED:card] 123"),
        ("x:4111111111111111;", "x:[REDACTED:card];"),
    ]);
    assert_keeps(&[
        "4111111111111112",
        "4111 1111 1111 1112",
        "1718031234567", // a timestamp in milliseconds
        "1718031234567890123",
        "1000000000000008", // Luhn-valid, not a card prefix
        "41 11 11 11 11 11 11 11",
        "4111111111111111abc",
        "id_4111111111111111",
        "12345678901234567890123456789",
    ]);
}

#[test]
fn api_key() {
    let openai = "sk-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL";
    let project = "sk-proj-Ab3dEf6hIj9lMn2pQr5tUv8xYz1BcDeFgHiJkLmNoPqRsTuVwXyZ_-0123";
    let anthropic = "sk-ant-api03-Xy9_ZabcdEFGHijklMNOPqrstUVWXyz0123456789abcdEFGHIJKLmnop-qrstuvwxyzAB-CDEFGHIJKLMNOPQRAA";
    for key in [
        openai,
        project,
        anthropic,
        "AKIAIOSFODNN7EXAMPLE",
        "ASIAY34FZKBOKMUTVV7A",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "gho_16C7e42F292c6912E7710c838347Ae178B4a",
        "github_pat_11ABCDEFG0123456789abc_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVW",
        "AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ] {
        assert_eq!(text(key), "[REDACTED:api_key]", "{key}");
        assert_eq!(
            text(&format!("key={key};")),
            "key=[REDACTED:api_key];",
            "{key}"
        );
        assert_eq!(
            text(&format!("use \"{key}\"\n")),
            "use \"[REDACTED:api_key]\"\n"
        );
    }
    assert_redacts(&[
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "aws_secret_access_key = [REDACTED:api_key]",
        ),
        (
            r#"AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY""#,
            r#"AWS_SECRET_ACCESS_KEY="[REDACTED:api_key]""#,
        ),
        (
            "x-api-key: 0123456789abcdef0123",
            "x-api-key: [REDACTED:api_key]",
        ),
        (
            r#"{"api_key": "q8w7e6r5t4y3u2i1"}"#,
            r#"{"api_key": "[REDACTED:api_key]"}"#,
        ),
    ]);
    assert_keeps(&[
        "sk-learn",
        "sk-spinner-container-wrapper-large",
        "task-abcdefghijklmnopqrstuvwxyz0123",
        "AKIA1234",
        "AKIAIOSFODNN7EXAMPLEXX",
        "ghp_short",
        "the api_key parameter",
        "api_key=YOUR_API_KEY_GOES_HERE",
        // A 40-character value after the label, but longer than a secret key.
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEYX",
    ]);
}

#[test]
fn bearer() {
    assert_redacts(&[
        (
            "Authorization: Bearer abc123def456ghi789",
            "Authorization: Bearer [REDACTED:bearer]",
        ),
        ("bearer 0123456789abcdef", "bearer [REDACTED:bearer]"),
        (
            "Authorization: Basic dXNlcjpwYXNzd29yZA==",
            "Authorization: Basic [REDACTED:bearer]",
        ),
        (
            "authorization: 9f8e7d6c5b4a39281706",
            "authorization: [REDACTED:bearer]",
        ),
        (
            "Proxy-Authorization: Token q1w2e3r4",
            "Proxy-Authorization: Token [REDACTED:bearer]",
        ),
        (
            "Bearer ya29.a0AfH6SMBx-opaque_token~value+/abc",
            "Bearer [REDACTED:bearer]",
        ),
    ]);
    assert_keeps(&[
        "the Bearer scheme",
        "Bearer authentication is simple",
        "Authorization: required",
        "authorization header missing",
    ]);
}

#[test]
fn jwt() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    assert_eq!(text(jwt), "[REDACTED:jwt]");
    assert_eq!(
        text(&format!("token={jwt}&x=1")),
        "token=[REDACTED:jwt]&x=1"
    );
    // The JWT outranks the bearer detector over the same token.
    assert_eq!(
        text(&format!("Authorization: Bearer {jwt}")),
        "Authorization: Bearer [REDACTED:jwt]"
    );
    // Unsigned, and cut after the payload.
    assert_eq!(
        text("eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."),
        "[REDACTED:jwt]"
    );
    assert_eq!(
        text("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsIm"),
        "[REDACTED:jwt]"
    );
    assert_keeps(&[
        "eyJ",
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhb.x.y",
        "keyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1p.x",
    ]);
}

#[test]
fn pem_private_key() {
    let block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yQ==\n-----END RSA PRIVATE KEY-----";
    assert_eq!(
        text(&format!("key:\n{block}\nthanks")),
        "key:\n[REDACTED:private_key]\nthanks"
    );
    for kind in ["", "EC ", "OPENSSH ", "ENCRYPTED ", "DSA "] {
        let block = format!(
            "-----BEGIN {kind}PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nabc+/=\n-----END {kind}PRIVATE KEY-----"
        );
        assert_eq!(text(&format!("a {block} b")), "a [REDACTED:private_key] b");
    }
    assert_eq!(
        text(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2 (GNU/Linux)\n\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----!"
        ),
        "[REDACTED:private_key]!"
    );
    // Cut before its END line: everything after BEGIN goes.
    assert_eq!(
        text("see -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
        "see [REDACTED:private_key]"
    );
    // Two blocks stay two.
    let two = format!("{block}\nand\n{block}");
    assert_eq!(
        text(&two),
        "[REDACTED:private_key]\nand\n[REDACTED:private_key]"
    );
    assert_keeps(&[
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----",
    ]);
}

#[test]
fn ip() {
    assert_redacts(&[
        ("from 192.168.1.20 at", "from [REDACTED:ip] at"),
        ("8.8.8.8:53", "[REDACTED:ip]:53"),
        ("10.0.0.1, 172.16.254.3.", "[REDACTED:ip], [REDACTED:ip]."),
        (
            "addr 2001:db8:85a3::8a2e:370:7334 ok",
            "addr [REDACTED:ip] ok",
        ),
        ("[2001:db8::1]:8080", "[[REDACTED:ip]]:8080"),
        ("fe80::1ff:fe23:4567:890a%eth0", "[REDACTED:ip]%eth0"),
        ("2001:0db8:0000:0000:0000:ff00:0042:8329.", "[REDACTED:ip]."),
        ("::ffff:192.0.2.128", "[REDACTED:ip]"),
        ("fe80::1", "[REDACTED:ip]"),
    ]);
    assert_keeps(&[
        "256.1.1.1",
        "1.2.3",
        "01.02.03.04",
        "1.3.6.1.4.1.311",
        "version 10.0.19041.1",
        "127.0.0.1",
        "0.0.0.0",
        "255.255.255.0",
        "::1",
        "::",
        "localhost:8080",
        "12:30:45",
        "00:1A:2B:3C:4D:5E",
        "std::io::Result",
        "Self::add",
        "add::add",
        "x[1::2]",
        "a[::2]",
        "ratio 1:2:3",
        "v1.2.3.4",
    ]);
}

#[test]
fn overlapping_matches_become_one_marker() {
    // An e-mail whose local part looks like a phone number, and a key inside a bearer token.
    assert_eq!(text("415-555-0132@example.com"), "[REDACTED:email]");
    assert_eq!(
        text("Authorization: Bearer sk-proj-Ab3dEf6hIj9lMn2pQr5tUv8xYz1"),
        "Authorization: Bearer [REDACTED:api_key]"
    );
}

#[test]
fn nothing_found_borrows_and_counts_nothing() {
    let r = redactor().redact_text("Refunds take 5 days.");
    assert!(matches!(r.text, std::borrow::Cow::Borrowed(_)));
    assert_eq!(r.count, 0);
    let r = redactor().redact_text("a@b.io and c@d.io and 415-555-0132");
    assert_eq!(r.count, 3);
}

#[test]
fn disabled_detectors_find_nothing() {
    let input = "bob@example.com 415-555-0132 4111111111111111 AKIAIOSFODNN7EXAMPLE 10.1.2.3";
    let without = |d| {
        Redactor::new(&Redaction::default().without(d))
            .redact_text(input)
            .text
            .into_owned()
    };
    assert!(without(Detector::Email).contains("bob@example.com"));
    assert!(without(Detector::Phone).contains("415-555-0132"));
    assert!(without(Detector::PaymentCard).contains("4111111111111111"));
    assert!(without(Detector::ApiKey).contains("AKIAIOSFODNN7EXAMPLE"));
    assert!(without(Detector::Ip).contains("10.1.2.3"));
    let none = Redactor::new(&Redaction::none());
    assert!(none.is_noop());
    assert_eq!(none.redact_text(input).text, input);
    assert_eq!(none.redact_json("\"4111111111111111\"").count, 0);
}
