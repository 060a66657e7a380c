//! `llmtrace serve`'s benchmarks, against the release build over loopback:
//! - ingestion: OTLP/JSON requests of 1,000 spans each, posted one after the other, each
//!   answered once its spans are committed to the SQLite store; spans stored per second, the
//!   median of the rounds. With `LLMTRACE_BENCH_BASELINE=PATH` (another build's `llmtrace`),
//!   that build is measured too, interleaved round by round, for a before/after ratio;
//! - the trace list with 100,000 traces in the store: the time of `GET /api/traces` for the
//!   first page, a deep page, and filtered pages, medians of repeated requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
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
    let out = http(addr, "POST", "/v1/traces", body);
    assert!(
        out.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out)
    );
}

/// One request on its own connection; the whole answer.
fn http(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).expect("connect");
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("send");
    s.write_all(body).expect("send");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("answer");
    out
}

/// A running `llmtrace serve` on a fresh store in `dir`, and its two addresses.
struct Server {
    child: Child,
    otlp: SocketAddr,
    ui: SocketAddr,
    // Kept open while the server runs: a closed stdout must not be what it meets.
    _out: BufReader<ChildStdout>,
}

impl Server {
    fn start(exe: &Path, dir: &Path) -> Self {
        let _ = std::fs::remove_dir_all(dir);
        let mut child = Command::new(exe)
            .args([
                "serve",
                "--otlp",
                "127.0.0.1:0",
                "--ui",
                "127.0.0.1:0",
                "--store",
            ])
            .arg(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("llmtrace serve starts");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut addr = |prefix: &str, suffix: &str| -> SocketAddr {
            let mut line = String::new();
            out.read_line(&mut line).expect("its address");
            line.trim()
                .trim_start_matches(prefix)
                .trim_end_matches(suffix)
                .parse()
                .expect("an address")
        };
        let otlp = addr("llmtrace: receiving OTLP/HTTP on http://", "/v1/traces");
        let ui = addr("llmtrace: UI on http://", "/");
        Server {
            child,
            otlp,
            ui,
            _out: out,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Builds the CLI, then measures ingestion (`rounds` rounds of `requests` requests, each build
/// on a fresh store) and the list with 100,000 traces; prints the tables.
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
    let mut builds = vec![("this build".to_owned(), exe.clone())];
    if let Ok(base) = std::env::var("LLMTRACE_BENCH_BASELINE") {
        builds.insert(0, (format!("baseline {base}"), PathBuf::from(base)));
    }
    let dir = std::env::temp_dir().join("llmtrace-serve-bench");
    let mut rates = vec![Vec::new(); builds.len()];
    for round in 0..rounds {
        let bodies: Vec<Vec<u8>> = (0..requests).map(|n| request(round, n)).collect();
        for (i, (name, exe)) in builds.iter().enumerate() {
            let server = Server::start(exe, &dir);
            let t = Instant::now();
            for body in &bodies {
                post(server.otlp, body);
            }
            let rate = (requests * SPANS_PER_REQUEST) as f64 / t.elapsed().as_secs_f64();
            drop(server);
            eprintln!(
                "round {}/{rounds}  {name:<40} {rate:>8.0} spans/s",
                round + 1
            );
            rates[i].push(rate);
        }
    }
    let size = request(0, 0).len();
    println!(
        "| receiver: OTLP/JSON requests of {SPANS_PER_REQUEST} spans ({} KiB), one at a time, into SQLite, {} spans, median of {rounds} rounds | spans/s |",
        size / 1024,
        requests * SPANS_PER_REQUEST,
    );
    println!("|---|---:|");
    let medians: Vec<f64> = rates.into_iter().map(median).collect();
    for ((name, _), m) in builds.iter().zip(&medians) {
        println!("| {name} | {m:.0} |");
    }
    if medians.len() == 2 {
        println!(
            "| ratio, this build / baseline | {:.2} |",
            medians[1] / medians[0]
        );
    }
    println!();
    list(&exe, &dir);
}

/// Traces in the store for the list's benchmark, and spans in each.
const LIST_TRACES: usize = 100_000;
const SPANS_PER_TRACE: usize = 4;

/// A request of the list's store: traces `first..first + n` of 4 spans (a workflow, a model
/// call, a retrieval, a tool call); one trace in 100 fails, sessions of 10 traces, 100 users,
/// two models, costs spread over 1,000 values.
fn list_request(first: usize, n: usize) -> Vec<u8> {
    let mut spans = Vec::new();
    for t in first..first + n {
        let trace = format!("{:032x}", t + 1);
        let start = 1_764_700_000_000_000_000u64 + t as u64 * 1_000_000;
        let span = |i: usize, parent: Option<usize>, name: &str, attrs: serde_json::Value| {
            let mut s = serde_json::json!({
                "traceId": trace,
                "spanId": format!("{:016x}", t * SPANS_PER_TRACE + i + 1),
                "name": name,
                "startTimeUnixNano": (start + i as u64 * 1000).to_string(),
                "endTimeUnixNano": (start + 500_000).to_string(),
                "attributes": attrs,
            });
            if let Some(p) = parent {
                s["parentSpanId"] = format!("{:016x}", t * SPANS_PER_TRACE + p + 1).into();
            }
            if name.starts_with("execute_tool") && t % 100 == 7 {
                s["status"] = serde_json::json!({"code": 2, "message": "tool failed"});
            }
            s
        };
        let model = if t % 2 == 0 {
            "gpt-4o"
        } else {
            "claude-sonnet-4"
        };
        let kv = |k: &str, v: &str| serde_json::json!({"key": k, "value": {"stringValue": v}});
        spans.push(span(
            0,
            None,
            "answer_question",
            serde_json::json!([
                kv("gen_ai.workflow.name", "answer_question"),
                kv("session.id", &format!("session-{}", t / 10)),
                kv("user.id", &format!("user-{}", t % 100)),
            ]),
        ));
        spans.push(span(
            1,
            Some(0),
            &format!("chat {model}"),
            serde_json::json!([
                kv("gen_ai.operation.name", "chat"),
                kv("gen_ai.request.model", model),
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "120"}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "40"}},
                {"key": "llm.cost.total", "value": {"doubleValue": (t % 1000) as f64 / 10_000.0}},
            ]),
        ));
        spans.push(span(
            2,
            Some(0),
            "retrieve docs",
            serde_json::json!([
                kv("gen_ai.operation.name", "retrieval"),
                kv(
                    "gen_ai.retrieval.query.text",
                    &format!("question number {t}")
                ),
            ]),
        ));
        spans.push(span(
            3,
            Some(0),
            "execute_tool search",
            serde_json::json!([
                kv("gen_ai.operation.name", "execute_tool"),
                kv("gen_ai.tool.name", "search"),
            ]),
        ));
    }
    serde_json::to_vec(&serde_json::json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "bench"}}]},
        "scopeSpans": [{"spans": spans}]
    }]}))
    .expect("JSON")
}

