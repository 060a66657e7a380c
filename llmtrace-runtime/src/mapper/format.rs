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
        Value::Captured(c) => serde_json::from_str(&c.to_json()).unwrap_or(Json::Null),
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

/// Field names read as a document's id, first match wins: the conventions' own name, then the
/// names vector stores and frameworks commonly use.
const ID_NAMES: [&str; 4] = ["id", "doc_id", "key", "uuid"];
/// Field names read as a document's text.
const CONTENT_NAMES: [&str; 4] = ["content", "text", "page_content", "body"];
/// Field names read as a document's score. A `distance` (lower is closer) is noted as such in
/// the metadata (`"score_type": "distance"`), since a backend reads a score as higher-is-better.
const SCORE_NAMES: [&str; 4] = ["score", "similarity", "relevance_score", "distance"];

/// Retrieved documents normalised by [`normalize_documents`].
#[derive(Debug)]
pub(crate) struct Documents {
    pub(crate) docs: Vec<Json>,
    /// Some object item had none of the field names read: it is recorded whole, as content.
    pub(crate) unrecognised: bool,
}

/// Normalises retrieved documents to `{"id", "score", "content", "metadata"}` objects, reading
/// those fields by name or by a common alias (`ID_NAMES`, `CONTENT_NAMES`, `SCORE_NAMES`); a
/// string item is the content, and so is an object none of whose fields is known (serialized
/// whole, and flagged, so that the caller can say which names are read). Every document gets an
/// `id` (its position when it has none), as Phoenix requires one.
pub(crate) fn normalize_documents(json: &str) -> Option<Documents> {
    let Json::Array(items) = serde_json::from_str::<Json>(json).ok()? else {
        return None;
    };
    let mut unrecognised = false;
    let docs = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let mut doc = Map::new();
            match item {
                Json::Object(mut obj) => {
                    let whole = obj.clone();
                    let mut known = false;
                    let id = match take_first(&mut obj, &ID_NAMES) {
                        Some((_, Json::String(s))) => Some(Json::String(s)),
                        Some((_, Json::Number(n))) => Some(Json::String(n.to_string())),
                        _ => None,
                    };
                    known |= id.is_some();
                    doc.insert(
                        "id".into(),
                        id.unwrap_or_else(|| Json::String(i.to_string())),
                    );
                    let mut distance = false;
                    if let Some((name, score @ Json::Number(_))) =
                        take_first(&mut obj, &SCORE_NAMES)
                    {
                        distance = name == "distance";
                        doc.insert("score".into(), score);
                        known = true;
                    }
                    if let Some((_, content)) = take_first(&mut obj, &CONTENT_NAMES) {
                        doc.insert("content".into(), content);
                        known = true;
                    }
                    let mut metadata = obj.remove("metadata");
                    known |= metadata.is_some();
                    if distance {
                        match &mut metadata {
                            Some(Json::Object(m)) => {
                                m.insert("score_type".into(), "distance".into());
                            }
                            None => {
                                metadata = Some(serde_json::json!({"score_type": "distance"}));
                            }
                            Some(_) => {}
                        }
                    }
                    if let Some(metadata) = metadata {
                        doc.insert("metadata".into(), metadata);
                    }
                    if !known {
                        unrecognised = true;
                        doc.insert(
                            "content".into(),
                            Json::String(Json::Object(whole).to_string()),
                        );
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
        .collect();
    Some(Documents { docs, unrecognised })
}

/// Removes the first of `names` that `obj` has (a `null` does not count), with its name.
fn take_first(obj: &mut Map<String, Json>, names: &[&'static str]) -> Option<(&'static str, Json)> {
    names.iter().find_map(|&name| match obj.remove(name) {
        Some(Json::Null) | None => None,
        Some(v) => Some((name, v)),
    })
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
        assert!(!docs.unrecognised);
        assert_eq!(
            Json::Array(docs.docs).to_string(),
            r#"[{"content":"a","id":"7","metadata":{"src":"kb"},"score":0.9},{"content":"plain","id":"1"}]"#
        );
        assert!(normalize_documents(r#"{"not":"a list"}"#).is_none());
    }

    #[test]
    fn documents_are_read_by_common_aliases() {
        let docs = normalize_documents(
            r#"[{"key":"k1","distance":0.25,"text":"a"},
                {"doc_id":3,"similarity":0.8,"page_content":"b","metadata":{"src":"kb"}},
                {"uuid":"u","relevance_score":0.5,"body":"c"},
                {"key":"k2","distance":0.5,"metadata":{"src":"kb"}}]"#,
        )
        .unwrap();
        assert!(!docs.unrecognised);
        assert_eq!(
            Json::Array(docs.docs),
            serde_json::json!([
                {"id": "k1", "score": 0.25, "content": "a", "metadata": {"score_type": "distance"}},
                {"id": "3", "score": 0.8, "content": "b", "metadata": {"src": "kb"}},
                {"id": "u", "score": 0.5, "content": "c"},
                {"id": "k2", "score": 0.5, "metadata": {"src": "kb", "score_type": "distance"}},
            ])
        );
    }

    #[test]
    fn documents_with_no_known_field_are_recorded_whole() {
        let docs = normalize_documents(r#"[{"name":"a","rank":1}]"#).unwrap();
        assert!(docs.unrecognised);
        assert_eq!(docs.docs[0]["id"], "0");
        // Compared as JSON: key order depends on serde_json's `preserve_order` feature.
        let content: Json =
            serde_json::from_str(docs.docs[0]["content"].as_str().unwrap()).unwrap();
        assert_eq!(content, serde_json::json!({"name": "a", "rank": 1}));
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
