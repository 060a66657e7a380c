//! The one pure mapper: a finished record in, span name, kind, attributes, events and status
//! out, for every export mode and conventions profile.
//!
//! It runs off the caller's thread in native mode, so the JSON work (invocation parameters,
//! document normalisation, usage details) happens here rather than on the hot path.

use std::borrow::Cow;

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status as OtelStatus, TraceFlags};
use opentelemetry::trace::{TraceId, TraceState};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use serde_json::{Map, Value as Json};

use super::keys::{gen_ai, langfuse, legacy, llmtrace as lt, openinference as oi};
use crate::clock;
use crate::config::ContentCapture;
use crate::span::{FLAG_PARENT_REMOTE, FLAG_TRUNCATED, Field, Kind, Record, Status, Value};

/// Which attribute conventions to emit.
///
/// The default emits the latest OpenTelemetry GenAI names plus the OpenInference (Phoenix) and
/// Langfuse keys those backends need to render a span fully. Deprecated GenAI names are emitted
/// only by the legacy profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conventions {
    pub(crate) legacy: bool,
    pub(crate) latest: bool,
    pub(crate) openinference: bool,
    pub(crate) langfuse: bool,
}

impl Default for Conventions {
    fn default() -> Self {
        Conventions {
            legacy: false,
            latest: false,
            openinference: true,
            langfuse: true,
        }
    }
}

impl Conventions {
    /// Also emit deprecated GenAI names (`gen_ai.system`, `gen_ai.usage.prompt_tokens`, ...)
    /// for backends that only read them.
    pub fn legacy(mut self, on: bool) -> Self {
        self.legacy = on;
        self
    }

    /// Also emit the newest experimental names (`gen_ai.usage.cache_write.input_tokens`), as
    /// `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` does.
    pub fn latest_experimental(mut self, on: bool) -> Self {
        self.latest = on;
        self
    }

    /// Emit the OpenInference keys Arize Phoenix reads (on by default).
    pub fn openinference(mut self, on: bool) -> Self {
        self.openinference = on;
        self
    }

    /// Emit the Langfuse keys (on by default).
    pub fn langfuse(mut self, on: bool) -> Self {
        self.langfuse = on;
        self
    }
}

/// Per-callsite values derived once from the static part of a callsite.
#[derive(Debug)]
pub(crate) struct CallsiteAttrs {
    /// The span name, when it does not depend on run-time values.
    name: Option<&'static str>,
}

/// Turns records into spans. One per installed pipeline.
#[derive(Debug)]
pub(crate) struct Mapper {
    conventions: Conventions,
    content: ContentCapture,
    resource: Resource,
    scope: InstrumentationScope,
}

/// Name of the event that carries content when content goes to events.
const CONTENT_EVENT: &str = "gen_ai.client.inference.operation.details";

impl Mapper {
    pub(crate) fn new(
        conventions: Conventions,
        content: ContentCapture,
        resource: Resource,
    ) -> Self {
        Mapper {
            conventions,
            content,
            resource,
            scope: InstrumentationScope::builder("llmtrace")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        }
    }

    pub(crate) fn resource(&self) -> &Resource {
        &self.resource
    }

    /// The exportable span of a finished record.
    pub(crate) fn to_span_data(&self, rec: &Record) -> SpanData {
        let mapped = self.map(rec);
        let parent_span_id = if rec.parent_id == 0 {
            SpanId::INVALID
        } else {
            SpanId::from(rec.parent_id)
        };
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(rec.trace_id),
                SpanId::from(rec.span_id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id,
            parent_span_is_remote: rec.flags & FLAG_PARENT_REMOTE != 0,
            span_kind: mapped.kind,
            name: mapped.name,
            start_time: clock::to_system_time(rec.start),
            end_time: clock::to_system_time(rec.end),
            attributes: mapped.attributes,
            dropped_attributes_count: 0,
            events: span_events(mapped.events),
            links: SpanLinks::default(),
            status: mapped.status,
            instrumentation_scope: self.scope.clone(),
        }
    }

