//! The example, run as a new user would with an OTLP collector: only
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL) and `OTEL_EXPORTER_OTLP_HEADERS` set. A real
//! OTLP/HTTP receiver on 127.0.0.1 decodes what arrives.

mod receiver;

use receiver::attrs::{attr, float_attr, int_attr, str_attr};

use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;

#[test]
fn example_exports_to_an_otlp_http_collector() {
    let receiver = receiver::HttpReceiver::start(Duration::from_secs(60));
    let workdir = std::env::temp_dir().join(format!("llmtrace-otlp-{}", std::process::id()));
    std::fs::create_dir_all(&workdir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rag_chatbot"))
        .env_clear()
        .env(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("http://{}", receiver.addr()),
        )
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret-123")
        .current_dir(&workdir)
        .output()
        .expect("run the example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "example failed: {stderr}");
    assert!(!stderr.contains("warning"), "unexpected warnings: {stderr}");
    assert!(
        !workdir.join("llmtrace-traces.jsonl").exists(),
        "with an endpoint set, only OTLP is used"
    );

    let requests = receiver.requests();
    assert!(!requests.is_empty(), "no export reached the receiver");
    let mut spans = Vec::new();
    let mut metric_names = Vec::new();
    for r in &requests {
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("x-api-key"), Some("secret-123"));
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        // The GenAI metrics go to the same collector, configured by the same variables.
        if r.path == "/v1/metrics" {
            use prost::Message;
            let request = opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest::decode(r.body.as_slice())
                .expect("a metrics request");
            metric_names.extend(
                request
                    .resource_metrics
                    .into_iter()
                    .flat_map(|rm| rm.scope_metrics)
                    .flat_map(|sm| sm.metrics)
                    .map(|m| m.name),
            );
            continue;
        }
        assert_eq!(r.path, "/v1/traces");
        let body = r.decode_traces();
        for rs in body.resource_spans {
            let resource = rs.resource.expect("resource");
            assert!(matches!(
                attr(&resource.attributes, "service.name"),
                Some(Value::StringValue(s)) if s == "support-bot"
            ));
            for ss in rs.scope_spans {
                assert_eq!(ss.scope.as_ref().map(|s| s.name.as_str()), Some("llmtrace"));
                spans.extend(ss.spans);
            }
        }
    }

    assert!(
        metric_names
            .iter()
            .any(|n| n == "gen_ai.client.token.usage"),
        "metrics received: {metric_names:?}"
    );

    let mut traces: HashMap<Vec<u8>, Vec<Span>> = HashMap::new();
    for s in spans {
        traces.entry(s.trace_id.clone()).or_default().push(s);
    }
    assert_eq!(traces.len(), 2, "one trace per question");
    let mut tool_errors = 0;
    for spans in traces.values() {
        let roots: Vec<&Span> = spans
            .iter()
            .filter(|s| s.parent_span_id.is_empty())
            .collect();
        assert_eq!(roots.len(), 1);
        let root = roots[0];
        assert_eq!(root.name, "invoke_workflow support_answer");
        assert_eq!(str_attr(root, "gen_ai.workflow.name"), "support_answer");
        // The root totals the trace's two model calls.
        let calls: Vec<&Span> = spans.iter().filter(|s| s.name == "chat gpt-4o").collect();
        let sum = |key: &str| calls.iter().map(|s| int_attr(s, key)).sum::<i64>();
        assert_eq!(
            int_attr(root, "llmtrace.trace.input_tokens"),
            sum("gen_ai.usage.input_tokens")
        );
        assert_eq!(
            int_attr(root, "llmtrace.trace.output_tokens"),
            sum("gen_ai.usage.output_tokens")
        );
        let cost: f64 = calls.iter().map(|s| float_attr(s, "llm.cost.total")).sum();
        assert!((float_attr(root, "llmtrace.trace.cost_usd") - cost).abs() < 1e-12);
        let mut names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "chat gpt-4o",
                "chat gpt-4o",
                "execute_tool lookup_order",
                "invoke_workflow support_answer",
                "retrieval help_center"
            ]
        );
        for s in spans {
            assert_eq!(str_attr(s, "session.id"), "demo-session");
            assert_eq!(str_attr(s, "user.id"), "user-7");
            if s.span_id != root.span_id {
                assert_eq!(
                    s.parent_span_id, root.span_id,
                    "{} is a child of the root",
                    s.name
                );
            }
            assert!(s.start_time_unix_nano >= root.start_time_unix_nano);
            match s.name.as_str() {
                "retrieval help_center" => {
                    assert_eq!(s.kind, 3, "CLIENT");
                    assert_eq!(str_attr(s, "gen_ai.operation.name"), "retrieval");
                    assert_eq!(str_attr(s, "gen_ai.data_source.id"), "help_center");
                    assert_eq!(int_attr(s, "gen_ai.retrieval.top_k"), 3);
                    assert!(int_attr(s, "llmtrace.retrieval.documents.count") >= 1);
                    assert!(str_attr(s, "gen_ai.retrieval.documents").starts_with('['));
                }
                "chat gpt-4o" => {
                    assert_eq!(s.kind, 3, "CLIENT");
                    assert_eq!(str_attr(s, "gen_ai.operation.name"), "chat");
                    assert_eq!(str_attr(s, "gen_ai.provider.name"), "openai");
                    assert_eq!(str_attr(s, "gen_ai.request.model"), "gpt-4o");
                    assert_eq!(int_attr(s, "gen_ai.request.max_tokens"), 512);
                    assert!(int_attr(s, "gen_ai.usage.input_tokens") > 0);
                    assert!(int_attr(s, "gen_ai.usage.output_tokens") > 0);
                    assert!(float_attr(s, "llm.cost.total") > 0.0);
                    assert_eq!(str_attr(s, "gen_ai.response.model"), "gpt-4o-2024-08-06");
                    let input: serde_json::Value =
                        serde_json::from_str(str_attr(s, "gen_ai.input.messages")).unwrap();
                    assert_eq!(input[0]["role"], "system");
                    assert_eq!(input[1]["parts"][0]["type"], "text");
                    let output: serde_json::Value =
                        serde_json::from_str(str_attr(s, "gen_ai.output.messages")).unwrap();
                    assert!(
                        ["stop", "tool_call"]
                            .contains(&output[0]["finish_reason"].as_str().unwrap())
                    );
                }
                "execute_tool lookup_order" => {
                    assert_eq!(s.kind, 1, "INTERNAL");
                    assert_eq!(str_attr(s, "gen_ai.tool.name"), "lookup_order");
                    let status = s.status.as_ref().expect("status");
                    if status.code == StatusCode::Error as i32 {
                        tool_errors += 1;
                        assert_eq!(str_attr(s, "error.type"), "OrderNotFound");
                        assert_eq!(status.message, "no order B-7");
                    } else {
                        assert!(str_attr(s, "gen_ai.tool.call.result").contains("shipped"));
                    }
                }
                _ => {
                    assert_eq!(s.kind, 1, "INTERNAL");
                    let status = s.status.as_ref().map_or(0, |st| st.code);
                    assert_eq!(
                        status,
                        StatusCode::Unset as i32,
                        "the handled tool error does not fail the workflow"
                    );
                }
            }
        }
    }
    assert_eq!(tool_errors, 1, "the second question's tool call fails");
}
