//! Content capture: parameters as input, return value as output, `skip`, secrets, size caps,
//! panicking `Serialize`, and argument expressions.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::sync::atomic::{AtomicUsize, Ordering};

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;
use llmtrace_tests::str_attr;
use serde::{Serialize, Serializer};

#[derive(Serialize)]
struct Order {
    id: String,
    total: f64,
}

#[llmtrace::tool(name = "lookup_order", description = "Find an order by id")]
fn lookup_order(order_id: &str, limit: u32) -> Result<Vec<Order>, String> {
    Ok((0..limit)
        .map(|i| Order {
            id: format!("{order_id}-{i}"),
            total: 9.5,
        })
        .collect())
}

#[llmtrace::tool(name = "skipped", skip(limit))]
fn skipped(order_id: &str, limit: u32) -> u32 {
    limit + order_id.len() as u32
}

#[llmtrace::tool(name = "skip_all", skip_all, output = false)]
fn skip_all(order_id: &str) -> String {
    order_id.to_owned()
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn with_secrets(api_key: &str, auth_token: String, prompt: &str, max_tokens: u32) -> usize {
    api_key.len() + auth_token.len() + prompt.len() + max_tokens as usize
}

#[test]
fn parameters_and_return_values() {
    let cap = Capture::new();
    cap.in_scope(|| {
        lookup_order("A-42", 2).unwrap();
        skipped("A-42", 3);
        skip_all("A-42");
        with_secrets("sk-live-123", "tok".into(), "hello", 64);
    });
    let spans = cap.spans();
    let s = spans.by_name("execute_tool lookup_order");
    assert_eq!(
        str_attr(s, "gen_ai.tool.call.arguments"),
        r#"{"order_id":"A-42","limit":2}"#
    );
    assert_eq!(
        str_attr(s, "gen_ai.tool.call.result"),
        r#"[{"id":"A-42-0","total":9.5},{"id":"A-42-1","total":9.5}]"#
    );
    assert_eq!(str_attr(s, "input.mime_type"), "application/json");
    // Phoenix derives `tool.*` from the GenAI names; the default profile does not repeat them.
    assert!(s.attr("tool.name").is_none());
    assert_eq!(str_attr(s, "gen_ai.tool.type"), "function");
    assert_eq!(
        str_attr(spans.by_name("execute_tool skipped"), "input.value"),
        r#"{"order_id":"A-42"}"#
    );
    let all = spans.by_name("execute_tool skip_all");
    assert!(all.attr("input.value").is_none());
    assert!(all.attr("output.value").is_none());
    let secret = spans.by_name("chat gpt-4o");
    let input = str_attr(secret, "input.value");
    assert_eq!(input, r#"{"prompt":"hello","max_tokens":64}"#);
    assert!(!input.contains("sk-live"));
}

struct Bomb;

impl Serialize for Bomb {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("serialize exploded")
    }
}

#[llmtrace::tool(name = "bomb")]
fn bomb(x: Bomb, y: u8) -> Bomb {
    let _ = y;
    x
}

#[test]
fn panicking_serialize_never_changes_behaviour() {
    let cap = Capture::new();
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = cap.in_scope(|| bomb(Bomb, 7));
    std::panic::set_hook(prev);
    let _ = out;
    let spans = cap.spans();
    let s = spans.by_name("execute_tool bomb");
    assert_eq!(
        str_attr(s, "input.value"),
        r#"{"x":"<capture failed>","y":7}"#
    );
    assert_eq!(str_attr(s, "output.value"), r#""<capture failed>""#);
    assert!(!s.is_error());
}

#[llmtrace::tool(name = "huge")]
fn huge(text: &str) -> usize {
    text.len()
}

#[test]
fn large_content_is_capped_and_stays_valid_json() {
    let cap = Capture::new();
    let text = "x".repeat(200_000);
    assert_eq!(cap.in_scope(|| huge(&text)), 200_000);
    let spans = cap.spans();
    let s = spans.by_name("execute_tool huge");
    let input = str_attr(s, "input.value");
    assert!(input.len() <= 33 * 1024, "capped: {} bytes", input.len());
    let parsed: serde_json::Value = serde_json::from_str(input).expect("valid JSON");
    assert!(parsed["text"].as_str().unwrap().ends_with('…'));
    assert_eq!(s.bool_attr("llmtrace.content.truncated"), Some(true));
}

struct Request {
    model: String,
    temperature: Option<f64>,
    max_tokens: Option<u32>,
    stop: Vec<String>,
}

static EVALUATIONS: AtomicUsize = AtomicUsize::new(0);

fn counted(model: &str) -> &str {
    EVALUATIONS.fetch_add(1, Ordering::SeqCst);
    model
}

#[llmtrace::llm_call(
    provider = "openai",
    model = counted(&req.model),
    temperature = req.temperature,
    max_tokens = req.max_tokens,
    stop_sequences = req.stop,
    skip(req)
)]
fn with_expressions(req: Request) -> String {
    // The body moves the parameter the arguments read.
    let Request { model, .. } = req;
    model
}

