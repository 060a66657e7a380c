//! The receiver's benchmark: OTLP/JSON requests of 1,000 spans each, posted one after the other
//! to a running `llmtrace serve` (release build) over loopback, each answered once its spans
//! are committed to the SQLite store. Reports spans stored per second, the median of the rounds.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Spans in one request: what an OTLP exporter's batch holds by default is 512.
const SPANS_PER_REQUEST: usize = 1000;

/// One OTLP/JSON request of `SPANS_PER_REQUEST` model-call spans in traces of 10.
fn request(round: usize, n: usize) -> Vec<u8> {
    let spans: Vec<serde_json::Value> = (0..SPANS_PER_REQUEST)
        .map(|i| {
            let trace = (round << 40) | (n << 20) | (i / 10);
            serde_json::json!({
                "traceId": format!("{trace:032x}"),
                "spanId": format!("{:016x}", (n * SPANS_PER_REQUEST + i) + 1),
                "name": "chat gpt-4o",
                "kind": 3,
                "startTimeUnixNano": (1_764_700_000_000_000_000u64 + i as u64 * 1000).to_string(),
                "endTimeUnixNano": (1_764_700_000_200_000_000u64 + i as u64 * 1000).to_string(),
                "attributes": [
                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                    {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "120"}},
                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "40"}},
                    {"key": "session.id", "value": {"stringValue": "bench-session"}}
                ]
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "bench"}}]},
        "scopeSpans": [{"spans": spans}]
    }]}))
    .expect("JSON")
}

fn post(addr: SocketAddr, body: &[u8]) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let head = format!(
        "POST /v1/traces HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("send");
    s.write_all(body).expect("send");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("answer");
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

/// Builds the CLI, then per round starts a server on a fresh store and posts `requests`
/// requests; prints the table.
pub(crate) fn run(rounds: usize, requests: usize) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "-p", "llmtrace-cli"])
        .status()
        .expect("cargo build");
    assert!(status.success(), "building llmtrace-cli failed");
    let exe = std::env::current_exe()
        .expect("own path")
        .with_file_name("llmtrace");
    let dir = std::env::temp_dir().join("llmtrace-serve-bench");
    let mut rates = Vec::new();
    for round in 0..rounds {
        let _ = std::fs::remove_dir_all(&dir);
        let bodies: Vec<Vec<u8>> = (0..requests).map(|n| request(round, n)).collect();
        let mut child = Command::new(&exe)
            .args([
                "serve",
                "--otlp",
                "127.0.0.1:0",
                "--ui",
                "127.0.0.1:0",
                "--store",
            ])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("llmtrace serve starts");
        let mut line = String::new();
        // Kept open while the server runs: it prints a second line.
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        out.read_line(&mut line).expect("its address");
        let addr: SocketAddr = line
            .trim()
            .trim_start_matches("llmtrace: receiving OTLP/HTTP on http://")
            .trim_end_matches("/v1/traces")
            .parse()
            .expect("an address");
        let t = Instant::now();
        for body in &bodies {
            post(addr, body);
        }
        let secs = t.elapsed().as_secs_f64();
        let _ = child.kill();
        let _ = child.wait();
        drop(out);
        rates.push((requests * SPANS_PER_REQUEST) as f64 / secs);
    }
    rates.sort_by(f64::total_cmp);
    let size = request(0, 0).len();
    println!(
        "| receiver: OTLP/JSON requests of {SPANS_PER_REQUEST} spans ({} KiB), one at a time, into SQLite | spans/s |",
        size / 1024
    );
    println!("|---|---:|");
    println!(
        "| {} spans, median of {rounds} rounds | {:.0} |",
        requests * SPANS_PER_REQUEST,
        rates[rates.len() / 2]
    );
}
