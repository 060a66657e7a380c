//! Which exporters run: chosen in code, else by `OTEL_TRACES_EXPORTER`, else OTLP when an OTLP
//! endpoint is set, else the console tree plus a JSONL file in the current directory.

use std::path::PathBuf;
use std::time::Duration;

use super::env::{EnvConfig, ExporterName, OtlpProtocol};
use crate::sinks::exporter::{DynSpanExporter, ExporterFactory};
use crate::sinks::logs::LogSinks;
use crate::state::settings::DEFAULT_JSONL_PATH;

/// An exporter asked for in code or in the environment.
pub(crate) enum ExporterSpec {
    Console,
    #[cfg_attr(not(feature = "jsonl"), allow(dead_code))]
    Jsonl(PathBuf),
    #[cfg_attr(
        not(any(feature = "otlp-http", feature = "otlp-grpc")),
        allow(dead_code)
    )]
    Otlp {
        /// From code only: endpoints from the environment are resolved by opentelemetry-otlp
        /// (which appends `/v1/traces` to a base URL; passing it through would lose that).
        endpoint: Option<String>,
        protocol: OtlpProtocol,
    },
    Custom(ExporterFactory),
}

/// The exporters to start, and a message for the user when the defaults were chosen.
pub(crate) fn select(
    code: Vec<ExporterSpec>,
    code_says_none: bool,
    env: &EnvConfig,
) -> (Vec<ExporterSpec>, Option<String>) {
    if !code.is_empty() || code_says_none {
        return (code, None);
    }
    let protocol = env.protocol.unwrap_or_default();
    let otlp = || ExporterSpec::Otlp {
        endpoint: None,
        protocol,
    };
    if let Some(names) = &env.exporters {
        let specs = names
            .iter()
            .map(|n| match n {
                ExporterName::Otlp => otlp(),
                ExporterName::Console => ExporterSpec::Console,
                ExporterName::Jsonl => ExporterSpec::Jsonl(PathBuf::from(DEFAULT_JSONL_PATH)),
            })
            .collect();
        return (specs, None);
    }
    if env.otlp_endpoint_set {
        return (vec![otlp()], None);
    }
    let mut specs = vec![ExporterSpec::Console];
    let note = if cfg!(feature = "jsonl") {
        specs.push(ExporterSpec::Jsonl(PathBuf::from(DEFAULT_JSONL_PATH)));
        format!(
            "traces go to stderr (tree) and ./{DEFAULT_JSONL_PATH} (OTLP/JSON lines); \
             set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector"
        )
    } else {
        "traces go to stderr (tree); set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector"
            .to_owned()
    };
    (specs, Some(note))
}

/// Factories that build the exporters on the export thread. An exporter that cannot be built in
/// this configuration (a feature left out, an endpoint the OTLP builder rejects) fails there and
/// is reported (see `Builder::try_install`).
///
/// `otlp_budget` is the time one OTLP export may take, retries included: the worker's export
/// timeout, or the `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT` value when
/// that is shorter.
///
/// Evaluations of ended spans go, as log records, to the console exporter's output and to a
/// JSONL logs file next to each JSONL traces file (`llmtrace-logs.jsonl` beside
/// `llmtrace-traces.jsonl`): the log sinks returned.
pub(crate) fn factories(
    specs: Vec<ExporterSpec>,
    otlp_budget: Duration,
) -> (Vec<ExporterFactory>, LogSinks) {
    let mut logs = LogSinks::default();
    let factories = specs
        .into_iter()
        .map(|spec| factory(spec, otlp_budget, &mut logs))
        .collect();
    (factories, logs)
}

fn boxed<E: opentelemetry_sdk::trace::SpanExporter + 'static>(e: E) -> Box<dyn DynSpanExporter> {
    Box::new(e)
}

#[cfg_attr(
    not(any(feature = "otlp-http", feature = "otlp-grpc")),
    allow(unused_variables)
)]
fn factory(spec: ExporterSpec, otlp_budget: Duration, logs: &mut LogSinks) -> ExporterFactory {
    match spec {
        ExporterSpec::Custom(f) => f,
        ExporterSpec::Console => {
            // Built here rather than on the export thread (it needs no runtime), so that its
            // output is shared with the evaluations it shows.
            let console = crate::sinks::console::ConsoleExporter::new();
            logs.push(console.evaluations());
            ExporterFactory::new("the console exporter", move || Ok(boxed(console)))
        }
        ExporterSpec::Jsonl(path) => {
            #[cfg(feature = "jsonl")]
            logs.push(crate::sinks::logs::jsonl::JsonlLogs::new(
                crate::sinks::logs::jsonl::logs_path_beside(&path),
            ));
            jsonl_factory(path)
        }
        ExporterSpec::Otlp { endpoint, protocol } => {
            // Evaluations of ended spans go to the same collector, as log records.
            #[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
            if let Some(transport) = transport(protocol) {
                logs.push(crate::sinks::logs::otlp::OtlpLogs::new(
                    endpoint.clone(),
                    transport,
                    otlp_budget,
                ));
            }
            otlp(endpoint, protocol, otlp_budget)
        }
    }
}

