//! What the explorer reads from one span: its identity and times, and the GenAI attributes every
//! command asks about, read in one pass over the attributes.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

use llmtrace_runtime::semconv::keys::{gen_ai, llmtrace as lt, openinference as oi};

use crate::otlp::{self, AnyValue, KeyValue};

/// A span as every command sees it: borrowed from the line it was read from.
#[derive(Debug)]
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
    /// `gen_ai.tool.call.arguments` (or the tool's `input.value`).
    pub(crate) tool_arguments: Option<&'a str>,
    /// `gen_ai.tool.call.result`.
    pub(crate) tool_result: Option<&'a str>,
    /// `gen_ai.input.messages` (or the model call's `input.value`).
    pub(crate) input_messages: Option<&'a str>,
    /// `gen_ai.output.messages`.
    pub(crate) output_messages: Option<&'a str>,
    /// Every attribute, for `--where` and `show --span`.
    pub(crate) attributes: &'a [KeyValue<'a>],
    /// The resource's attributes (service name, ...).
    pub(crate) resource: &'a [KeyValue<'a>],
    /// The span's events.
    pub(crate) events: &'a [otlp::Event<'a>],
    /// The span's links.
    pub(crate) links: &'a [otlp::Link<'a>],
    /// The first attribute whose value type is unknown, with that type.
    pub(crate) unknown_type: Option<(&'a str, &'a str)>,
}

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
            tool_arguments: None,
            tool_result: None,
            input_messages: None,
            output_messages: None,
            attributes: &span.attributes,
            resource,
            events: &span.events,
            links: &span.links,
            unknown_type: None,
        };
        let mut input_value = None;
        let mut documents_json = None;
        let mut aggregate = false;
        for kv in &span.attributes {
            let v = &kv.value;
            let key: &str = &kv.key;
            if f.unknown_type.is_none() {
                if let Some(t) = v.unknown_type() {
                    f.unknown_type = Some((key, t));
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
                gen_ai::TOOL_CALL_ARGUMENTS => f.tool_arguments = str_of(v),
                gen_ai::TOOL_CALL_RESULT => f.tool_result = str_of(v),
                gen_ai::INPUT_MESSAGES => f.input_messages = str_of(v),
                gen_ai::OUTPUT_MESSAGES => f.output_messages = str_of(v),
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
            OpKind::Tool => f.tool_arguments = f.tool_arguments.or(input_value),
            OpKind::Model => f.input_messages = f.input_messages.or(input_value),
            _ => {}
        }
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

    /// The service that wrote the span (`service.name` of its resource).
    pub(crate) fn service(&self) -> Option<&'a str> {
        self.resource
            .iter()
            .find(|kv| kv.key == "service.name")
            .and_then(|kv| kv.value.as_str())
    }

    /// The value of attribute `key` as text (the last one set wins), looking at the span's
    /// attributes, then its resource's.
    pub(crate) fn attribute_text(&self, key: &str) -> Option<String> {
        self.attributes
            .iter()
            .rev()
            .chain(self.resource.iter().rev())
            .find(|kv| kv.key == key)
            .map(|kv| kv.value.to_text())
    }

    /// What repeats when an agent loops: for a tool, its name and arguments; for a model call,
    /// its model and input messages. A hash of them, and a short label.
    pub(crate) fn repeat_key(&self) -> Option<(u64, String)> {
        let (what, input) = match self.kind() {
            OpKind::Tool => (self.tool.unwrap_or(self.name), self.tool_arguments?),
            OpKind::Model => (self.name, self.input_messages?),
            _ => return None,
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        what.hash(&mut h);
        canonical_json(input).hash(&mut h);
        Some((h.finish(), what.to_owned()))
    }
}

/// The attribute the runtime sets on a span whose parent is a span of another tracing system in
/// the same process (an HTTP server's request span).
pub(crate) const PARENT_EXTERNAL: &str = "llmtrace.parent.external";

fn str_of<'a>(v: &'a AnyValue<'a>) -> Option<&'a str> {
    v.as_str()
}

/// JSON text in a canonical form (keys sorted, no spaces), so that the same arguments written
/// twice compare equal; text that is not JSON is kept as it is.
fn canonical_json(text: &str) -> Cow<'_, str> {
    match serde_json::from_str::<serde_json::Value>(text) {
        // `serde_json`'s map is ordered by key without the `preserve_order` feature.
        Ok(v) => Cow::Owned(v.to_string()),
        Err(_) => Cow::Borrowed(text),
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
