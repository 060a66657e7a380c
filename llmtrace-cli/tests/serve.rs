//! `llmtrace serve` as a user runs it: the binary on ephemeral loopback ports, spans posted to
//! its receiver as a foreign OpenTelemetry service and an llmtrace app would send them, and
//! what its API and its page (in headless Chromium) then show.

#![cfg(feature = "serve")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prost::Message;
use serde_json::Value;

#[path = "common/browser.rs"]
mod browser;
mod common;
use browser::{browser, js};
use common::{example, run_example};

/// A running `llmtrace serve`, stopped when dropped.
struct Server {
    child: Child,
    otlp: SocketAddr,
    ui: SocketAddr,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server on ephemeral loopback ports with a fresh store and `extra` arguments.
fn serve(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut s = serve_in(dir.path(), extra);
    s._dir = Some(dir);
    s
}

/// Starts the server with its store in `dir`; the ports are read from the lines it prints.
fn serve_in(dir: &Path, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .args([
            "serve",
            "--otlp",
            "127.0.0.1:0",
            "--ui",
            "127.0.0.1:0",
            "--store",
        ])
        .arg(dir.join("store"))
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut addr = |prefix: &str| -> SocketAddr {
        let line = lines.next().expect("serve printed its address").unwrap();
        let rest = line
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("{line}"));
        rest.split('/').next().unwrap().parse().unwrap()
    };
    let otlp = addr("llmtrace: receiving OTLP/HTTP on http://");
    let ui = addr("llmtrace: UI on http://");
    Server {
        child,
        otlp,
        ui,
        _dir: None,
    }
}

/// One HTTP/1.1 request; the status and the body.
fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer (413) before reading all of a large body, and close.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP response");
    let status_line = String::from_utf8_lossy(&out[..split])
        .lines()
        .next()
        .unwrap()
        .to_owned();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut body = out[split + 4..].to_vec();
    let head = String::from_utf8_lossy(&out[..split]).to_ascii_lowercase();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..end]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + n]);
        b = &b[end + 4 + n..];
    }
}

fn post(s: &Server, content_type: &str, gzip: bool, body: &[u8]) -> (u16, String) {
    let mut headers = vec![("Content-Type", content_type)];
    if gzip {
        headers.push(("Content-Encoding", "gzip"));
    }
    let (status, body) = http(s.otlp, "POST", "/v1/traces", &headers, body);
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn get_json(s: &Server, path: &str) -> Value {
    let (status, body) = http(s.ui, "GET", path, &[], b"");
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Spans of a service written in another language, as its OTLP/JSON exporter would send them
/// (pretty-printed, ids in hex, numbers as strings); a prompt and a span name hold markup.
const FOREIGN: &str = r#"{
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "py-checkout"}}]},
    "scopeSpans": [{
      "scope": {"name": "opentelemetry.instrumentation.openai"},
      "spans": [
        {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
         "name": "checkout <script>window.pwned=1</script>", "kind": 1,
         "startTimeUnixNano": "1764700000000000000", "endTimeUnixNano": "1764700000300000000",
         "status": {}},
        {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b175",
         "parentSpanId": "eee19b7ec3c1b174", "name": "chat gpt-4o-mini", "kind": 3,
         "startTimeUnixNano": "1764700000050000000", "endTimeUnixNano": "1764700000250000000",
         "attributes": [
           {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
           {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o-mini"}},
           {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "41"}},
           {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "9"}}
         ],
         "status": {"code": 2, "message": "rate limited"}}
      ]
    }]
  }]
}"#;
const FOREIGN_TRACE: &str = "5b8efff798038103d269b633813fc60c";