/// The transport of the OTLP metrics and logs exporters that follow traces sent with
/// `protocol`; `None` when this build cannot send them (the feature of the protocol left out:
/// the traces exporter reports that).
#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
pub(crate) fn transport(protocol: OtlpProtocol) -> Option<crate::sinks::logs::otlp::Transport> {
    use crate::sinks::logs::otlp::Transport;
    match protocol {
        #[cfg(feature = "otlp-http")]
        OtlpProtocol::HttpProtobuf => Some(Transport::Http),
        #[cfg(feature = "otlp-grpc")]
        OtlpProtocol::Grpc => Some(Transport::Grpc),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

fn jsonl_factory(path: PathBuf) -> ExporterFactory {
    ExporterFactory::direct("the JSONL exporter", move || {
        #[cfg(feature = "jsonl")]
        return Ok(Box::new(crate::sinks::jsonl::JsonlExporter::new(path)));
        #[cfg(not(feature = "jsonl"))]
        {
            let _ = path;
            Err("it needs the `jsonl` feature of llmtrace-runtime".into())
        }
    })
}

/// Whether opentelemetry-otlp compresses its HTTP bodies: it reads
/// `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION` or `OTEL_EXPORTER_OTLP_COMPRESSION` itself (and
/// fails to build without its `gzip-http` or `zstd-http` feature, which an application's own
/// dependency on it can turn on).
#[cfg(feature = "otlp-http")]
fn compressed_by_otlp() -> bool {
    [
        "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
        "OTEL_EXPORTER_OTLP_COMPRESSION",
    ]
    .iter()
    .any(|key| std::env::var(key).is_ok_and(|v| !v.trim().is_empty()))
}

#[cfg_attr(
    not(any(feature = "otlp-http", feature = "otlp-grpc")),
    allow(unused_variables)
)]
fn otlp(endpoint: Option<String>, protocol: OtlpProtocol, budget: Duration) -> ExporterFactory {
    match protocol {
        #[cfg(feature = "otlp-http")]
        OtlpProtocol::HttpProtobuf => {
            // The client reads the collector's answers: what it rejects is noted there.
            let rejections = std::sync::Arc::new(crate::sinks::exporter::Rejections::default());
            let noted = rejections.clone();
            ExporterFactory::direct("the OTLP/HTTP exporter", move || {
                use crate::sinks::otlp_http::{Body, OtlpHttpExporter, RejectionsClient};
                use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
                // As opentelemetry-otlp builds its own client: the request timeout is the
                // exporter's.
                let client = reqwest::Client::builder()
                    .timeout(budget)
                    .build()
                    .map_err(|e| format!("cannot build the OTLP/HTTP client: {e}"))?;
                let body = std::sync::Arc::new(Body::default());
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_http_client(RejectionsClient::new(client, noted, body.clone()))
                    .with_timeout(budget)
                    .with_retry_policy(otlp_retry::policy(budget));
                if let Some(e) = endpoint {
                    builder = builder.with_endpoint(e);
                }
                if compressed_by_otlp() {
                    // The body must be the one opentelemetry-otlp compresses: the spans go to
                    // it as `SpanData` (the client passes a request with no body of ours
                    // through as it is).
                    let exporter =
                        crate::sinks::exporter::SpanDataExporter::new(Box::new(builder.build()?));
                    return Ok(Box::new(exporter));
                }
                Ok(Box::new(OtlpHttpExporter::new(builder.build()?, body)))
            })
            .with_rejections(rejections)
        }
        #[cfg(not(feature = "otlp-http"))]
        OtlpProtocol::HttpProtobuf => ExporterFactory::new("the OTLP/HTTP exporter", move || {
            let _ = endpoint;
            Err("OTLP over http/protobuf needs the `otlp-http` feature of llmtrace-runtime".into())
        }),
        // No rejections over gRPC: opentelemetry-otlp (0.33) reads the collector's
        // `ExportTraceServiceResponse` inside its exporter and only logs `partial_success`
        // (`otel_warn!`, compiled in with its `internal-logs` feature only); the transport is a
        // concrete `tonic::transport::Channel`, which takes no layer that could read the answer,
        // and an interceptor sees requests only. Spans a gRPC collector rejects count as
        // exported (see the README).
        OtlpProtocol::Grpc => ExporterFactory::new("the OTLP/gRPC exporter", move || {
            #[cfg(feature = "otlp-grpc")]
            {
                use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
                let mut builder = opentelemetry_otlp::SpanExporter::builder()
                    .with_tonic()
                    .with_timeout(budget)
                    .with_retry_policy(otlp_retry::policy(budget));
                if let Some(e) = endpoint {
                    builder = builder.with_endpoint(e);
                }
                Ok(boxed(builder.build()?))
            }
            #[cfg(not(feature = "otlp-grpc"))]
            {
                let _ = endpoint;
                Err("OTLP over gRPC needs the `otlp-grpc` feature of llmtrace-runtime".into())
            }
        }),
    }
}

