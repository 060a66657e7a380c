//! The standard environment variables, read through an injectable source (tests run as threads
//! of one process and must not share real environment variables).
//!
//! | variable | effect |
//! |---|---|
//! | `OTEL_SERVICE_NAME` | `service.name` |
//! | `OTEL_RESOURCE_ATTRIBUTES` | resource attributes, `key=value,...` (values percent-decoded) |
//! | `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG` | head sampler |
//! | `OTEL_TRACES_EXPORTER` | `otlp`, `console`, `jsonl`, `none`, or a list like `otlp,console` |
//! | `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | when set (and no exporter is chosen), export over OTLP |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` | `http/protobuf` (default) or `grpc` |
//! | `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` | `NO_CONTENT`, `SPAN_ONLY`, `EVENT_ONLY`, `SPAN_AND_EVENT` |
//! | `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`, `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT` | the content limit, in bytes |
//! | `LLMTRACE_SEMCONV` | `legacy`: also emit deprecated GenAI names |
//! | `OTEL_SEMCONV_STABILITY_OPT_IN` | contains `gen_ai_latest_experimental`: also the newest names |
//! | `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` | spans per export call |
//! | `OTEL_BSP_SCHEDULE_DELAY`, `OTEL_BSP_EXPORT_TIMEOUT` | the worker's interval and export timeout, in milliseconds |
//! | `LLMTRACE_PRICES_FILE` | a JSON file of model prices (see `Builder::prices_file`) |
//! | `LLMTRACE_TAIL_SAMPLING_RATE` | turns tail sampling on, keeping this fraction of ordinary traces |
//! | `LLMTRACE_TAIL_SAMPLING_LATENCY_MS`, `..._TOKENS`, `..._COST_USD` | keep traces over these |
//! | `LLMTRACE_TAIL_SAMPLING_KEEP_WHEN` | keep traces with one of these attributes: `key=value,...` |
//! | `LLMTRACE_TAIL_SAMPLING_KEEP_ERRORS` | `false`: do not keep failed traces regardless |
//! | `LLMTRACE_TAIL_SAMPLING_MAX_TRACES`, `..._MAX_SPANS_PER_TRACE`, `..._MAX_AGE_MS` | memory limits |
//!
//! The other `OTEL_EXPORTER_OTLP_*` variables (headers, timeout, compression, certificates) are
//! read by opentelemetry-otlp itself.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use std::time::Duration;

use crate::stages::tail::TailSampler;
use crate::state::Sampler;
use crate::state::settings::*;

/// Where configuration reads environment variables from.
///
/// [`ProcessEnv`] reads the process environment; a `HashMap<String, String>` is a fixed one
/// (useful in tests).
pub trait EnvSource: Send + Sync {
    /// The value of `key`, if set.
    fn var(&self, key: &str) -> Option<String>;
}

/// The process environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok()
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).cloned()
    }
}

impl EnvSource for HashMap<&'static str, &'static str> {
    fn var(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| (*v).to_owned())
    }
}

/// An exporter named in `OTEL_TRACES_EXPORTER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExporterName {
    Otlp,
    Console,
    Jsonl,
}

/// The OTLP transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OtlpProtocol {
    /// HTTP with protobuf bodies (port 4318).
    #[default]
    HttpProtobuf,
    /// gRPC (port 4317); needs the `otlp-grpc` feature.
    Grpc,
}