/// Waits, a bounded time, for `f` to hold.
fn eventually(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_foreign_services_otlp_json_is_listed_by_the_api_and_appears_in_the_open_page() {
    let s = serve(&[]);
    // The page is open before the spans arrive: they must appear without a reload.
    let tab = browser().map(|b| {
        let tab = b.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(20));
        tab.navigate_to(&format!("http://{}/", s.ui))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        tab.wait_for_element("#app > *").unwrap();
        assert_eq!(
            js(&tab, "document.querySelectorAll('#traces tbody tr').length"),
            0
        );
        tab
    });
    let (status, body) = post(&s, "application/json", false, FOREIGN.as_bytes());
    assert_eq!((status, body.as_str()), (200, "{}"));

    let list = get_json(&s, "/api/traces");
    assert_eq!(list["total"], 1);
    let t = &list["traces"][0];
    assert_eq!(t["trace_id"], FOREIGN_TRACE);
    assert_eq!(t["root"], "checkout <script>window.pwned=1</script>");
    assert_eq!(t["service"], "py-checkout");
    assert_eq!(t["spans"], 2);
    assert_eq!(t["input_tokens"], 41);
    assert_eq!(t["errors"], 1);
    let one = get_json(&s, &format!("/api/traces/{FOREIGN_TRACE}"));
    assert_eq!(one["spans_list"].as_array().unwrap().len(), 2);

    let Some(tab) = tab else { return };
    eventually(
        "the posted trace appears in the open page",
        Duration::from_secs(10),
        || js(&tab, "document.querySelectorAll('#traces tbody tr').length") == 1,
    );
    let row = js(
        &tab,
        "document.querySelector('#traces tbody tr').textContent",
    );
    let row = row.as_str().unwrap();
    assert!(
        row.contains("checkout <script>window.pwned=1</script>"),
        "{row}"
    );
    assert!(row.contains("41"), "{row}");
    // Shown as text: no script ran, no element was made from it.
    assert_eq!(js(&tab, "window.pwned === undefined"), true);
    assert_eq!(
        js(&tab, "document.querySelectorAll('#app script').length"),
        0
    );
    // Clicking it opens its waterfall with both spans, fetched from the store.
    js(
        &tab,
        "(document.querySelector('#traces tbody tr').click(), 0)",
    );
    eventually(
        "the waterfall shows both spans",
        Duration::from_secs(10),
        || {
            let names = js(
                &tab,
                "[...document.querySelectorAll('.wf-row')].map(r => r.textContent).join('|')",
            );
            let names = names.as_str().unwrap_or("");
            names.contains("chat gpt-4o-mini") && names.contains("checkout")
        },
    );
}

