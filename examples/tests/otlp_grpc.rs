//! The example exporting over OTLP/gRPC to a real gRPC receiver on 127.0.0.1 (with the
//! `otlp-grpc` feature).
#![cfg(feature = "otlp-grpc")]

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use std::process::Command;

#[path = "../../tests/tests/support/grpc_collector.rs"]
mod grpc_collector;

use grpc_collector::GrpcCollector;

#[test]
fn example_exports_to_an_otlp_grpc_collector() {
    let collector = GrpcCollector::start();

    let output = Command::new(env!("CARGO_BIN_EXE_rag_chatbot"))
        .env_clear()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret-123")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run the example");
    let received = collector.stop();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "example failed: {stderr}");
    assert!(!stderr.contains("warning"), "unexpected warnings: {stderr}");

    let metric_names: Vec<String> = received
        .metrics
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .map(|m| m.name.clone())
        .collect();
    assert!(
        metric_names
            .iter()
            .any(|n| n == "gen_ai.client.token.usage"),
        "no token usage metric over gRPC: {metric_names:?}"
    );

    assert!(
        !received.traces.is_empty(),
        "nothing reached the gRPC receiver"
    );
    let mut spans = Vec::new();
    for (key, request) in &received.traces {
        assert_eq!(key.as_deref(), Some("secret-123"));
        for rs in &request.resource_spans {
            let resource = rs.resource.as_ref().unwrap();
            let name = resource
                .attributes
                .iter()
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref()?.value.as_ref());
            assert!(matches!(name, Some(Value::StringValue(s)) if s == "support-bot"));
            for ss in &rs.scope_spans {
                spans.extend(ss.spans.iter().cloned());
            }
        }
    }
    assert_eq!(spans.len(), 10, "two traces of five spans");
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id.is_empty())
        .collect();
    assert_eq!(roots.len(), 2);
    for s in &spans {
        let root = roots
            .iter()
            .find(|r| r.trace_id == s.trace_id)
            .expect("its root");
        if s.span_id != root.span_id {
            assert_eq!(s.parent_span_id, root.span_id, "{}", s.name);
        }
    }
}
