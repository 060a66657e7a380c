//! The receiver's handler, called in-process: what it answers to bodies good and bad.

use std::io::Write;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use proptest::prelude::*;
use prost::Message;

use super::http::accept;
use super::store::{ListFilter, Store};

const LIMIT: usize = 1 << 20;

fn headers(content_type: &str, encoding: Option<&str>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).unwrap(),
    );
    if let Some(e) = encoding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_str(e).unwrap());
    }
    h
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn request(trace: u8, spans: usize) -> ExportTraceServiceRequest {
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: vec![trace; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("chat gpt-4o #{i}"),
            start_time_unix_nano: 1_764_700_000_000_000_000 + i as u64,
            end_time_unix_nano: 1_764_700_000_100_000_000 + i as u64,
            attributes: vec![KeyValue {
                key: "gen_ai.request.model".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue("gpt-4o".into())),
                }),
                ..Default::default()
            }],
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
}

fn status(h: &HeaderMap, body: Vec<u8>, store: &Mutex<Store>) -> StatusCode {
    accept(h, &Bytes::from(body), LIMIT, store).status()
}

#[test]
fn protobuf_gzip_is_stored_and_read_back() {
    let store = Mutex::new(Store::in_memory());
    let body = gzip(&request(7, 3).encode_to_vec());
    let h = headers("application/x-protobuf", Some("gzip"));
    assert_eq!(status(&h, body, &store), StatusCode::OK);
    let page = store
        .lock()
        .unwrap()
        .page(&ListFilter::default(), None, 0, 10)
        .unwrap();
    assert_eq!(page.total, 1);
    let t = &page.traces[0];
    assert_eq!(t["trace_id"], "07070707070707070707070707070707");
    assert_eq!(t["spans"], 3);
    assert_eq!(t["spans_list"].as_array().unwrap().len(), 3);
}

#[test]
fn gzip_bomb_is_refused_without_inflating_it() {
    let store = Mutex::new(Store::in_memory());
    // 64 MiB of zeros, about 64 KiB compressed: small on the wire, over the limit inflated.
    let bomb = gzip(&vec![0u8; 64 << 20]);
    assert!(bomb.len() < LIMIT);
    let h = headers("application/x-protobuf", Some("gzip"));
    assert_eq!(status(&h, bomb, &store), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        store
            .lock()
            .unwrap()
            .page(&ListFilter::default(), None, 0, 10)
            .unwrap()
            .total,
        0
    );
}

#[test]
fn malformed_bodies_are_400_with_a_message() {
    let store = Mutex::new(Store::in_memory());
    for (ct, body) in [
        ("application/x-protobuf", vec![0xff, 0xff, 0xff]),
        ("application/json", b"{\"resourceSpans\": [".to_vec()),
        ("application/json", b"[1,2]".to_vec()),
        ("application/json", b"{\"foo\": 1}".to_vec()),
    ] {
        let r = accept(&headers(ct, None), &Bytes::from(body), LIMIT, &store);
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{ct}");
    }
    let h = headers("application/json", Some("gzip"));
    assert_eq!(
        status(&h, b"not gzip".to_vec(), &store),
        StatusCode::BAD_REQUEST
    );
    let h = headers("text/plain", None);
    assert_eq!(
        status(&h, b"{}".to_vec(), &store),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the body, under any of the encodings, the handler answers (never panics), and
    /// only with success or a client error.
    #[test]
    fn arbitrary_bodies_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..2048),
        ct in prop::sample::select(vec!["application/x-protobuf", "application/json"]),
        gz in any::<bool>(),
        wrap in any::<bool>(),
    ) {
        let store = Mutex::new(Store::in_memory());
        let body = if wrap { gzip(&body) } else { body };
        let h = headers(ct, gz.then_some("gzip"));
        let s = status(&h, body, &store);
        prop_assert!(s == StatusCode::OK || s.is_client_error(), "{s}");
    }

    /// Valid protobuf requests with arbitrary names always go in and come out.
    #[test]
    fn arbitrary_valid_requests_are_stored(name in ".{0,40}", spans in 1usize..5) {
        let store = Mutex::new(Store::in_memory());
        let mut req = request(9, spans);
        req.resource_spans[0].scope_spans[0].spans[0].name = name;
        let h = headers("application/x-protobuf", None);
        prop_assert_eq!(status(&h, req.encode_to_vec(), &store), StatusCode::OK);
        let page = store.lock().unwrap().page(&ListFilter::default(), None, 0, 10).unwrap();
        prop_assert_eq!(page.traces[0]["spans"].as_u64(), Some(spans as u64));
    }
}

