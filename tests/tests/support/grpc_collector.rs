//! An OTLP/gRPC collector on 127.0.0.1 for tests: a tonic server of the trace, metrics and logs
//! services that keeps every request (the traces with their `x-api-key` header). It stops when
//! [`GrpcCollector::stop`] is called, and after a minute whatever happens.

use std::sync::{Arc, Mutex, MutexGuard};
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
use tonic::{Request, Response, Status};

/// What the collector got, per signal.
#[derive(Default)]
pub(crate) struct Received {
    /// Each trace request, with its `x-api-key` header if it had one.
    pub(crate) traces: Vec<(Option<String>, ExportTraceServiceRequest)>,
    pub(crate) metrics: Vec<ExportMetricsServiceRequest>,
    pub(crate) logs: Vec<ExportLogsServiceRequest>,
}

#[derive(Clone, Default)]
struct Services(Arc<Mutex<Received>>);

#[tonic::async_trait]
impl TraceService for Services {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let key = request
            .metadata()
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self.0
            .lock()
            .unwrap()
            .traces
            .push((key, request.into_inner()));
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for Services {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.0.lock().unwrap().metrics.push(request.into_inner());
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: None,
        }))
    }
}

#[tonic::async_trait]
impl LogsService for Services {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        self.0.lock().unwrap().logs.push(request.into_inner());
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: None,
        }))
    }
}

/// A running collector. See the module docs.
pub(crate) struct GrpcCollector {
    /// `http://127.0.0.1:<port>`.
    pub(crate) endpoint: String,
    services: Services,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
    rt: tokio::runtime::Runtime,
}

impl GrpcCollector {
    pub(crate) fn start() -> Self {
        let services = Services::default();
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
                .add_service(TraceServiceServer::new(services.clone()))
                .add_service(MetricsServiceServer::new(services.clone()))
                .add_service(LogsServiceServer::new(services.clone()))
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(listener),
                    async {
                        let _ = tokio::time::timeout(Duration::from_secs(60), stopped).await;
                    },
                ),
        );
        GrpcCollector {
            endpoint: format!("http://{addr}"),
            services,
            stop,
            server,
            rt,
        }
    }

    /// What was received so far.
    #[allow(dead_code)] // Not every test polls the collector while it runs.
    pub(crate) fn received(&self) -> MutexGuard<'_, Received> {
        self.services.0.lock().unwrap()
    }

    /// Stops the server and waits for it; what was received stays readable.
    pub(crate) fn stop(self) -> Received {
        let _ = self.stop.send(());
        let _ = self.rt.block_on(self.server);
        std::mem::take(&mut *self.services.0.lock().unwrap())
    }
}
