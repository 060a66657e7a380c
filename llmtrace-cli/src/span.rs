//! What the explorer reads from one span: its identity and times, and the GenAI attributes every
//! command asks about, read in one pass over the attributes; or read back from the cache, which
//! keeps these facts and not the span as written.

use std::borrow::Cow;
use std::fmt;

use llmtrace_runtime::semconv::keys::{gen_ai, llmtrace as lt, openinference as oi};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::otlp::{self, AnyValue, KeyValue};
use crate::{hash, out};

/// A span as every command sees it: borrowed from the line it was read from, or from the cache.
#[derive(Debug, Clone)]
pub(crate) struct SpanFacts<'a> {
    /// The trace id, as a number (big-endian bytes of the hex id).
    pub(crate) trace_id: u128,
    /// The span id.
    pub(crate) span_id: u64,
    /// The parent's id; 0 for none.
    pub(crate) parent_id: u64,
    /// The parent is in another process (W3C `traceparent`).
    pub(crate) parent_remote: bool,
    /// The parent is a span of another tracing system in the same process
    /// (`llmtrace.parent.external`): this span is the outermost llmtrace span.
    pub(crate) parent_external: bool,
    /// The span's name.
    pub(crate) name: &'a str,
    /// Start and end, in nanoseconds since the Unix epoch.
    pub(crate) start: u64,
    /// End, in nanoseconds since the Unix epoch.
    pub(crate) end: u64,
    /// The status is error.
    pub(crate) error: bool,
    /// The status message.
    pub(crate) status_message: &'a str,
    /// `error.type`.
    pub(crate) error_type: Option<&'a str>,
    /// `gen_ai.operation.name`.
    pub(crate) operation: Option<&'a str>,
    /// `gen_ai.request.model`.
    pub(crate) request_model: Option<&'a str>,
    /// `gen_ai.response.model`.
    pub(crate) response_model: Option<&'a str>,
    /// `gen_ai.provider.name` (or `gen_ai.system`).
    pub(crate) provider: Option<&'a str>,
    /// `gen_ai.prompt.name`.
    pub(crate) prompt_name: Option<&'a str>,
    /// `gen_ai.prompt.version`.
    pub(crate) prompt_version: Option<&'a str>,
    /// `gen_ai.tool.name`.
    pub(crate) tool: Option<&'a str>,
    /// `gen_ai.workflow.name`.
    pub(crate) workflow: Option<&'a str>,
    /// `user.id`.
    pub(crate) user: Option<&'a str>,
    /// `session.id` (or `gen_ai.conversation.id`).
    pub(crate) session: Option<&'a str>,
    /// `gen_ai.usage.input_tokens`.
    pub(crate) input_tokens: Option<i64>,
    /// `gen_ai.usage.output_tokens`.
    pub(crate) output_tokens: Option<i64>,
    /// `gen_ai.usage.cache_read.input_tokens`.
    pub(crate) cache_read_tokens: Option<i64>,
    /// `gen_ai.usage.cache_creation.input_tokens` (or `cache_write`).
    pub(crate) cache_write_tokens: Option<i64>,
    /// `gen_ai.usage.reasoning.output_tokens`.
    pub(crate) reasoning_tokens: Option<i64>,
    /// `llm.cost.total`, US dollars.
    pub(crate) cost: Option<f64>,
    /// The roll-up totals on a root (`llmtrace.trace.*`).
    pub(crate) rollup_input: Option<i64>,
    /// `llmtrace.trace.output_tokens`.
    pub(crate) rollup_output: Option<i64>,
    /// `llmtrace.trace.cost_usd`.
    pub(crate) rollup_cost: Option<f64>,
    /// `llmtrace.trace.unpriced_calls`.
    pub(crate) rollup_unpriced: Option<i64>,
    /// `llmtrace.usage.missing`.
    pub(crate) usage_missing: bool,
    /// `llmtrace.cost.unpriced`.
    pub(crate) unpriced: bool,
    /// `llmtrace.content.truncated`.
    pub(crate) truncated: bool,
    /// `llmtrace.cancelled`.
    pub(crate) cancelled: bool,
    /// `gen_ai.response.time_to_first_chunk`, seconds.
    pub(crate) ttft: Option<f64>,
    /// `llmtrace.retrieval.documents.count`.
    pub(crate) document_count: Option<i64>,
    /// The best score among the retrieved documents.
    pub(crate) best_score: Option<f64>,
    /// The documents were recorded (content or count).
    pub(crate) has_documents: bool,
    /// `service.name` of the span's resource.
    pub(crate) service: Option<&'a str>,
    /// The span has input messages (`gen_ai.input.messages`, or a model call's `input.value`).
    pub(crate) has_input_messages: bool,
    /// The span has output messages (`gen_ai.output.messages`).
    pub(crate) has_output_messages: bool,
    /// What `loops` compares, when it is known without the content: read from the cache, or
    /// computed once while the cache is written. See [`SpanFacts::repeat`].
    pub(crate) repeat: Option<Repeat<'a>>,
    /// The span as written, when it was read from its JSON line; `None` when it comes from the
    /// cache, which keeps only the fields above. An accumulator that reads it says so
    /// ([`Accumulator::reads`](crate::source::Accumulator::reads)).
    pub(crate) raw: Option<Raw<'a>>,
}

