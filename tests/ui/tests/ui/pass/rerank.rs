//! Every `#[rerank]` argument, literal and expression: the documents given and kept, with their
//! scores before and after.
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;

#[derive(Clone, serde::Serialize)]
struct Chunk {
    id: String,
    score: f64,
    content: String,
}

fn chunk(id: &str, score: f64) -> Chunk {
    Chunk { id: id.into(), score, content: format!("text of {id}") }
}

#[llmtrace::rerank(
    model = "rerank-v3.5",
    provider = "cohere",
    top_k = 2,
    query = query,
    links = [previous],
    attributes(app.stage = "second")
)]
fn rerank(query: &str, documents: Vec<Chunk>, previous: Option<llmtrace::TraceContext>) -> Result<Vec<Chunk>, String> {
    let _ = previous;
    let mut kept: Vec<Chunk> = documents.into_iter().rev().collect();
    for (i, c) in kept.iter_mut().enumerate() {
        c.score = 0.9 - 0.1 * i as f64;
    }
    kept.truncate(2);
    Ok(kept)
}

struct Settings {
    model: String,
    provider: &'static str,
    k: usize,
}

#[llmtrace::rerank(
    model = cfg.model.as_str(),
    provider = cfg.provider,
    top_k = cfg.k,
    query = q.as_str(),
    documents(hits),
    skip(cfg),
    redact(tenant)
)]
async fn rerank_hosted(cfg: &Settings, q: String, hits: &[Chunk], tenant: &str) -> Vec<Chunk> {
    let _ = tenant;
    hits.iter().take(cfg.k).cloned().collect()
}

#[llmtrace::rerank(model = "bge-reranker-v2-m3", skip_all, output = false)]
fn local(candidates: Vec<String>) -> Vec<String> {
    candidates
}

fn main() {
    let cap = Capture::new();
    let cfg = Settings { model: "rerank-2".into(), provider: "aws.bedrock", k: 1 };
    let docs = vec![chunk("a", 0.5), chunk("b", 0.4), chunk("c", 0.3)];
    cap.in_scope(|| {
        rerank("tides", docs.clone(), None).unwrap();
        local(vec!["x".into(), "y".into()]);
    });
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(cap.instrument(rerank_hosted(&cfg, "moon".into(), &docs, "acme")));
    let spans = cap.spans();
    let r = spans.by_name("rerank rerank-v3.5");
    assert_eq!(r.str_attr("gen_ai.operation.name"), Some("rerank"));
    assert_eq!(r.str_attr("openinference.span.kind"), Some("RERANKER"));
    assert_eq!(r.str_attr("langfuse.observation.type"), Some("retriever"));
    assert_eq!(r.str_attr("gen_ai.request.model"), Some("rerank-v3.5"));
    assert_eq!(r.str_attr("reranker.model_name"), Some("rerank-v3.5"));
    assert_eq!(r.str_attr("gen_ai.provider.name"), Some("cohere"));
    assert_eq!(r.span_kind, llmtrace::otel::opentelemetry::trace::SpanKind::Client);
    assert_eq!(r.i64_attr("reranker.top_k"), Some(2));
    assert_eq!(r.i64_attr("llmtrace.rerank.top_k"), Some(2));
    assert_eq!(r.str_attr("reranker.query"), Some("tides"));
    assert_eq!(r.str_attr("app.stage"), Some("second"));
    assert_eq!(r.i64_attr("llmtrace.rerank.input_documents.count"), Some(3));
    assert_eq!(r.i64_attr("llmtrace.rerank.output_documents.count"), Some(2));
    assert_eq!(r.str_attr("reranker.input_documents.0.document.id"), Some("a"));
    assert_eq!(r.str_attr("reranker.output_documents.0.document.id"), Some("c"));
    assert_eq!(r.f64_attr("reranker.output_documents.1.document.score"), Some(0.8));
    let scores = |key| match r.attr(key) {
        Some(llmtrace::otel::opentelemetry::Value::Array(a)) => format!("{a:?}"),
        other => panic!("{key}: {other:?}"),
    };
    assert_eq!(scores("llmtrace.rerank.input_scores"), "F64([0.5, 0.4, 0.3])");
    assert_eq!(scores("llmtrace.rerank.output_scores"), "F64([0.9, 0.8])");
    // The documents are documents, not parameters.
    assert_eq!(r.str_attr("input.value"), Some("tides"));
    let h = spans.by_name("rerank rerank-2");
    assert_eq!(h.str_attr("gen_ai.provider.name"), Some("aws.bedrock"));
    assert_eq!(h.i64_attr("reranker.top_k"), Some(1));
    assert_eq!(h.str_attr("reranker.query"), Some("moon"));
    assert_eq!(h.i64_attr("llmtrace.rerank.input_documents.count"), Some(3));
    assert_eq!(h.i64_attr("llmtrace.rerank.output_documents.count"), Some(1));
    let l = spans.by_name("rerank bge-reranker-v2-m3");
    assert_eq!(l.span_kind, llmtrace::otel::opentelemetry::trace::SpanKind::Internal);
    assert_eq!(l.i64_attr("llmtrace.rerank.input_documents.count"), Some(2));
    assert!(l.attr("llmtrace.rerank.output_documents.count").is_none());
    assert!(l.attr("input.value").is_none());
}