#[tokio::test]
async fn argument_expressions_are_evaluated_once_at_start() {
    #[llmtrace::llm_call(provider = "openai", model = model.as_str(), skip_all)]
    async fn async_expr(model: String) -> String {
        tokio::task::yield_now().await;
        model
    }

    let cap = Capture::new();
    let out = cap.in_scope(|| {
        with_expressions(Request {
            model: "gpt-4.1".into(),
            temperature: Some(0.5),
            max_tokens: None,
            stop: vec!["END".into()],
        })
    });
    assert_eq!(out, "gpt-4.1");
    assert_eq!(EVALUATIONS.load(Ordering::SeqCst), 1);
    assert_eq!(cap.instrument(async_expr("o3".into())).await, "o3");
    let spans = cap.spans();
    let s = spans.by_name("chat gpt-4.1");
    assert_eq!(str_attr(s, "gen_ai.request.model"), "gpt-4.1");
    assert_eq!(s.f64_attr("gen_ai.request.temperature"), Some(0.5));
    assert!(
        s.attr("gen_ai.request.max_tokens").is_none(),
        "None records nothing"
    );
    assert_eq!(
        s.attr("gen_ai.request.stop_sequences")
            .map(|v| v.to_string())
            .as_deref(),
        Some("[\"END\"]")
    );
    assert!(spans.find("chat o3").is_some());
}

#[test]
fn retrieval_documents_are_read_by_field_name() {
    #[derive(Serialize)]
    struct Doc {
        id: u32,
        score: f64,
        content: &'static str,
        metadata: serde_json::Value,
    }
    #[llmtrace::retrieval(data_source = "help_center", top_k = 2, query = query)]
    fn search(query: &str) -> Result<Vec<Doc>, String> {
        let _ = query;
        Ok(vec![
            Doc {
                id: 7,
                score: 0.92,
                content: "Refunds take 5 days.",
                metadata: serde_json::json!({"lang": "en"}),
            },
            Doc {
                id: 9,
                score: 0.5,
                content: "Shipping is free.",
                metadata: serde_json::Value::Null,
            },
        ])
    }
    let cap = Capture::new();
    cap.in_scope(|| search("refund policy").unwrap());
    let spans = cap.spans();
    let s = spans.by_name("retrieval help_center");
    assert_eq!(s.span_kind, opentelemetry::trace::SpanKind::Client);
    assert_eq!(str_attr(s, "gen_ai.data_source.id"), "help_center");
    assert_eq!(s.i64_attr("gen_ai.retrieval.top_k"), Some(2));
    assert_eq!(str_attr(s, "gen_ai.retrieval.query.text"), "refund policy");
    assert_eq!(str_attr(s, "input.value"), "refund policy");
    assert_eq!(str_attr(s, "input.mime_type"), "text/plain");
    assert_eq!(s.i64_attr("llmtrace.retrieval.documents.count"), Some(2));
    let docs = s.json_attr("gen_ai.retrieval.documents").unwrap();
    assert_eq!(docs[0]["id"], "7");
    assert_eq!(docs[0]["score"], 0.92);
    assert_eq!(docs[1]["content"], "Shipping is free.");
    assert_eq!(str_attr(s, "retrieval.documents.0.document.id"), "7");
    assert_eq!(
        s.f64_attr("retrieval.documents.0.document.score"),
        Some(0.92)
    );
    assert_eq!(
        str_attr(s, "retrieval.documents.1.document.content"),
        "Shipping is free."
    );
    assert_eq!(str_attr(s, "openinference.span.kind"), "RETRIEVER");
    assert_eq!(str_attr(s, "langfuse.observation.type"), "retriever");
}

/// A request whose parameters are `f32`, as most client crates type them.
struct F32Request {
    temperature: f32,
    top_p: Option<f32>,
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = req.temperature, top_p = req.top_p, skip(req))]
fn f32_params(req: &F32Request) -> u8 {
    let _ = req;
    0
}

