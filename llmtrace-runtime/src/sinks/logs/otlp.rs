//! Evaluation results over OTLP, as log records (`/v1/logs` over HTTP, the logs service over
//! gRPC), with opentelemetry-otlp's log exporter, called on the export worker's runtime as the
//! span exporters are.

use std::time::{Duration, UNIX_EPOCH};

use opentelemetry::InstrumentationScope;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{LogBatch, LogExporter as _, SdkLogRecord, SdkLoggerProvider};

use super::LogSink;
use crate::evaluation::attributes;
use crate::record::{EvaluationResult, Value};
use crate::semconv::keys::event;

/// How an OTLP exporter of metrics or logs reaches the collector: the protocol of the traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    #[cfg(feature = "otlp-http")]
    Http,
    #[cfg(feature = "otlp-grpc")]
    Grpc,
}

impl Transport {
    /// The endpoint of `signal` beside the traces endpoint given in code: over HTTP each signal
    /// has its own path; over gRPC the services share the collector's address.
    #[cfg_attr(not(feature = "otlp-http"), allow(unused_variables))]
    pub(crate) fn endpoint(self, traces: &str, signal: &str) -> String {
        match self {
            #[cfg(feature = "otlp-http")]
            Transport::Http => signal_endpoint(traces, signal),
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc => traces.to_owned(),
        }
    }
}

/// Sets the timeout, and the endpoint when one was given in code, on an exporter builder of
/// either transport.
pub(crate) fn configure<B: opentelemetry_otlp::WithExportConfig>(
    builder: B,
    endpoint: Option<String>,
    timeout: Duration,
) -> B {
    let builder = builder.with_timeout(timeout);
    match endpoint {
        Some(e) => builder.with_endpoint(e),
        None => builder,
    }
}

/// Writes evaluation results to an OTLP collector.
pub(crate) struct OtlpLogs {
    /// From code only: an endpoint from the environment is resolved by opentelemetry-otlp
    /// (which appends `/v1/logs` to a base URL over HTTP).
    endpoint: Option<String>,
    transport: Transport,
    timeout: Duration,
    exporter: Option<opentelemetry_otlp::LogExporter>,
    resource_set: bool,
    /// Makes the records (the SDK's records have no public constructor); it has no processor:
    /// nothing is emitted through it.
    provider: SdkLoggerProvider,
    scope: InstrumentationScope,
}

impl std::fmt::Debug for OtlpLogs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpLogs")
            .field("endpoint", &self.endpoint)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl OtlpLogs {
    /// `traces_endpoint` is the traces endpoint given in code: over HTTP (`…/v1/traces`) the
    /// logs endpoint is the same with `/v1/logs`; over gRPC it is the same address.
    pub(crate) fn new(
        traces_endpoint: Option<String>,
        transport: Transport,
        timeout: Duration,
    ) -> Self {
        OtlpLogs {
            endpoint: traces_endpoint.map(|e| transport.endpoint(&e, "logs")),
            transport,
            timeout,
            exporter: None,
            resource_set: false,
            provider: SdkLoggerProvider::builder().build(),
            scope: InstrumentationScope::builder("llmtrace")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        }
    }

    fn exporter(&mut self) -> Result<&mut opentelemetry_otlp::LogExporter, String> {
        if self.exporter.is_none() {
            let builder = opentelemetry_otlp::LogExporter::builder();
            let (endpoint, timeout) = (self.endpoint.clone(), self.timeout);
            let built = match self.transport {
                #[cfg(feature = "otlp-http")]
                Transport::Http => configure(builder.with_http(), endpoint, timeout).build(),
                #[cfg(feature = "otlp-grpc")]
                Transport::Grpc => configure(builder.with_tonic(), endpoint, timeout).build(),
            };
            self.exporter = Some(built.map_err(|e| e.to_string())?);
        }
        self.exporter
            .as_mut()
            .ok_or_else(|| "the OTLP log exporter could not be built".to_owned())
    }

    fn record(&self, result: &EvaluationResult) -> SdkLogRecord {
        let mut record = self.provider.logger("llmtrace").create_log_record();
        record.set_event_name(event::EVALUATION_RESULT);
        let time = UNIX_EPOCH + result.time.duration_since(UNIX_EPOCH).unwrap_or_default();
        record.set_timestamp(time);
        record.set_observed_timestamp(time);
        record.set_severity_number(Severity::Info);
        record.set_trace_context(
            TraceId::from(result.trace_id),
            SpanId::from(result.span_id),
            Some(if result.sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            }),
        );
        for (key, value) in attributes(result) {
            let value = match value {
                Value::F64(v) => AnyValue::Double(v),
                Value::I64(v) => AnyValue::Int(v),
                Value::Bool(v) => AnyValue::Boolean(v),
                other => AnyValue::String(other.as_str().unwrap_or_default().to_owned().into()),
            };
            record.add_attribute(key, value);
        }
        record
    }
}

/// `…/v1/traces` → `…/v1/{signal}`; any other URL gets `/v1/{signal}` appended.
#[cfg(feature = "otlp-http")]
fn signal_endpoint(traces: &str, signal: &str) -> String {
    match traces.strip_suffix("/v1/traces") {
        Some(base) => format!("{base}/v1/{signal}"),
        None => format!("{}/v1/{signal}", traces.trim_end_matches('/')),
    }
}

impl LogSink for OtlpLogs {
    fn export(
        &mut self,
        results: &[EvaluationResult],
        resource: &Resource,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<(), String> {
        let records: Vec<SdkLogRecord> = results.iter().map(|r| self.record(r)).collect();
        let scope = self.scope.clone();
        let timeout = self.timeout;
        let set_resource = !self.resource_set;
        let _entered = runtime.enter();
        let exporter = self.exporter()?;
        if set_resource {
            exporter.set_resource(resource);
        }
        let refs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
            records.iter().map(|r| (r, &scope)).collect();
        let exported = runtime.block_on(async {
            tokio::time::timeout(timeout, exporter.export(LogBatch::new(&refs))).await
        });
        self.resource_set = true;
        match exported {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("OTLP logs export failed: {e}")),
            Err(_) => Err(format!("OTLP logs export timed out after {timeout:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Transport;

    #[cfg(feature = "otlp-http")]
    #[test]
    fn the_logs_endpoint_is_beside_the_traces_endpoint() {
        assert_eq!(
            Transport::Http.endpoint("http://127.0.0.1:4318/v1/traces", "logs"),
            "http://127.0.0.1:4318/v1/logs"
        );
        assert_eq!(
            Transport::Http.endpoint("http://collector:4318/", "metrics"),
            "http://collector:4318/v1/metrics"
        );
    }

    #[cfg(feature = "otlp-grpc")]
    #[test]
    fn over_grpc_every_signal_goes_to_the_traces_address() {
        assert_eq!(
            Transport::Grpc.endpoint("http://127.0.0.1:4317", "logs"),
            "http://127.0.0.1:4317"
        );
    }
}
