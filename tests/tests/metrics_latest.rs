//! The latest experimental metrics, with `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`
//! (given through the installation's environment source): `gen_ai.client.inference.duration`
//! and the `gen_ai.client.inference.usage.*` counters with `gen_ai.token.modality`, besides the
//! released set. (`tests/metrics.rs` checks they are absent without the opt-in.)
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::time::Duration;

use llmtrace::testing::Capture;
use llmtrace::Usage;
use llmtrace_runtime as llmtrace;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData};
use opentelemetry_sdk::metrics::InMemoryMetricExporter;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(fail: bool) -> Result<String, String> {
    if fail {
        return Err("upstream".into());
    }
    llmtrace::current().record_usage(Usage::new(300, 20).with_cache_read(100));
    Ok("ok".into())
}

/// A failing call on another model, so that its series stands apart.
#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini")]
fn chat_fails() -> Result<String, String> {
    Err("upstream".into())
}

#[llmtrace::embeddings(provider = "openai", model = "text-embedding-3-small")]
fn embed(text: &str) -> Vec<Vec<f32>> {
    llmtrace::current().record_usage(Usage::new(5, 0));
    vec![vec![0.0; text.len()]]
}

/// Per request model: the counter's value and the series' modality.
fn counter_by_model(m: &Metric) -> Vec<(String, u64, String)> {
    let attr = |p: &opentelemetry_sdk::metrics::data::SumDataPoint<u64>, key: &str| {
        p.attributes()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
            .unwrap_or_default()
    };
    match m.data() {
        AggregatedMetrics::U64(MetricData::Sum(s)) => {
            let mut out: Vec<_> = s
                .data_points()
                .map(|p| {
                    (
                        attr(p, "gen_ai.request.model"),
                        p.value(),
                        attr(p, "gen_ai.token.modality"),
                    )
                })
                .collect();
            out.sort();
            out
        }
        other => panic!("{} is not a u64 counter: {other:?}", m.name()),
    }
}

#[test]
fn the_opt_in_adds_the_inference_metrics() {
    let exporter = InMemoryMetricExporter::default();
    let env: HashMap<&'static str, &'static str> = HashMap::from([(
        "OTEL_SEMCONV_STABILITY_OPT_IN",
        "gen_ai_latest_experimental",
    )]);
    let _guard = llmtrace::init()
        .env(env)
        .without_exporters()
        .metrics_exporter(exporter.clone(), Duration::from_secs(3600))
        .install();
    let capture = Capture::new();
    capture.in_scope(|| {
        chat(false).unwrap();
        chat(true).unwrap_err();
        chat_fails().unwrap_err();
        embed("hello");
    });
    assert_eq!(capture.spans().len(), 4);
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    let exported = exporter.get_finished_metrics().unwrap();
    let find = |name: &str| {
        exported
            .iter()
            .rev()
            .flat_map(|rm| rm.scope_metrics())
            .flat_map(|sm| sm.metrics())
            .find(|m| m.name() == name)
    };

    let duration = find("gen_ai.client.inference.duration").expect("inference duration");
    assert_eq!(duration.unit(), "s");
    let (calls, errors) = match duration.data() {
        AggregatedMetrics::F64(MetricData::Histogram(h)) => (
            h.data_points().map(|p| p.count()).sum::<u64>(),
            h.data_points()
                .filter(|p| p.attributes().any(|kv| kv.key.as_str() == "error.type"))
                .map(|p| p.count())
                .sum::<u64>(),
        ),
        other => panic!("{other:?}"),
    };
    // The three chat calls; embeddings are not inference.
    assert_eq!((calls, errors), (3, 2));

    // Every inference call counts its input and output, 0 when no usage came back (the model
    // whose only call failed), under modality `unknown` (no breakdown is recorded).
    let series = |name: &str| counter_by_model(find(name).unwrap_or_else(|| panic!("{name}")));
    let unknown = |model: &str, n: u64| (model.to_owned(), n, "unknown".to_owned());
    assert_eq!(
        series("gen_ai.client.inference.usage.input_tokens"),
        [unknown("gpt-4o", 300), unknown("gpt-4o-mini", 0)]
    );
    assert_eq!(
        series("gen_ai.client.inference.usage.output_tokens"),
        [unknown("gpt-4o", 20), unknown("gpt-4o-mini", 0)]
    );
    // Breakdowns only where reported.
    assert_eq!(
        series("gen_ai.client.inference.usage.cache_read.input_tokens"),
        [unknown("gpt-4o", 100)]
    );
    assert!(find("gen_ai.client.inference.usage.reasoning.output_tokens").is_none());

    // The released set is still there.
    assert!(find("gen_ai.client.token.usage").is_some());
    assert!(find("gen_ai.client.operation.duration").is_some());
}
