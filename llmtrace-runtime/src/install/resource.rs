//! The resource every span is exported with.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

use super::env::EnvConfig;

/// The resource: code over `OTEL_SERVICE_NAME` over `OTEL_RESOURCE_ATTRIBUTES`, plus the
/// `telemetry.sdk.*` attributes.
pub(super) fn build(
    code_name: Option<String>,
    code_attrs: Vec<KeyValue>,
    env: &EnvConfig,
) -> Resource {
    let mut attrs: Vec<KeyValue> = env
        .resource
        .iter()
        .filter(|(k, _)| !code_attrs.iter().any(|kv| kv.key.as_str() == k.as_str()))
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    attrs.extend(code_attrs);
    let from_attrs = attrs
        .iter()
        .find(|kv| kv.key.as_str() == "service.name")
        .map(|kv| kv.value.to_string());
    let name = code_name
        .or_else(|| env.service_name.clone())
        .or(from_attrs)
        .unwrap_or_else(default_service_name);
    Resource::builder_empty()
        .with_detector(Box::new(
            opentelemetry_sdk::resource::TelemetryResourceDetector,
        ))
        .with_attributes(attrs)
        .with_service_name(name)
        .build()
}

fn default_service_name() -> String {
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
    match exe {
        Some(name) => format!("unknown_service:{name}"),
        None => "unknown_service".into(),
    }
}
