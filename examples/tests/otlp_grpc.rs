//! The example exporting over OTLP/gRPC to a real gRPC receiver on 127.0.0.1 (with the
//! `otlp-grpc` feature).
#![cfg(feature = "otlp-grpc")]

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use tonic::{Request, Response, Status};

type Received = Arc<Mutex<Vec<(Option<String>, ExportTraceServiceRequest)>>>;

#[derive(Clone)]
struct Collector(Received, Arc<Mutex<Vec<ExportMetricsServiceRequest>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let key = request
            .metadata()
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.0.lock().unwrap().push((key, request.into_inner()));
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

/// The metrics follow the traces to the collector.
#[tonic::async_trait]
impl MetricsService for Collector {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.1.lock().unwrap().push(request.into_inner());
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

/// Evaluations would go there too, as log records (the example records none).
#[tonic::async_trait]
impl LogsService for Collector {
    async fn export(
        &self,
        _request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

#[test]
fn example_exports_to_an_otlp_grpc_collector() {
    let received: Received = Arc::default();
    let metrics: Arc<Mutex<Vec<ExportMetricsServiceRequest>>> = Arc::default();
    let collector = Collector(received.clone(), metrics.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = rt.spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .add_service(MetricsServiceServer::new(collector.clone()))
            .add_service(LogsServiceServer::new(collector))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                async {
                    // Stops when told, or after a minute whatever happens.
                    let _ = tokio::time::timeout(Duration::from_secs(60), stopped).await;
                },
            ),
    );

    let output = Command::new(env!("CARGO_BIN_EXE_rag_chatbot"))
        .env_clear()
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{addr}"))
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=secret-123")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run the example");
    let _ = stop.send(());
    let _ = rt.block_on(server);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "example failed: {stderr}");
    assert!(!stderr.contains("warning"), "unexpected warnings: {stderr}");

    let metric_names: Vec<String> = metrics
        .lock()
        .unwrap()
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

    let received = received.lock().unwrap();
    assert!(!received.is_empty(), "nothing reached the gRPC receiver");
    let mut spans = Vec::new();
    for (key, request) in received.iter() {
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