    /// Name, kind, attributes, events and status of a record.
    pub(crate) fn map(&self, rec: &Record) -> Mapped {
        let mut out = Out {
            attrs: Vec::with_capacity(24),
            content_event: Vec::new(),
            content: self.content,
        };
        self.common(rec, &mut out);
        match rec.kind() {
            Kind::Workflow => self.workflow(rec, &mut out),
            Kind::LlmCall => self.llm_call(rec, &mut out),
            Kind::Retrieval => self.retrieval(rec, &mut out),
            Kind::Tool => self.tool(rec, &mut out),
        }
        self.rollup(rec, &mut out);
        self.scope_attrs(rec, &mut out);
        custom(rec, &mut out);

        let mut events = Vec::new();
        let status = match rec.status {
            Status::Error => {
                let message = rec
                    .extra
                    .as_ref()
                    .and_then(|e| e.status_message.as_deref())
                    .unwrap_or("");
                let error_type = rec
                    .get(Field::ErrorType)
                    .and_then(Value::as_str)
                    .unwrap_or("_OTHER");
                let mut attrs = vec![KeyValue::new(gen_ai::EXCEPTION_TYPE, error_type.to_owned())];
                if !message.is_empty() {
                    attrs.push(KeyValue::new(gen_ai::EXCEPTION_MESSAGE, message.to_owned()));
                }
                events.push(opentelemetry::trace::Event::new(
                    "exception",
                    clock::to_system_time(rec.end),
                    attrs,
                    0,
                ));
                OtelStatus::error(message.to_owned())
            }
            Status::Unset | Status::Cancelled => OtelStatus::Unset,
        };
        if let Some(extra) = &rec.extra {
            for e in &extra.events {
                events.push(opentelemetry::trace::Event::new(
                    e.name.clone(),
                    clock::to_system_time(e.time),
                    e.attributes
                        .iter()
                        .map(|(k, v)| KeyValue::new(k.clone(), v))
                        .collect(),
                    0,
                ));
            }
        }
        if !out.content_event.is_empty() {
            events.push(opentelemetry::trace::Event::new(
                CONTENT_EVENT,
                clock::to_system_time(rec.end),
                std::mem::take(&mut out.content_event),
                0,
            ));
        }
        Mapped {
            name: span_name(rec),
            kind: span_kind(rec.kind()),
            attributes: out.attrs,
            events,
            status,
        }
    }

    fn common(&self, rec: &Record, out: &mut Out) {
        let kind = rec.kind();
        out.attr(gen_ai::OPERATION_NAME, operation_value(rec));
        let embeddings = kind == Kind::LlmCall && operation(rec) == "embeddings";
        if self.conventions.openinference {
            let oi_kind = match kind {
                Kind::Workflow => "CHAIN",
                Kind::LlmCall if embeddings => "EMBEDDING",
                Kind::LlmCall => "LLM",
                Kind::Retrieval => "RETRIEVER",
                Kind::Tool => "TOOL",
            };
            out.attr(oi::SPAN_KIND, oi_kind);
        }
        if self.conventions.langfuse {
            let lf_kind = match kind {
                Kind::Workflow => "chain",
                Kind::LlmCall if embeddings => "embedding",
                Kind::LlmCall => "generation",
                Kind::Retrieval => "retriever",
                Kind::Tool => "tool",
            };
            out.attr(langfuse::OBSERVATION_TYPE, lf_kind);
            if rec.parent_id == 0 {
                out.attr(langfuse::TRACE_NAME, span_name(rec));
            }
        }
        out.attr(
            gen_ai::CODE_FUNCTION_NAME,
            format!("{}::{}", rec.callsite.module_path, rec.callsite.fn_name),
        );
        if let Some(v) = rec.get(Field::ErrorType) {
            out.attr(gen_ai::ERROR_TYPE, v);
        }
        if rec.status == Status::Cancelled {
            out.attr(lt::CANCELLED, true);
        }
        if rec.flags & FLAG_TRUNCATED != 0 {
            out.attr(lt::CONTENT_TRUNCATED, true);
        }
        for (field, key) in [
            (Field::ServerAddress, gen_ai::SERVER_ADDRESS),
            (Field::ServerPort, gen_ai::SERVER_PORT),
            (Field::AgentName, gen_ai::AGENT_NAME),
            (Field::ConversationId, gen_ai::CONVERSATION_ID),
        ] {
            if let Some(v) = rec.get(field) {
                out.attr(key, v);
            }
        }
    }

    fn workflow(&self, rec: &Record, out: &mut Out) {
        out.attr(gen_ai::WORKFLOW_NAME, name(rec));
        self.io(rec, out, rec.get(Field::Input), rec.get(Field::Output));
    }