/// A request as the protobuf exporter sends it.
fn protobuf_request(trace: u8, spans: usize) -> Vec<u8> {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: vec![trace; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("step {i}"),
            start_time_unix_nano: 1_764_600_000_000_000_000 + u64::from(trace) + i as u64 * 1000,
            end_time_unix_nano: 1_764_700_001_000_000_000,
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[test]
fn protobuf_and_gzip_bodies_are_accepted() {
    let s = serve(&[]);
    let (status, _) = post(&s, "application/x-protobuf", false, &protobuf_request(1, 2));
    assert_eq!(status, 200);
    let (status, _) = post(
        &s,
        "application/x-protobuf",
        true,
        &gzip(&protobuf_request(2, 3)),
    );
    assert_eq!(status, 200);
    let (status, body) = post(&s, "application/json", true, &gzip(FOREIGN.as_bytes()));
    assert_eq!((status, body.as_str()), (200, "{}"));
    let list = get_json(&s, "/api/traces?limit=10");
    assert_eq!(list["total"], 3);
    let t = get_json(&s, &format!("/api/traces/{}", "02".repeat(16)));
    assert_eq!(t["spans"], 3);
    // Paging: one trace per page, newest first, the three pages together are the three traces.
    let mut ids: Vec<String> = (0..3)
        .map(|i| {
            get_json(&s, &format!("/api/traces?offset={i}&limit=1"))["traces"][0]["trace_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids[0], FOREIGN_TRACE, "the foreign trace started last");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3);
}

#[test]
fn oversized_bodies_and_gzip_bombs_get_413() {
    const LIMIT: usize = 4 << 20;
    let s = serve(&["--max-body", &LIMIT.to_string()]);
    // Under the limit, a body larger than axum's default of 2 MiB still goes in.
    let big = FOREIGN.replace("rate limited", &"x".repeat(3 << 20));
    assert!(big.len() > 3 << 20 && big.len() < LIMIT);
    let (status, body) = post(&s, "application/json", false, big.as_bytes());
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(&s, "application/x-protobuf", false, &vec![0u8; LIMIT + 1]);
    assert_eq!(status, 413, "{body}");
    // 64 MiB of spaces: about 64 KiB on the wire, far over the limit once inflated.
    let bomb = gzip(&vec![b' '; 64 << 20]);
    assert!(bomb.len() < LIMIT / 8);
    let (status, body) = post(&s, "application/json", true, &bomb);
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains(&format!("larger than {LIMIT} bytes")),
        "{body}"
    );
    // The server is still up, with the one trace that fitted.
    assert_eq!(get_json(&s, "/api/traces")["total"], 1);
}

#[test]
fn malformed_bodies_get_400_with_a_message() {
    let s = serve(&[]);
    for (ct, body, says) in [
        (
            "application/json",
            &b"{\"resourceSpans\": [{"[..],
            "malformed JSON",
        ),
        ("application/json", &b"{\"hello\": 1}"[..], "resourceSpans"),
        (
            "application/x-protobuf",
            &b"\xff\xff\xff\xff"[..],
            "malformed protobuf",
        ),
    ] {
        let (status, text) = post(&s, ct, false, body);
        assert_eq!(status, 400, "{ct}: {text}");
        assert!(text.contains(says), "{ct}: {text}");
    }
    let (status, text) = post(&s, "application/json", true, b"not gzip at all");
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("gzip"), "{text}");
    assert_eq!(get_json(&s, "/api/traces")["total"], 0);
}

#[test]
fn with_a_token_every_request_must_carry_it() {
    let s = serve(&["--token", "s3cret"]);
    let json = [("Content-Type", "application/json")];
    let (status, _) = http(s.otlp, "POST", "/v1/traces", &json, FOREIGN.as_bytes());
    assert_eq!(status, 401);
    let wrong = [
        ("Content-Type", "application/json"),
        ("Authorization", "Bearer nope"),
    ];
    let (status, _) = http(s.otlp, "POST", "/v1/traces", &wrong, FOREIGN.as_bytes());
    assert_eq!(status, 401);
    for path in ["/", "/api/traces", &format!("/api/traces/{FOREIGN_TRACE}")] {
        assert_eq!(http(s.ui, "GET", path, &[], b"").0, 401, "{path}");
    }
    let right = [
        ("Content-Type", "application/json"),
        ("Authorization", "Bearer s3cret"),
    ];
    let (status, _) = http(s.otlp, "POST", "/v1/traces", &right, FOREIGN.as_bytes());
    assert_eq!(status, 200);
    let auth = [("Authorization", "Bearer s3cret")];
    let (status, body) = http(s.ui, "GET", "/api/traces", &auth, b"");
    assert_eq!(status, 200);
    let list: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(http(s.ui, "GET", "/?token=s3cret", &[], b"").0, 200);
}

#[test]
fn a_non_loopback_address_without_a_token_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_llmtrace"))
        .args([
            "serve",
            "--otlp",
            "0.0.0.0:0",
            "--ui",
            "127.0.0.1:0",
            "--store",
        ])
        .arg(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--token"), "{err}");
}

#[test]
fn files_given_on_the_command_line_are_imported_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = run_example("looping_agent", dir.path());
    let expected = common_trace_count(&file);
    let path = file.to_str().unwrap();
    {
        let s = serve_in(dir.path(), &[path]);
        let list = get_json(&s, "/api/traces?limit=1000");
        assert_eq!(list["total"], expected);
        assert!(
            list["traces"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["root"] == "shop_agent")
        );
    }
    // Started again on the same store and file: nothing is added twice.
    let s = serve_in(dir.path(), &[path]);
    let list = get_json(&s, "/api/traces?limit=1000");
    assert_eq!(list["total"], expected);
    let spans: u64 = list["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["spans"].as_u64().unwrap())
        .sum();
    let lines = std::fs::read_to_string(&file).unwrap();
    let written: usize = lines.matches("\"spanId\"").count();
    assert_eq!(spans as usize, written);
}

fn common_trace_count(file: &Path) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for sp in ss["spans"].as_array().unwrap() {
                    ids.insert(sp["traceId"].as_str().unwrap().to_owned());
                }
            }
        }
    }
    ids.len() as u64
}