/// What only the JSON line holds: every attribute, the resource, the events, the content.
#[derive(Debug, Clone)]
pub(crate) struct Raw<'a> {
    /// Every attribute, for `--where` and `show --span`.
    pub(crate) attributes: &'a [KeyValue<'a>],
    /// The resource's attributes (service name, ...).
    pub(crate) resource: &'a [KeyValue<'a>],
    /// The span's events.
    pub(crate) events: &'a [otlp::Event<'a>],
    /// The span's links.
    pub(crate) links: &'a [otlp::Link<'a>],
    /// `gen_ai.tool.call.arguments` (or the tool's `input.value`).
    pub(crate) tool_arguments: Option<&'a str>,
    /// `gen_ai.tool.call.result`.
    pub(crate) tool_result: Option<&'a str>,
    /// `gen_ai.input.messages` (or the model call's `input.value`).
    pub(crate) input_messages: Option<&'a str>,
    /// `gen_ai.output.messages`.
    pub(crate) output_messages: Option<&'a str>,
    /// The first attribute whose value type is unknown, with that type.
    pub(crate) unknown_type: Option<(&'a str, &'a str)>,
}

/// What `loops` compares of a tool or model call.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Repeat<'a> {
    /// A hash of what repeats when an agent loops: for a tool, its name and arguments; for a
    /// model call, its span name and input messages (JSON in a canonical form). `None` without
    /// arguments or messages.
    pub(crate) hash: Option<u64>,
    /// A tool's arguments on one line, cut to [`REPEAT_INPUT_CHARS`] characters; empty for a
    /// model call.
    pub(crate) input: Cow<'a, str>,
}

/// The length `loops` cuts a tool's arguments to. The cache stores the cut text, so changing
/// this changes the cache's format (see `cache`).
pub(crate) const REPEAT_INPUT_CHARS: usize = 60;

/// The kind of GenAI operation a span is, from its operation name or, failing that, its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// A model call (`chat`, `text_completion`, `generate_content`, `embeddings`).
    Model,
    /// A retrieval.
    Retrieval,
    /// A tool execution.
    Tool,
    /// Anything else (workflows, agents, foreign spans).
    Other,
}

