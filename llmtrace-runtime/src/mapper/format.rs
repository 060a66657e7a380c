//! Value formats the conventions ask for: JSON strings (invocation parameters, usage and cost
//! details, normalised documents), ISO-8601 timestamps, provider name mappings.

use std::borrow::Cow;
use std::fmt::Write;

use serde_json::{Map, Value as Json};

use crate::record::Value;

/// OpenInference's `llm.provider` and `llm.system` for a `gen_ai.provider.name`.
pub(crate) fn openinference_provider(provider: &str) -> (Cow<'static, str>, Option<&'static str>) {
    let known = |p: &'static str, s: Option<&'static str>| (Cow::Borrowed(p), s);
    match provider {
        "openai" => known("openai", Some("openai")),
        "azure.ai.openai" => known("azure", Some("openai")),
        "azure.ai.inference" => known("azure", None),
        "anthropic" => known("anthropic", Some("anthropic")),
        "aws.bedrock" => known("aws", None),
        "gcp.vertex_ai" => known("google", Some("vertexai")),
        "gcp.gemini" | "gcp.gen_ai" => known("google", None),
        "x_ai" => known("xai", Some("xai")),
        "mistral_ai" => known("mistralai", Some("mistralai")),
        "cohere" => known("cohere", Some("cohere")),
        "deepseek" => known("deepseek", Some("deepseek")),
        "groq" => known("groq", None),
        "perplexity" => known("perplexity", None),
        other => (Cow::Owned(other.to_owned()), None),
    }
}

/// The first element of a list value.
pub(crate) fn first_of_list(v: &Value) -> Option<String> {
    match v {
        Value::StrList(l) => l.first().map(|s| (*s).to_owned()),
        Value::StringList(l) => l.first().map(|s| s.to_string()),
        _ => None,
    }
}

/// A value as JSON (JSON values parsed, so they nest rather than appear as strings).
pub(crate) fn to_json(v: &Value) -> Json {
    match v {
        Value::Bool(b) => Json::Bool(*b),
        Value::I64(i) => Json::from(*i),
        Value::F64(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::Str(s) => Json::from(*s),
        Value::String(s) => Json::from(&**s),
        Value::Json(s) => serde_json::from_str(s).unwrap_or_else(|_| Json::from(&**s)),
        Value::StrList(l) => Json::from(l.to_vec()),
        Value::StringList(l) => l.iter().map(|s| Json::from(&**s)).collect(),
    }
}

/// Token counts of one call, as the conventions define them (cache and reasoning counts are
/// subsets of the input and output totals).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tokens {
    pub(crate) input: Option<i64>,
    pub(crate) output: Option<i64>,
    pub(crate) cache_read: Option<i64>,
    pub(crate) cache_write: Option<i64>,
    pub(crate) reasoning: Option<i64>,
}

/// `langfuse.observation.usage_details`: Langfuse takes this object as it is. Without it, it sums
/// every `gen_ai.usage.*` key whose name contains "input", counting cached tokens twice.
pub(crate) fn langfuse_usage_details(t: &Tokens) -> String {
    let input = t.input.unwrap_or(0);
    let output = t.output.unwrap_or(0);
    let uncached = (input - t.cache_read.unwrap_or(0) - t.cache_write.unwrap_or(0)).max(0);
    let visible = (output - t.reasoning.unwrap_or(0)).max(0);
    let mut s = String::with_capacity(128);
    let _ = write!(s, "{{\"input\":{uncached},\"output\":{visible}");
    for (name, v) in [
        ("input_cached_tokens", t.cache_read),
        ("input_cache_creation", t.cache_write),
        ("output_reasoning_tokens", t.reasoning),
    ] {
        if let Some(v) = v {
            let _ = write!(s, ",\"{name}\":{v}");
        }
    }
    let _ = write!(s, ",\"total\":{}}}", input + output);
    s
}

/// `langfuse.observation.cost_details` for the parts that are known (finite numbers only).
pub(crate) fn langfuse_cost_details(parts: &[(&str, Option<f64>)]) -> String {
    let mut s = String::with_capacity(96);
    s.push('{');
    for (name, v) in parts {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            if s.len() > 1 {
                s.push(',');
            }
            let _ = write!(s, "\"{name}\":{v}");
        }
    }
    s.push('}');
    s
}

/// Normalises retrieved documents to `{"id", "score", "content", "metadata"}` objects, reading
/// those fields by name; a string item is the content. Every document gets an `id` (its
/// position when it has none), as Phoenix requires one.
pub(crate) fn normalize_documents(json: &str) -> Option<Vec<Json>> {
    let Json::Array(items) = serde_json::from_str::<Json>(json).ok()? else {
        return None;
    };
    Some(
        items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let mut doc = Map::new();
                match item {
                    Json::Object(mut obj) => {
                        let id = match obj.remove("id") {
                            Some(Json::String(s)) => Json::String(s),
                            Some(Json::Number(n)) => Json::String(n.to_string()),
                            _ => Json::String(i.to_string()),
                        };
                        doc.insert("id".into(), id);
                        if let Some(score @ Json::Number(_)) = obj.remove("score") {
                            doc.insert("score".into(), score);
                        }
                        if let Some(content) = obj.remove("content") {
                            doc.insert("content".into(), content);
                        }
                        if let Some(metadata) = obj.remove("metadata") {
                            doc.insert("metadata".into(), metadata);
                        }
                    }
                    Json::String(s) => {
                        doc.insert("id".into(), Json::String(i.to_string()));
                        doc.insert("content".into(), Json::String(s));
                    }
                    other => {
                        doc.insert("id".into(), Json::String(i.to_string()));
                        doc.insert("content".into(), other);
                    }
                }
                Json::Object(doc)
            })
            .collect(),
    )
}

/// RFC 3339 / ISO-8601 UTC timestamp with microseconds.
pub(crate) fn iso8601(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_formats_known_instants() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(iso8601(t), "2023-11-14T22:13:20.123456Z");
        assert_eq!(
            iso8601(std::time::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000Z"
        );
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn documents_are_normalized_by_field_name() {
        let docs = normalize_documents(
            r#"[{"id":7,"score":0.9,"content":"a","metadata":{"src":"kb"},"extra":1},"plain"]"#,
        )
        .unwrap();
        assert_eq!(
            Json::Array(docs).to_string(),
            r#"[{"content":"a","id":"7","metadata":{"src":"kb"},"score":0.9},{"content":"plain","id":"1"}]"#
        );
        assert!(normalize_documents(r#"{"not":"a list"}"#).is_none());
    }

    #[test]
    fn usage_details_do_not_double_count() {
        let t = Tokens {
            input: Some(1000),
            output: Some(300),
            cache_read: Some(400),
            cache_write: Some(100),
            reasoning: Some(120),
        };
        let v: Json = serde_json::from_str(&langfuse_usage_details(&t)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"input": 500, "output": 180, "input_cached_tokens": 400,
                "input_cache_creation": 100, "output_reasoning_tokens": 120, "total": 1300})
        );
        let c = langfuse_cost_details(&[
            ("input", Some(0.5)),
            ("output", None),
            ("total", Some(0.75)),
        ]);
        assert_eq!(c, r#"{"input":0.5,"total":0.75}"#);
    }
}
