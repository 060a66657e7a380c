//! [`GenAiLayer`]: `tracing` spans that other crates emit with GenAI fields, recorded as llmtrace
//! spans.

use std::cell::RefCell;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use tracing::field::{Field as TracingField, Visit};
use tracing::span::{Attributes, Id, Record as TracingRecord};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::context::{self, Ctx, Entered, SAMPLED, VALID};
use crate::record::{Callsite, Field, Kind, Record, Scope, Status, Value};
use crate::span::Span;
use crate::state::{self, Output};

/// The field that marks a GenAI span: every GenAI span carries its operation.
const OPERATION: &str = "gen_ai.operation.name";

/// The field that names an agent.
const AGENT_NAME: &str = "gen_ai.agent.name";

// One callsite per kind, named after where the spans come from; the model, names and the rest
// are the span's own, set from its fields.
static LLM: Callsite = Callsite::new(Kind::LlmCall, "gen_ai", "tracing", &[], &[], 0);
// No function name for tools and workflows: their span names fall back to the operation alone
// when the span has no tool, agent or workflow name.
static TOOL: Callsite = Callsite::new(Kind::Tool, "", "tracing", &[], &[], 0);
static RETRIEVAL: Callsite = Callsite::new(Kind::Retrieval, "gen_ai", "tracing", &[], &[], 0);
static WORKFLOW: Callsite = Callsite::new(Kind::Workflow, "", "tracing", &[], &[], 0);
static AGENT: Callsite = Callsite::new(Kind::Agent, "", "tracing", &[], &[], 0);
static EMBEDDINGS: Callsite = Callsite::new(Kind::Embeddings, "gen_ai", "tracing", &[], &[], 0);

/// A `tracing-subscriber` layer that records the `tracing` spans other crates emit with GenAI
/// fields as llmtrace spans, so they go through llmtrace's whole pipeline.
///
/// Crates such as [`genai`](https://docs.rs/genai) (with its `otel` feature) and
/// [`rig-core`](https://docs.rs/rig-core) open a `tracing` span per model call and name its
/// fields after the OpenTelemetry GenAI conventions: `gen_ai.operation.name`,
/// `gen_ai.provider.name`, `gen_ai.request.model`, `gen_ai.usage.input_tokens`, ... This layer
/// turns every span that has `gen_ai.operation.name` into an llmtrace span of the matching kind
/// (`chat`, `embeddings` and other inference operations are model calls; `execute_tool` a tool;
/// `retrieval` a retrieval; `invoke_agent` and `create_agent` an agent; `invoke_workflow`, `plan`
/// and anything else a workflow-like span that keeps its operation), with the fields it reads as the
/// span's request, response, usage and content, and the fields it does not as attributes. So
/// these spans get the cost from the price database, the roll-up into the enclosing trace,
/// redaction, tail sampling, the console tree, and the JSONL and OTLP export of llmtrace's
/// pipeline, like the spans of the attribute macros.
///
/// Parents follow the call tree across both systems: a GenAI span opened inside an llmtrace
/// span (a `#[workflow]`) is its child; while a GenAI span is entered it is llmtrace's current
/// span, so spans opened inside it, of either system, are its children. A `#[workflow]` around a
/// rig agent around genai chat calls is one trace.
///
/// Content (`gen_ai.input.messages`, `gen_ai.output.messages`, `gen_ai.system_instructions`,
/// `gen_ai.tool.definitions`, tool arguments and results, retrieval query and documents) is
/// recorded when llmtrace's content capture is on, and redacted and cut like any other; the
/// crates emit it only when their own switch is on (genai:
/// `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true`; rig: the request's
/// `record_telemetry_content`).
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let _guard = llmtrace::init().service_name("agent").install();
/// let subscriber = tracing_subscriber::registry().with(llmtrace::tracing::GenAiLayer::new());
/// tracing::subscriber::set_global_default(subscriber).unwrap();
/// // genai's and rig's model calls are llmtrace spans from here on
/// ```
///
/// **Exporting twice.** With tracing-opentelemetry in the same subscriber, the GenAI spans reach
/// OpenTelemetry through it as well as through llmtrace. Keep them away from it with
/// [`GenAiLayer::exclude`], a per-layer filter:
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use llmtrace::tracing::GenAiLayer;
/// use tracing_subscriber::layer::SubscriberExt;
/// use tracing_subscriber::Layer;
///
/// # let tracer = opentelemetry::trace::noop::NoopTracer::new();
/// let subscriber = tracing_subscriber::registry()
///     .with(GenAiLayer::new())
///     .with(tracing_opentelemetry::layer().with_tracer(tracer).with_filter(GenAiLayer::exclude()));
/// # drop(subscriber);
/// ```
///
/// In llmtrace's `tracing` mode ([`Builder::tracing_mode`](crate::Builder::tracing_mode)) the
/// layer does nothing: the subscriber's own layers see those spans already. Without
/// `install()` it does nothing either.
#[derive(Clone, Copy, Debug, Default)]
pub struct GenAiLayer {
    _private: (),
}

