//! Across processes: a trace injected into request headers and extracted on the other side
//! continues there, with the caller's span as remote parent and the session from baggage.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::time::Duration;

use llmtrace::propagation::{self, BaggageKeys};
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::TraceContext;
use llmtrace_runtime as llmtrace;
use llmtrace_tests::str_attr;
use opentelemetry::trace::{SpanId, TraceId};

/// The caller: a tool that sends a request to another service, with the trace in its headers.
#[llmtrace::tool(name = "call_service")]
fn call_service(with_baggage: bool) -> HashMap<String, String> {
    let mut headers = HashMap::new();
    let ctx = TraceContext::current();
    if with_baggage {
        propagation::inject_with_baggage(&ctx, &mut headers, &BaggageKeys::default());
    } else {
        propagation::inject(&ctx, &mut headers);
    }
    headers
}

#[llmtrace::workflow(name = "caller")]
fn caller(with_baggage: bool) -> HashMap<String, String> {
    call_service(with_baggage)
}

#[llmtrace::tool(name = "lookup")]
async fn lookup(id: &str) -> String {
    tokio::time::sleep(Duration::from_millis(1)).await;
    format!("found {id}")
}

/// The service that receives the request.
#[llmtrace::workflow(name = "service")]
async fn service(id: &str) -> String {
    lookup(id).await
}

#[tokio::test]
async fn extracted_context_continues_the_callers_trace() {
    let cap = Capture::new();
    let headers = cap.in_scope(|| {
        llmtrace::scope()
            .session_id("chat-42")
            .user_id("user-7")
            .in_scope(|| caller(true))
    });
    assert!(headers["baggage"].contains("session.id=chat-42"));

    // The other side: outside the caller's scope, only the headers cross.
    let ctx = cap.in_scope(|| propagation::extract_with_baggage(&headers, &BaggageKeys::default()));
    assert_eq!(ctx.instrument(service("A-42")).await, "found A-42");

    let spans = cap.spans();
    assert_eq!(spans.len(), 4, "{:?}", spans.names());
    let client = spans.by_name("execute_tool call_service");
    let root = spans.by_name("invoke_workflow service");
    let tool = spans.by_name("execute_tool lookup");
    assert_eq!(root.parent_span_id, client.span_context.span_id());
    assert!(
        root.parent_span_is_remote,
        "a local root under a remote parent"
    );
    assert!(!tool.parent_span_is_remote);
    assert_eq!(tool.parent_span_id, root.span_context.span_id());
    let trace = client.span_context.trace_id();
    assert!(spans.iter().all(|s| s.span_context.trace_id() == trace));
    assert_eq!(
        headers["traceparent"],
        format!("00-{}-{}-01", trace, client.span_context.span_id())
    );
    for s in spans.iter() {
        assert_eq!(str_attr(s, "session.id"), "chat-42", "{}", s.name);
        assert_eq!(str_attr(s, "user.id"), "user-7", "{}", s.name);
    }
}

#[test]
fn plain_propagation_carries_the_trace_but_not_the_session() {
    let cap = Capture::new();
    let headers = cap.in_scope(|| {
        llmtrace::scope()
            .session_id("chat-42")
            .in_scope(|| caller(false))
    });
    assert_eq!(headers.len(), 1, "only traceparent: {headers:?}");

    // `extract_with_baggage` on a request without baggage, and plain `extract`: no session.
    for ctx in [
        cap.in_scope(|| propagation::extract(&headers)),
        cap.in_scope(|| propagation::extract_with_baggage(&headers, &BaggageKeys::default())),
    ] {
        ctx.in_scope(|| call_service(false));
    }
    let spans = cap.spans();
    let workflow = spans.by_name("invoke_workflow caller");
    let client = spans.children_of(workflow)[0];
    let remote_children: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id == client.span_context.span_id())
        .collect();
    assert_eq!(remote_children.len(), 2);
    for s in remote_children {
        assert!(s.parent_span_is_remote);
        assert_eq!(s.span_context.trace_id(), client.span_context.trace_id());
        assert_eq!(s.str_attr("session.id"), None);
    }
}

#[test]
fn a_remote_parent_from_any_process() {
    let cap = Capture::new();
    let headers: HashMap<String, String> = [
        (
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        ("tracestate", "vendor=opaque"),
        ("baggage", "session.id=s-1,user.id=u-2,plan=pro"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let ctx = cap.in_scope(|| propagation::extract_with_baggage(&headers, &BaggageKeys::default()));
    let forwarded = ctx.in_scope(|| caller(true));
    let spans = cap.spans();
    let root = spans.by_name("invoke_workflow caller");
    assert_eq!(
        root.span_context.trace_id(),
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736)
    );
    assert_eq!(root.parent_span_id, SpanId::from(0x00f0_67aa_0ba9_02b7));
    assert!(root.parent_span_is_remote);
    assert_eq!(str_attr(root, "session.id"), "s-1");
    assert_eq!(str_attr(root, "user.id"), "u-2");
    assert_eq!(root.str_attr("metadata"), None, "plan is not allowed");
    // Sent on, from the nested tool: same trace, the tool as parent, the tracestate kept.
    let tool = spans.by_name("execute_tool call_service");
    assert_eq!(
        forwarded["traceparent"],
        format!(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01",
            tool.span_context.span_id()
        )
    );
    assert_eq!(forwarded["tracestate"], "vendor=opaque");
    let mut baggage: Vec<&str> = forwarded["baggage"].split(',').collect();
    baggage.sort_unstable();
    assert_eq!(baggage, ["session.id=s-1", "user.id=u-2"]);
}