/// Fills a store with [`LIST_TRACES`] traces, then times list requests.
fn list(exe: &Path, dir: &Path) {
    let server = Server::start(exe, dir);
    let per = SPANS_PER_REQUEST / SPANS_PER_TRACE;
    let t = Instant::now();
    for first in (0..LIST_TRACES).step_by(per) {
        post(server.otlp, &list_request(first, per));
    }
    let fill = t.elapsed().as_secs_f64();
    let first_page = |path: &str| {
        let out = http(server.ui, "GET", path, b"");
        assert!(
            out.starts_with(b"HTTP/1.1 200"),
            "{path}: {}",
            String::from_utf8_lossy(&out)
        );
        out
    };
    // The cursor of the page after 50,000 traces, found by walking: the deep page's request.
    let deep = {
        let mut after = String::new();
        for _ in 0..50 {
            let out = first_page(&format!("/api/traces?limit=1000&after={after}"));
            let text = String::from_utf8_lossy(&out);
            let next = text.split("\"next\":\"").nth(1).expect("a next page");
            after = next.split('"').next().expect("a cursor").to_owned();
        }
        after
    };
    let cases = [
        (
            "first page (100 traces)",
            "/api/traces?limit=100".to_owned(),
        ),
        (
            "page after 50,000 traces, by cursor",
            format!("/api/traces?limit=100&after={deep}"),
        ),
        (
            "page after 50,000 traces, by offset",
            "/api/traces?limit=100&offset=50000".to_owned(),
        ),
        (
            "filter: session (10 traces)",
            "/api/traces?limit=100&session=session-4242".to_owned(),
        ),
        (
            "filter: model (half the traces)",
            "/api/traces?limit=100&model=claude-sonnet-4".to_owned(),
        ),
        (
            "filter: errors only (1 in 100)",
            "/api/traces?limit=100&errors=true".to_owned(),
        ),
        (
            "filter: cost >= $0.0995 (1 in 200)",
            "/api/traces?limit=100&min_cost=0.0995".to_owned(),
        ),
        (
            "filter: user and time range",
            "/api/traces?limit=100&user=user-42&from=1764700010000&to=1764700060000".to_owned(),
        ),
        (
            "search: a query's text (1 trace)",
            "/api/traces?limit=100&q=question%20number%2077777".to_owned(),
        ),
    ];
    let mut times = vec![Vec::new(); cases.len()];
    for _ in 0..7 {
        for (i, (_, path)) in cases.iter().enumerate() {
            let t = Instant::now();
            first_page(path);
            times[i].push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    println!(
        "| trace list, {LIST_TRACES} traces of {SPANS_PER_TRACE} spans in the store (filled in {fill:.1} s), `GET /api/traces`, median of 7 | ms | traces |"
    );
    println!("|---|---:|---:|");
    for ((name, path), t) in cases.iter().zip(times) {
        let out = first_page(path);
        let text = String::from_utf8_lossy(&out);
        let total = text
            .split("\"total\":")
            .nth(1)
            .and_then(|r| r.split([',', '}']).next())
            .unwrap_or("?")
            .to_owned();
        println!("| {name} | {:.1} | {total} |", median(t));
    }
}