impl GenAiLayer {
    /// The layer.
    pub fn new() -> Self {
        GenAiLayer::default()
    }

    /// A per-layer filter that lets every span and event through but the GenAI spans this layer
    /// records: put it on tracing-opentelemetry's layer (`.with_filter(GenAiLayer::exclude())`)
    /// so that those spans are exported once, by llmtrace. The spans inside them keep their
    /// nearest exported ancestor as parent there.
    pub fn exclude() -> FilterFn {
        FilterFn::new(|meta: &Metadata<'_>| !is_genai(meta))
    }
}

/// Whether spans of this callsite are GenAI spans (and not llmtrace's own, in `tracing` mode).
fn is_genai(meta: &Metadata<'_>) -> bool {
    meta.is_span()
        && meta.fields().field(OPERATION).is_some()
        && !meta.target().starts_with("llmtrace")
}

/// Whether the layer records anything: llmtrace is installed, in a mode whose spans are not
/// `tracing` spans already.
fn active() -> bool {
    state::is_enabled() && state::get().is_some_and(|p| !matches!(p.output, Output::Tracing(_)))
}

/// The llmtrace span of a GenAI `tracing` span, in the span's extensions.
struct GenAiSpan {
    span: Mutex<Span>,
    /// Its ids and whether it is recorded: the context its children start in.
    trace_id: u128,
    span_id: u64,
    sampled: bool,
    /// The scope it started in (a test capture, session values), handed to its children.
    scope: Option<Arc<Scope>>,
}

impl GenAiSpan {
    /// The context a child starts in, or that is current while the span is entered. The scope
    /// pointer stays valid while `self` is in the span's extensions: until the span closes,
    /// after every exit.
    fn ctx(&self) -> Ctx {
        Ctx {
            trace_id: self.trace_id,
            span_id: self.span_id,
            flags: VALID | if self.sampled { SAMPLED } else { 0 },
            scope: self.scope.as_ref().map_or(std::ptr::null(), Arc::as_ptr),
            ..Ctx::EMPTY
        }
    }
}

thread_local! {
    /// The GenAI spans entered on this thread, innermost last, with the guard that restores
    /// llmtrace's context of before.
    static ENTERED: RefCell<Vec<(Id, Entered<'static>)>> = const { RefCell::new(Vec::new()) };
}

impl<S> Layer<S> for GenAiLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !is_genai(attrs.metadata()) || !active() {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let Some(operation) = fields.operation.take() else {
            // Declared but empty: the operation decides the kind, so it must be known now.
            return;
        };
        let Some(p) = state::get() else { return };
        // The parent: an explicit one if it is a GenAI span, else the nearest GenAI ancestor
        // (explicit parent or contextual), else llmtrace's current context.
        let parent_span = if attrs.is_contextual() {
            ctx.lookup_current()
        } else {
            attrs.parent().and_then(|p| ctx.span(p))
        };
        let from_ancestor = parent_span.and_then(|s| {
            s.scope().find_map(|a| {
                a.extensions()
                    .get::<GenAiSpan>()
                    .map(|g| (g.span_id, g.ctx()))
            })
        });
        let parent = match from_ancestor {
            // The current llmtrace context is nearer when it was entered inside that ancestor
            // (an llmtrace span within the GenAI span): it is then the ancestor or below it.
            Some((ancestor_id, ancestor_ctx)) => {
                let current = context::get();
                if current.is_valid() && current.span_id != ancestor_id && attrs.is_contextual() {
                    current
                } else {
                    ancestor_ctx
                }
            }
            None if attrs.is_root() => Ctx::EMPTY,
            None => context::get(),
        };
        let callsite = match operation.as_str() {
            "execute_tool" => &TOOL,
            "retrieval" => &RETRIEVAL,
            "invoke_agent" | "create_agent" => &AGENT,
            "embeddings" => &EMBEDDINGS,
            "chat" | "text_completion" | "generate_content" | "rerank" | "transcription"
            | "image_generation" | "audio_generation" | "speech_to_text" | "text_to_speech"
            | "realtime_inference" => &LLM,
            _ => &WORKFLOW,
        };
        let mut span = Span::start_sampled(callsite, parent, &p.sampler, 0);
        span.untallied();
        let Some((trace_id, span_id, sampled)) = span.ids() else {
            return;
        };
        if let Some(rec) = span.recording() {
            rec.set(Field::Operation, operation_value(operation));
            fields.write(rec);
        }
        if callsite.kind == Kind::Agent {
            span.begin_agent();
        }
        // The spans inside see the record's scope: an agent's names it as their agent.
        let scope = span
            .recording()
            .and_then(|rec| rec.scope.clone())
            .or_else(|| parent.scope());
        if let Some(s) = ctx.span(id) {
            s.extensions_mut().insert(GenAiSpan {
                span: Mutex::new(span),
                trace_id,
                span_id,
                sampled,
                scope,
            });
        }
    }

    fn on_record(&self, id: &Id, values: &TracingRecord<'_>, ctx: Context<'_, S>) {
        let Some(s) = ctx.span(id) else { return };
        if !is_genai(s.metadata()) {
            return;
        }
        let ext = s.extensions();
        let Some(g) = ext.get::<GenAiSpan>() else {
            return;
        };
        // Formats the values (user code) before the record is locked.
        let mut fields = Fields::default();
        values.record(&mut fields);
        let names_agent = fields.values.iter().any(|(name, _)| *name == AGENT_NAME);
        let mut span = g.span.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(rec) = span.recording() else { return };
        let renamed = names_agent && rec.kind() == Kind::Agent;
        fields.write(rec);
        if !renamed {
            return;
        }
        // An agent's name is often recorded just after its span opens (genai's `AgentSpan`):
        // the spans started inside it from now on name it.
        span.begin_agent();
        let scope = span.recording().and_then(|rec| rec.scope.clone());
        drop(span);
        drop(ext);
        if let Some(g) = s.extensions_mut().get_mut::<GenAiSpan>() {
            g.scope = scope;
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(s) = ctx.span(id) else { return };
        let Some(span_ctx) = s.extensions().get::<GenAiSpan>().map(GenAiSpan::ctx) else {
            return;
        };
        let entered = context::enter(span_ctx);
        ENTERED.with(|e| e.borrow_mut().push((id.clone(), entered)));
    }

    fn on_exit(&self, id: &Id, _: Context<'_, S>) {
        ENTERED.with(|e| {
            let mut entered = e.borrow_mut();
            // Spans leave in the order they entered; one that does not (an exit without its
            // enter, a guard moved across threads) restores nothing rather than a wrong context.
            if entered.last().is_some_and(|(top, _)| top == id) {
                let guard = entered.pop();
                drop(entered);
                drop(guard);
            }
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(s) = ctx.span(&id) else { return };
        let Some(g) = s.extensions_mut().remove::<GenAiSpan>() else {
            return;
        };
        let mut span = g.span.into_inner().unwrap_or_else(PoisonError::into_inner);
        // The span ends when its last handle drops, after what it covered: a normal end.
        span.finish_with(|_| {});
    }
}

/// A well-known operation as a static string, another one as its own.
fn operation_value(operation: String) -> Value {
    const KNOWN: [&str; 12] = [
        "chat",
        "text_completion",
        "generate_content",
        "embeddings",
        "execute_tool",
        "retrieval",
        "invoke_agent",
        "create_agent",
        "invoke_workflow",
        "plan",
        "rerank",
        "transcription",
    ];
    match KNOWN.iter().find(|k| **k == operation) {
        Some(k) => Value::Str(k),
        None => Value::String(operation.into()),
    }
}

/// The values of a span's fields, read before anything is locked and written into the record
/// after.
#[derive(Default)]
struct Fields {
    operation: Option<String>,
    values: Vec<(&'static str, Value)>,
}

impl Fields {
    fn push(&mut self, field: &TracingField, value: Value) {
        let name = field.name();
        if name == OPERATION {
            if let Some(s) = value.as_str() {
                self.operation = Some(s.to_owned());
            }
            return;
        }
        self.values.push((name, value));
    }

    /// Writes the values into the record: the fields llmtrace knows as its own, the rest as
    /// attributes.
    fn write(self, rec: &mut Record) {
        let content = state::content().captures();
        let kind = rec.kind();
        for (name, value) in self.values {
            match field_of(name, kind) {
                Some(Target::Plain(field)) => rec.set(field, value),
                Some(Target::List(field)) => rec.set(field, string_list(value)),
                Some(Target::Content(field)) if content => rec.set(field, json(value)),
                Some(Target::Content(_)) => {}
                Some(Target::Status) => {
                    let error = value
                        .as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case("error"));
                    // `error.type`, when it came first, already set the status.
                    if error && rec.status != Status::Error {
                        let error_type = rec.get(Field::ErrorType).cloned();
                        rec.set_error(error_type.unwrap_or(Value::Str("_OTHER")), None);
                    }
                }
                Some(Target::StatusMessage) => {
                    if let Some(message) = value.as_str() {
                        rec.extra_mut().status_message = Some(message.into());
                    }
                }
                Some(Target::ErrorType) => {
                    let message = rec.extra.as_mut().and_then(|e| e.status_message.take());
                    rec.set_error(value, message);
                }
                Some(Target::Ignore) => {}
                None => rec.set_attribute(name, Some(value)),
            }
        }
    }
}

/// Where a GenAI field goes in the record.
enum Target {
    Plain(Field),
    /// A list of strings, which the crates record as a JSON array in a string.
    List(Field),
    /// Content, recorded only with content capture on.
    Content(Field),
    /// `otel.status_code`.
    Status,
    /// `otel.status_message`.
    StatusMessage,
    ErrorType,
    /// Read by the tracing bridge only (`otel.name`, `otel.kind`).
    Ignore,
}

fn field_of(name: &str, kind: Kind) -> Option<Target> {
    use Target::{Content, ErrorType, Ignore, List, Plain, Status, StatusMessage};
    Some(match name {
        "gen_ai.provider.name" | "gen_ai.system" => Plain(crate::Field::Provider),
        "gen_ai.request.model" => Plain(crate::Field::Model),
        "gen_ai.request.temperature" => Plain(crate::Field::Temperature),
        "gen_ai.request.max_tokens" => Plain(crate::Field::MaxTokens),
        "gen_ai.request.top_p" => Plain(crate::Field::TopP),
        "gen_ai.request.top_k" => Plain(crate::Field::TopK),
        "gen_ai.request.frequency_penalty" => Plain(crate::Field::FrequencyPenalty),
        "gen_ai.request.presence_penalty" => Plain(crate::Field::PresencePenalty),
        "gen_ai.request.seed" => Plain(crate::Field::Seed),
        "gen_ai.request.choice.count" => Plain(crate::Field::ChoiceCount),
        "gen_ai.request.stream" => Plain(crate::Field::Stream),
        "gen_ai.request.reasoning.level" => Plain(crate::Field::ReasoningLevel),
        "gen_ai.request.stop_sequences" => List(crate::Field::StopSequences),
        "gen_ai.output.type" => Plain(crate::Field::OutputType),
        "gen_ai.conversation.id" => Plain(crate::Field::ConversationId),
        "gen_ai.data_source.id" => Plain(crate::Field::DataSource),
        "gen_ai.retrieval.top_k" => Plain(crate::Field::RetrievalTopK),
        "gen_ai.prompt.name" => Plain(crate::Field::PromptName),
        "gen_ai.prompt.version" => Plain(crate::Field::PromptVersion),
        "server.address" => Plain(crate::Field::ServerAddress),
        "server.port" => Plain(crate::Field::ServerPort),
        "gen_ai.response.id" => Plain(crate::Field::ResponseId),
        "gen_ai.response.model" => Plain(crate::Field::ResponseModel),
        "gen_ai.response.finish_reasons" => List(crate::Field::FinishReasons),
        "gen_ai.response.time_to_first_chunk" => Plain(crate::Field::TimeToFirstChunk),
        "gen_ai.usage.input_tokens" => Plain(crate::Field::InputTokens),
        "gen_ai.usage.output_tokens" => Plain(crate::Field::OutputTokens),
        "gen_ai.usage.cache_read.input_tokens" => Plain(crate::Field::CacheReadTokens),
        "gen_ai.usage.cache_creation.input_tokens" | "gen_ai.usage.cache_write.input_tokens" => {
            Plain(crate::Field::CacheWriteTokens)
        }
        // rig spells the reasoning tokens `gen_ai.usage.reasoning_tokens`.
        "gen_ai.usage.reasoning.output_tokens" | "gen_ai.usage.reasoning_tokens" => {
            Plain(crate::Field::ReasoningTokens)
        }
        "gen_ai.agent.name" if kind == Kind::Workflow => Plain(crate::Field::Name),
        "gen_ai.agent.name" => Plain(crate::Field::AgentName),
        "gen_ai.agent.id" if kind == Kind::Agent => Plain(crate::Field::AgentId),
        "gen_ai.agent.description" if kind == Kind::Agent => Plain(crate::Field::AgentDescription),
        "gen_ai.agent.version" if kind == Kind::Agent => Plain(crate::Field::AgentVersion),
        "gen_ai.workflow.name" => Plain(crate::Field::Name),
        "gen_ai.tool.name" => Plain(crate::Field::Name),
        "gen_ai.tool.call.id" => Plain(crate::Field::ToolCallId),
        "gen_ai.tool.description" => Plain(crate::Field::ToolDescription),
        "gen_ai.tool.type" => Plain(crate::Field::ToolType),
        "gen_ai.input.messages" => Content(crate::Field::InputMessages),
        "gen_ai.output.messages" => Content(crate::Field::OutputMessages),
        "gen_ai.system_instructions" => Content(crate::Field::SystemInstructions),
        "gen_ai.tool.definitions" => Content(crate::Field::ToolDefinitions),
        "gen_ai.tool.call.arguments" => Content(crate::Field::Input),
        "gen_ai.tool.call.result" => Content(crate::Field::Output),
        "gen_ai.retrieval.query.text" => Content(crate::Field::Query),
        "gen_ai.retrieval.documents" => Content(crate::Field::Documents),
        "error.type" => ErrorType,
        "otel.status_code" => Status,
        "otel.status_message" => StatusMessage,
        "otel.name" | "otel.kind" => Ignore,
        _ => return None,
    })
}

/// A list the crates record as a JSON array in a string (`["stop"]`), or a single string.
fn string_list(value: Value) -> Value {
    let Some(s) = value.as_str() else {
        return value;
    };
    match serde_json::from_str::<Vec<String>>(s) {
        Ok(list) => Value::from(list),
        Err(_) => Value::StringList(Box::new([s.into()])),
    }
}

/// Content the crates record as JSON text: kept as JSON when it parses, as text otherwise.
fn json(value: Value) -> Value {
    match value {
        Value::String(s) if serde_json::from_str::<serde::de::IgnoredAny>(&s).is_ok() => {
            Value::Json(s)
        }
        other => other,
    }
}

impl Visit for Fields {
    fn record_bool(&mut self, field: &TracingField, value: bool) {
        self.push(field, Value::Bool(value));
    }

    fn record_i64(&mut self, field: &TracingField, value: i64) {
        self.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &TracingField, value: u64) {
        self.push(field, Value::from(value));
    }

    fn record_f64(&mut self, field: &TracingField, value: f64) {
        self.push(field, Value::F64(value));
    }

    fn record_str(&mut self, field: &TracingField, value: &str) {
        self.push(field, Value::String(value.into()));
    }

    fn record_debug(&mut self, field: &TracingField, value: &dyn fmt::Debug) {
        self.push(field, Value::String(format!("{value:?}").into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_recorded_as_json_text_become_lists() {
        assert_eq!(
            string_list(Value::String(r#"["stop","length"]"#.into())),
            Value::StringList(Box::new(["stop".into(), "length".into()]))
        );
        assert_eq!(
            string_list(Value::String("stop".into())),
            Value::StringList(Box::new(["stop".into()]))
        );
    }

    #[test]
    fn known_fields_have_their_place_and_others_are_attributes() {
        assert!(matches!(
            field_of("gen_ai.usage.reasoning_tokens", Kind::LlmCall),
            Some(Target::Plain(Field::ReasoningTokens))
        ));
        assert!(matches!(
            field_of("gen_ai.agent.name", Kind::Workflow),
            Some(Target::Plain(Field::Name))
        ));
        assert!(field_of("rig.provider_request_id", Kind::LlmCall).is_none());
    }
}