impl<'a> SpanFacts<'a> {
    /// Reads `span`; `None` when its trace or span id is missing or not hex.
    pub(crate) fn read(span: &'a otlp::Span<'a>, resource: &'a [KeyValue<'a>]) -> Option<Self> {
        let trace_id = u128::from_be_bytes(otlp::hex_id::<16>(&span.trace_id)?);
        let span_id = u64::from_be_bytes(otlp::hex_id::<8>(&span.span_id)?);
        let parent_id = otlp::hex_id::<8>(&span.parent_span_id)
            .map(u64::from_be_bytes)
            .unwrap_or(0);
        let (message, code) = match &span.status {
            Some(s) => (s.message.as_ref(), s.code.0),
            None => ("", 0),
        };
        let mut f = SpanFacts {
            trace_id,
            span_id,
            parent_id,
            parent_remote: span.flags & otlp::FLAG_HAS_IS_REMOTE != 0
                && span.flags & otlp::FLAG_IS_REMOTE != 0,
            parent_external: false,
            name: &span.name,
            start: span.start_time_unix_nano.0,
            end: span.end_time_unix_nano.0,
            error: code == 2,
            status_message: message,
            error_type: None,
            operation: None,
            request_model: None,
            response_model: None,
            provider: None,
            prompt_name: None,
            prompt_version: None,
            tool: None,
            workflow: None,
            user: None,
            session: None,
            input_tokens: None,
            output_tokens: None,
            cache_read_tokens: None,
            cache_write_tokens: None,
            reasoning_tokens: None,
            cost: None,
            rollup_input: None,
            rollup_output: None,
            rollup_cost: None,
            rollup_unpriced: None,
            usage_missing: false,
            unpriced: false,
            truncated: false,
            cancelled: false,
            ttft: None,
            document_count: None,
            best_score: None,
            has_documents: false,
            service: resource
                .iter()
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_str()),
            has_input_messages: false,
            has_output_messages: false,
            repeat: None,
            raw: None,
        };
        let mut raw = Raw {
            attributes: &span.attributes,
            resource,
            events: &span.events,
            links: &span.links,
            tool_arguments: None,
            tool_result: None,
            input_messages: None,
            output_messages: None,
            unknown_type: None,
        };
        let mut input_value = None;
        let mut documents_json = None;
        let mut aggregate = false;
        for kv in &span.attributes {
            let v = &kv.value;
            let key: &str = &kv.key;
            if raw.unknown_type.is_none() {
                if let Some(t) = v.unknown_type() {
                    raw.unknown_type = Some((key, t));
                }
            }
            match key {
                gen_ai::OPERATION_NAME => f.operation = str_of(v),
                gen_ai::REQUEST_MODEL => f.request_model = str_of(v),
                gen_ai::RESPONSE_MODEL => f.response_model = str_of(v),
                gen_ai::PROVIDER_NAME => f.provider = str_of(v),
                "gen_ai.system" => f.provider = f.provider.or(str_of(v)),
                gen_ai::PROMPT_NAME => f.prompt_name = str_of(v),
                gen_ai::PROMPT_VERSION => f.prompt_version = str_of(v),
                gen_ai::TOOL_NAME => f.tool = str_of(v),
                gen_ai::WORKFLOW_NAME => f.workflow = str_of(v),
                gen_ai::ERROR_TYPE => f.error_type = str_of(v),
                oi::USER_ID => f.user = str_of(v),
                oi::SESSION_ID => f.session = str_of(v),
                gen_ai::CONVERSATION_ID => f.session = f.session.or(str_of(v)),
                gen_ai::USAGE_INPUT_TOKENS => f.input_tokens = v.as_i64(),
                gen_ai::USAGE_OUTPUT_TOKENS => f.output_tokens = v.as_i64(),
                gen_ai::USAGE_CACHE_READ_INPUT_TOKENS => f.cache_read_tokens = v.as_i64(),
                gen_ai::USAGE_CACHE_CREATION_INPUT_TOKENS
                | gen_ai::USAGE_CACHE_WRITE_INPUT_TOKENS => f.cache_write_tokens = v.as_i64(),
                gen_ai::USAGE_REASONING_OUTPUT_TOKENS => f.reasoning_tokens = v.as_i64(),
                oi::LLM_COST_TOTAL => f.cost = v.as_f64(),
                lt::TRACE_INPUT_TOKENS => f.rollup_input = v.as_i64(),
                lt::TRACE_OUTPUT_TOKENS => f.rollup_output = v.as_i64(),
                lt::TRACE_COST_USD => f.rollup_cost = v.as_f64(),
                lt::TRACE_UNPRICED_CALLS => f.rollup_unpriced = v.as_i64(),
                lt::USAGE_MISSING => f.usage_missing = v.as_bool().unwrap_or(false),
                lt::COST_UNPRICED => f.unpriced = v.as_bool().unwrap_or(false),
                lt::CONTENT_TRUNCATED => f.truncated = v.as_bool().unwrap_or(false),
                lt::CANCELLED => f.cancelled = v.as_bool().unwrap_or(false),
                PARENT_EXTERNAL => f.parent_external = v.as_bool().unwrap_or(false),
                lt::AGENT_INFERENCE_CALLS => aggregate = true,
                gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK => f.ttft = v.as_f64(),
                lt::RETRIEVAL_DOCUMENT_COUNT => {
                    f.document_count = v.as_i64();
                    f.has_documents = true;
                }
                gen_ai::RETRIEVAL_DOCUMENTS => {
                    documents_json = str_of(v);
                    f.has_documents = true;
                }
                gen_ai::TOOL_CALL_ARGUMENTS => raw.tool_arguments = str_of(v),
                gen_ai::TOOL_CALL_RESULT => raw.tool_result = str_of(v),
                gen_ai::INPUT_MESSAGES => raw.input_messages = str_of(v),
                gen_ai::OUTPUT_MESSAGES => raw.output_messages = str_of(v),
                oi::INPUT_VALUE => input_value = str_of(v),
                _ => {
                    // OpenInference's flattened documents: `retrieval.documents.N.document.score`.
                    if key.starts_with("retrieval.documents.") && key.ends_with(".document.score") {
                        if let Some(s) = v.as_f64() {
                            f.best_score = Some(f.best_score.map_or(s, |b: f64| b.max(s)));
                        }
                        f.has_documents = true;
                    }
                }
            }
        }
        // An agent's usage is the sum of its own calls' (`llmtrace.agent.*`): those calls
        // report it, and counting it here too would count it twice.
        if aggregate {
            f.input_tokens = None;
            f.output_tokens = None;
            f.cache_read_tokens = None;
            f.cache_write_tokens = None;
        }
        if f.best_score.is_none() {
            if let Some(json) = documents_json {
                f.best_score = best_score_in(json);
            }
        }
        match f.kind() {
            OpKind::Tool => raw.tool_arguments = raw.tool_arguments.or(input_value),
            OpKind::Model => raw.input_messages = raw.input_messages.or(input_value),
            _ => {}
        }
        f.has_input_messages = raw.input_messages.is_some();
        f.has_output_messages = raw.output_messages.is_some();
        f.raw = Some(raw);
        Some(f)
    }

    /// What kind of GenAI operation the span is.
    pub(crate) fn kind(&self) -> OpKind {
        match self.operation {
            Some("chat" | "text_completion" | "generate_content" | "embeddings") => OpKind::Model,
            Some("retrieval") => OpKind::Retrieval,
            Some("execute_tool") => OpKind::Tool,
            Some(_) => OpKind::Other,
            None if self.tool.is_some() => OpKind::Tool,
            None if self.request_model.is_some() => OpKind::Model,
            None => OpKind::Other,
        }
    }

    /// The model that answered, else the one requested.
    pub(crate) fn model(&self) -> Option<&'a str> {
        self.request_model.or(self.response_model)
    }

    /// `name@version`, or the name alone, of the prompt template.
    pub(crate) fn prompt(&self) -> Option<String> {
        self.prompt_name.map(|n| match self.prompt_version {
            Some(v) => format!("{n}@{v}"),
            None => n.to_owned(),
        })
    }

    /// Duration in nanoseconds; zero when the span claims to end before it starts.
    pub(crate) fn duration_ns(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span starts a tree in its process: no parent, a remote parent, or a parent
    /// in another tracing system.
    pub(crate) fn is_root(&self) -> bool {
        self.parent_id == 0 || self.parent_remote || self.parent_external
    }

    /// `Type: message`, or whichever there is, for a failed span.
    pub(crate) fn error_text(&self) -> Option<String> {
        if !self.error {
            return None;
        }
        let t = self.error_type.map(str::trim).filter(|t| !t.is_empty());
        let m = self.status_message.trim();
        Some(match (t, m.is_empty()) {
            (Some(t), false) => format!("{t}: {m}"),
            (Some(t), true) => t.to_owned(),
            (None, false) => m.to_owned(),
            (None, true) => "error".to_owned(),
        })
    }

    /// The value of attribute `key` as text (the last one set wins), looking at the span's
    /// attributes, then its resource's; `None` for a span from the cache.
    pub(crate) fn attribute_text(&self, key: &str) -> Option<String> {
        let raw = self.raw.as_ref()?;
        raw.attributes
            .iter()
            .rev()
            .chain(raw.resource.iter().rev())
            .find(|kv| kv.key == key)
            .map(|kv| kv.value.to_text())
    }

    /// What `loops` compares of a tool or model call: as stored, else computed from the
    /// content.
    pub(crate) fn repeat(&self) -> Repeat<'a> {
        match &self.repeat {
            Some(r) => r.clone(),
            None => self.compute_repeat(),
        }
    }

    /// What `loops` compares, computed from the content (nothing without it, or for a span
    /// that is neither a tool nor a model call).
    pub(crate) fn compute_repeat(&self) -> Repeat<'a> {
        let Some(raw) = &self.raw else {
            return Repeat::default();
        };
        let (what, input) = match self.kind() {
            OpKind::Tool => (self.tool.unwrap_or(self.name), raw.tool_arguments),
            OpKind::Model => (self.name, raw.input_messages),
            OpKind::Retrieval | OpKind::Other => return Repeat::default(),
        };
        let hash = input.map(|input| {
            let h = hash::hash64(what.as_bytes(), what.len() as u64);
            content_hash(input, h)
        });
        let input = match self.kind() {
            OpKind::Tool => Cow::Owned(out::excerpt(input.unwrap_or(""), REPEAT_INPUT_CHARS)),
            _ => Cow::Borrowed(""),
        };
        Repeat { hash, input }
    }
}

