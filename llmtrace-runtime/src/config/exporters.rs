//! Which exporters run: chosen in code, else by `OTEL_TRACES_EXPORTER`, else OTLP when an OTLP
//! endpoint is set, else the console tree plus a JSONL file in the current directory.

use std::path::PathBuf;

use super::env::{EnvConfig, ExporterName, OtlpProtocol};
use crate::export::exporter::{DynSpanExporter, ExporterFactory};

/// The JSONL file written when nothing is configured.
pub const DEFAULT_JSONL_PATH: &str = "llmtrace-traces.jsonl";

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

/// Factories that build the exporters on the export thread. Exporters that cannot be built in
/// this configuration are reported and left out.
pub(crate) fn factories(specs: Vec<ExporterSpec>) -> Vec<ExporterFactory> {
    specs.into_iter().filter_map(factory).collect()
}

fn boxed<E: opentelemetry_sdk::trace::SpanExporter + 'static>(e: E) -> Box<dyn DynSpanExporter> {
    Box::new(e)
}

fn factory(spec: ExporterSpec) -> Option<ExporterFactory> {
    match spec {
        ExporterSpec::Custom(f) => Some(f),
        ExporterSpec::Console => Some(Box::new(|| {
            Ok(boxed(crate::export::ConsoleExporter::new()))
        })),
        #[cfg(feature = "jsonl")]
        ExporterSpec::Jsonl(path) => Some(Box::new(move || {
            Ok(boxed(crate::export::JsonlExporter::new(path)))
        })),
        #[cfg(not(feature = "jsonl"))]
        ExporterSpec::Jsonl(_) => {
            crate::diagnostics::warn(format_args!(
                "the JSONL exporter needs the `jsonl` feature of llmtrace-runtime; not started"
            ));
            None
        }
        ExporterSpec::Otlp { endpoint, protocol } => otlp(endpoint, protocol),
    }
}

fn otlp(endpoint: Option<String>, protocol: OtlpProtocol) -> Option<ExporterFactory> {
    match protocol {
        OtlpProtocol::HttpProtobuf => {
            #[cfg(feature = "otlp-http")]
            return Some(Box::new(move || {
                let mut builder = opentelemetry_otlp::SpanExporter::builder().with_http();
                if let Some(e) = endpoint {
                    use opentelemetry_otlp::WithExportConfig;
                    builder = builder.with_endpoint(e);
                }
                builder
                    .build()
                    .map(boxed)
                    .map_err(|e| format!("OTLP/HTTP exporter: {e}"))
            }));
            #[cfg(not(feature = "otlp-http"))]
            {
                let _ = endpoint;
                crate::diagnostics::warn(format_args!(
                    "OTLP over http/protobuf needs the `otlp-http` feature of llmtrace-runtime; not started"
                ));
                None
            }
        }
        OtlpProtocol::Grpc => {
            #[cfg(feature = "otlp-grpc")]
            return Some(Box::new(move || {
                let mut builder = opentelemetry_otlp::SpanExporter::builder().with_tonic();
                if let Some(e) = endpoint {
                    use opentelemetry_otlp::WithExportConfig;
                    builder = builder.with_endpoint(e);
                }
                builder
                    .build()
                    .map(boxed)
                    .map_err(|e| format!("OTLP/gRPC exporter: {e}"))
            }));
            #[cfg(not(feature = "otlp-grpc"))]
            {
                let _ = endpoint;
                crate::diagnostics::warn(format_args!(
                    "OTLP over gRPC needs the `otlp-grpc` feature of llmtrace-runtime; not started"
                ));
                None
            }
        }
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
