//! The one pure mapper: a finished record in, span name, kind, attributes, events and status
//! out, for every export mode and conventions profile.
//!
//! It runs off the caller's thread in native mode, so the JSON work (invocation parameters,
//! document normalisation, usage details) happens here rather than on the hot path. Attributes
//! split in two: the request side depends only on the macro's arguments, and when those are all
//! literals it is computed once per function and cloned; the response side (usage, cost,
//! content, errors, scope) is built per span, moving content out of the record.

use std::borrow::Cow;
use std::sync::Arc;

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status as OtelStatus, TraceFlags};
use opentelemetry::trace::{TraceId, TraceState};
use opentelemetry::{InstrumentationScope, KeyValue, StringValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use serde_json::{Map, Value as Json};

mod format;

use crate::record::{
    self, Callsite, CallsiteCache, FLAG_PARENT_EXTERNAL, FLAG_PARENT_REMOTE, FLAG_TRUNCATED, Field,
    Kind, Record, Status, Value, clock,
};
use crate::semconv::Conventions;
use crate::semconv::keys::{gen_ai, langfuse, legacy, llmtrace as lt, openinference as oi};
use crate::state::ContentCapture;
use format::Tokens;

/// Turns records into spans. One per installed pipeline.
#[derive(Debug)]
pub(crate) struct Mapper {
    conventions: Conventions,
    content: ContentCapture,
    resource: Resource,
    scope: InstrumentationScope,
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

    /// The span name of a callsite's spans, from its literal arguments (a name that depends on
    /// run-time values is known only when the span ends).
    pub(crate) fn callsite_name(&self, callsite: &'static Callsite) -> &'static str {
        callsite
            .cache
            .get_or_init(|| self.callsite_attrs(callsite))
            .name
    }

    /// The exportable span of a finished record. `scratch` is reused from call to call so the
    /// attributes are collected once and allocated at their exact size.
    pub(crate) fn to_span_data(&self, rec: &mut Record, scratch: &mut Vec<KeyValue>) -> SpanData {
        let parent_span_id = if rec.parent_id == 0 {
            SpanId::INVALID
        } else {
            SpanId::from(rec.parent_id)
        };
        let span_context = SpanContext::new(
            TraceId::from(rec.trace_id),
            SpanId::from(rec.span_id),
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        );
        let (start, end, remote) = (rec.start, rec.end, rec.flags & FLAG_PARENT_REMOTE != 0);
        let mapped = self.map(rec, scratch);
        let mut events = SpanEvents::default();
        events.events = mapped.events;
        SpanData {
            span_context,
            parent_span_id,
            parent_span_is_remote: remote,
            span_kind: mapped.kind,
            name: mapped.name,
            start_time: clock::to_system_time(start),
            end_time: clock::to_system_time(end),
            attributes: mapped.attributes,
            dropped_attributes_count: 0,
            events,
            links: SpanLinks::default(),
            status: mapped.status,
            instrumentation_scope: self.scope.clone(),
        }
    }

    /// Name, kind, attributes, events and status of a record.
    pub(crate) fn map(&self, rec: &mut Record, scratch: &mut Vec<KeyValue>) -> Mapped {
        scratch.clear();
        let mut out = Out {
            attrs: std::mem::take(scratch),
            content_event: Vec::new(),
            content: self.content,
        };
        let callsite = rec.callsite;
        let name = if rec.attrs.iter().any(|(f, _)| is_request_field(*f)) {
            self.request(rec, &mut out);
            Cow::Owned(build_name(rec))
        } else {
            let cached = callsite.cache.get_or_init(|| self.callsite_attrs(callsite));
            out.attrs.extend(cached.request.iter().cloned());
            Cow::Borrowed(cached.name)
        };
        // A workflow at the root names the Langfuse trace after itself, not its span name.
        if self.conventions.langfuse && rec.parent_id == 0 && callsite.kind == Kind::Workflow {
            out.attr(langfuse::TRACE_NAME, name_value(rec));
        }
        let (kind, status, flags, start) = (rec.kind(), rec.status, rec.flags, rec.start);
        let mut response = Response::index(rec);
        let error_type = response.take(Field::ErrorType);
        if let Some(v) = &error_type {
            out.attr(gen_ai::ERROR_TYPE, v);
        }
        if status == Status::Cancelled {
            out.attr(lt::CANCELLED, true);
        }
        if flags & FLAG_TRUNCATED != 0 {
            out.attr(lt::CONTENT_TRUNCATED, true);
        }
        // The parent is not llmtrace's: readers of the spans (the console) cannot wait for it.
        if flags & FLAG_PARENT_EXTERNAL != 0 {
            out.attr(lt::PARENT_EXTERNAL, true);
        }
        self.response(kind, start, response, &mut out);
        self.scope_attrs(rec, &mut out);
        for (k, v) in rec.callsite.custom {
            out.attr(k, v);
        }
        if let Some(extra) = &mut rec.extra {
            for (k, v) in std::mem::take(&mut extra.custom) {
                out.attrs.push(KeyValue::new(k, v));
            }
        }
        let (status, mut events) = self.status_and_events(rec, error_type);
        if !out.content_event.is_empty() {
            events.push(opentelemetry::trace::Event::new(
                CONTENT_EVENT,
                clock::to_system_time(rec.end),
                std::mem::take(&mut out.content_event),
                0,
            ));
        }
        // Exactly sized: small attribute lists stay within the allocator's thread cache.
        let attributes = out.attrs.drain(..).collect();
        *scratch = out.attrs;
        Mapped {
            name,
            kind: span_kind(callsite.kind),
            attributes,
            events,
            status,
        }
    }

    fn callsite_attrs(&self, callsite: &'static Callsite) -> CallsiteCache {
        let dummy = Record::new(callsite, 0, 0, 0, None, 0);
        let mut out = Out {
            attrs: Vec::new(),
            content_event: Vec::new(),
            content: self.content,
        };
        self.request(&dummy, &mut out);
        CallsiteCache {
            name: Box::leak(build_name(&dummy).into_boxed_str()),
            request: out.attrs,
        }
    }

    // ---- request side: the macro's arguments ---------------------------------------------

    fn request(&self, rec: &Record, out: &mut Out) {
        let kind = rec.kind();
        let embeddings = kind == Kind::LlmCall && operation(rec) == "embeddings";
        out.attr(gen_ai::OPERATION_NAME, operation_value(rec));
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
        // Langfuse types model calls and tools from the GenAI operation (or the OpenInference
        // kind); workflows and retrievals it does not map, so those say it themselves.
        if self.conventions.langfuse {
            match kind {
                Kind::Workflow => out.attr(langfuse::OBSERVATION_TYPE, "chain"),
                Kind::Retrieval => out.attr(langfuse::OBSERVATION_TYPE, "retriever"),
                Kind::LlmCall | Kind::Tool => {}
            }
        }
        out.copy(
            rec,
            &[
                (Field::ServerAddress, gen_ai::SERVER_ADDRESS),
                (Field::ServerPort, gen_ai::SERVER_PORT),
                (Field::AgentName, gen_ai::AGENT_NAME),
                (Field::ConversationId, gen_ai::CONVERSATION_ID),
            ],
        );
        match kind {
            Kind::Workflow => out.attr(gen_ai::WORKFLOW_NAME, name_value(rec)),
            Kind::LlmCall => self.llm_request(rec, out),
            Kind::Retrieval => out.copy(
                rec,
                &[
                    (Field::DataSource, gen_ai::DATA_SOURCE_ID),
                    (Field::RetrievalTopK, gen_ai::RETRIEVAL_TOP_K),
                    (Field::Provider, gen_ai::PROVIDER_NAME),
                    (Field::Model, gen_ai::REQUEST_MODEL),
                ],
            ),
            Kind::Tool => {
                let name = name_value(rec);
                out.attr(gen_ai::TOOL_NAME, name.clone());
                out.attr(
                    gen_ai::TOOL_TYPE,
                    rec.get(Field::ToolType)
                        .cloned()
                        .unwrap_or(Value::Str("function")),
                );
                out.copy(
                    rec,
                    &[
                        (Field::ToolDescription, gen_ai::TOOL_DESCRIPTION),
                        (Field::ToolCallId, gen_ai::TOOL_CALL_ID),
                    ],
                );
                if self.conventions.openinference_full {
                    out.attr(oi::TOOL_NAME, name);
                    out.copy(rec, &[(Field::ToolDescription, oi::TOOL_DESCRIPTION)]);
                }
            }
        }
    }

    fn llm_request(&self, rec: &Record, out: &mut Out) {
        let provider = rec.get(Field::Provider);
        let model = rec.get(Field::Model);
        if let Some(p) = provider {
            out.attr(gen_ai::PROVIDER_NAME, p);
            if self.conventions.legacy {
                out.attr(legacy::SYSTEM, p);
            }
        }
        if let Some(m) = model {
            out.attr(gen_ai::REQUEST_MODEL, m);
        }
        const PARAMS: &[(Field, &str, &str)] = &[
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
        for (field, key, oi_name) in PARAMS {
            if let Some(v) = rec.get(*field) {
                out.attr(key, v);
                if self.conventions.openinference_full {
                    invocation.insert((*oi_name).to_owned(), format::to_json(v));
                }
            }
        }
        out.copy(
            rec,
            &[
                (Field::OutputType, gen_ai::OUTPUT_TYPE),
                (Field::PromptName, gen_ai::PROMPT_NAME),
                (Field::PromptVersion, gen_ai::PROMPT_VERSION),
            ],
        );
        if self.conventions.openinference_full {
            if let Some(m) = model {
                let key = if operation(rec) == "embeddings" {
                    oi::EMBEDDING_MODEL_NAME
                } else {
                    oi::LLM_MODEL_NAME
                };
                out.attr(key, m);
            }
            if let Some(p) = provider.and_then(Value::as_str) {
                let (oi_provider, oi_system) = format::openinference_provider(p);
                match oi_provider {
                    Cow::Borrowed(known) => out.attr(oi::LLM_PROVIDER, known),
                    Cow::Owned(other) => out.attr(oi::LLM_PROVIDER, other),
                }
                if let Some(system) = oi_system {
                    out.attr(oi::LLM_SYSTEM, system);
                }
            }
            if !invocation.is_empty() {
                out.attr(
                    oi::LLM_INVOCATION_PARAMETERS,
                    shared(Json::Object(invocation).to_string()),
                );
            }
        }
        if self.conventions.langfuse {
            out.copy(
                rec,
                &[
                    (Field::PromptName, langfuse::OBSERVATION_PROMPT_NAME),
                    (Field::PromptVersion, langfuse::OBSERVATION_PROMPT_VERSION),
                ],
            );
        }
    }

    // ---- response side: what happened ----------------------------------------------------

    fn response(&self, kind: Kind, start: u64, mut r: Response<'_>, out: &mut Out) {
        for (key, field) in [
            (lt::TRACE_INPUT_TOKENS, Field::TraceInputTokens),
            (lt::TRACE_OUTPUT_TOKENS, Field::TraceOutputTokens),
            (lt::TRACE_COST_USD, Field::TraceCost),
            (lt::TRACE_UNPRICED_CALLS, Field::TraceUnpricedCalls),
        ] {
            if let Some(v) = r.get(field) {
                out.attr(key, v);
            }
        }
        match kind {
            Kind::Workflow => {
                let (input, output) = (r.take(Field::Input), r.take(Field::Output));
                self.io_values(out, input.map(Io::from), output.map(Io::from));
            }
            Kind::LlmCall => self.llm_response(start, r, out),
            Kind::Retrieval => self.retrieval_response(r, out),
            Kind::Tool => self.tool_response(r, out),
        }
    }

    fn llm_response(&self, start: u64, mut r: Response<'_>, out: &mut Out) {
        for (key, field) in [
            (gen_ai::RESPONSE_MODEL, Field::ResponseModel),
            (gen_ai::RESPONSE_ID, Field::ResponseId),
            (lt::STREAM_CHUNKS, Field::ChunkCount),
        ] {
            if let Some(v) = r.take(field) {
                out.attr(key, v);
            }
        }
        if let Some(v) = r.take(Field::FinishReasons) {
            if self.conventions.openinference_full {
                if let Some(first) = format::first_of_list(&v) {
                    out.attr(oi::LLM_FINISH_REASON, first);
                }
            }
            out.attr(gen_ai::RESPONSE_FINISH_REASONS, v);
        }
        if let Some(ttfc) = r.f64(Field::TimeToFirstChunk) {
            out.attr(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK, ttfc);
            if self.conventions.langfuse {
                let at = clock::to_system_time(start)
                    + std::time::Duration::from_secs_f64(ttfc.max(0.0));
                out.attr(
                    langfuse::OBSERVATION_COMPLETION_START_TIME,
                    format::iso8601(at),
                );
            }
        }
        self.usage(&r.tokens(), out);
        self.cost(&r, out);
        if let Some(v) = r.take(Field::SystemInstructions) {
            out.content(gen_ai::SYSTEM_INSTRUCTIONS, v);
        }
        let input_messages = r.take(Field::InputMessages).map(shared_value);
        let output_messages = r.take(Field::OutputMessages).map(shared_value);
        if let Some(v) = &input_messages {
            out.content(gen_ai::INPUT_MESSAGES, v.clone());
        }
        if let Some(v) = &output_messages {
            out.content(gen_ai::OUTPUT_MESSAGES, v.clone());
        }
        // Langfuse and Phoenix read `input.value` / `output.value` before the GenAI messages:
        // give them the messages when there are any, the parameters and return value otherwise.
        let input = match input_messages {
            Some(m) => Some(Io::Json(m)),
            None => r.take(Field::Input).map(Io::from),
        };
        let output = match output_messages {
            Some(m) => Some(Io::Json(m)),
            None => r.take(Field::Output).map(Io::from),
        };
        self.io_values(out, input, output);
    }

    fn retrieval_response(&self, mut r: Response<'_>, out: &mut Out) {
        let query = r.take(Field::Query).map(shared_value);
        if let Some(q) = &query {
            out.content(gen_ai::RETRIEVAL_QUERY_TEXT, q.clone());
        }
        let raw = r.take(Field::Documents);
        let documents = raw
            .as_ref()
            .and_then(Value::as_str)
            .and_then(format::normalize_documents);
        let mut output = raw.map(Io::from);
        if let Some(docs) = documents {
            out.attr(lt::RETRIEVAL_DOCUMENT_COUNT, docs.len() as i64);
            if out.content.captures() {
                if self.conventions.openinference {
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
                let json = shared(Json::Array(docs).to_string());
                out.content(gen_ai::RETRIEVAL_DOCUMENTS, json.clone());
                output = Some(Io::Json(json));
            }
        }
        let input = match query {
            Some(q) => Some(Io::Text(q)),
            None => r.take(Field::Input).map(Io::from),
        };
        let output = output.or_else(|| r.take(Field::Output).map(Io::from));
        self.io_values(out, input, output);
    }

    fn tool_response(&self, mut r: Response<'_>, out: &mut Out) {
        let args = r.take(Field::Input).map(shared_value);
        let result = r.take(Field::Output).map(shared_value);
        if let Some(a) = &args {
            out.content(gen_ai::TOOL_CALL_ARGUMENTS, a.clone());
            if self.conventions.openinference_full {
                out.content(oi::TOOL_PARAMETERS, a.clone());
            }
        }
        if let Some(v) = &result {
            out.content(gen_ai::TOOL_CALL_RESULT, v.clone());
        }
        self.io_values(out, args.map(Io::Json), result.map(Io::Json));
    }

    /// `input.value` / `output.value` with their MIME types.
    fn io_values(&self, out: &mut Out, input: Option<Io>, output: Option<Io>) {
        if !self.conventions.openinference {
            return;
        }
        for (value, key, mime_key) in [
            (input, oi::INPUT_VALUE, oi::INPUT_MIME_TYPE),
            (output, oi::OUTPUT_VALUE, oi::OUTPUT_MIME_TYPE),
        ] {
            let Some(io) = value else { continue };
            let (value, mime) = match io {
                Io::Json(v) => (v, "application/json"),
                Io::Text(v) => (v, "text/plain"),
            };
            if out.content(key, value) {
                out.attr(mime_key, mime);
            }
        }
    }

    fn usage(&self, t: &Tokens, out: &mut Out) {
        if t.input.is_none() && t.output.is_none() {
            out.attr(lt::USAGE_MISSING, true);
            return;
        }
        let c = &self.conventions;
        let mut set = |key: &'static str, v: Option<i64>| {
            if let Some(v) = v {
                out.attr(key, v);
            }
        };
        set(gen_ai::USAGE_INPUT_TOKENS, t.input);
        set(gen_ai::USAGE_OUTPUT_TOKENS, t.output);
        set(gen_ai::USAGE_CACHE_READ_INPUT_TOKENS, t.cache_read);
        set(gen_ai::USAGE_CACHE_CREATION_INPUT_TOKENS, t.cache_write);
        set(gen_ai::USAGE_REASONING_OUTPUT_TOKENS, t.reasoning);
        if c.latest {
            set(gen_ai::USAGE_CACHE_WRITE_INPUT_TOKENS, t.cache_write);
        }
        if c.legacy {
            set(legacy::USAGE_PROMPT_TOKENS, t.input);
            set(legacy::USAGE_COMPLETION_TOKENS, t.output);
        }
        if c.openinference_full {
            set(oi::LLM_TOKEN_COUNT_PROMPT, t.input);
            set(oi::LLM_TOKEN_COUNT_COMPLETION, t.output);
            set(
                oi::LLM_TOKEN_COUNT_TOTAL,
                Some(t.input.unwrap_or(0) + t.output.unwrap_or(0)),
            );
            set(oi::LLM_TOKEN_COUNT_CACHE_READ, t.cache_read);
            set(oi::LLM_TOKEN_COUNT_CACHE_WRITE, t.cache_write);
        }
        // Phoenix does not derive reasoning tokens from the GenAI name.
        if c.openinference {
            set(oi::LLM_TOKEN_COUNT_REASONING, t.reasoning);
        }
        // With cache or reasoning counts (or the newest names), Langfuse would count some
        // tokens twice from the individual keys: give it the exact breakdown instead.
        let breakdown = t.cache_read.is_some() || t.cache_write.is_some() || t.reasoning.is_some();
        if c.langfuse && (breakdown || c.latest) {
            out.attr(
                langfuse::OBSERVATION_USAGE_DETAILS,
                format::langfuse_usage_details(t),
            );
        }
    }

    fn cost(&self, r: &Response<'_>, out: &mut Out) {
        if r.get(Field::Unpriced).is_some() {
            out.attr(lt::COST_UNPRICED, true);
        }
        let total = r.f64(Field::CostTotal);
        let parts = [
            ("input", r.f64(Field::CostInput)),
            ("output", r.f64(Field::CostOutput)),
            ("input_cached_tokens", r.f64(Field::CostCacheRead)),
            ("input_cache_creation", r.f64(Field::CostCacheWrite)),
        ];
        // `llm.cost.*` are the cost keys whatever the profile: the GenAI conventions define none,
        // and Phoenix, Langfuse and the console tree read these.
        for (key, v) in [
            (oi::LLM_COST_TOTAL, total),
            (oi::LLM_COST_PROMPT, parts[0].1),
            (oi::LLM_COST_COMPLETION, parts[1].1),
            (oi::LLM_COST_CACHE_READ, parts[2].1),
            (oi::LLM_COST_CACHE_WRITE, parts[3].1),
        ] {
            if let Some(v) = v {
                out.attr(key, v);
            }
        }
        // Langfuse reads a lone total from `llm.cost.total`; the details object is for
        // breakdowns. Its `input` is the uncached input, as in the usage details: the cache
        // parts, when known, are taken out of the input cost they are part of.
        if self.conventions.langfuse && parts.iter().any(|(_, v)| v.is_some()) {
            let mut all = parts.to_vec();
            if let Some(input) = all[0].1 {
                let cached = all[2].1.unwrap_or(0.0) + all[3].1.unwrap_or(0.0);
                all[0].1 = Some((input - cached).max(0.0));
            }
            all.push(("total", total));
            out.attr(
                langfuse::OBSERVATION_COST_DETAILS,
                format::langfuse_cost_details(&all),
            );
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
                .map(|(k, v)| (k.to_string(), format::to_json(v)))
                .collect();
            let json = shared(Json::Object(map).to_string());
            if self.conventions.openinference {
                out.attr(oi::METADATA, json.clone());
            }
            if self.conventions.langfuse {
                out.attr(langfuse::TRACE_METADATA, json);
            }
        }
    }

    fn status_and_events(
        &self,
        rec: &mut Record,
        error_type: Option<Value>,
    ) -> (OtelStatus, Vec<opentelemetry::trace::Event>) {
        let mut events = Vec::new();
        let status = match rec.status {
            Status::Error => {
                let message: String = rec
                    .extra
                    .as_mut()
                    .and_then(|e| e.status_message.take())
                    .map(String::from)
                    .unwrap_or_default();
                let error_type = error_type.unwrap_or(Value::Str("_OTHER"));
                let mut attrs = vec![KeyValue::new(gen_ai::EXCEPTION_TYPE, error_type)];
                if !message.is_empty() {
                    attrs.push(KeyValue::new(gen_ai::EXCEPTION_MESSAGE, message.clone()));
                }
                events.push(opentelemetry::trace::Event::new(
                    "exception",
                    clock::to_system_time(rec.end),
                    attrs,
                    0,
                ));
                OtelStatus::error(message)
            }
            Status::Unset | Status::Cancelled => OtelStatus::Unset,
        };
        if let Some(extra) = &mut rec.extra {
            for e in std::mem::take(&mut extra.events) {
                events.push(opentelemetry::trace::Event::new(
                    e.name,
                    clock::to_system_time(e.time),
                    e.attributes
                        .into_iter()
                        .map(|(k, v)| KeyValue::new(k, v))
                        .collect(),
                    0,
                ));
            }
        }
        (status, events)
    }
}

/// Where each run-time field sits in a record's attributes, found in one pass, so the response
/// side reads every field in constant time and moves content out without copying it.
struct Response<'a> {
    attrs: &'a mut [(Field, Value)],
    tokens: record::Tokens,
    pos: [u8; Field::COUNT],
}

impl<'a> Response<'a> {
    fn index(rec: &'a mut Record) -> Self {
        let mut pos = [u8::MAX; Field::COUNT];
        for (i, (field, _)) in rec.attrs.iter().enumerate().take(usize::from(u8::MAX)) {
            pos[*field as usize] = i as u8;
        }
        Response {
            attrs: &mut rec.attrs,
            tokens: rec.tokens,
            pos,
        }
    }

    fn get(&self, field: Field) -> Option<&Value> {
        match self.pos[field as usize] {
            u8::MAX => None,
            i => Some(&self.attrs[usize::from(i)].1),
        }
    }

    fn f64(&self, field: Field) -> Option<f64> {
        self.get(field).and_then(Value::as_f64)
    }

    /// Moves a value out (content is moved, not copied).
    fn take(&mut self, field: Field) -> Option<Value> {
        match std::mem::replace(&mut self.pos[field as usize], u8::MAX) {
            u8::MAX => None,
            i => Some(std::mem::replace(
                &mut self.attrs[usize::from(i)].1,
                Value::Bool(false),
            )),
        }
    }

    fn tokens(&self) -> Tokens {
        let count = |field| self.tokens.get(field).map(|n| n as i64);
        // Breakdowns are recorded only when non-zero (GenAI conventions): a provider reporting
        // `cached_tokens: 0` on every response would otherwise fill every span with zeros.
        let part = |field| count(field).filter(|n| *n != 0);
        Tokens {
            input: count(Field::InputTokens),
            output: count(Field::OutputTokens),
            cache_read: part(Field::CacheReadTokens),
            cache_write: part(Field::CacheWriteTokens),
            reasoning: part(Field::ReasoningTokens),
        }
    }
}

/// `input.value` content with its MIME type.
enum Io {
    Json(opentelemetry::Value),
    Text(opentelemetry::Value),
}

impl From<Value> for Io {
    fn from(v: Value) -> Self {
        match v {
            Value::Json(_) => Io::Json(v.into()),
            other => Io::Text(other.into()),
        }
    }
}

/// Fields that come from the macro's arguments: when one is set at run time, the request side
/// cannot be taken from the callsite's cache.
fn is_request_field(f: Field) -> bool {
    matches!(
        f,
        Field::Name
            | Field::Operation
            | Field::Provider
            | Field::Model
            | Field::Temperature
            | Field::MaxTokens
            | Field::TopP
            | Field::TopK
            | Field::FrequencyPenalty
            | Field::PresencePenalty
            | Field::Seed
            | Field::StopSequences
            | Field::ChoiceCount
            | Field::ReasoningLevel
            | Field::OutputType
            | Field::PromptName
            | Field::PromptVersion
            | Field::ServerAddress
            | Field::ServerPort
            | Field::Stream
            | Field::ConversationId
            | Field::DataSource
            | Field::RetrievalTopK
            | Field::ToolDescription
            | Field::ToolType
            | Field::ToolCallId
            | Field::AgentName
    )
}

/// A string that will be cloned: reference-counted, so clones do not copy it.
fn shared(s: String) -> opentelemetry::Value {
    opentelemetry::Value::String(StringValue::from(Arc::<str>::from(s)))
}

/// Content that goes on more than one key.
fn shared_value(v: Value) -> opentelemetry::Value {
    match v {
        Value::String(s) | Value::Json(s) => {
            opentelemetry::Value::String(StringValue::from(Arc::<str>::from(s)))
        }
        other => other.into(),
    }
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

    /// Copies the fields that are set.
    fn copy(&mut self, rec: &Record, fields: &[(Field, &'static str)]) {
        for (field, key) in fields {
            if let Some(v) = rec.get(*field) {
                self.attr(key, v);
            }
        }
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
        Kind::LlmCall => rec
            .get(Field::Operation)
            .cloned()
            .unwrap_or(Value::Str("chat")),
        Kind::Workflow => Value::Str("invoke_workflow"),
        Kind::Retrieval => Value::Str("retrieval"),
        Kind::Tool => Value::Str("execute_tool"),
    }
}

/// The workflow or tool name: given to the macro, or the function's name.
fn name_value(rec: &Record) -> Value {
    rec.get(Field::Name)
        .cloned()
        .unwrap_or(Value::Str(rec.callsite.fn_name))
}

/// The span name, per the GenAI conventions: `{operation} {model}`, `retrieval {data_source}`,
/// `execute_tool {name}`, `invoke_workflow {name}`.
fn build_name(rec: &Record) -> String {
    let suffix = match rec.kind() {
        Kind::Workflow | Kind::Tool => rec
            .get(Field::Name)
            .and_then(Value::as_str)
            .or(Some(rec.callsite.fn_name)),
        Kind::LlmCall => rec.get(Field::Model).and_then(Value::as_str),
        Kind::Retrieval => rec.get(Field::DataSource).and_then(Value::as_str),
    };
    match suffix {
        Some(s) if !s.is_empty() => format!("{} {s}", operation(rec)),
        _ => operation(rec).to_owned(),
    }
}

/// The OpenTelemetry span kind of an llmtrace kind.
pub(crate) fn span_kind(kind: Kind) -> SpanKind {
    match kind {
        Kind::LlmCall | Kind::Retrieval => SpanKind::Client,
        Kind::Workflow | Kind::Tool => SpanKind::Internal,
    }
}