/// The attribute the runtime sets on a span whose parent is a span of another tracing system in
/// the same process (an HTTP server's request span).
pub(crate) const PARENT_EXTERNAL: &str = "llmtrace.parent.external";

fn str_of<'a>(v: &'a AnyValue<'a>) -> Option<&'a str> {
    v.as_str()
}

/// A hash of JSON text by its value, so that the same arguments written twice hash the same
/// whatever their key order, spacing or escapes; text that is not JSON hashes as text. The value
/// is hashed as it is parsed, without building it.
fn content_hash(text: &str, seed: u64) -> u64 {
    let mut de = serde_json::Deserializer::from_str(text);
    match ValueHash
        .deserialize(&mut de)
        .and_then(|h| de.end().map(|()| h))
    {
        Ok(h) => hash::hash64(&h.to_le_bytes(), seed),
        Err(_) => hash::hash64(text.as_bytes(), !seed),
    }
}

/// Hashes one JSON value (see [`content_hash`]). Each kind of value has its own tag; numbers
/// hash as `serde_json` tells them apart (`1` and `1.0` differ); an object's members are hashed
/// in key order, a repeated key's last value winning, as a parsed object keeps them.
struct ValueHash;

const TAG_NULL: u64 = 1;
const TAG_BOOL: u64 = 2;
const TAG_U64: u64 = 3;
const TAG_I64: u64 = 4;
const TAG_F64: u64 = 5;
const TAG_STR: u64 = 6;
const TAG_ARRAY: u64 = 7;
const TAG_OBJECT: u64 = 8;

