//! The JSONL logs file: one OTLP/JSON `ExportLogsServiceRequest` per line, as the OpenTelemetry
//! Collector's `file` exporter writes logs, next to the traces' file and rotated the same way.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use opentelemetry::InstrumentationScope;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{self as proto, AnyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::Resource;

use super::LogSink;
use crate::evaluation::attributes;
use crate::record::EvaluationResult;
use crate::semconv::keys::event;
use crate::sinks::jsonl::JsonlExporter;

/// Where the logs of a traces file go: `llmtrace-traces.jsonl` → `llmtrace-logs.jsonl`,
/// `traces.jsonl` → `logs.jsonl`; a name without `traces` gets `.logs` before its extension
/// (`app.jsonl` → `app.logs.jsonl`).
pub(crate) fn logs_path_beside(traces: &Path) -> PathBuf {
    path_beside(traces, "logs")
}

/// The file for `signal` (`logs`, `metrics`) next to a traces file: `traces` in its name
/// replaced by `signal`, else `.{signal}` before its extension.
pub(crate) fn path_beside(traces: &Path, signal: &str) -> PathBuf {
    let name = traces
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(at) = name.rfind("traces") {
        let mut logs = name.clone();
        logs.replace_range(at..at + "traces".len(), signal);
        return traces.with_file_name(logs);
    }
    let stem = traces.file_stem().unwrap_or_default().to_string_lossy();
    let logs = match traces.extension() {
        Some(ext) => format!("{stem}.{signal}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{signal}"),
    };
    traces.with_file_name(logs)
}

/// Writes evaluation results to a JSONL file as OTLP/JSON log records.
#[derive(Debug)]
pub(crate) struct JsonlLogs {
    file: JsonlExporter,
    scope: InstrumentationScope,
}

impl JsonlLogs {
    pub(crate) fn new(path: PathBuf) -> Self {
        JsonlLogs {
            file: JsonlExporter::new(path),
            scope: InstrumentationScope::builder("llmtrace")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        }
    }
}

impl LogSink for JsonlLogs {
    fn export(
        &mut self,
        results: &[EvaluationResult],
        resource: &Resource,
        _: &tokio::runtime::Runtime,
    ) -> Result<(), String> {
        let request = request(results, resource, &self.scope);
        let mut line = serde_json::to_vec(&request)
            .map_err(|e| format!("cannot encode log records as OTLP/JSON: {e}"))?;
        line.push(b'\n');
        self.file.append_line(&line)
    }
}

/// The results as one request: one resource, one scope, a log record each.
pub(crate) fn request(
    results: &[EvaluationResult],
    resource: &Resource,
    scope: &InstrumentationScope,
) -> ExportLogsServiceRequest {
    let resource = ResourceAttributesWithSchema::from(resource);
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(ProtoResource {
                attributes: resource.attributes.0,
                dropped_attributes_count: 0,
                entity_refs: Vec::new(),
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(proto::InstrumentationScope {
                    name: scope.name().to_owned(),
                    version: scope.version().unwrap_or_default().to_owned(),
                    attributes: Vec::new(),
                    dropped_attributes_count: 0,
                }),
                log_records: results.iter().map(log_record).collect(),
                schema_url: String::new(),
            }],
            schema_url: resource.schema_url.unwrap_or_default(),
        }],
    }
}

/// One result as the conventions' `gen_ai.evaluation.result` event: a log record with the event
/// name, the judged span's ids, and the evaluation attributes.
fn log_record(result: &EvaluationResult) -> LogRecord {
    let time = result
        .time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time,
        severity_number: SeverityNumber::Info as i32,
        severity_text: String::new(),
        body: None,
        attributes: attributes(result)
            .into_iter()
            .map(|(key, value)| proto::KeyValue {
                key: key.into_owned(),
                value: Some(AnyValue::from(opentelemetry::Value::from(value))),
                key_strindex: 0,
            })
            .collect(),
        dropped_attributes_count: 0,
        flags: u32::from(result.sampled),
        trace_id: result.trace_id.to_be_bytes().to_vec(),
        span_id: if result.span_id == 0 {
            Vec::new()
        } else {
            result.span_id.to_be_bytes().to_vec()
        },
        event_name: event::EVALUATION_RESULT.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_file_sits_next_to_the_traces_file() {
        let cases = [
            ("llmtrace-traces.jsonl", "llmtrace-logs.jsonl"),
            ("out/traces.jsonl", "out/logs.jsonl"),
            ("out/app.jsonl", "out/app.logs.jsonl"),
            ("app", "app.logs"),
        ];
        for (traces, logs) in cases {
            assert_eq!(logs_path_beside(Path::new(traces)), Path::new(logs));
        }
        assert_eq!(
            path_beside(Path::new("llmtrace-traces.jsonl"), "metrics"),
            Path::new("llmtrace-metrics.jsonl")
        );
    }
}