    fn llm_call(&self, rec: &Record, out: &mut Out) {
        let provider = rec.get(Field::Provider).and_then(Value::as_str);
        let model = rec.get(Field::Model).and_then(Value::as_str);
        if let Some(p) = provider {
            out.attr(gen_ai::PROVIDER_NAME, p.to_owned());
            if self.conventions.legacy {
                out.attr(legacy::SYSTEM, p.to_owned());
            }
        }
        if let Some(m) = model {
            out.attr(gen_ai::REQUEST_MODEL, m.to_owned());
        }
        let params: &[(Field, &str, &str)] = &[
            (
                Field::Temperature,
                gen_ai::REQUEST_TEMPERATURE,
                "temperature",
            ),
            (Field::MaxTokens, gen_ai::REQUEST_MAX_TOKENS, "max_tokens"),
            (Field::TopP, gen_ai::REQUEST_TOP_P, "top_p"),
            (Field::TopK, gen_ai::REQUEST_TOP_K, "top_k"),
            (
                Field::FrequencyPenalty,
                gen_ai::REQUEST_FREQUENCY_PENALTY,
                "frequency_penalty",
            ),
            (
                Field::PresencePenalty,
                gen_ai::REQUEST_PRESENCE_PENALTY,
                "presence_penalty",
            ),
            (Field::Seed, gen_ai::REQUEST_SEED, "seed"),
            (Field::StopSequences, gen_ai::REQUEST_STOP_SEQUENCES, "stop"),
            (Field::ChoiceCount, gen_ai::REQUEST_CHOICE_COUNT, "n"),
            (Field::Stream, gen_ai::REQUEST_STREAM, "stream"),
            (
                Field::ReasoningLevel,
                gen_ai::REQUEST_REASONING_LEVEL,
                "reasoning_effort",
            ),
        ];
        let mut invocation = Map::new();
        for (field, key, oi_name) in params {
            if let Some(v) = rec.get(*field) {
                out.attr(key, v);
                invocation.insert((*oi_name).to_owned(), to_json(v));
            }
        }
        for (field, key) in [
            (Field::OutputType, gen_ai::OUTPUT_TYPE),
            (Field::PromptName, gen_ai::PROMPT_NAME),
            (Field::PromptVersion, gen_ai::PROMPT_VERSION),
            (Field::ResponseModel, gen_ai::RESPONSE_MODEL),
            (Field::ResponseId, gen_ai::RESPONSE_ID),
            (Field::FinishReasons, gen_ai::RESPONSE_FINISH_REASONS),
            (
                Field::TimeToFirstChunk,
                gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK,
            ),
            (Field::ChunkCount, lt::STREAM_CHUNKS),
        ] {
            if let Some(v) = rec.get(field) {
                out.attr(key, v);
            }
        }
        if self.conventions.openinference {
            if let Some(m) = model {
                let key = if operation(rec) == "embeddings" {
                    oi::EMBEDDING_MODEL_NAME
                } else {
                    oi::LLM_MODEL_NAME
                };
                out.attr(key, m.to_owned());
            }
            if let Some(p) = provider {
                let (oi_provider, oi_system) = openinference_provider(p);
                out.attr(oi::LLM_PROVIDER, oi_provider.to_owned());
                if let Some(system) = oi_system {
                    out.attr(oi::LLM_SYSTEM, system);
                }
            }
            if !invocation.is_empty() {
                out.attr(
                    oi::LLM_INVOCATION_PARAMETERS,
                    Json::Object(invocation).to_string(),
                );
            }
            if let Some(first) = rec.get(Field::FinishReasons).and_then(first_of_list) {
                out.attr(oi::LLM_FINISH_REASON, first);
            }
        }
        if self.conventions.langfuse {
            for (field, key) in [
                (Field::PromptName, langfuse::OBSERVATION_PROMPT_NAME),
                (Field::PromptVersion, langfuse::OBSERVATION_PROMPT_VERSION),
            ] {
                if let Some(v) = rec.get(field) {
                    out.attr(key, v);
                }
            }
            if let Some(ttfc) = rec.get(Field::TimeToFirstChunk).and_then(Value::as_f64) {
                let at = clock::to_system_time(rec.start)
                    + std::time::Duration::from_secs_f64(ttfc.max(0.0));
                out.attr(langfuse::OBSERVATION_COMPLETION_START_TIME, iso8601(at));
            }
        }
        if let Some(v) = rec.get(Field::SystemInstructions) {
            out.content(gen_ai::SYSTEM_INSTRUCTIONS, v);
        }
        if let Some(v) = rec.get(Field::InputMessages) {
            out.content(gen_ai::INPUT_MESSAGES, v);
        }
        if let Some(v) = rec.get(Field::OutputMessages) {
            out.content(gen_ai::OUTPUT_MESSAGES, v);
        }
        // Langfuse and Phoenix read `input.value` / `output.value` before the GenAI messages:
        // give them the messages when there are any, the parameters and return value otherwise.
        let input = rec.get(Field::InputMessages).or(rec.get(Field::Input));
        let output = rec.get(Field::OutputMessages).or(rec.get(Field::Output));
        self.io(rec, out, input, output);
        self.usage(rec, out);
        self.cost(rec, out);
    }