#[test]
fn f32_expressions_are_recorded_as_the_decimal_written() {
    let cap = Capture::new();
    cap.in_scope(|| {
        f32_params(&F32Request {
            temperature: 0.2,
            top_p: Some(0.95),
        })
    });
    let spans = cap.spans();
    let span = spans.by_name("chat gpt-4o");
    assert_eq!(span.f64_attr("gen_ai.request.temperature"), Some(0.2));
    assert_eq!(span.f64_attr("gen_ai.request.top_p"), Some(0.95));
}

/// Documents as vector stores type them: other field names than the conventions'.
#[derive(Serialize)]
struct Hit {
    key: String,
    distance: f32,
    text: &'static str,
}

#[derive(Serialize)]
struct Unknown {
    title: &'static str,
    rank: u32,
}

#[llmtrace::retrieval(data_source = "kb")]
fn search_hits(query: &str) -> Vec<Hit> {
    vec![Hit {
        key: format!("{query}-1"),
        distance: 0.25,
        text: "Refunds take 5 days.",
    }]
}

#[llmtrace::retrieval(data_source = "other")]
fn search_unknown(query: &str) -> Vec<Unknown> {
    let _ = query;
    vec![Unknown {
        title: "Refunds",
        rank: 1,
    }]
}

#[test]
fn retrieval_documents_are_read_by_common_field_names() {
    let cap = Capture::new();
    cap.in_scope(|| search_hits("refund"));
    cap.in_scope(|| search_unknown("refund"));
    let spans = cap.spans();
    assert_eq!(
        spans
            .by_name("retrieval kb")
            .json_attr("gen_ai.retrieval.documents"),
        Some(serde_json::json!([{"id": "refund-1", "score": 0.25,
            "content": "Refunds take 5 days.", "metadata": {"score_type": "distance"}}]))
    );
    // None of the names read: the document is its content (and a warning says so).
    let docs = spans
        .by_name("retrieval other")
        .json_attr("gen_ai.retrieval.documents")
        .unwrap();
    assert_eq!(docs[0]["id"], "0");
    let content: serde_json::Value =
        serde_json::from_str(docs[0]["content"].as_str().unwrap()).unwrap();
    assert_eq!(content, serde_json::json!({"title": "Refunds", "rank": 1}));
}

#[llmtrace::tool(name = "echo")]
fn echo(text: &str, n: u64, ratio: f32, flag: bool, note: Option<&str>) -> String {
    format!("{text}/{n}")
}

#[derive(Serialize)]
struct EchoArgs<'a> {
    text: &'a str,
    n: u64,
    ratio: f32,
    flag: bool,
    note: Option<&'a str>,
}

/// Text of every length up to past the size a thread's shared chunk takes (2 KiB), with
/// characters JSON escapes and multi-byte ones.
fn echo_text(thread: usize, i: usize) -> String {
    let unit = ["a\"b", "\\", "\n", "é", "→", "😀", " plain words ", "\u{1}"][(thread + i) % 8];
    unit.repeat(i * 7 % 700)
}

/// Values kept typed in each thread's chunks and written as JSON on the export thread: every
/// span, from threads that end before their spans are exported, with content of every size
/// (chunks filled and moved on from, content given a chunk of its own), reads back as
/// serde_json writes the same values.
#[test]
fn captured_values_from_many_threads_read_back_exactly() {
    const THREADS: usize = 4;
    const SPANS: usize = 1_500;
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let cap = Capture::new();
                cap.in_scope(|| {
                    for i in 0..SPANS {
                        let note = (i % 3 == 0).then_some("n");
                        echo(
                            &echo_text(t, i),
                            i as u64 * 31,
                            0.1 * i as f32,
                            i % 2 == 0,
                            note,
                        );
                    }
                });
                cap
            })
        })
        .collect();
    for (t, thread) in threads.into_iter().enumerate() {
        let cap = thread.join().unwrap();
        let spans = cap.spans();
        assert_eq!(spans.len(), SPANS);
        for (i, span) in spans.iter().enumerate() {
            let text = echo_text(t, i);
            let note = (i % 3 == 0).then_some("n");
            // The parameters in order, as serde_json writes them.
            let expected = serde_json::to_string(&EchoArgs {
                text: &text,
                n: i as u64 * 31,
                ratio: 0.1 * i as f32,
                flag: i % 2 == 0,
                note,
            })
            .unwrap();
            assert_eq!(
                str_attr(span, "gen_ai.tool.call.arguments"),
                expected,
                "thread {t}, span {i}"
            );
            assert_eq!(
                str_attr(span, "gen_ai.tool.call.result"),
                serde_json::to_string(&format!("{text}/{}", i as u64 * 31)).unwrap()
            );
        }
    }
}
