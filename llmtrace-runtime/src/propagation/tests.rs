use std::collections::HashMap;

use super::*;
use crate::context::{SpanId, TraceContext, TraceId};
use crate::record::Value;

const TRACE: u128 = 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736;
const SPAN: u64 = 0x00f0_67aa_0ba9_02b7;
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn headers(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn injected(ctx: &TraceContext) -> HashMap<String, String> {
    let mut out = HashMap::new();
    inject(ctx, &mut out);
    out
}

/// The baggage header as a sorted list of entries (its order is not specified).
fn baggage_entries(headers: &HashMap<String, String>) -> Vec<&str> {
    let mut entries: Vec<&str> = headers
        .get("baggage")
        .map_or(Vec::new(), |b| b.split(',').collect());
    entries.sort_unstable();
    entries
}

#[test]
fn round_trip_keeps_trace_parent_and_sampled_flag() {
    for sampled in [true, false] {
        let ctx = TraceContext::remote(TraceId(TRACE), SpanId(SPAN), sampled);
        let headers = injected(&ctx);
        let flags = if sampled { "01" } else { "00" };
        assert_eq!(
            headers["traceparent"],
            format!("00-{TRACE:032x}-{SPAN:016x}-{flags}")
        );
        assert!(!headers.contains_key("tracestate"), "no empty tracestate");
        let back = extract(&headers);
        assert_eq!(back.trace_id(), Some(TraceId(TRACE)));
        assert_eq!(back.span_id(), Some(SpanId(SPAN)));
        assert_eq!(back.is_sampled(), sampled);
        assert_ne!(back.flags & crate::context::REMOTE, 0);
    }
}

#[test]
fn invalid_or_missing_traceparent_gives_an_empty_context() {
    let invalid = [
        "",
        "garbage",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e47-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-+0f067aa0ba902b7-01",
        "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
    ];
    for value in invalid {
        let ctx = extract(&headers(&[
            ("traceparent", value),
            ("tracestate", "congo=t61rcWkgMzE"),
        ]));
        assert_eq!(ctx.trace_id(), None, "{value:?}");
        assert_eq!(ctx.span_id(), None, "{value:?}");
        assert!(!ctx.is_sampled());
        assert!(
            ctx.scope.is_none(),
            "tracestate without traceparent is dropped"
        );
        assert!(injected(&ctx).is_empty());
    }
    assert_eq!(extract(&HashMap::<String, String>::new()).trace_id(), None);
    // A later version with more fields is read for the fields it shares with version 00.
    let future = extract(&headers(&[(
        "traceparent",
        &format!("cc-{}-01-what-the-future-holds", &TRACEPARENT[3..52]),
    )]));
    assert_eq!(future.trace_id(), Some(TraceId(TRACE)));
}

#[test]
fn no_trace_no_headers() {
    assert!(injected(&TraceContext::default()).is_empty());
    // A scope outside any trace has no traceparent to send.
    let scoped = crate::context::scope().session_id("s").into_context();
    assert!(injected(&scoped).is_empty());
}

#[test]
fn tracestate_is_kept_and_forwarded() {
    let incoming = headers(&[
        ("traceparent", TRACEPARENT),
        ("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
    ]);
    let ctx = extract(&incoming);
    let forwarded = injected(&ctx);
    assert_eq!(forwarded["traceparent"], TRACEPARENT);
    assert_eq!(
        forwarded["tracestate"],
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    );

    // Through a scope set up inside the extracted context, and into a captured context.
    let inner = ctx.in_scope(|| {
        crate::context::scope()
            .session_id("s")
            .in_scope(TraceContext::current)
    });
    assert_eq!(
        injected(&inner)["tracestate"],
        "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    );

    // A context extracted later without tracestate does not inherit the old one.
    let later = ctx.in_scope(|| extract(&headers(&[("traceparent", TRACEPARENT)])));
    assert!(!injected(&later).contains_key("tracestate"));
}

#[test]
fn plain_inject_never_writes_baggage() {
    let ctx = TraceContext::remote(TraceId(TRACE), SpanId(SPAN), true);
    let ctx = ctx.in_scope(|| {
        crate::context::scope()
            .session_id("chat-42")
            .user_id("user-7")
            .metadata("tenant", "acme")
            .into_context()
    });
    let headers = injected(&ctx);
    assert_eq!(headers.len(), 1, "{headers:?}");
    assert_eq!(headers["traceparent"], TRACEPARENT);
}

#[test]
fn baggage_carries_only_allowed_keys() {
    let ctx = TraceContext::remote(TraceId(TRACE), SpanId(SPAN), true).in_scope(|| {
        crate::context::scope()
            .session_id("chat 42, café")
            .user_id("user-7")
            .conversation_id("conv-1")
            .metadata("tenant", "acme")
            .metadata("attempt", 3)
            .metadata("plan", "pro")
            .into_context()
    });
    let mut out = HashMap::new();
    inject_with_baggage(&ctx, &mut out, &BaggageKeys::default());
    assert_eq!(out["traceparent"], TRACEPARENT);
    assert_eq!(
        baggage_entries(&out),
        ["session.id=chat%2042%2C%20caf%C3%A9", "user.id=user-7"]
    );

    let keys = BaggageKeys::default()
        .allow("tenant")
        .allow("attempt")
        .allow("gen_ai.conversation.id")
        .allow("absent");
    let mut out = HashMap::new();
    inject_with_baggage(&ctx, &mut out, &keys);
    assert_eq!(
        baggage_entries(&out),
        [
            "attempt=3",
            "gen_ai.conversation.id=conv-1",
            "session.id=chat%2042%2C%20caf%C3%A9",
            "tenant=acme",
            "user.id=user-7"
        ]
    );

    let mut out = HashMap::new();
    inject_with_baggage(&ctx, &mut out, &BaggageKeys::none());
    assert!(!out.contains_key("baggage"));
}

#[test]
fn baggage_is_sent_outside_a_trace() {
    let ctx = crate::context::scope().user_id("user-7").into_context();
    let mut out = HashMap::new();
    inject_with_baggage(&ctx, &mut out, &BaggageKeys::default());
    assert!(!out.contains_key("traceparent"));
    assert_eq!(out["baggage"], "user.id=user-7");
}

#[test]
fn extract_reads_only_allowed_baggage_keys() {
    let incoming = headers(&[
        ("traceparent", TRACEPARENT),
        (
            "baggage",
            "session.id=chat%2042,user.id=user-7,tenant=acme;prop=1,plan=pro",
        ),
    ]);

    // Plain extract ignores baggage.
    assert!(extract(&incoming).scope.is_none());

    let ctx = extract_with_baggage(&incoming, &BaggageKeys::default());
    assert_eq!(ctx.trace_id(), Some(TraceId(TRACE)));
    let scope = ctx.scope.as_deref().unwrap();
    assert_eq!(scope.session_id.as_deref(), Some("chat 42"));
    assert_eq!(scope.user_id.as_deref(), Some("user-7"));
    assert!(scope.metadata.is_empty());

    let keys = BaggageKeys::new(["session.id", "tenant"]);
    let ctx = extract_with_baggage(&incoming, &keys);
    let scope = ctx.scope.as_deref().unwrap();
    assert_eq!(scope.session_id.as_deref(), Some("chat 42"));
    assert_eq!(scope.user_id, None);
    assert_eq!(scope.metadata.len(), 1);
    assert_eq!(&*scope.metadata[0].0, "tenant");
    assert!(matches!(&scope.metadata[0].1, Value::String(v) if &**v == "acme"));

    // Forwarded further with the same keys.
    let mut out = HashMap::new();
    inject_with_baggage(&ctx, &mut out, &keys);
    assert_eq!(
        baggage_entries(&out),
        ["session.id=chat%2042", "tenant=acme"]
    );
}

#[test]
fn baggage_is_read_without_traceparent() {
    let ctx = extract_with_baggage(
        &headers(&[("baggage", "session.id=s-1")]),
        &BaggageKeys::default(),
    );
    assert_eq!(ctx.trace_id(), None);
    assert_eq!(ctx.scope.unwrap().session_id.as_deref(), Some("s-1"));
}

#[test]
fn extract_builds_on_the_scope_in_effect() {
    let outer = crate::context::scope()
        .session_id("local")
        .tag("server")
        .into_context();
    let incoming = headers(&[("traceparent", TRACEPARENT), ("baggage", "user.id=u-9")]);
    let plain = outer.in_scope(|| extract(&incoming));
    assert_eq!(plain.trace_id(), Some(TraceId(TRACE)));
    let scope = plain.scope.as_deref().unwrap();
    assert_eq!(scope.session_id.as_deref(), Some("local"));
    assert_eq!(scope.user_id, None);

    let with = outer.in_scope(|| extract_with_baggage(&incoming, &BaggageKeys::default()));
    let scope = with.scope.as_deref().unwrap();
    assert_eq!(scope.session_id.as_deref(), Some("local"));
    assert_eq!(scope.user_id.as_deref(), Some("u-9"));
    assert_eq!(scope.tags.len(), 1);
}

#[test]
fn baggage_keys_allow_list() {
    let keys = BaggageKeys::default();
    assert_eq!(keys.iter().collect::<Vec<_>>(), ["session.id", "user.id"]);
    let keys = keys.allow("user.id").allow("tenant");
    assert_eq!(
        keys.iter().collect::<Vec<_>>(),
        ["session.id", "user.id", "tenant"]
    );
    assert_eq!(BaggageKeys::none().iter().count(), 0);
    assert_eq!(
        BaggageKeys::new(["a", "b", "a"]).iter().collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[cfg(feature = "http")]
#[test]
fn http_headers_round_trip() {
    let mut map = http::HeaderMap::new();
    map.insert("traceparent", http::HeaderValue::from_static("stale"));
    let ctx = TraceContext::remote(TraceId(TRACE), SpanId(SPAN), true).in_scope(|| {
        crate::context::scope()
            .session_id("chat-42")
            .user_id("user-7")
            .into_context()
    });
    ctx.in_scope(|| inject_headers(&mut map));
    assert_eq!(map.get_all("traceparent").iter().count(), 1, "replaced");
    assert_eq!(map["traceparent"], TRACEPARENT);
    assert!(map.get("baggage").is_none());

    ctx.in_scope(|| inject_headers_with_baggage(&mut map, &BaggageKeys::default()));
    let back = extract_headers(&map);
    assert_eq!(back.trace_id(), Some(TraceId(TRACE)));
    assert!(back.scope.is_none());
    let back = extract_headers_with_baggage(&map, &BaggageKeys::default());
    assert_eq!(back.span_id(), Some(SpanId(SPAN)));
    let scope = back.scope.as_deref().unwrap();
    assert_eq!(scope.session_id.as_deref(), Some("chat-42"));
    assert_eq!(scope.user_id.as_deref(), Some("user-7"));

    // Header names are case-insensitive; values that are not visible ASCII are ignored.
    let mut map = http::HeaderMap::new();
    map.insert("TraceParent", http::HeaderValue::from_static(TRACEPARENT));
    assert_eq!(extract_headers(&map).trace_id(), Some(TraceId(TRACE)));
    map.insert(
        "traceparent",
        http::HeaderValue::from_bytes(b"00-\xff").unwrap(),
    );
    assert_eq!(extract_headers(&map).trace_id(), None);
}