    fn retrieval(&self, rec: &Record, out: &mut Out) {
        for (field, key) in [
            (Field::DataSource, gen_ai::DATA_SOURCE_ID),
            (Field::RetrievalTopK, gen_ai::RETRIEVAL_TOP_K),
            (Field::Provider, gen_ai::PROVIDER_NAME),
            (Field::Model, gen_ai::REQUEST_MODEL),
        ] {
            if let Some(v) = rec.get(field) {
                out.attr(key, v);
            }
        }
        let query = rec.get(Field::Query);
        if let Some(q) = query {
            out.content(gen_ai::RETRIEVAL_QUERY_TEXT, q);
        }
        let documents = rec
            .get(Field::Documents)
            .and_then(Value::as_str)
            .and_then(normalize_documents);
        if let Some(docs) = &documents {
            out.attr(lt::RETRIEVAL_DOCUMENT_COUNT, docs.len() as i64);
            out.content(
                gen_ai::RETRIEVAL_DOCUMENTS,
                Json::Array(docs.clone()).to_string(),
            );
            if self.conventions.openinference && out.content.captures() {
                for (i, doc) in docs.iter().enumerate() {
                    for field in ["id", "score", "content", "metadata"] {
                        let Some(v) = doc.get(field) else { continue };
                        let key =
                            format!("{}.{i}.document.{field}", oi::RETRIEVAL_DOCUMENTS_PREFIX);
                        let value: opentelemetry::Value = match v {
                            Json::String(s) => s.clone().into(),
                            Json::Number(n) if field == "score" => {
                                n.as_f64().unwrap_or_default().into()
                            }
                            other => other.to_string().into(),
                        };
                        out.content_kv(KeyValue::new(key, value));
                    }
                }
            }
        }
        let input = match query {
            Some(q) => Some(q),
            None => rec.get(Field::Input),
        };
        let output = rec.get(Field::Documents).or(rec.get(Field::Output));
        self.io(rec, out, input, output);
    }

    fn tool(&self, rec: &Record, out: &mut Out) {
        let name = name(rec);
        out.attr(gen_ai::TOOL_NAME, name.clone());
        out.attr(
            gen_ai::TOOL_TYPE,
            rec.get(Field::ToolType)
                .cloned()
                .unwrap_or(Value::Str("function")),
        );
        for (field, key) in [
            (Field::ToolDescription, gen_ai::TOOL_DESCRIPTION),
            (Field::ToolCallId, gen_ai::TOOL_CALL_ID),
        ] {
            if let Some(v) = rec.get(field) {
                out.attr(key, v);
            }
        }
        if let Some(args) = rec.get(Field::Input) {
            out.content(gen_ai::TOOL_CALL_ARGUMENTS, args);
        }
        if let Some(result) = rec.get(Field::Output) {
            out.content(gen_ai::TOOL_CALL_RESULT, result);
        }
        if self.conventions.openinference {
            out.attr(oi::TOOL_NAME, name);
            if let Some(d) = rec.get(Field::ToolDescription) {
                out.attr(oi::TOOL_DESCRIPTION, d);
            }
            if let Some(args) = rec.get(Field::Input) {
                out.content(oi::TOOL_PARAMETERS, args);
            }
        }
        self.io(rec, out, rec.get(Field::Input), rec.get(Field::Output));
    }

