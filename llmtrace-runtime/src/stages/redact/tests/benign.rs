//! A fixed corpus of content that looks like data but holds no secret: it must come out
//! untouched, borrowed, with no redaction counted, as text and as JSON.

use std::borrow::Cow;

use super::redactor;

const CORPUS: &[&str] = &[
    // UUIDs
    "123e4567-e89b-12d3-a456-426614174000",
    "550e8400-e29b-41d4-a716-446655440000",
    "00000000-0000-0000-0000-000000000000",
    "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66",
    // hashes and content ids
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "etag \"33a64df551425fcc55e4d42a148795d9f25f89d4\"",
    "md5 d41d8cd98f00b204e9800998ecf8427e",
    // URLs without credentials, and what looks like them
    "https://example.com:8443/path?q=1",
    "redis://cache:6379/0",
    "postgres://db.internal:5432/orders",
    "ftp://anonymous@ftp.example.com/pub",
    "see http://localhost:3000",
    "amqp://rabbit:5672",
    // words next to scheme names and prefixes
    "the basic idea, basic usage, Basic Instinct",
    "Basic authentication is described in RFC 7617",
    "hf_hub_download and hf_transfer",
    "xapp is not a token",
    // dotted numbers that are not cards
    "3.14159265358979",
    "4111.1111.1111.1112",
    "2024.01.15.1200",
    "10.0.19041.1",
    "version 2024.10.15.4711",
    // dates and datetimes
    "2024-01-15",
    "2024-01-15T12:30:45Z",
    "2024-01-15T12:30:45.123+05:30",
    "2024-01-15T12:30:45-08:00",
    "2024-01-15 12:30:45",
    "15/01/2024",
    "01/15/2024",
    "15.01.2024",
    "01-15-2024",
    "Jan 15, 2024",
    "20240115",
    "2024-W03-1",
    // semantic versions
    "1.2.3",
    "v0.33.1",
    "1.0.0-alpha.1+build.5",
    "1.0.0+20130313144700",
    "rust 1.95.0 (f2d3ce0bd 2026-03-21)",
    "macOS 10.15.7",
    "version 10.0.19041.1",
    "python==3.12.4",
    // order ids
    "A-42",
    "B-7",
    "order A-42 and B-7",
    "ORD-2024-000123",
    "INV-0001",
    "#1234",
    "PR-5678",
    "ticket SUP-2024-11-0042",
    // 16-digit numbers failing Luhn, and long integers
    "4111111111111112",
    "1234567812345678",
    "9999999999999999",
    "4111 1111 1111 1112",
    "12345678901234567890",
    "let n: u64 = 18446744073709551615;",
    "1718031234",
    "1718031234567",
    "1718031234567890123",
    "65536",
    "1_000_000",
    // prices and percentages
    "$1,234.56",
    "€99.99",
    "USD 1,000,000.00",
    "£12",
    "99.9%",
    "12.5 %",
    "-3.2%",
    "+5%",
    "+12.5% YoY",
    // times
    "12:30:45",
    "09:05",
    "23:59:59.999",
    "12:30 PM",
    "took 1h02m03s",
    // code
    "fn main() { let x: Vec<u8> = vec![1, 2, 3]; println!(\"{x:?}\"); }",
    "for i in 0..10 { sum += i * 1000000007 % 998244353; }",
    "std::collections::HashMap::<String, u64>::new()",
    "impl Add for V { fn add(self, o: V) -> V { Self::add(self, o) } }",
    "x = arr[1::2]; y = arr[::-1]; z = a[10::20]",
    "if (a && b) || c { return Err(e)?; }",
    "SELECT * FROM users WHERE id = 42 AND created_at > '2024-01-15 12:30:45';",
    "curl -X POST http://localhost:8080/v1/chat -H 'Content-Type: application/json'",
    "docker run -p 8080:80 nginx:1.25.3",
    "print(f\"{value:.2f}\"); lambda x: x ** 2",
    "@app.route('/users/<int:id>')",
    "import { useState } from 'react'; // @ts-ignore",
    "const bearer = req.headers.authorization;",
    "See the Bearer scheme in RFC 6750.",
    "api_key = os.environ[\"OPENAI_API_KEY\"]",
    "password: ${{ secrets.PASSWORD }}",
    "sk-learn is not a key",
    "class=\"sk-spinner sk-spinner-wave\"",
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUXx\n-----END CERTIFICATE-----",
    // hashes
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "d41d8cd98f00b204e9800998ecf8427e",
    "9fceb02d0ae598e95dc970b74767f19372d61af8",
    "commit 9fceb02",
    "0xdeadbeef",
    "#ff00aa",
    // hosts, addresses that are not personal, HTTP
    "localhost:8080",
    "http://localhost:3000/health",
    "127.0.0.1:3000",
    "http://0.0.0.0:8000",
    "netmask 255.255.255.0",
    "[::1]:443",
    "HTTP/1.1 200 OK",
    "HTTP/2 404 Not Found",
    "GET /api/v1/users/123 HTTP/1.1",
    "status=503 Service Unavailable",
    // models, parameters, usage
    "gpt-4o-2024-08-06",
    "claude-3-5-sonnet-20241022",
    "temperature=0.7 top_p=0.95 max_tokens=1024",
    "prompt_tokens: 1234, completion_tokens: 567, total: 1801",
    "1e-9",
    "3.14159265358979",
    "1920x1080",
    "37.7749, -122.4194",
    "ISBN 978-0-306-40615-7",
    "score 512 256 1024",
    "page 1 of 10",
    "user@localhost",
    "icon@2x.png",
    "MAC 00:1A:2B:3C:4D:5E",
    "ratio 16:9 and 4:3",
    "Café, naïve, 日本語のテキスト, emoji 😀",
];

#[test]
fn benign_corpus_is_untouched() {
    for item in CORPUS {
        let r = redactor().redact_text(item);
        assert!(
            matches!(r.text, Cow::Borrowed(_)) && r.count == 0,
            "redacted {item:?} to {:?}",
            r.text
        );
    }
    let all = CORPUS.join("\n");
    let r = redactor().redact_text(&all);
    assert_eq!(r.text, all);
    assert_eq!(r.count, 0);
}

#[test]
fn benign_corpus_as_json_is_untouched() {
    let json = serde_json::to_string(&serde_json::json!({
        "messages": CORPUS.iter().map(|c| serde_json::json!({"role": "user", "content": c})).collect::<Vec<_>>(),
        "all": CORPUS.join(" "),
        "n": [4111111111111112_u64, 1718031234567_u64, 65536],
    }))
    .unwrap();
    let r = redactor().redact_json(&json);
    assert!(matches!(r.text, Cow::Borrowed(_)), "{}", r.text);
    assert_eq!(r.count, 0);
}
