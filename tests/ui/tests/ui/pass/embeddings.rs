//! Every `#[embeddings]` argument, literal and expression: the input text is captured, the
//! vectors never are (their count and dimension are).
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;

#[llmtrace::embeddings(
    provider = "openai",
    model = "text-embedding-3-small",
    encoding_formats = ["float"],
    server_address = "api.openai.com",
    server_port = 443,
    links = [previous],
    attributes(app.batch = "b1")
)]
fn embed(texts: &[&str], previous: Option<llmtrace::TraceContext>) -> Result<Vec<Vec<f32>>, String> {
    let _ = previous;
    llmtrace::current().record_usage(llmtrace::Usage::new(8, 0));
    Ok(texts.iter().map(|_| vec![0.125; 4]).collect())
}

struct Response {
    data: Vec<Vec<f64>>,
    prompt_tokens: u64,
}

impl llmtrace::LlmResponse for Response {
    fn usage(&self) -> Option<llmtrace::Usage> {
        Some(llmtrace::Usage::new(self.prompt_tokens, 0))
    }
    fn response_model(&self) -> Option<&str> {
        Some("embed-large-2026")
    }
}

impl llmtrace::EmbeddingVectors for Response {
    fn count(&self) -> usize {
        self.data.len()
    }
    fn dimension(&self) -> Option<usize> {
        self.data.first().map(Vec::len)
    }
}

struct Endpoint {
    provider: &'static str,
    model: String,
    formats: Vec<&'static str>,
    host: String,
    port: u16,
}

#[llmtrace::embeddings(
    provider = ep.provider,
    model = ep.model.as_str(),
    encoding_formats = ep.formats.clone(),
    server_address = ep.host.as_str(),
    server_port = ep.port,
    skip(ep),
    redact(tenant)
)]
async fn embed_hosted(ep: &Endpoint, text: &str, tenant: &str) -> Response {
    let _ = tenant;
    Response { data: vec![vec![0.25; 3]; text.len()], prompt_tokens: 5 }
}

/// A return type with no usage of its own: `usage = ..` reads it.
#[llmtrace::embeddings(provider = custom("local"), model = "minilm", usage = |r| llmtrace::Usage::new(r.0, 0), skip_all)]
fn embed_local(text: &str) -> (u64, Vec<Vec<f32>>) {
    (text.len() as u64, vec![vec![0.5; 2]])
}

fn main() {
    let cap = Capture::new();
    let ep = Endpoint {
        provider: "cohere",
        model: "embed-v4".into(),
        formats: vec!["base64"],
        host: "api.cohere.com".into(),
        port: 8443,
    };
    cap.in_scope(|| {
        embed(&["tides", "moon"], None).unwrap();
        embed_local("hello");
    });
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(cap.instrument(embed_hosted(&ep, "hey", "acme")));
    let spans = cap.spans();
    let e = spans.by_name("embeddings text-embedding-3-small");
    assert_eq!(e.str_attr("gen_ai.operation.name"), Some("embeddings"));
    assert_eq!(e.str_attr("openinference.span.kind"), Some("EMBEDDING"));
    assert_eq!(e.str_attr("gen_ai.provider.name"), Some("openai"));
    assert_eq!(e.str_attr("server.address"), Some("api.openai.com"));
    assert_eq!(e.i64_attr("server.port"), Some(443));
    assert_eq!(e.str_attr("app.batch"), Some("b1"));
    assert_eq!(e.i64_attr("gen_ai.usage.input_tokens"), Some(8));
    assert_eq!(e.i64_attr("llmtrace.embeddings.count"), Some(2));
    assert_eq!(e.i64_attr("gen_ai.embeddings.dimension.count"), Some(4));
    assert!(e.attr("gen_ai.request.encoding_formats").is_some());
    // The text is captured, the vectors are not.
    assert_eq!(e.str_attr("input.value"), Some(r#"{"texts":["tides","moon"],"previous":null}"#));
    assert!(e.attr("output.value").is_none());
    for span in spans.iter() {
        for kv in &span.attributes {
            assert!(!kv.value.as_str().contains("0.125"), "{} has a vector", kv.key);
        }
    }
    let h = spans.by_name("embeddings embed-v4");
    assert_eq!(h.str_attr("gen_ai.provider.name"), Some("cohere"));
    assert_eq!(h.str_attr("gen_ai.response.model"), Some("embed-large-2026"));
    assert_eq!(h.str_attr("server.address"), Some("api.cohere.com"));
    assert_eq!(h.i64_attr("server.port"), Some(8443));
    assert_eq!(h.i64_attr("llmtrace.embeddings.count"), Some(3));
    assert_eq!(h.i64_attr("gen_ai.embeddings.dimension.count"), Some(3));
    assert_eq!(h.str_attr("input.value"), Some(r#"{"text":"hey","tenant":"[REDACTED]"}"#));
    let l = spans.by_name("embeddings minilm");
    assert_eq!(l.i64_attr("gen_ai.usage.input_tokens"), Some(5));
    assert!(l.attr("input.value").is_none());
    assert!(l.attr("llmtrace.embeddings.count").is_none());
}
