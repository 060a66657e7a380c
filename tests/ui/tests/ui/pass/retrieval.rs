//! Every `#[retrieval]` argument, literal and expression, and documents read by field name or
//! through `llmtrace::Document`.
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;

#[derive(serde::Serialize)]
struct Doc {
    id: u32,
    score: f64,
    content: String,
}

#[llmtrace::retrieval(
    data_source = "help_center",
    top_k = 2,
    query = query,
    provider = "cohere",
    model = "rerank-v3",
    server_address = "search.internal",
    server_port = 9200,
    attributes(app.index = "v2")
)]
fn search(query: &str) -> Result<Vec<Doc>, String> {
    Ok(vec![Doc { id: 1, score: 0.8, content: format!("about {query}") }])
}

struct Hit {
    key: u64,
    distance: f32,
}

impl llmtrace::Document for Hit {
    fn id(&self) -> Option<String> {
        Some(format!("hit-{}", self.key))
    }
    fn score(&self) -> Option<f64> {
        Some(1.0 - f64::from(self.distance))
    }
    fn content(&self) -> Option<String> {
        Some("from the vector store".into())
    }
}

struct Index {
    name: String,
    k: usize,
}

#[llmtrace::retrieval(data_source = index.name.as_str(), top_k = index.k, query = text, skip(index), redact(tenant))]
fn nearest(index: &Index, text: &str, tenant: &str) -> Vec<Hit> {
    let _ = tenant;
    let _ = text;
    (0..index.k as u64).map(|key| Hit { key, distance: 0.25 }).collect()
}

struct Hosted {
    provider: &'static str,
    model: String,
    host: String,
    port: u16,
}

#[llmtrace::retrieval(
    data_source = "hosted",
    provider = svc.provider,
    model = &svc.model,
    server_address = svc.host.as_str(),
    server_port = svc.port,
    skip_all,
    output = false
)]
fn hosted(svc: &Hosted, query: &str) -> Vec<String> {
    vec![query.to_owned()]
}

fn main() {
    let cap = Capture::new();
    let index = Index { name: "vectors".into(), k: 2 };
    let svc = Hosted {
        provider: "aws.bedrock",
        model: "titan-embed".into(),
        host: "kb.example".into(),
        port: 8443,
    };
    cap.in_scope(|| {
        search("refunds").unwrap();
        nearest(&index, "refunds", "acme-corp");
        hosted(&svc, "secret query");
    });
    let spans = cap.spans();
    let s = spans.by_name("retrieval help_center");
    assert_eq!(s.str_attr("gen_ai.data_source.id"), Some("help_center"));
    assert_eq!(s.i64_attr("gen_ai.retrieval.top_k"), Some(2));
    assert_eq!(s.str_attr("gen_ai.retrieval.query.text"), Some("refunds"));
    assert_eq!(s.str_attr("gen_ai.provider.name"), Some("cohere"));
    assert_eq!(s.str_attr("gen_ai.request.model"), Some("rerank-v3"));
    assert_eq!(s.str_attr("server.address"), Some("search.internal"));
    assert_eq!(s.i64_attr("server.port"), Some(9200));
    assert_eq!(s.str_attr("app.index"), Some("v2"));
    assert_eq!(s.str_attr("retrieval.documents.0.document.id"), Some("1"));
    assert_eq!(s.str_attr("retrieval.documents.0.document.content"), Some("about refunds"));
    let n = spans.by_name("retrieval vectors");
    assert_eq!(n.i64_attr("gen_ai.retrieval.top_k"), Some(2));
    assert_eq!(n.i64_attr("llmtrace.retrieval.documents.count"), Some(2));
    let docs = n.json_attr("gen_ai.retrieval.documents").unwrap();
    assert_eq!(docs[1]["id"], "hit-1");
    assert_eq!(docs[1]["score"], 0.75);
    assert_eq!(docs[0]["content"], "from the vector store");
    let h = spans.by_name("retrieval hosted");
    assert_eq!(h.str_attr("gen_ai.provider.name"), Some("aws.bedrock"));
    assert_eq!(h.str_attr("gen_ai.request.model"), Some("titan-embed"));
    assert_eq!(h.str_attr("server.address"), Some("kb.example"));
    assert_eq!(h.i64_attr("server.port"), Some(8443));
    // `skip_all` and `output = false`: neither the query nor the documents are recorded.
    assert!(h.attr("input.value").is_none());
    assert!(h.attr("gen_ai.retrieval.documents").is_none());
    assert!(h.attr("retrieval.documents.0.document.content").is_none());
}
