//! The research agent example sent over OTLP/HTTP, as to Phoenix: a receiver on 127.0.0.1
//! decodes what arrives and checks the OpenInference span kinds Phoenix renders (AGENT,
//! RERANKER, EMBEDDING, GUARDRAIL, and the CHAIN of a step), the handoff's link to the
//! planner's trace and the retry's link to the failed attempt.

mod receiver;

use receiver::attrs::{attr, int_attr, str_attr};

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::Span;

#[test]
fn the_research_agent_shows_every_kind_over_otlp() {
    let receiver = receiver::HttpReceiver::start(Duration::from_secs(60));
    let workdir = std::env::temp_dir().join(format!("llmtrace-research-{}", std::process::id()));
    std::fs::create_dir_all(&workdir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_research_agent"))
        .env_clear()
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{}", receiver.addr()),
        )
        .current_dir(&workdir)
        .output()
        .expect("run the example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "example failed: {stderr}");
    assert!(!stderr.contains("warning"), "unexpected warnings: {stderr}");
    let _ = std::fs::remove_dir_all(&workdir);

    let mut spans = Vec::new();
    for r in receiver.requests() {
        assert_eq!(r.method, "POST");
        // The GenAI metrics go to the same collector.
        if r.path == "/v1/metrics" {
            continue;
        }
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        for rs in r.decode_traces().resource_spans {
            for ss in rs.scope_spans {
                spans.extend(ss.spans);
            }
        }
    }
    let mut by_name: HashMap<&str, Vec<&Span>> = HashMap::new();
    for s in &spans {
        by_name.entry(s.name.as_str()).or_default().push(s);
    }
    let kind_of = |name: &str| str_attr(by_name[name][0], "openinference.span.kind");
    for (name, kind) in [
        ("invoke_agent planner", "AGENT"),
        ("invoke_agent researcher", "AGENT"),
        ("invoke_agent writer", "AGENT"),
        ("rerank rerank-v3.5", "RERANKER"),
        ("embeddings text-embedding-3-small", "EMBEDDING"),
        ("guardrail cites_its_sources", "GUARDRAIL"),
        ("guardrail no_unsupported_claims", "GUARDRAIL"),
        ("build_context", "CHAIN"),
        ("retrieval papers", "RETRIEVER"),
        ("execute_tool fetch_page", "TOOL"),
        ("chat gpt-4o-mini", "LLM"),
        ("invoke_workflow research_report", "CHAIN"),
    ] {
        assert_eq!(kind_of(name), kind, "{name}");
    }
    // Every kind Phoenix has a view for is there.
    let kinds: Vec<&str> = spans
        .iter()
        .map(|s| str_attr(s, "openinference.span.kind"))
        .collect();
    for kind in [
        "AGENT",
        "RERANKER",
        "EMBEDDING",
        "GUARDRAIL",
        "CHAIN",
        "LLM",
        "TOOL",
        "RETRIEVER",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing");
    }

    // The planner hands off to the researcher as a child and to the writer by a link.
    let planner = by_name["invoke_agent planner"][0];
    let researcher = by_name["invoke_agent researcher"][0];
    let writer = by_name["invoke_agent writer"][0];
    assert_eq!(researcher.parent_span_id, planner.span_id);
    assert_ne!(writer.trace_id, planner.trace_id);
    assert_eq!(writer.links.len(), 1);
    assert_eq!(writer.links[0].span_id, planner.span_id);
    // The agents count their own calls only.
    assert_eq!(int_attr(planner, "llmtrace.agent.inference_calls"), 1);
    assert_eq!(int_attr(researcher, "llmtrace.agent.inference_calls"), 2);
    assert_eq!(int_attr(researcher, "llmtrace.agent.tool_calls"), 2);
    assert_eq!(int_attr(researcher, "llmtrace.agent.steps"), 1);

    // The retried tool call links to the failed attempt.
    let fetches = &by_name["execute_tool fetch_page"];
    assert_eq!(fetches.len(), 2);
    let retry = fetches.iter().find(|s| !s.links.is_empty()).unwrap();
    let failed = fetches.iter().find(|s| s.links.is_empty()).unwrap();
    assert_eq!(retry.links[0].span_id, failed.span_id);
    assert_eq!(int_attr(retry, "llmtrace.retry.attempt"), 2);

    // The reranker's documents before and after, the embeddings' count without the vectors.
    let rerank = by_name["rerank rerank-v3.5"][0];
    assert_eq!(int_attr(rerank, "llmtrace.rerank.input_documents.count"), 4);
    assert_eq!(
        int_attr(rerank, "llmtrace.rerank.output_documents.count"),
        2
    );
    assert_eq!(str_attr(rerank, "reranker.query"), "tides");
    let embeddings = by_name["embeddings text-embedding-3-small"][0];
    assert_eq!(
        int_attr(embeddings, "gen_ai.embeddings.dimension.count"),
        26
    );
    assert!(attr(&embeddings.attributes, "output.value").is_none());
    // A failed guardrail is a warning, not an error.
    let claims = by_name["guardrail no_unsupported_claims"][0];
    assert_eq!(str_attr(claims, "langfuse.observation.level"), "WARNING");
    assert_ne!(claims.status.as_ref().map_or(0, |s| s.code), 2);
}