fn tagged(tag: u64, v: u64) -> u64 {
    hash::hash64(&v.to_le_bytes(), tag)
}

impl<'de> DeserializeSeed<'de> for ValueHash {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueHash {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Ok(tagged(TAG_NULL, 0))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<u64, E> {
        Ok(tagged(TAG_BOOL, u64::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(tagged(TAG_U64, v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        Ok(tagged(TAG_I64, v as u64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        Ok(tagged(TAG_F64, v.to_bits()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        Ok(hash::hash64(v.as_bytes(), TAG_STR))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let mut h = TAG_ARRAY;
        while let Some(v) = seq.next_element_seed(ValueHash)? {
            h = tagged(h, v);
        }
        Ok(h)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let mut members: Vec<(Key<'de>, u64)> = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            members.push((key, map.next_value_seed(ValueHash)?));
        }
        // By key; among equal keys the last stays last, and is the one kept.
        members.sort_by(|a, b| a.0.0.cmp(&b.0.0));
        let mut h = TAG_OBJECT;
        for (i, (key, value)) in members.iter().enumerate() {
            if members.get(i + 1).is_some_and(|next| next.0.0 == key.0) {
                continue;
            }
            h = tagged(hash::hash64(key.0.as_bytes(), h), *value);
        }
        Ok(h)
    }
}

/// An object's key, borrowed from the text when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// The highest `score` in a `gen_ai.retrieval.documents` JSON array.
fn best_score_in(json: &str) -> Option<f64> {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(default)]
        score: Option<f64>,
    }
    let docs: Vec<Doc> = serde_json::from_str(json).ok()?;
    docs.iter()
        .filter_map(|d| d.score)
        .filter(|s| s.is_finite())
        .reduce(f64::max)
}

#[cfg(test)]
mod tests {
    use super::content_hash;

    #[test]
    fn json_hashes_by_value() {
        let h = |t: &str| content_hash(t, 7);
        let same = [
            r#"{"sku":"KT-BLUE","n":1}"#,
            r#"{ "n": 1, "sku": "KT-BLUE" }"#,
            r#"{"sku":"KT-\u0042LUE","n":1}"#,
            r#"{"n":0,"sku":"KT-BLUE","n":1}"#,
        ];
        for t in same {
            assert_eq!(h(t), h(same[0]), "{t}");
        }
        let different = [
            r#"{"sku":"KT-RED","n":1}"#,
            r#"{"sku":"KT-BLUE","n":1.0}"#,
            r#"{"sku":"KT-BLUE","n":-1}"#,
            r#"{"sku":"KT-BLUE"}"#,
            r#"{"sku":"KT-BLUE","n":1,"m":null}"#,
            r#"[{"sku":"KT-BLUE","n":1}]"#,
            r#"{"sku":["KT-BLUE"],"n":1}"#,
            r#"{"n":1,"sku":"KT-BLUE","n":0}"#,
        ];
        for t in different {
            assert_ne!(h(t), h(same[0]), "{t}");
        }
        assert_ne!(h("[1,2]"), h("[2,1]"));
        assert_ne!(h("[[1],2]"), h("[1,[2]]"));
        // Not JSON: as text.
        assert_eq!(h("plain text"), h("plain text"));
        assert_ne!(h("plain text"), h("plain  text"));
        assert_ne!(h(r#""abc""#), h("abc"));
        assert_ne!(content_hash("{}", 1), content_hash("{}", 2));
    }
}