/// An OTLP/JSON span of trace `trace` (one byte repeated), starting `at` ms after a fixed time.
fn json_span(
    trace: u8,
    span: u64,
    parent: u64,
    name: &str,
    at: u64,
    attrs: &[(&str, &str)],
) -> String {
    let start = 1_764_700_000_000_000_000u64 + at * 1_000_000;
    let attrs: Vec<serde_json::Value> = attrs
        .iter()
        .map(|(k, v)| match v.parse::<f64>() {
            Ok(d) if k.starts_with("llm.cost") => {
                serde_json::json!({"key": k, "value": {"doubleValue": d}})
            }
            _ => serde_json::json!({"key": k, "value": {"stringValue": v}}),
        })
        .collect();
    let mut s = serde_json::json!({
        "traceId": format!("{:02x}", trace).repeat(16),
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
    s.to_string()
}

fn json_line(spans: &[String]) -> Vec<u8> {
    format!(
        "{{\"resourceSpans\":[{{\"resource\":{{}},\"scopeSpans\":[{{\"spans\":[{}]}}]}}]}}",
        spans.join(",")
    )
    .into_bytes()
}

fn post_json(store: &Mutex<Store>, spans: &[String]) {
    let h = headers("application/json", None);
    assert_eq!(status(&h, json_line(spans), store), StatusCode::OK);
}

fn ids(page: &super::store::Page) -> Vec<String> {
    page.traces
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["trace_id"].as_str().unwrap()[..2].to_owned())
        .collect()
}

#[test]
fn a_span_received_twice_is_stored_once() {
    let store = Mutex::new(Store::in_memory());
    let first = [
        json_span(1, 1, 0, "root", 0, &[]),
        json_span(1, 2, 1, "chat", 1, &[]),
    ];
    post_json(&store, &first);
    // The same request again, then one that repeats a span beside a new one.
    post_json(&store, &first);
    post_json(
        &store,
        &[first[1].clone(), json_span(1, 3, 1, "tool", 2, &[])],
    );
    let page = store
        .lock()
        .unwrap()
        .page(&ListFilter::default(), None, 0, 10)
        .unwrap();
    assert_eq!(page.total, 1);
    let t = &page.traces[0];
    assert_eq!(t["spans"], 3, "{t}");
    let names: Vec<&str> = t["spans_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["root", "chat", "tool"]);
}

#[test]
fn the_list_is_filtered_on_the_server() {
    let store = Mutex::new(Store::in_memory());
    // Trace 1: a cheap gpt-4o chat of session a; 2: a failing claude call of session b, user
    // u; 3: an expensive retrieval workflow whose document mentions "zebra".
    post_json(
        &store,
        &[
            json_span(1, 1, 0, "answer", 0, &[("session.id", "a")]),
            json_span(
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
        ],
    );
    post_json(
        &store,
        &[
            json_span(
                2,
                1,
                0,
                "triage",
                1000,
                &[("session.id", "b"), ("user.id", "u")],
            ),
            json_span(
                2,
                2,
                1,
                "chat fail",
                1001,
                &[("gen_ai.request.model", "claude")],
            ),
            json_span(3, 1, 0, "lookup", 2000, &[]),
            json_span(
                3,
                2,
                1,
                "retrieve",
                2001,
                &[
                    ("gen_ai.retrieval.documents", "[{\"content\":\"a Zebra\"}]"),
                    ("llm.cost.total", "0.5"),
                ],
            ),
        ],
    );
    let s = store.lock().unwrap();
    let list = |f: ListFilter| ids(&s.page(&f, None, 0, 10).unwrap());
    assert_eq!(list(ListFilter::default()), ["03", "02", "01"]);
    let f = |edit: fn(&mut ListFilter)| {
        let mut f = ListFilter::default();
        edit(&mut f);
        f
    };
    assert_eq!(list(f(|f| f.name = Some("TRIA".into()))), ["02"]);
    assert_eq!(list(f(|f| f.session = Some("a".into()))), ["01"]);
    assert_eq!(list(f(|f| f.user = Some("u".into()))), ["02"]);
    assert_eq!(list(f(|f| f.model = Some("claude".into()))), ["02"]);
    assert_eq!(list(f(|f| f.errors = true)), ["02"]);
    assert_eq!(list(f(|f| f.min_cost = Some(0.01))), ["03"]);
    assert_eq!(list(f(|f| f.max_cost = Some(0.01))), ["01"]);
    assert_eq!(list(f(|f| f.from = Some(1_764_700_000_500))), ["03", "02"]);
    assert_eq!(list(f(|f| f.to = Some(1_764_700_001_500))), ["02", "01"]);
    // Names and content; the line holding trace 3's document also holds trace 2.
    assert_eq!(list(f(|f| f.q = Some("zebra".into()))), ["03"]);
    assert_eq!(list(f(|f| f.q = Some("GPT-4".into()))), ["01"]);
    assert_eq!(list(f(|f| f.q = Some("100%".into()))), Vec::<String>::new());
    let both = f(|f| {
        f.model = Some("gpt-4o".into());
        f.session = Some("b".into());
    });
    assert_eq!(list(both), Vec::<String>::new());
    // Empty fields are no filter.
    assert_eq!(list(f(|f| f.session = Some(String::new()))).len(), 3);
    assert_eq!(
        s.page(&f(|f| f.errors = true), None, 0, 10).unwrap().total,
        1
    );
}

#[test]
fn pages_follow_each_other_by_cursor() {
    let store = Mutex::new(Store::in_memory());
    for t in 1..=5u8 {
        // Traces 2 and 3 start at the same time: the cursor holds the id too.
        let at = if t == 3 { 2 } else { u64::from(t) };
        post_json(&store, &[json_span(t, 1, 0, "root", at, &[])]);
    }
    let s = store.lock().unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..10 {
        let page = s
            .page(&ListFilter::default(), after.as_ref(), 0, 2)
            .unwrap();
        seen.extend(ids(&page));
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, ["05", "04", "03", "02", "01"]);
}

#[test]
fn a_store_of_the_first_schema_is_rebuilt_from_its_lines() {
    let db = rusqlite::Connection::open_in_memory().unwrap();
    // The first schema: requests' lines, a span row per span (no key), no version.
    db.execute_batch(
        "CREATE TABLE batches (id INTEGER PRIMARY KEY, line TEXT NOT NULL);
         CREATE TABLE spans (trace_id TEXT NOT NULL, span_id TEXT NOT NULL, batch INTEGER);
         CREATE TABLE traces (trace_id TEXT PRIMARY KEY, start_ns INTEGER, changed INTEGER);",
    )
    .unwrap();
    let line = String::from_utf8(json_line(&[
        json_span(4, 1, 0, "root", 0, &[("session.id", "s")]),
        json_span(4, 2, 1, "chat", 1, &[]),
    ]))
    .unwrap();
    // Twice, as a file imported twice by the first version was.
    for _ in 0..2 {
        db.execute("INSERT INTO batches (line) VALUES (?1)", [&line])
            .unwrap();
    }
    let store = Store::on(db).unwrap();
    let page = store.page(&ListFilter::default(), None, 0, 10).unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.traces[0]["spans"], 2);
    let session = ListFilter {
        session: Some("s".into()),
        ..ListFilter::default()
    };
    assert_eq!(store.page(&session, None, 0, 10).unwrap().total, 1);
}