/// What the environment asks for. `None` where it says nothing (or says it wrongly).
#[derive(Debug, Default)]
pub(crate) struct EnvConfig {
    pub(crate) service_name: Option<String>,
    pub(crate) resource: Vec<(String, String)>,
    pub(crate) sampler: Option<Sampler>,
    pub(crate) exporters: Option<Vec<ExporterName>>,
    pub(crate) otlp_endpoint_set: bool,
    pub(crate) protocol: Option<OtlpProtocol>,
    /// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, else `OTEL_EXPORTER_OTLP_TIMEOUT` (milliseconds).
    pub(crate) otlp_timeout: Option<Duration>,
    /// `OTEL_METRICS_EXPORTER=none`: no metrics exporter by default.
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) metrics_off: bool,
    /// `OTEL_METRIC_EXPORT_INTERVAL` (milliseconds).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) metric_interval: Option<Duration>,
    pub(crate) content: Option<ContentCapture>,
    pub(crate) content_limit: Option<usize>,
    pub(crate) legacy: bool,
    pub(crate) latest: bool,
    pub(crate) prices_file: Option<PathBuf>,
    pub(crate) tail: Option<TailSampler>,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`.
    pub(crate) max_batch: Option<usize>,
    /// `OTEL_BSP_SCHEDULE_DELAY` (milliseconds).
    pub(crate) export_interval: Option<Duration>,
    /// `OTEL_BSP_EXPORT_TIMEOUT` (milliseconds).
    pub(crate) export_timeout: Option<Duration>,
    /// Problems to report once at install.
    pub(crate) warnings: Vec<String>,
}

impl EnvConfig {
    pub(crate) fn read(env: &dyn EnvSource) -> EnvConfig {
        let get = |key: &str| env.var(key).filter(|v| !v.trim().is_empty());
        let mut c = EnvConfig {
            service_name: get(OTEL_SERVICE_NAME).map(|s| s.trim().to_owned()),
            ..EnvConfig::default()
        };
        if let Some(attrs) = get(OTEL_RESOURCE_ATTRIBUTES) {
            c.resource = parse_resource_attributes(&attrs, &mut c.warnings);
        }
        if let Some(name) = get(OTEL_TRACES_SAMPLER) {
            c.sampler = parse_sampler(&name, get(OTEL_TRACES_SAMPLER_ARG), &mut c.warnings);
        }
        if let Some(list) = get(OTEL_TRACES_EXPORTER) {
            c.exporters = parse_exporters(&list, &mut c.warnings);
        }
        c.otlp_endpoint_set = get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).is_some()
            || get(OTEL_EXPORTER_OTLP_ENDPOINT).is_some();
        if let Some(p) =
            get(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL).or_else(|| get(OTEL_EXPORTER_OTLP_PROTOCOL))
        {
            c.protocol = match p.trim() {
                "http/protobuf" => Some(OtlpProtocol::HttpProtobuf),
                "grpc" => Some(OtlpProtocol::Grpc),
                other => {
                    c.warnings.push(format!(
                        "OTLP protocol {other:?} is not supported; using http/protobuf (supported: http/protobuf, grpc)"
                    ));
                    None
                }
            };
        }
        if let Some((key, v)) = [
            OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
            OTEL_EXPORTER_OTLP_TIMEOUT,
        ]
        .iter()
        .find_map(|k| get(k).map(|v| (*k, v)))
        {
            match v.trim().parse::<u64>() {
                Ok(ms) => c.otlp_timeout = Some(Duration::from_millis(ms)),
                Err(_) => c.warnings.push(format!(
                    "{key}={v:?} is not a number of milliseconds; ignored"
                )),
            }
        }
        if let Some(v) = get(OTEL_METRICS_EXPORTER) {
            match v.trim() {
                "none" => c.metrics_off = true,
                "otlp" => {}
                other => c.warnings.push(format!(
                    "{OTEL_METRICS_EXPORTER}={other:?} is not supported (otlp or none); ignored"
                )),
            }
        }
        // A count or a time of zero is no batch, no wait or no time for an export: refused like
        // any other nonsense.
        let positive = |key: &str, unit: &str, warnings: &mut Vec<String>| {
            let v = get(key)?;
            match v.trim().parse::<u64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    warnings.push(format!(
                        "{key}={v:?} is not a positive number of {unit}; ignored"
                    ));
                    None
                }
            }
        };
        c.metric_interval = positive(OTEL_METRIC_EXPORT_INTERVAL, "milliseconds", &mut c.warnings)
            .map(Duration::from_millis);
        if let Some(v) = env.var(OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT) {
            c.content = Some(parse_content(&v, &mut c.warnings));
        }
        for key in [
            OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
            OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        ] {
            if let Some(v) = get(key) {
                match v.trim().parse::<usize>() {
                    Ok(n) => c.content_limit = Some(n),
                    Err(_) => c
                        .warnings
                        .push(format!("{key}={v:?} is not a number of bytes; ignored")),
                }
                break;
            }
        }
        c.legacy = get(LLMTRACE_SEMCONV).is_some_and(|v| v.trim().eq_ignore_ascii_case("legacy"));
        c.latest = get(OTEL_SEMCONV_STABILITY_OPT_IN).is_some_and(|v| {
            v.split(',')
                .any(|s| s.trim() == "gen_ai_latest_experimental")
        });
        c.prices_file = get(LLMTRACE_PRICES_FILE).map(|p| PathBuf::from(p.trim()));
        c.tail = parse_tail(&get, &mut c.warnings);
        // The batch span processor's variables, for the worker that does its job.
        c.max_batch = positive(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "spans", &mut c.warnings)
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        c.export_interval = positive(OTEL_BSP_SCHEDULE_DELAY, "milliseconds", &mut c.warnings)
            .map(Duration::from_millis);
        c.export_timeout = positive(OTEL_BSP_EXPORT_TIMEOUT, "milliseconds", &mut c.warnings)
            .map(Duration::from_millis);
        c
    }
}

/// Tail sampling from `LLMTRACE_TAIL_SAMPLING_*`: on when the rate is set.
fn parse_tail(
    get: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Option<TailSampler> {
    const PREFIX: &str = LLMTRACE_TAIL_SAMPLING_PREFIX;
    let var = |name: &str| get(&format!("{PREFIX}{name}")).map(|v| v.trim().to_owned());
    fn number<T: std::str::FromStr>(
        name: &str,
        value: Option<String>,
        warnings: &mut Vec<String>,
    ) -> Option<T> {
        let v = value?;
        match v.parse::<T>() {
            Ok(n) => Some(n),
            Err(_) => {
                warnings.push(format!(
                    "LLMTRACE_TAIL_SAMPLING_{name}={v:?} is not a number; ignored"
                ));
                None
            }
        }
    }
    let others = [
        "LATENCY_MS",
        "TOKENS",
        "COST_USD",
        "KEEP_WHEN",
        "KEEP_ERRORS",
        "MAX_TRACES",
        "MAX_SPANS_PER_TRACE",
        "MAX_AGE_MS",
    ];
    let Some(rate) = number::<f64>("RATE", var("RATE"), warnings) else {
        if let Some(name) = others.iter().find(|n| var(n).is_some()) {
            warnings.push(format!(
                "{PREFIX}{name} is set but tail sampling is off; set {PREFIX}RATE (0.0 to 1.0) to turn it on"
            ));
        }
        return None;
    };
    if !(0.0..=1.0).contains(&rate) {
        warnings.push(format!(
            "{PREFIX}RATE={rate} is not between 0 and 1; tail sampling is off"
        ));
        return None;
    }
    let mut t = TailSampler::keep_fraction(rate);
    if let Some(ms) = number::<u64>("LATENCY_MS", var("LATENCY_MS"), warnings) {
        t = t.keep_slower_than(Duration::from_millis(ms));
    }
    if let Some(n) = number::<u64>("TOKENS", var("TOKENS"), warnings) {
        t = t.keep_tokens_over(n);
    }
    if let Some(usd) = number::<f64>("COST_USD", var("COST_USD"), warnings) {
        t = t.keep_cost_over(usd);
    }
    if let Some(list) = var("KEEP_WHEN") {
        for pair in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    t = t.keep_when(k.trim(), v.trim().to_owned());
                }
                _ => warnings.push(format!(
                    "{PREFIX}KEEP_WHEN: {pair:?} is not `key=value`; ignored"
                )),
            }
        }
    }
    match var("KEEP_ERRORS")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("true") => {}
        Some("false") => t = t.keep_errors(false),
        Some(other) => warnings.push(format!(
            "{PREFIX}KEEP_ERRORS={other:?} is not true or false; failed traces are kept"
        )),
    }
    if let Some(n) = number::<usize>("MAX_TRACES", var("MAX_TRACES"), warnings) {
        t = t.max_traces(n);
    }
    if let Some(n) = number::<usize>("MAX_SPANS_PER_TRACE", var("MAX_SPANS_PER_TRACE"), warnings) {
        t = t.max_spans_per_trace(n);
    }
    if let Some(ms) = number::<u64>("MAX_AGE_MS", var("MAX_AGE_MS"), warnings) {
        t = t.max_age(Duration::from_millis(ms));
    }
    Some(t)
}

/// `key1=value1,key2=value2`, values percent-encoded (W3C Baggage octets).
fn parse_resource_attributes(s: &str, warnings: &mut Vec<String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                let value = percent_encoding::percent_decode_str(v.trim())
                    .decode_utf8_lossy()
                    .into_owned();
                out.push((k.trim().to_owned(), value));
            }
            _ => warnings.push(format!(
                "OTEL_RESOURCE_ATTRIBUTES: {pair:?} is not `key=value`; ignored"
            )),
        }
    }
    out
}

fn parse_sampler(name: &str, arg: Option<String>, warnings: &mut Vec<String>) -> Option<Sampler> {
    let mut ratio = || match arg.as_deref().map(str::trim) {
        None => 1.0,
        Some(a) => match a.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => r,
            _ => {
                warnings.push(format!(
                    "OTEL_TRACES_SAMPLER_ARG {a:?} is not a ratio between 0 and 1; using 1.0"
                ));
                1.0
            }
        },
    };
    let parent = |s: Sampler| Sampler::ParentBased(Box::new(s));
    Some(match name.trim() {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatio(ratio()),
        "parentbased_always_on" => parent(Sampler::AlwaysOn),
        "parentbased_always_off" => parent(Sampler::AlwaysOff),
        "parentbased_traceidratio" => parent(Sampler::TraceIdRatio(ratio())),
        other => {
            warnings.push(format!(
                "OTEL_TRACES_SAMPLER {other:?} is not supported; using parentbased_always_on \
                 (supported: always_on, always_off, traceidratio, parentbased_always_on, \
                 parentbased_always_off, parentbased_traceidratio)"
            ));
            return None;
        }
    })
}

fn parse_exporters(list: &str, warnings: &mut Vec<String>) -> Option<Vec<ExporterName>> {
    let mut out = Vec::new();
    for name in list.split(',').map(|s| s.trim().to_ascii_lowercase()) {
        match name.as_str() {
            "otlp" => out.push(ExporterName::Otlp),
            "console" => out.push(ExporterName::Console),
            "jsonl" | "file" => out.push(ExporterName::Jsonl),
            "none" => {}
            "" => {}
            other => warnings.push(format!(
                "OTEL_TRACES_EXPORTER: {other:?} is not supported; ignored (supported: otlp, console, jsonl, none)"
            )),
        }
    }
    out.dedup();
    Some(out)
}

/// The GenAI content switch. An unknown value fails closed (no content), with a warning.
fn parse_content(v: &str, warnings: &mut Vec<String>) -> ContentCapture {
    match v.trim().to_ascii_uppercase().as_str() {
        "NO_CONTENT" => ContentCapture::NoContent,
        "SPAN_ONLY" => ContentCapture::SpanOnly,
        "EVENT_ONLY" => ContentCapture::EventOnly,
        "SPAN_AND_EVENT" => ContentCapture::SpanAndEvent,
        _ => {
            warnings.push(format!(
                "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT={v:?} is not one of NO_CONTENT, \
                 SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT; capturing no content"
            ));
            ContentCapture::NoContent
        }
    }
}

impl fmt::Display for OtlpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OtlpProtocol::HttpProtobuf => "http/protobuf",
            OtlpProtocol::Grpc => "grpc",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&'static str, &'static str)]) -> EnvConfig {
        let env: HashMap<&'static str, &'static str> = pairs.iter().copied().collect();
        EnvConfig::read(&env)
    }

    #[test]
    fn nothing_set_says_nothing() {
        let c = read(&[]);
        assert!(c.service_name.is_none() && c.sampler.is_none() && c.exporters.is_none());
        assert!(!c.otlp_endpoint_set && c.content.is_none() && c.warnings.is_empty());
        assert!(c.prices_file.is_none());
    }

    #[test]
    fn the_batch_processors_variables() {
        let c = read(&[
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", " 512 "),
            ("OTEL_BSP_SCHEDULE_DELAY", "5000"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "30000"),
        ]);
        assert_eq!(c.max_batch, Some(512));
        assert_eq!(c.export_interval, Some(Duration::from_secs(5)));
        assert_eq!(c.export_timeout, Some(Duration::from_secs(30)));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings);
        let c = read(&[
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0"),
            ("OTEL_BSP_SCHEDULE_DELAY", "-1"),
            ("OTEL_BSP_EXPORT_TIMEOUT", "10s"),
        ]);
        assert_eq!(
            (c.max_batch, c.export_interval, c.export_timeout),
            (None, None, None)
        );
        assert_eq!(c.warnings.len(), 3, "{:?}", c.warnings);
        assert!(c.warnings[0].starts_with("OTEL_BSP_MAX_EXPORT_BATCH_SIZE=\"0\""));
        // The metrics' interval is read the same way.
        let interval = |v| read(&[("OTEL_METRIC_EXPORT_INTERVAL", v)]);
        assert_eq!(
            interval("60000").metric_interval,
            Some(Duration::from_secs(60))
        );
        let zero = interval("0");
        assert_eq!((zero.metric_interval, zero.warnings.len()), (None, 1));
    }

    #[test]
    fn resource_attributes_are_percent_decoded() {
        let c = read(&[
            ("OTEL_SERVICE_NAME", " bot "),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.version=1.2, deployment.environment.name=prod%2Ceu ,bad",
            ),
        ]);
        assert_eq!(c.service_name.as_deref(), Some("bot"));
        assert_eq!(
            c.resource,
            [
                ("service.version".to_owned(), "1.2".to_owned()),
                (
                    "deployment.environment.name".to_owned(),
                    "prod,eu".to_owned()
                )
            ]
        );
        assert_eq!(c.warnings.len(), 1);
    }

    #[test]
    fn samplers() {
        assert_eq!(
            read(&[("OTEL_TRACES_SAMPLER", "always_off")]).sampler,
            Some(Sampler::AlwaysOff)
        );
        assert_eq!(
            read(&[
                ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
                ("OTEL_TRACES_SAMPLER_ARG", "0.25")
            ])
            .sampler,
            Some(Sampler::ParentBased(Box::new(Sampler::TraceIdRatio(0.25))))
        );
        let bad = read(&[
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "2"),
        ]);
        assert_eq!(bad.sampler, Some(Sampler::TraceIdRatio(1.0)));
        assert_eq!(bad.warnings.len(), 1);
        let unknown = read(&[("OTEL_TRACES_SAMPLER", "jaeger_remote")]);
        assert!(unknown.sampler.is_none() && unknown.warnings.len() == 1);
    }

    #[test]
    fn exporter_lists() {
        let c = read(&[("OTEL_TRACES_EXPORTER", "otlp, console,zipkin")]);
        assert_eq!(
            c.exporters,
            Some(vec![ExporterName::Otlp, ExporterName::Console])
        );
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(
            read(&[("OTEL_TRACES_EXPORTER", "none")]).exporters,
            Some(vec![])
        );
        assert!(
            read(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")]).otlp_endpoint_set
        );
    }

    #[test]
    fn content_capture_fails_closed() {
        let c = |v| read(&[("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", v)]);
        assert_eq!(
            c("span_and_event").content,
            Some(ContentCapture::SpanAndEvent)
        );
        assert_eq!(c("NO_CONTENT").content, Some(ContentCapture::NoContent));
        let t = c("true");
        assert_eq!(t.content, Some(ContentCapture::NoContent));
        assert_eq!(t.warnings.len(), 1);
    }

    #[test]
    fn conventions_switches() {
        assert!(read(&[("LLMTRACE_SEMCONV", "legacy")]).legacy);
        assert!(
            read(&[(
                "OTEL_SEMCONV_STABILITY_OPT_IN",
                "http,gen_ai_latest_experimental"
            )])
            .latest
        );
    }

    #[test]
    fn prices_file() {
        assert_eq!(
            read(&[("LLMTRACE_PRICES_FILE", " /etc/llmtrace/prices.json ")]).prices_file,
            Some(PathBuf::from("/etc/llmtrace/prices.json"))
        );
        assert!(
            read(&[("LLMTRACE_PRICES_FILE", "  ")])
                .prices_file
                .is_none()
        );
    }

    #[test]
    fn tail_sampling_from_the_environment() {
        let c = read(&[
            ("LLMTRACE_TAIL_SAMPLING_RATE", "0.1"),
            ("LLMTRACE_TAIL_SAMPLING_LATENCY_MS", "2500"),
            ("LLMTRACE_TAIL_SAMPLING_COST_USD", "0.25"),
            (
                "LLMTRACE_TAIL_SAMPLING_KEEP_WHEN",
                "app.tier=pro, gen_ai.request.model=o3",
            ),
            ("LLMTRACE_TAIL_SAMPLING_MAX_TRACES", "50"),
            ("LLMTRACE_TAIL_SAMPLING_TOKENS", "lots"),
        ]);
        let expected = TailSampler::keep_fraction(0.1)
            .keep_slower_than(Duration::from_millis(2500))
            .keep_cost_over(0.25)
            .keep_when("app.tier", "pro".to_owned())
            .keep_when("gen_ai.request.model", "o3".to_owned())
            .max_traces(50);
        assert_eq!(c.tail, Some(expected));
        assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
        assert!(c.warnings[0].contains("TOKENS"));

        let off = read(&[("LLMTRACE_TAIL_SAMPLING_LATENCY_MS", "10")]);
        assert_eq!(off.tail, None);
        assert!(off.warnings[0].contains("set LLMTRACE_TAIL_SAMPLING_RATE"));
        let bad = read(&[("LLMTRACE_TAIL_SAMPLING_RATE", "5")]);
        assert_eq!(bad.tail, None);
        assert_eq!(bad.warnings.len(), 1);
    }

    #[test]
    fn content_limit_from_the_standard_variables() {
        let span = read(&[
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4096"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
        ]);
        assert_eq!(span.content_limit, Some(4096));
        let general = read(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100")]);
        assert_eq!(general.content_limit, Some(100));
        let bad = read(&[("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "big")]);
        assert_eq!(bad.content_limit, None);
        assert_eq!(bad.warnings.len(), 1);
    }
}
