//! Calls of the traced `async-openai` client that the head sampler drops still count in the
//! metrics, under their provider, model and server, as recorded calls do.

use std::time::Duration;

use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestUserMessage, CreateChatCompletionRequestArgs,
};
use async_openai::types::embeddings::CreateEmbeddingRequestArgs;
use llmtrace::openai::ClientExt;
use llmtrace::otel::opentelemetry_sdk::metrics::InMemoryMetricExporter;
use llmtrace::otel::opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use llmtrace_integration_tests::MockServer;
use llmtrace_runtime as llmtrace;

#[tokio::test]
async fn sampled_out_calls_count_under_their_model_and_server() {
    let server = MockServer::start();
    let metrics = InMemoryMetricExporter::default();
    let _guard = llmtrace::init()
        .env(std::collections::HashMap::<String, String>::new())
        .sampler(llmtrace::Sampler::AlwaysOff)
        .metrics_exporter(metrics.clone(), Duration::from_secs(3600))
        .try_install()
        .expect("installs");
    let config = OpenAIConfig::new()
        .with_api_base(server.base_url())
        .with_api_key("test-key");
    let client = async_openai::Client::with_config(config).traced();

    for _ in 0..3 {
        let request = CreateChatCompletionRequestArgs::default()
            .model("gpt-4o-mini")
            .messages([ChatCompletionRequestUserMessage::from("Refunds?").into()])
            .build()
            .unwrap();
        client.chat().create(request).await.unwrap();
    }
    let request = CreateEmbeddingRequestArgs::default()
        .model("text-embedding-3-small")
        .input("refund policy")
        .build()
        .unwrap();
    client.embeddings().create(request).await.unwrap();
    llmtrace::force_flush(Duration::from_secs(10)).expect("flush");

    let exported = metrics.get_finished_metrics().expect("metrics");
    let duration = exported
        .iter()
        .rev()
        .flat_map(|rm| rm.scope_metrics())
        .flat_map(|sm| sm.metrics())
        .find(|m| m.name() == "gen_ai.client.operation.duration")
        .expect("durations recorded");
    let AggregatedMetrics::F64(MetricData::Histogram(histogram)) = duration.data() else {
        panic!("a histogram: {:?}", duration.data());
    };
    let mut calls: Vec<(String, u64)> = histogram
        .data_points()
        .map(|p| {
            let attr = |key: &str| {
                p.attributes()
                    .find(|kv| kv.key.as_str() == key)
                    .map(|kv| kv.value.to_string())
            };
            assert_eq!(attr("gen_ai.provider.name").as_deref(), Some("openai"));
            assert_eq!(attr("server.address").as_deref(), Some("127.0.0.1"));
            assert_eq!(attr("server.port"), Some(server.port().to_string()));
            (attr("gen_ai.request.model").unwrap_or_default(), p.count())
        })
        .collect();
    calls.sort();
    assert_eq!(
        calls,
        [
            ("gpt-4o-mini".to_owned(), 3),
            ("text-embedding-3-small".to_owned(), 1)
        ]
    );
}