#[test]
fn the_rag_example_exporting_over_otlp_shows_up_in_the_list() {
    let s = serve(&[]);
    let dir = tempfile::tempdir().unwrap();
    let status = example("rag_chatbot", dir.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{}", s.otlp))
        .status()
        .unwrap();
    assert!(status.success());
    let mut last = Value::Null;
    eventually(
        "the example's traces are listed",
        Duration::from_secs(20),
        || {
            last = get_json(&s, "/api/traces?limit=100");
            last["traces"].as_array().is_some_and(|l| {
                l.iter().filter(|t| t["root"] == "support_answer").count() >= 2
                    && l.iter()
                        .any(|t| t["input_tokens"].as_i64().unwrap_or(0) > 0)
            })
        },
    );
    let list = last["traces"].as_array().unwrap();
    assert!(list.iter().all(|t| t["service"].is_string()), "{last}");
}

/// A span to write: trace id byte, span id, parent id (0: none), name, ms after a fixed
/// start, string attributes (`llm.cost.total` as a number).
type SpanSpec<'a> = (u8, u64, u64, &'a str, u64, &'a [(&'a str, &'a str)]);

/// An OTLP/JSON request of `spans`, on one line.
fn otlp_line(spans: &[SpanSpec<'_>]) -> String {
    let spans: Vec<Value> = spans
        .iter()
        .map(|&(trace, span, parent, name, at, attrs)| {
            let start = 1_764_700_000_000_000_000u64 + at * 1_000_000;
            let attrs: Vec<Value> = attrs
                .iter()
                .map(|&(k, v)| match v.parse::<f64>() {
                    Ok(d) if k == "llm.cost.total" => {
                        serde_json::json!({"key": k, "value": {"doubleValue": d}})
                    }
                    _ => serde_json::json!({"key": k, "value": {"stringValue": v}}),
                })
                .collect();
            let mut s = serde_json::json!({
                "traceId": format!("{trace:02x}").repeat(16),
                "spanId": format!("{span:016x}"),
                "name": name,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": (start + 5_000_000).to_string(),
                "attributes": attrs,
            });
            if parent != 0 {
                s["parentSpanId"] = format!("{parent:016x}").into();
            }
            if name.contains("fail") {
                s["status"] = serde_json::json!({"code": 2, "message": "boom"});
            }
            s
        })
        .collect();
    serde_json::json!({"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]})
        .to_string()
}

/// The first two hex digits of the listed traces' ids, in the list's order.
fn listed(s: &Server, query: &str) -> Vec<String> {
    get_json(s, &format!("/api/traces?{query}"))["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap()[..2].to_owned())
        .collect()
}

#[test]
fn the_list_is_filtered_by_the_server() {
    let s = serve(&[]);
    let first = otlp_line(&[
        (1, 1, 0, "answer", 0, &[("session.id", "a")]),
        (
            1,
            2,
            1,
            "chat gpt-4o",
            1,
            &[
                ("gen_ai.request.model", "gpt-4o"),
                ("llm.cost.total", "0.001"),
            ],
        ),
    ]);
    let second = otlp_line(&[
        (
            2,
            1,
            0,
            "triage",
            1000,
            &[("session.id", "b"), ("user.id", "u")],
        ),
        (
            2,
            2,
            1,
            "chat fail",
            1001,
            &[("gen_ai.request.model", "claude")],
        ),
        (3, 1, 0, "lookup", 2000, &[]),
        (
            3,
            2,
            1,
            "retrieve",
            2001,
            &[
                (
                    "gen_ai.retrieval.documents",
                    "[{\"id\":\"d1\",\"content\":\"a Zebra\"}]",
                ),
                ("llm.cost.total", "0.5"),
            ],
        ),
    ]);
    for body in [&first, &second] {
        assert_eq!(post(&s, "application/json", false, body.as_bytes()).0, 200);
    }
    assert_eq!(listed(&s, ""), ["03", "02", "01"]);
    assert_eq!(listed(&s, "name=TRIA"), ["02"]);
    assert_eq!(listed(&s, "session=a"), ["01"]);
    assert_eq!(listed(&s, "user=u"), ["02"]);
    assert_eq!(listed(&s, "model=claude"), ["02"]);
    assert_eq!(listed(&s, "errors=true"), ["02"]);
    assert_eq!(listed(&s, "min_cost=0.01"), ["03"]);
    assert_eq!(listed(&s, "min_cost=0.0001&max_cost=0.01"), ["01"]);
    assert_eq!(listed(&s, "from=1764700000500&to=1764700001500"), ["02"]);
    // A search over names and content; trace 3's document is in a request with trace 2.
    assert_eq!(listed(&s, "q=zebra"), ["03"]);
    assert_eq!(listed(&s, "q=CHAT%20GPT"), ["01"]);
    assert_eq!(listed(&s, "q=nowhere"), Vec::<String>::new());
    assert_eq!(listed(&s, "session=a&model=claude"), Vec::<String>::new());
    // Empty form fields are no filter.
    assert_eq!(listed(&s, "session=&q=&name=").len(), 3);
    let page = get_json(&s, "/api/traces?errors=true");
    assert_eq!(
        (page["total"].clone(), page["capped"].clone()),
        (1.into(), false.into())
    );
    // Pages by cursor: two, then one, then none.
    let p1 = get_json(&s, "/api/traces?limit=2");
    let next = p1["next"].as_str().unwrap();
    let p2 = get_json(&s, &format!("/api/traces?limit=2&after={next}"));
    assert_eq!(p2["traces"][0]["trace_id"].as_str().unwrap()[..2], *"01");
    assert!(p2["next"].is_null());
    let (status, _) = http(s.ui, "GET", "/api/traces?after=nonsense", &[], b"");
    assert_eq!(status, 400);
    let (status, _) = http(s.ui, "GET", "/api/traces?min_cost=cheap", &[], b"");
    assert_eq!(status, 400);
}

#[test]
fn a_file_that_grew_is_imported_again_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traces.jsonl");
    let first = otlp_line(&[(1, 1, 0, "root", 0, &[]), (1, 2, 1, "chat", 1, &[])]);
    std::fs::write(&file, format!("{first}\n")).unwrap();
    let path = file.to_str().unwrap();
    let spans = |s: &Server| -> Vec<(String, u64)> {
        get_json(s, "/api/traces")["traces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["trace_id"].as_str().unwrap()[..2].to_owned(),
                    t["spans"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    {
        let s = serve_in(dir.path(), &[path]);
        assert_eq!(spans(&s), [("01".to_owned(), 2)]);
    }
    // The file grows: a new trace, and a late span of the first one.
    let more = otlp_line(&[(2, 1, 0, "root", 10, &[]), (1, 3, 1, "tool", 2, &[])]);
    std::fs::write(&file, format!("{first}\n{more}\n")).unwrap();
    let mut s = serve_in(dir.path(), &[path]);
    assert_eq!(spans(&s), [("02".to_owned(), 1), ("01".to_owned(), 3)]);
    let one = get_json(&s, &format!("/api/traces/{}", "01".repeat(16)));
    assert_eq!(one["spans_list"].as_array().unwrap().len(), 3);
    let _ = s.child.kill();
    let mut err = String::new();
    s.child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        err.contains("imported 2 spans") && err.contains("(2 already stored)"),
        "{err}"
    );
}

/// Runs example `bin` with its exporter pointed at the server `s`.
fn send_example(s: &Server, bin: &str) {
    let dir = tempfile::tempdir().unwrap();
    let status = example(bin, dir.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{}", s.otlp))
        .status()
        .unwrap();
    assert!(status.success(), "{bin} failed");
}

fn attr_of<'a>(span: &'a Value, key: &str) -> Option<&'a Value> {
    span["attrs"]
        .as_array()?
        .iter()
        .find(|kv| kv[0] == key)
        .map(|kv| &kv[1])
}

fn texts_of(tab: &headless_chrome::Tab, selector: &str) -> Vec<String> {
    let sel = serde_json::to_string(selector).unwrap();
    js(
        tab,
        &format!("[...document.querySelectorAll({sel})].map(e => e.textContent)"),
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|v| v.as_str().unwrap().to_owned())
    .collect()
}

fn click_on(tab: &headless_chrome::Tab, selector: &str) {
    tab.wait_for_element(selector).unwrap();
    let sel = serde_json::to_string(selector).unwrap();
    js(tab, &format!("(document.querySelector({sel}).click(), 0)"));
}

fn save_screenshot(tab: &headless_chrome::Tab, name: &str) {
    let png = tab
        .capture_screenshot(
            headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption::Png,
            None,
            None,
            true,
        )
        .unwrap();
    let dir = common::target_dir().join("serve-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), png).unwrap();
}

#[test]
fn the_examples_sent_over_otlp_are_shown_in_the_browser() {
    let s = serve(&[]);
    // The page is open before the examples run: their traces must appear without a reload.
    let tab = browser().map(|b| {
        let tab = b.new_tab().unwrap();
        tab.set_default_timeout(Duration::from_secs(20));
        tab.navigate_to(&format!("http://{}/", s.ui))
            .unwrap()
            .wait_until_navigated()
            .unwrap();
        tab.wait_for_element("#app > *").unwrap();
        tab
    });
    send_example(&s, "rag_chatbot");
    send_example(&s, "looping_agent");
    let ended = Instant::now();
    let mut list = Value::Null;
    eventually(
        "both examples' traces are stored",
        Duration::from_secs(20),
        || {
            list = get_json(&s, "/api/traces?limit=1000");
            let roots: Vec<&Value> = list["traces"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| &t["root"])
                .collect();
            roots.contains(&&Value::from("support_answer"))
                && roots.contains(&&Value::from("shop_agent"))
        },
    );
    let traces = list["traces"].as_array().unwrap().clone();
    // The RAG trace whose tool call failed, and a looping one, as the store holds them.
    let rag = traces
        .iter()
        .find(|t| t["root"] == "support_answer" && t["errors"].as_u64() > Some(0))
        .expect("a RAG trace with a failed tool");
    let looping = traces
        .iter()
        .find(|t| {
            t["badges"]
                .as_array()
                .unwrap()
                .iter()
                .any(|b| b["kind"] == "loop")
        })
        .expect("a trace badged as a loop");
    assert_eq!(looping["root"], "shop_agent");
    let Some(tab) = tab else { return };
    let rag_id = rag["trace_id"].as_str().unwrap();
    let loop_badged = |t: &Value| {
        t["badges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["kind"] == "loop")
    };
    // Every row as the store has it now: a trace the page listed while its spans were still
    // arriving is updated at a later poll (its loop badge comes with its last tool calls).
    eventually(
        "the traces appear in the open page, complete",
        Duration::from_secs(10),
        || {
            js(&tab, "document.querySelectorAll('#traces tbody tr').length").as_u64()
                == Some(traces.len() as u64)
                && traces.iter().all(|t| {
                    let id = t["trace_id"].as_str().unwrap();
                    let shown = js(
                        &tab,
                        &format!(
                            "document.querySelectorAll(\"tr[data-trace='{id}'] \
                             [data-badge='loop']\").length"
                        ),
                    )
                    .as_u64()
                        > Some(0);
                    shown == loop_badged(t)
                })
                && js(
                    &tab,
                    &format!(
                        "(document.querySelector(\"tr[data-trace='{rag_id}'] td.tokens\")\
                         ?.textContent ?? '').trim()"
                    ),
                )
                .as_str()
                    == Some(format!("{} / {}", rag["input_tokens"], rag["output_tokens"]).as_str())
        },
    );
    eprintln!(
        "the examples' traces were in the open page {:?} after they ended",
        ended.elapsed()
    );
    // The list: tokens and cost of the RAG trace; the loop badge on the looping trace only.
    let row = |id: &str, cell: &str| texts_of(&tab, &format!("tr[data-trace='{id}'] {cell}"));
    assert_eq!(
        row(rag_id, "td.tokens"),
        [format!(
            "{} / {}",
            rag["input_tokens"], rag["output_tokens"]
        )]
    );
    assert!(rag["input_tokens"].as_i64().unwrap() > 0);
    let cost: f64 = row(rag_id, "td.cost")[0]
        .trim_start_matches('$')
        .parse()
        .unwrap();
    let stored = rag["cost_usd"].as_f64().unwrap();
    assert!(
        stored > 0.0 && (cost - stored).abs() <= stored * 0.005,
        "{cost} vs {stored}"
    );
    for t in &traces {
        let id = t["trace_id"].as_str().unwrap();
        let badged = loop_badged(t);
        assert_eq!(!row(id, "[data-badge='loop']").is_empty(), badged, "{id}");
        assert!(!badged || t["root"] == "shop_agent", "{id}");
    }
    assert!(!row(looping["trace_id"].as_str().unwrap(), "[data-badge='loop']").is_empty());
    tab.bring_to_front().unwrap();
    save_screenshot(&tab, "trace-list.png");

    // The waterfall: every span of the trace.
    click_on(&tab, &format!("tr[data-trace='{rag_id}']"));
    tab.wait_for_element("#waterfall .wf-row").unwrap();
    let spans = rag["spans_list"].as_array().unwrap();
    assert_eq!(texts_of(&tab, "#waterfall .wf-row").len(), spans.len());
    save_screenshot(&tab, "waterfall.png");

    // The chat span: the user's and the assistant's messages.
    let by_name = |name: &'static str| spans.iter().filter(move |s| s["name"] == name);
    let chat = by_name("chat gpt-4o").next_back().expect("a chat span");
    click_on(
        &tab,
        &format!(".wf-row[data-span='{}']", chat["id"].as_str().unwrap()),
    );
    tab.wait_for_element("#detail .msg[data-role='assistant']")
        .unwrap();
    let input: Value = serde_json::from_str(
        attr_of(chat, "gen_ai.input.messages")
            .unwrap()
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let question = input
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["parts"][0]["content"].as_str())
        .unwrap();
    let users = texts_of(&tab, "#detail .msg[data-role='user']");
    assert!(users.iter().any(|u| u.contains(question)), "{users:?}");
    let output: Value = serde_json::from_str(
        attr_of(chat, "gen_ai.output.messages")
            .unwrap()
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let answer = output[0]["parts"][0]["content"].as_str().unwrap();
    let assistants = texts_of(&tab, "#detail .msg[data-role='assistant']");
    assert!(
        assistants.iter().any(|a| a.contains(answer)),
        "{assistants:?}"
    );
    save_screenshot(&tab, "span-detail.png");

    // The retrieval: its documents' ids and scores.
    let retrieval = by_name("retrieval help_center")
        .next()
        .expect("a retrieval span");
    click_on(
        &tab,
        &format!(".wf-row[data-span='{}']", retrieval["id"].as_str().unwrap()),
    );
    tab.wait_for_element("#detail .doc-id").unwrap();
    let docs: Value = serde_json::from_str(
        attr_of(retrieval, "gen_ai.retrieval.documents")
            .unwrap()
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let docs = docs.as_array().unwrap();
    let ids: Vec<String> = docs
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_owned())
        .collect();
    let scores: Vec<String> = docs
        .iter()
        .map(|d| format!("{:.3}", d["score"].as_f64().unwrap()))
        .collect();
    assert!(!ids.is_empty());
    assert_eq!(texts_of(&tab, "#detail .doc-id"), ids);
    assert_eq!(texts_of(&tab, "#detail .doc-score"), scores);

    // The failed tool: its error.
    let failed = spans
        .iter()
        .find(|s| s["kind"] == "tool" && s["error"].is_string())
        .expect("a failed tool span");
    click_on(
        &tab,
        &format!(".wf-row[data-span='{}']", failed["id"].as_str().unwrap()),
    );
    tab.wait_for_element("#detail-error").unwrap();
    let shown = texts_of(&tab, "#detail-error").join(" ");
    let error = failed["error"].as_str().unwrap();
    assert!(
        !error.is_empty() && shown.contains(error),
        "{shown} vs {error}"
    );

    // The list's filters ask the store: errors only, then a search for the loop's tool.
    js(&tab, "(location.hash = '', 0)");
    tab.wait_for_element("#filter-errors").unwrap();
    js(
        &tab,
        "(() => { const e = document.getElementById('filter-errors'); e.checked = true; e.dispatchEvent(new Event('change')); return 0; })()",
    );
    let errors = traces
        .iter()
        .filter(|t| t["errors"].as_u64() > Some(0))
        .count();
    eventually("the errors-only filter", Duration::from_secs(10), || {
        js(&tab, "document.querySelectorAll('#traces tbody tr').length").as_u64()
            == Some(errors as u64)
            && js(&tab, "document.getElementById('trace-count').textContent")
                .as_str()
                .is_some_and(|c| c.contains(&format!("{errors} matching")))
    });
    // Then the search box instead, for the looping agent's tool by name.
    js(
        &tab,
        "(() => { const e = document.getElementById('filter-errors'); e.checked = false; e.dispatchEvent(new Event('change')); const q = document.getElementById('search'); q.value = 'SEARCH_catalog'; q.dispatchEvent(new Event('input')); return 0; })()",
    );
    let found = get_json(&s, "/api/traces?q=SEARCH_catalog");
    let found: Vec<&str> = found["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap())
        .collect();
    assert!(!found.is_empty() && found.len() < traces.len(), "{found:?}");
    eventually("the search", Duration::from_secs(10), || {
        let shown = js(
            &tab,
            "[...document.querySelectorAll('#traces tbody tr')].map(r => r.dataset.trace)",
        );
        let mut shown: Vec<&str> = shown
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        shown.sort_unstable();
        let mut want = found.clone();
        want.sort_unstable();
        shown == want
            && js(&tab, "document.getElementById('trace-count').textContent")
                .as_str()
                .is_some_and(|c| c.contains(&format!("{} matching", found.len())))
    });
}
