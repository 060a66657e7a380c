//! Parent/child relations across calls, `.await`, `join!`, spawned tasks and threads; scopes;
//! the manual API; isolation of concurrent captures.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::time::Duration;

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::FutureExt;
use llmtrace_runtime as llmtrace;
use llmtrace_tests::{assert_parent, str_attr};

#[llmtrace::retrieval(data_source = "kb")]
async fn search(q: &str) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(2)).await;
    vec![q.to_owned()]
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
async fn chat(prompt: &str) -> String {
    tokio::time::sleep(Duration::from_millis(2)).await;
    llmtrace::current().record_usage(llmtrace::Usage::new(100, 20));
    format!("answer to {prompt}")
}

#[llmtrace::tool(name = "calc")]
fn calc(x: u32) -> u32 {
    x + 1
}

#[llmtrace::workflow(name = "answer")]
async fn answer(q: &str) -> String {
    let docs = search(q).await;
    let reply = chat(&docs[0]).await;
    calc(1);
    reply
}

#[tokio::test]
async fn nesting_follows_calls_and_awaits() {
    let cap = Capture::new();
    let out = cap.instrument(answer("refunds")).await;
    assert_eq!(out, "answer to refunds");
    let spans = cap.spans();
    assert_eq!(spans.len(), 4);
    assert_parent(&spans, "retrieval kb", "invoke_workflow answer");
    assert_parent(&spans, "chat gpt-4o", "invoke_workflow answer");
    assert_parent(&spans, "execute_tool calc", "invoke_workflow answer");
    assert_eq!(spans.roots().len(), 1);
    let chat = spans.by_name("chat gpt-4o");
    assert_eq!(chat.i64_attr("gen_ai.usage.input_tokens"), Some(100));
    assert_eq!(chat.i64_attr("gen_ai.usage.output_tokens"), Some(20));
    assert!(chat.attr("llmtrace.usage.missing").is_none());
}

#[llmtrace::workflow(name = "fan_out")]
async fn fan_out() -> usize {
    let (a, b) = tokio::join!(search("a"), chat("b"));
    a.len() + b.len()
}

#[tokio::test]
async fn join_children_are_siblings() {
    let cap = Capture::new();
    cap.instrument(fan_out()).await;
    let spans = cap.spans();
    assert_parent(&spans, "retrieval kb", "invoke_workflow fan_out");
    assert_parent(&spans, "chat gpt-4o", "invoke_workflow fan_out");
}

