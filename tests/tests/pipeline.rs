//! The native pipeline end to end: per-thread buffers, the export worker, flush, counters,
//! late children, and what an exporter receives.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use llmtrace::testing::SpanDataExt;
use llmtrace::FutureExt;
use llmtrace_runtime as llmtrace;
use opentelemetry::trace::SpanId;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

/// One pipeline for this test binary; the worker never ticks on its own (1 h), so only a flush
/// or a half-full buffer makes it export.
static EXPORTER: LazyLock<InMemorySpanExporter> = LazyLock::new(|| {
    let exporter = InMemorySpanExporter::default();
    let guard = llmtrace::init()
        .service_name("pipeline-test")
        .with_exporter(exporter.clone())
        .export_interval(Duration::from_secs(3600))
        .install();
    // Installed for the whole test process.
    std::mem::forget(guard);
    exporter
});

/// Tests of this binary share one pipeline; they take turns so counters can be compared exactly.
static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn turn() -> std::sync::MutexGuard<'static, ()> {
    LazyLock::force(&EXPORTER);
    TURN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn flushed() -> Vec<SpanData> {
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");
    EXPORTER.get_finished_spans().unwrap()
}

fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
    spans.iter().filter(|s| s.name == name).collect()
}

#[llmtrace::tool(name = "on_worker")]
fn on_worker(x: u32) -> u32 {
    x * 3
}

#[test]
fn a_span_ended_on_an_idle_tokio_worker_is_exported_after_flush() {
    let _turn = turn();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let out = rt.block_on(async { tokio::spawn(async { on_worker(14) }).await.unwrap() });
    assert_eq!(out, 42);
    // The worker thread is now idle; its buffer holds one span and nothing wakes the exporter.
    let spans = flushed();
    let s = named(&spans, "execute_tool on_worker");
    assert_eq!(s.len(), 1, "exported after flush");
    assert_eq!(s[0].instrumentation_scope.name(), "llmtrace");
    assert!(s[0].start_time <= s[0].end_time);
    let age = SystemTime::now().duration_since(s[0].end_time).unwrap();
    assert!(
        age < Duration::from_secs(60),
        "timestamps are wall-clock time"
    );
    drop(rt);
}

#[llmtrace::llm_call(provider = "openai", model = "late-model")]
async fn late_child() -> String {
    tokio::time::sleep(Duration::from_millis(50)).await;
    "late".into()
}

#[llmtrace::workflow(name = "short_root")]
async fn short_root() -> tokio::task::JoinHandle<String> {
    // The child outlives its root (an SSE stream outliving its handler, say).
    tokio::spawn(late_child().in_current_trace())
}

#[test]
fn late_children_are_exported_under_the_same_trace() {
    let _turn = turn();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let handle = short_root().await;
        assert_eq!(handle.await.unwrap(), "late");
    });
    let spans = flushed();
    let root = named(&spans, "invoke_workflow short_root")[0];
    let child = named(&spans, "chat late-model")[0];
    assert_eq!(child.parent_span_id, root.span_context.span_id());
    assert_eq!(child.span_context.trace_id(), root.span_context.trace_id());
    assert!(
        child.end_time > root.end_time,
        "the child ended after its root"
    );
    assert_eq!(root.parent_span_id, SpanId::INVALID);
}

#[llmtrace::tool(name = "counted")]
fn counted(i: u32) -> u32 {
    i
}

#[test]
fn counters_account_for_every_span() {
    let _turn = turn();
    let before = llmtrace::stats();
    let threads: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| (0..500).map(counted).sum::<u32>()))
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let spans = flushed();
    assert!(named(&spans, "execute_tool counted").len() >= 2000);
    let after = llmtrace::stats();
    assert!(after.produced - before.produced >= 2000);
    assert_eq!(after.dropped, 0, "{after:?}");
    assert_eq!(
        after.produced,
        after.exported + after.captured + after.sampled_out + after.dropped,
        "{after:?}"
    );
}

#[test]
fn exported_attributes_match_the_conventions() {
    let _turn = turn();
    #[llmtrace::llm_call(provider = "azure.ai.openai", model = "gpt-4o-2024", temperature = 0.0)]
    fn azure(prompt: &str) -> String {
        llmtrace::current().record_usage(llmtrace::Usage::new(1000, 50).with_cache_read(400));
        llmtrace::current().record_cost_usd(0.0123);
        prompt.to_owned()
    }
    azure("x");
    let spans = flushed();
    let s = named(&spans, "chat gpt-4o-2024")[0];
    assert_eq!(s.str_attr("gen_ai.provider.name"), Some("azure.ai.openai"));
    assert_eq!(s.str_attr("gen_ai.operation.name"), Some("chat"));
    assert_eq!(s.str_attr("openinference.span.kind"), Some("LLM"));
    assert_eq!(s.i64_attr("gen_ai.usage.input_tokens"), Some(1000));
    assert_eq!(
        s.i64_attr("gen_ai.usage.cache_read.input_tokens"),
        Some(400)
    );
    assert_eq!(s.f64_attr("llm.cost.total"), Some(0.0123));
    // Cached tokens: Langfuse gets the exact breakdown so it does not count them twice.
    assert_eq!(
        s.json_attr("langfuse.observation.usage_details").unwrap(),
        serde_json::json!({"input": 600, "input_cached_tokens": 400, "output": 50, "total": 1050})
    );
    // A lone total is read from `llm.cost.total`; no details object.
    assert!(s.attr("langfuse.observation.cost_details").is_none());
    // Phoenix derives the `llm.*` duplicates itself (default profile).
    assert!(s.attr("llm.provider").is_none());
    assert!(s.attr("llm.token_count.prompt").is_none());
}