    /// `input.value` / `output.value` with their MIME types.
    fn io(&self, _rec: &Record, out: &mut Out, input: Option<&Value>, output: Option<&Value>) {
        if !self.conventions.openinference {
            return;
        }
        for (value, key, mime_key) in [
            (input, oi::INPUT_VALUE, oi::INPUT_MIME_TYPE),
            (output, oi::OUTPUT_VALUE, oi::OUTPUT_MIME_TYPE),
        ] {
            let Some(v) = value else { continue };
            let mime = if matches!(v, Value::Json(_)) {
                "application/json"
            } else {
                "text/plain"
            };
            if out.content(key, v) {
                out.attr(mime_key, mime);
            }
        }
    }

    fn usage(&self, rec: &Record, out: &mut Out) {
        let get = |f: Field| rec.get(f).and_then(Value::as_i64);
        let input = get(Field::InputTokens);
        let output = get(Field::OutputTokens);
        let cache_read = get(Field::CacheReadTokens);
        let cache_write = get(Field::CacheWriteTokens);
        let reasoning = get(Field::ReasoningTokens);
        if input.is_none() && output.is_none() {
            out.attr(lt::USAGE_MISSING, true);
        }
        let c = &self.conventions;
        let mut set = |key: &'static str, v: Option<i64>| {
            if let Some(v) = v {
                out.attr(key, v);
            }
        };
        set(gen_ai::USAGE_INPUT_TOKENS, input);
        set(gen_ai::USAGE_OUTPUT_TOKENS, output);
        set(gen_ai::USAGE_CACHE_READ_INPUT_TOKENS, cache_read);
        set(gen_ai::USAGE_CACHE_CREATION_INPUT_TOKENS, cache_write);
        set(gen_ai::USAGE_REASONING_OUTPUT_TOKENS, reasoning);
        if c.latest {
            set(gen_ai::USAGE_CACHE_WRITE_INPUT_TOKENS, cache_write);
        }
        if c.legacy {
            set(legacy::USAGE_PROMPT_TOKENS, input);
            set(legacy::USAGE_COMPLETION_TOKENS, output);
        }
        if c.openinference {
            set(oi::LLM_TOKEN_COUNT_PROMPT, input);
            set(oi::LLM_TOKEN_COUNT_COMPLETION, output);
            if input.is_some() || output.is_some() {
                set(
                    oi::LLM_TOKEN_COUNT_TOTAL,
                    Some(input.unwrap_or(0) + output.unwrap_or(0)),
                );
            }
            set(oi::LLM_TOKEN_COUNT_CACHE_READ, cache_read);
            set(oi::LLM_TOKEN_COUNT_CACHE_WRITE, cache_write);
            set(oi::LLM_TOKEN_COUNT_REASONING, reasoning);
        }
        if c.langfuse && (input.is_some() || output.is_some()) {
            // Langfuse takes this object as is; without it, it would sum every `gen_ai.usage.*`
            // key containing "input" and count cached tokens twice.
            let mut details = Map::new();
            let input_total = input.unwrap_or(0);
            let output_total = output.unwrap_or(0);
            let uncached = input_total - cache_read.unwrap_or(0) - cache_write.unwrap_or(0);
            details.insert("input".into(), uncached.max(0).into());
            details.insert(
                "output".into(),
                (output_total - reasoning.unwrap_or(0)).max(0).into(),
            );
            if let Some(v) = cache_read {
                details.insert("input_cached_tokens".into(), v.into());
            }
            if let Some(v) = cache_write {
                details.insert("input_cache_creation".into(), v.into());
            }
            if let Some(v) = reasoning {
                details.insert("output_reasoning_tokens".into(), v.into());
            }
            details.insert("total".into(), (input_total + output_total).into());
            out.attr(
                langfuse::OBSERVATION_USAGE_DETAILS,
                Json::Object(details).to_string(),
            );
        }
    }

    fn cost(&self, rec: &Record, out: &mut Out) {
        let get = |f: Field| rec.get(f).and_then(Value::as_f64);
        if rec.get(Field::Unpriced).is_some() {
            out.attr(lt::COST_UNPRICED, true);
        }
        let total = get(Field::CostTotal);
        let input = get(Field::CostInput);
        let output = get(Field::CostOutput);
        let cache_read = get(Field::CostCacheRead);
        let cache_write = get(Field::CostCacheWrite);
        if self.conventions.openinference {
            for (key, v) in [
                (oi::LLM_COST_TOTAL, total),
                (oi::LLM_COST_PROMPT, input),
                (oi::LLM_COST_COMPLETION, output),
                (oi::LLM_COST_CACHE_READ, cache_read),
                (oi::LLM_COST_CACHE_WRITE, cache_write),
            ] {
                if let Some(v) = v {
                    out.attr(key, v);
                }
            }
        }
        if self.conventions.langfuse && total.is_some() {
            let mut details = Map::new();
            for (name, v) in [
                ("input", input),
                ("output", output),
                ("input_cached_tokens", cache_read),
                ("input_cache_creation", cache_write),
                ("total", total),
            ] {
                if let Some(v) = v.and_then(serde_json::Number::from_f64) {
                    details.insert(name.into(), Json::Number(v));
                }
            }
            out.attr(
                langfuse::OBSERVATION_COST_DETAILS,
                Json::Object(details).to_string(),
            );
        }
    }

    fn rollup(&self, rec: &Record, out: &mut Out) {
        for (field, key) in [
            (Field::TraceInputTokens, lt::TRACE_INPUT_TOKENS),
            (Field::TraceOutputTokens, lt::TRACE_OUTPUT_TOKENS),
            (Field::TraceCost, lt::TRACE_COST_USD),
        ] {
            if let Some(v) = rec.get(field) {
                out.attr(key, v);
            }
        }
    }

    fn scope_attrs(&self, rec: &Record, out: &mut Out) {
        let Some(scope) = rec.scope.as_deref() else {
            return;
        };
        if let Some(s) = &scope.session_id {
            out.attr(oi::SESSION_ID, s.to_string());
        }
        if let Some(u) = &scope.user_id {
            out.attr(oi::USER_ID, u.to_string());
        }
        if let Some(c) = &scope.conversation_id {
            if rec.get(Field::ConversationId).is_none() {
                out.attr(gen_ai::CONVERSATION_ID, c.to_string());
            }
        }
        if !scope.tags.is_empty() {
            let tags: Vec<StringValue> = scope.tags.iter().map(|t| t.to_string().into()).collect();
            if self.conventions.openinference {
                out.attr(
                    oi::TAG_TAGS,
                    opentelemetry::Value::Array(tags.clone().into()),
                );
            }
            if self.conventions.langfuse {
                out.attr(
                    langfuse::TRACE_TAGS,
                    opentelemetry::Value::Array(tags.into()),
                );
            }
        }
        if !scope.metadata.is_empty() {
            let map: Map<String, Json> = scope
                .metadata
                .iter()
                .map(|(k, v)| (k.to_string(), to_json(v)))
                .collect();
            let json = Json::Object(map).to_string();
            if self.conventions.openinference {
                out.attr(oi::METADATA, json.clone());
            }
            if self.conventions.langfuse {
                out.attr(langfuse::TRACE_METADATA, json);
            }
        }
    }
}

