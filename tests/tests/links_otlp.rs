//! Span links survive the OTLP round trip: exported over OTLP/HTTP to a receiver on 127.0.0.1
//! and decoded there, a handoff's link (to another trace) and a retry's link (to the failed
//! attempt, with its `llmtrace.link.type`) name the linked spans; the kinds carry their
//! OpenInference span kinds; the embeddings' vectors are nowhere in what was sent.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

// The examples' receiver, shared: this test reads fewer of its fields.
#[allow(dead_code)]
#[path = "../../examples/tests/receiver/mod.rs"]
mod receiver;

use std::collections::HashMap;
use std::time::Duration;

use llmtrace::TraceContext;
use llmtrace_runtime as llmtrace;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;

#[llmtrace::agent(name = "planner")]
fn planner(topic: &str) -> String {
    let here = llmtrace::current().context();
    let notes = here.new_trace().in_scope(|| writer(topic, &here));
    let mut previous = None;
    for _ in 0..2 {
        match fetch(topic, previous.as_ref()) {
            Ok(page) => return format!("{notes} {page}"),
            Err(failed) => previous = Some(failed),
        }
    }
    notes
}

#[llmtrace::agent(name = "writer", links = [handoff])]
fn writer(topic: &str, handoff: &TraceContext) -> String {
    let _ = embed(&[topic]);
    let _ = llmtrace::step!("outline", { topic.len() });
    format!("notes on {topic}")
}

#[llmtrace::embeddings(provider = "openai", model = "text-embedding-3-small")]
fn embed(texts: &[&str]) -> Vec<Vec<f32>> {
    texts.iter().map(|_| vec![0.987_654_3; 16]).collect()
}

#[llmtrace::tool(name = "fetch_page")]
fn fetch(url: &str, retry_of: Option<&TraceContext>) -> Result<String, TraceContext> {
    match retry_of {
        None => Err(llmtrace::current().context()),
        Some(failed) => {
            llmtrace::current().retry_of(failed);
            Ok(format!("<html>{url}</html>"))
        }
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn str_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attr(attrs, key) {
        Some(Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

#[test]
fn links_survive_the_otlp_round_trip() {
    let receiver = receiver::HttpReceiver::start(Duration::from_secs(60));
    let guard = llmtrace::init()
        .service_name("links")
        .otlp_endpoint(
            llmtrace::OtlpProtocol::HttpProtobuf,
            format!("http://{}/v1/traces", receiver.addr()),
        )
        .install();
    assert!(planner("tides").contains("<html>"));
    drop(guard);

    let requests = receiver.requests();
    assert!(!requests.is_empty(), "nothing reached the receiver");
    let mut spans: Vec<Span> = Vec::new();
    for r in &requests {
        // The GenAI metrics go to the same collector.
        assert_eq!(r.method, "POST");
        assert!(
            ["/v1/traces", "/v1/metrics"].contains(&r.path.as_str()),
            "{}",
            r.path
        );
        assert!(
            !String::from_utf8_lossy(&r.body).contains("0.9876"),
            "a vector was sent"
        );
        if r.path != "/v1/traces" {
            continue;
        }
        for rs in r.decode_traces().resource_spans {
            for ss in rs.scope_spans {
                spans.extend(ss.spans);
            }
        }
    }
    let by_name: HashMap<&str, Vec<&Span>> = spans.iter().fold(HashMap::new(), |mut m, s| {
        m.entry(s.name.as_str()).or_default().push(s);
        m
    });
    let one = |name: &str| -> &Span {
        let found = &by_name[name];
        assert_eq!(found.len(), 1, "{name}");
        found[0]
    };

    // The handoff: the writer's trace is its own, linked to the planner's span.
    let planner = one("invoke_agent planner");
    let writer = one("invoke_agent writer");
    assert_ne!(writer.trace_id, planner.trace_id);
    assert!(writer.parent_span_id.is_empty());
    assert_eq!(writer.links.len(), 1);
    assert_eq!(writer.links[0].trace_id, planner.trace_id);
    assert_eq!(writer.links[0].span_id, planner.span_id);

    // The retry: linked to the failed attempt, in the same trace, with the link's type.
    let attempts = &by_name["execute_tool fetch_page"];
    assert_eq!(attempts.len(), 2);
    let (retry, failed): (Vec<&&Span>, Vec<&&Span>) =
        attempts.iter().partition(|s| !s.links.is_empty());
    let (retry, failed) = (retry[0], failed[0]);
    assert_eq!(retry.links[0].span_id, failed.span_id);
    assert_eq!(retry.links[0].trace_id, failed.trace_id);
    assert_eq!(
        str_attr(&retry.links[0].attributes, "llmtrace.link.type"),
        Some("retry_of")
    );
    assert!(matches!(
        attr(&retry.attributes, "llmtrace.retry.attempt"),
        Some(Value::IntValue(2))
    ));

    // The kinds, as Phoenix reads them.
    for (name, kind) in [
        ("invoke_agent planner", "AGENT"),
        ("invoke_agent writer", "AGENT"),
        ("embeddings text-embedding-3-small", "EMBEDDING"),
        ("outline", "CHAIN"),
        ("execute_tool fetch_page", "TOOL"),
    ] {
        let span = by_name[name][0];
        assert_eq!(
            str_attr(&span.attributes, "openinference.span.kind"),
            Some(kind),
            "{name}"
        );
    }
    let embeddings = one("embeddings text-embedding-3-small");
    assert!(matches!(
        attr(&embeddings.attributes, "gen_ai.embeddings.dimension.count"),
        Some(Value::IntValue(16))
    ));
}