#[llmtrace::workflow(name = "spawner")]
async fn spawner() -> u32 {
    let spawned = tokio::spawn(async { chat("spawned").await.len() }.in_current_trace());
    let mut set = tokio::task::JoinSet::new();
    set.spawn(async { search("joinset").await.len() }.in_current_trace());
    let blocking = tokio::task::spawn_blocking(llmtrace::current().wrap(|| calc(41)));
    let ctx = llmtrace::TraceContext::current();
    let thread = std::thread::spawn(ctx.wrap(|| calc(1)));
    let a = spawned.await.unwrap() as u32;
    let b = set.join_next().await.unwrap().unwrap() as u32;
    let c = blocking.await.unwrap();
    let d = thread.join().unwrap();
    a + b + c + d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawned_tasks_and_threads_keep_their_parent() {
    let cap = Capture::new();
    cap.instrument(spawner()).await;
    let spans = cap.spans();
    let root = spans.by_name("invoke_workflow spawner");
    assert_eq!(spans.len(), 5, "{:?}", spans.names());
    for s in spans.iter().filter(|s| s.name != root.name) {
        assert_eq!(s.parent_span_id, root.span_context.span_id(), "{}", s.name);
        assert_eq!(s.span_context.trace_id(), root.span_context.trace_id());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_future_can_complete_on_another_thread() {
    let cap = Capture::new();
    // Created here, polled to completion on a worker thread.
    let fut = cap.instrument(answer("moved"));
    let out = tokio::spawn(fut).await.unwrap();
    assert_eq!(out, "answer to moved");
    let spans = cap.spans();
    assert_parent(&spans, "chat gpt-4o", "invoke_workflow answer");
}

#[llmtrace::workflow(name = "manual")]
fn manual() -> (Option<llmtrace::TraceId>, Option<llmtrace::SpanId>) {
    let span = llmtrace::current();
    assert!(span.is_recording());
    span.set_attribute("app.tier", "pro");
    span.set_attribute("app.retries", 2_i64);
    span.add_event("cache.miss", [("cache.key", "user:7")]);
    (span.trace_id(), span.span_id())
}

#[test]
fn manual_api_adds_attributes_and_events_and_reads_ids() {
    let cap = Capture::new();
    let (trace_id, span_id) = cap.in_scope(manual);
    let spans = cap.spans();
    let s = spans.by_name("invoke_workflow manual");
    assert_eq!(str_attr(s, "app.tier"), "pro");
    assert_eq!(s.i64_attr("app.retries"), Some(2));
    let event = s.events.iter().find(|e| e.name == "cache.miss").unwrap();
    assert_eq!(event.attributes[0].value.to_string(), "user:7");
    assert!(event.timestamp >= s.start_time && event.timestamp <= s.end_time);
    assert_eq!(
        opentelemetry::trace::TraceId::from(trace_id.unwrap()),
        s.span_context.trace_id()
    );
    assert_eq!(
        opentelemetry::trace::SpanId::from(span_id.unwrap()),
        s.span_context.span_id()
    );
    // Outside any span the manual API does nothing.
    assert!(!llmtrace::current().is_recording());
    assert!(llmtrace::current().trace_id().is_none());
    llmtrace::current().set_attribute("ignored", true);
}

#[test]
fn scope_values_are_copied_onto_every_span() {
    let cap = Capture::new();
    cap.in_scope(|| {
        llmtrace::scope()
            .session_id("chat-42")
            .user_id("user-7")
            .tag("beta")
            .metadata("tier", "pro")
            .in_scope(|| {
                calc(1);
                manual();
            })
    });
    let spans = cap.spans();
    // Both spans, each checked below: an empty capture would pass the loop.
    let mut names = spans.names();
    names.sort_unstable();
    assert_eq!(names, ["execute_tool calc", "invoke_workflow manual"]);
    for s in spans.iter() {
        assert_eq!(str_attr(s, "session.id"), "chat-42");
        assert_eq!(str_attr(s, "user.id"), "user-7");
        assert_eq!(
            s.json_attr("metadata").unwrap(),
            serde_json::json!({"tier": "pro"})
        );
        assert_eq!(s.attr("tag.tags").unwrap().to_string(), "[\"beta\"]");
    }
}

#[test]
fn concurrent_captures_see_only_their_own_spans() {
    let handles: Vec<_> = (0..4u32)
        .map(|i| {
            std::thread::spawn(move || {
                let cap = Capture::new();
                cap.in_scope(|| {
                    for _ in 0..=i {
                        calc(i);
                    }
                });
                let spans = cap.spans();
                assert_eq!(spans.len(), i as usize + 1);
                for s in spans.iter() {
                    assert_eq!(str_attr(s, "input.value"), format!("{{\"x\":{i}}}"));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn spans_outside_a_capture_are_not_captured() {
    let cap = Capture::new();
    calc(99);
    cap.in_scope(|| calc(1));
    let spans = cap.spans();
    assert_eq!(spans.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_values_follow_join_spawn_blocking_and_threads() {
    let cap = Capture::new();
    // The scope is built inside the capture: a scope inherits the one in effect where it is
    // built (here, the capture's).
    cap.instrument(async {
        llmtrace::scope()
            .session_id("chat-9")
            .user_id("user-3")
            .conversation_id("conv-1")
            .tag("beta")
            .metadata("tier", "pro")
            .instrument(async {
                fan_out().await;
                spawner().await;
            })
            .await
    })
    .await;
    let spans = cap.spans();
    // fan_out: 3 spans; spawner: 5 (a spawned task, a JoinSet member, spawn_blocking, a thread).
    assert_eq!(spans.len(), 8, "{:?}", spans.names());
    for s in spans.iter() {
        assert_eq!(str_attr(s, "session.id"), "chat-9", "{}", s.name);
        assert_eq!(str_attr(s, "user.id"), "user-3", "{}", s.name);
        assert_eq!(
            str_attr(s, "gen_ai.conversation.id"),
            "conv-1",
            "{}",
            s.name
        );
        assert_eq!(
            s.json_attr("langfuse.trace.metadata").unwrap(),
            serde_json::json!({"tier": "pro"}),
            "{}",
            s.name
        );
        assert_eq!(
            s.attr("langfuse.trace.tags").unwrap().to_string(),
            "[\"beta\"]",
            "{}",
            s.name
        );
    }
}