fn span_events(events: Vec<opentelemetry::trace::Event>) -> SpanEvents {
    let mut out = SpanEvents::default();
    out.events = events;
    out
}

/// Custom attributes: literal ones from the macro, then those set at run time.
fn custom(rec: &Record, out: &mut Out) {
    for (k, v) in rec.callsite.custom {
        out.attr(k, v);
    }
    if let Some(extra) = &rec.extra {
        for (k, v) in &extra.custom {
            out.attrs.push(KeyValue::new(k.clone(), v));
        }
    }
}

/// The output of [`Mapper::map`].
#[derive(Debug)]
pub(crate) struct Mapped {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) events: Vec<opentelemetry::trace::Event>,
    pub(crate) status: OtelStatus,
}

/// Attributes being built, with content routed by the capture setting.
struct Out {
    attrs: Vec<KeyValue>,
    content_event: Vec<KeyValue>,
    content: ContentCapture,
}

impl Out {
    #[inline]
    fn attr(&mut self, key: &'static str, value: impl Into<opentelemetry::Value>) {
        self.attrs.push(KeyValue::new(key, value));
    }

    /// A content attribute: on the span, on the content event, both or neither. Returns whether
    /// it went on the span.
    fn content(&mut self, key: &'static str, value: impl Into<opentelemetry::Value>) -> bool {
        self.content_kv(KeyValue::new(key, value))
    }