/// How the OTLP exporters retry, fitted inside the worker's export timeout.
///
/// opentelemetry-otlp retries a failed export by itself, with exponential backoff and jitter:
/// over HTTP, network errors (refused or reset connection, request timeout, a connection closed
/// mid-request) and the statuses 429, 502, 503 and 504, honouring `Retry-After` on 429 and 503;
/// over gRPC, `UNAVAILABLE`, `CANCELLED`, `DEADLINE_EXCEEDED`, `ABORTED`, `OUT_OF_RANGE` and
/// `DATA_LOSS`, and `RESOURCE_EXHAUSTED` only with a `RetryInfo` delay. Other failures are final.
/// All of it runs within the exporter's timeout, which is also the timeout of each request: no
/// sleep is started that would end past it (a server delay longer than what is left fails the
/// export at once), and a server delay is capped at 30 s anyway.
///
/// That timeout is therefore set to the budget given (the worker's export timeout, or the
/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` / `OTEL_EXPORTER_OTLP_TIMEOUT` value when that is
/// shorter): one export call, retries included, ends by itself within the time the worker gives
/// it, and reports the collector's last error (`503`, a network error) rather than a timeout
/// cutting a retry short. The worker's own timeout around the call stays as the last bound (a
/// request that stalls until then is reported as timed out): dropping the call cancels the sleep
/// between retries (a tokio sleep on the worker's runtime) and the request in flight.
///
/// The policy itself keeps retries short next to that budget `B` (10 s by default): 3 retries,
/// backoff from `min(100 ms, B/40)` doubling up to `min(1.6 s, B/8)`, jitter up to
/// `min(100 ms, B/40)`. Backing off after network errors and 5xx costs at most about a tenth of
/// `B` (100 + 200 + 400 ms plus jitter); a `Retry-After` up to `B/8` is honoured for every retry
/// (at most `3B/8` in all); a longer one is honoured while it fits in what is left of `B`. While
/// the worker retries it does not read the per-thread buffers: spans that overflow them are
/// dropped and counted, the application is never slowed.
#[cfg(any(feature = "otlp-http", feature = "otlp-grpc"))]
mod otlp_retry {
    use std::time::Duration;

    use opentelemetry_otlp::RetryPolicy;

    /// Retries that stay well inside `budget` (see the module docs).
    pub(super) fn policy(budget: Duration) -> RetryPolicy {
        let step = (budget / 40).min(Duration::from_millis(100));
        RetryPolicy::default()
            .with_max_retries(3)
            .with_initial_delay(step)
            .with_max_delay((budget / 8).min(Duration::from_millis(1600)))
            .with_max_jitter(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(specs: &[ExporterSpec]) -> Vec<&'static str> {
        specs
            .iter()
            .map(|s| match s {
                ExporterSpec::Console => "console",
                ExporterSpec::Jsonl(_) => "jsonl",
                ExporterSpec::Otlp { .. } => "otlp",
                ExporterSpec::Custom(_) => "custom",
            })
            .collect()
    }

    #[test]
    fn defaults_env_and_code() {
        let env = EnvConfig::default();
        let (specs, note) = select(Vec::new(), false, &env);
        assert_eq!(names(&specs), ["console", "jsonl"]);
        assert!(note.unwrap().contains(DEFAULT_JSONL_PATH));

        let env = EnvConfig {
            otlp_endpoint_set: true,
            ..EnvConfig::default()
        };
        assert_eq!(names(&select(Vec::new(), false, &env).0), ["otlp"]);

        let env = EnvConfig {
            otlp_endpoint_set: true,
            exporters: Some(vec![ExporterName::Otlp, ExporterName::Console]),
            ..EnvConfig::default()
        };
        assert_eq!(
            names(&select(Vec::new(), false, &env).0),
            ["otlp", "console"]
        );

        let env = EnvConfig {
            exporters: Some(vec![]),
            ..EnvConfig::default()
        };
        assert!(select(Vec::new(), false, &env).0.is_empty());

        // Code wins over the environment.
        let env = EnvConfig {
            otlp_endpoint_set: true,
            ..EnvConfig::default()
        };
        assert_eq!(
            names(&select(vec![ExporterSpec::Console], false, &env).0),
            ["console"]
        );
        assert!(select(Vec::new(), true, &env).0.is_empty());
    }
}
