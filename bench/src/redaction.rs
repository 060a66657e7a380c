//! Redaction cost per KiB of captured content: a chat request as JSON and its text, 1 KiB and
//! 16 KiB, without secrets (the common case) and with a few, through the default redactor; JSON
//! whose keys are content (a map keyed by e-mail address) and JSON with credential-named fields;
//! and what capturing a huge argument costs the caller next to a modest one.
//!
//! ```text
//! cargo run --release -p llmtrace-bench -- --redaction [--rounds N]
//! ```
//!
//! Each round times enough calls to last about 20 ms; the report gives the median over rounds
//! (with min and max) in ns per KiB and MiB/s.

use std::time::Instant;

use llmtrace_runtime::__private::Redactor;
use llmtrace_runtime::Redaction;

use crate::measure::median;

/// Ordinary content: prose with the data-like tokens real messages hold (dates, ids, versions,
/// prices, times, a UUID, code).
const PROSE: &[&str] = &[
    "Hi! I ordered a standing desk (order A-42) on 2024-01-15 and it still hasn't shipped.",
    "The tracking page says \"label created\" since 12:30:45 yesterday; is that normal?",
    "I paid $1,234.56 including the extended warranty, invoice INV-0001.",
    "Our build uses llmtrace v0.1.0 with rust 1.95.0; see commit 9fceb02 for details.",
    "Request id 550e8400-e29b-41d4-a716-446655440000 returned HTTP/1.1 503 after 2.5 s.",
    "```rust\nfn total(items: &[Item]) -> u64 { items.iter().map(|i| i.price).sum() }\n```",
    "Could you check whether 99.9% uptime covers the outage from 09:05 to 09:40?",
    "Thanks — merci — 日本語でも大丈夫です。",
];

/// Secrets a user might paste.
const SECRETS: &[&str] = &[
    "my email is jane.doe@example.com",
    "call me at +1 (415) 555-0132",
    "card 4111 1111 1111 1111 exp 12/27",
    "the key is sk-proj-Ab3dEf6hIj9lMn2pQr5tUv8xYz1BcDeFgHiJkLmNoP",
];

/// Message contents of about `size` bytes in total; with `secrets`, one secret per KiB.
fn contents(size: usize, secrets: bool) -> Vec<String> {
    let mut out = Vec::new();
    let mut total = 0;
    let mut i = 0;
    while total < size {
        let mut content = String::new();
        for k in 0..3 {
            content.push_str(PROSE[(i * 3 + k) % PROSE.len()]);
            content.push('\n');
        }
        if secrets && (total + content.len()) / 1024 > total / 1024 {
            content.push_str(SECRETS[(total / 1024) % SECRETS.len()]);
            content.push('\n');
        }
        total += content.len() + 40;
        out.push(content);
        i += 1;
    }
    out
}

/// A map keyed by e-mail address, of about `size` bytes (each key is redacted, and told apart).
fn keyed_json(size: usize) -> String {
    let mut map = serde_json::Map::new();
    let mut i = 0;
    while map.iter().map(|(k, _)| k.len() + 12).sum::<usize>() < size {
        map.insert(
            format!("user{i}.name@example{}.com", i % 7),
            serde_json::json!({"orders": i, "tier": "pro"}),
        );
        i += 1;
    }
    serde_json::to_string(&serde_json::json!({"by_user": map})).expect("json")
}

/// Tool-call arguments with credential-named fields at several depths, about `size` bytes.
fn fields_json(size: usize) -> String {
    let mut items = Vec::new();
    while serde_json::to_string(&items).expect("json").len() < size {
        items.push(serde_json::json!({
            "user": "ann",
            "password": "hunter2-horse-battery",
            "session": {"access_token": "ya29.a0AfH6SMBxQ9zLm3", "expires_in": 3600},
            "usage": {"tokens": 5, "max_tokens": 512, "token_count": 7},
            "note": "please retry the order from yesterday",
        }));
    }
    serde_json::to_string(&serde_json::json!({"logins": items})).expect("json")
}

fn chat_json(contents: &[String]) -> String {
    let messages: Vec<_> = contents
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let role = if i % 2 == 0 { "user" } else { "assistant" };
            serde_json::json!({"role": role, "content": c})
        })
        .collect();
    serde_json::to_string(&serde_json::json!({
        "model": "gpt-4o",
        "messages": messages,
        "temperature": 0.3,
        "max_tokens": 512,
    }))
    .expect("json")
}