    fn content_kv(&mut self, kv: KeyValue) -> bool {
        match self.content {
            ContentCapture::NoContent => false,
            ContentCapture::SpanOnly => {
                self.attrs.push(kv);
                true
            }
            ContentCapture::EventOnly => {
                self.content_event.push(kv);
                false
            }
            ContentCapture::SpanAndEvent => {
                self.content_event.push(kv.clone());
                self.attrs.push(kv);
                true
            }
        }
    }
}

fn operation(rec: &Record) -> &str {
    match rec.kind() {
        Kind::Workflow => "invoke_workflow",
        Kind::LlmCall => rec
            .get(Field::Operation)
            .and_then(Value::as_str)
            .unwrap_or("chat"),
        Kind::Retrieval => "retrieval",
        Kind::Tool => "execute_tool",
    }
}

fn operation_value(rec: &Record) -> Value {
    match rec.kind() {
        Kind::Workflow => Value::Str("invoke_workflow"),
        Kind::LlmCall => rec
            .get(Field::Operation)
            .cloned()
            .unwrap_or(Value::Str("chat")),
        Kind::Retrieval => Value::Str("retrieval"),
        Kind::Tool => Value::Str("execute_tool"),
    }
}

/// The workflow or tool name: given to the macro, or the function's name.
fn name(rec: &Record) -> String {
    rec.get(Field::Name)
        .and_then(Value::as_str)
        .unwrap_or(rec.callsite.fn_name)
        .to_owned()
}

/// The span name, per the GenAI conventions: `{operation} {model}`, `retrieval {data_source}`,
/// `execute_tool {name}`, `invoke_workflow {name}`.
pub(crate) fn span_name(rec: &Record) -> Cow<'static, str> {
    let dynamic = rec.attrs.iter().any(|(f, _)| {
        matches!(
            f,
            Field::Name | Field::Model | Field::Operation | Field::DataSource
        )
    });
    if !dynamic {
        let cached = rec.callsite.cache.get_or_init(|| CallsiteAttrs {
            name: Some(Box::leak(build_name(rec).into_boxed_str())),
        });
        if let Some(name) = cached.name {
            return Cow::Borrowed(name);
        }
    }
    Cow::Owned(build_name(rec))
}

fn build_name(rec: &Record) -> String {
    let suffix = match rec.kind() {
        Kind::Workflow | Kind::Tool => Some(name(rec)),
        Kind::LlmCall => rec
            .get(Field::Model)
            .and_then(Value::as_str)
            .map(str::to_owned),
        Kind::Retrieval => rec
            .get(Field::DataSource)
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    match suffix {
        Some(s) if !s.is_empty() => format!("{} {s}", operation(rec)),
        _ => operation(rec).to_owned(),
    }
}

fn span_kind(kind: Kind) -> SpanKind {
    match kind {
        Kind::LlmCall | Kind::Retrieval => SpanKind::Client,
        Kind::Workflow | Kind::Tool => SpanKind::Internal,
    }
}

/// OpenInference's `llm.provider` and `llm.system` for a `gen_ai.provider.name`.
fn openinference_provider(provider: &str) -> (&str, Option<&'static str>) {
    match provider {
        "openai" => ("openai", Some("openai")),
        "azure.ai.openai" => ("azure", Some("openai")),
        "azure.ai.inference" => ("azure", None),
        "anthropic" => ("anthropic", Some("anthropic")),
        "aws.bedrock" => ("aws", None),
        "gcp.vertex_ai" => ("google", Some("vertexai")),
        "gcp.gemini" | "gcp.gen_ai" => ("google", None),
        "x_ai" => ("xai", Some("xai")),
        "mistral_ai" => ("mistralai", Some("mistralai")),
        "cohere" => ("cohere", Some("cohere")),
        "deepseek" => ("deepseek", Some("deepseek")),
        other => (other, None),
    }
}

fn first_of_list(v: &Value) -> Option<String> {
    match v {
        Value::StrList(l) => l.first().map(|s| (*s).to_owned()),
        Value::StringList(l) => l.first().map(|s| s.to_string()),
        _ => None,
    }
}

fn to_json(v: &Value) -> Json {
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

/// Normalises retrieved documents to `{"id", "score", "content", "metadata"}` objects, reading
/// those fields by name; a string item is the content. Every document gets an `id` (its
/// position when it has none), as Phoenix requires one.
fn normalize_documents(json: &str) -> Option<Vec<Json>> {
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
fn iso8601(t: std::time::SystemTime) -> String {
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
}
