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
use super::store::Store;

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
    let page = store.lock().unwrap().page(0, 10).unwrap();
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
    assert_eq!(store.lock().unwrap().page(0, 10).unwrap().total, 0);
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
        let page = store.lock().unwrap().page(0, 10).unwrap();
        prop_assert_eq!(page.traces[0]["spans"].as_u64(), Some(spans as u64));
    }
}