/// Median, min and max over `rounds` of the time of one call, in ns.
fn time(rounds: usize, mut call: impl FnMut() -> usize) -> (f64, f64, f64) {
    // Warm up and size a round to about 20 ms.
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed().as_millis() < 20 || n < 10 {
        std::hint::black_box(call());
        n += 1;
    }
    let mut per_call = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..n {
            std::hint::black_box(call());
        }
        per_call.push(start.elapsed().as_nanos() as f64 / n as f64);
    }
    let min = per_call.iter().copied().fold(f64::INFINITY, f64::min);
    let max = per_call.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (median(&mut per_call), min, max)
}

/// Runs the redaction benchmark and prints its table.
pub(crate) fn run(rounds: usize) {
    let compile = Instant::now();
    let redactor = Redactor::new(&Redaction::default());
    let compile = compile.elapsed();
    println!(
        "redaction: default detectors, compiled once in {:.2} ms; {rounds} rounds of ~20 ms, median [min..max]",
        compile.as_secs_f64() * 1e3
    );
    println!(
        "{:<34} {:>8} {:>11} {:>22} {:>9} {:>6}",
        "input", "bytes", "ns/call", "ns/KiB", "MiB/s", "found"
    );
    // Warm up (clock frequency, the regex engines' caches) before the first timed case.
    let warm = chat_json(&contents(16 * 1024, true));
    let start = Instant::now();
    while start.elapsed().as_millis() < 200 {
        std::hint::black_box(redactor.redact_json(&warm));
    }
    for size in [1024, 16 * 1024] {
        for secrets in [false, true] {
            let contents = contents(size, secrets);
            let json = chat_json(&contents);
            let text = contents.concat();
            let label = |kind: &str| {
                format!(
                    "{kind} {} KiB, {}",
                    size / 1024,
                    if secrets {
                        "with secrets"
                    } else {
                        "no secrets"
                    }
                )
            };
            let cases: [(String, &str, bool); 2] =
                [(label("json"), &json, true), (label("text"), &text, false)];
            for (name, input, is_json) in cases {
                let redact = || {
                    if is_json {
                        redactor.redact_json(input).count
                    } else {
                        redactor.redact_text(input).count
                    }
                };
                let found = redact();
                row(&name, input, found, time(rounds, redact));
            }
        }
    }
    for size in [1024, 16 * 1024] {
        for (kind, json) in [
            ("keyed by e-mail", keyed_json(size)),
            ("credential fields", fields_json(size)),
        ] {
            let redact = || redactor.redact_json(&json).count;
            let found = redact();
            row(
                &format!("json {} KiB, {kind}", size / 1024),
                &json,
                found,
                time(rounds, redact),
            );
        }
    }
    capture(rounds);
}

fn row(name: &str, input: &str, found: usize, (med, min, max): (f64, f64, f64)) {
    let kib = input.len() as f64 / 1024.0;
    let per_kib = |ns: f64| ns / kib;
    let mib_s = input.len() as f64 / med * 1e9 / (1024.0 * 1024.0);
    println!(
        "{name:<34} {:>8} {med:>11.0} {:>8.0} [{:>5.0}..{:>5.0}] {mib_s:>9.1} {found:>6}",
        input.len(),
        per_kib(med),
        per_kib(min),
        per_kib(max),
    );
}

/// The caller's cost of capturing one `&str` argument, 64 KiB and 50 MB, with the default
/// content limit (32 KiB, and the redaction margin): what is kept is the same, so the cost
/// should be too.
fn capture(rounds: usize) {
    use llmtrace_runtime::__private::InputWriter;
    println!();
    println!("capture of one &str argument (default limit), median [min..max]");
    let mut medians = Vec::new();
    for (name, size) in [
        ("64 KiB string", 64 * 1024),
        ("50 MB string", 50 * 1024 * 1024),
    ] {
        let text = "lorem ipsum dolor sit amet ".repeat(size / 27 + 1);
        let text = &text[..size];
        let (med, min, max) = time(rounds, || {
            let mut w = InputWriter::new();
            w.field("text", text);
            std::hint::black_box(w);
            0
        });
        println!("{name:<34} {med:>11.0} ns [{min:.0}..{max:.0}]");
        medians.push(med);
    }
    println!(
        "50 MB / 64 KiB: {:.2}x (target: at most 2x)",
        medians[1] / medians[0]
    );
}
