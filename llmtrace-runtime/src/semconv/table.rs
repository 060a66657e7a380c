//! The key table: every attribute key a span can carry, with the span kinds that emit it, the
//! conventions profile that turns it on, when it is known and where its value comes from.
//!
//! It is the one place that says which key exists for which kind. The rest is generated from it
//! at compile time:
//! - the mapper's plain copies (a field's value under a key: request parameters, response
//!   fields, roll-ups) are per-kind arrays filtered out of the table by `const fn`s, so a key is
//!   written down once and the mapper does not search the table per span;
//! - the `tracing` callsite of each instrumented function declares the keys of its kind;
//! - [`TailSampler::keep_when`](crate::TailSampler::keep_when) resolves a key to the field it is
//!   recorded from.
//!
//! Keys whose value the mapper shapes (invocation parameters, usage and cost details, documents,
//! messages, scope values) are listed too, as [`Source::Derived`] or [`Source::Content`]; a test of
//! the mapper checks that it emits no key the table does not list for the kind and profile.
//!
//! Not listed: the attributes of the `exception` event (`exception.type`, `exception.message`),
//! the indexed `retrieval.documents.{i}.document.*` and `reranker.{input,output}_documents.{i}.*`
//! keys, which are no fixed names, and the attributes of span links (`semconv::keys::link`).

use super::keys::{gen_ai, langfuse, legacy, llmtrace as lt, openinference as oi};
use crate::record::{Field, Kind};
use Phase::{Context, Request, Response};
use Profile::{
    Common, GenAi, Langfuse, LatestExperimental, Legacy, Llmtrace, OpenInference, OpenInferenceFull,
};
use Source::{Content, Derived};

/// A set of span kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Kinds(u16);

impl Kinds {
    /// `#[workflow]` spans.
    pub const WORKFLOW: Kinds = Kinds(1);
    /// `#[llm_call]` spans.
    pub const LLM_CALL: Kinds = Kinds(1 << 1);
    /// `#[retrieval]` spans.
    pub const RETRIEVAL: Kinds = Kinds(1 << 2);
    /// `#[tool]` spans.
    pub const TOOL: Kinds = Kinds(1 << 3);
    /// `#[agent]` spans.
    pub const AGENT: Kinds = Kinds(1 << 4);
    /// `#[embeddings]` spans.
    pub const EMBEDDINGS: Kinds = Kinds(1 << 5);
    /// `#[rerank]` spans.
    pub const RERANK: Kinds = Kinds(1 << 6);
    /// `#[guardrail]` spans.
    pub const GUARDRAIL: Kinds = Kinds(1 << 7);
    /// Block spans (`step`).
    pub const STEP: Kinds = Kinds(1 << 8);
    /// `#[evaluator]` spans.
    pub const EVALUATOR: Kinds = Kinds(1 << 9);
    /// Every kind.
    pub const ALL: Kinds = Kinds((1 << 10) - 1);

    /// The set of one kind.
    pub const fn of(kind: Kind) -> Kinds {
        match kind {
            Kind::Workflow => Kinds::WORKFLOW,
            Kind::LlmCall => Kinds::LLM_CALL,
            Kind::Retrieval => Kinds::RETRIEVAL,
            Kind::Tool => Kinds::TOOL,
            Kind::Agent => Kinds::AGENT,
            Kind::Embeddings => Kinds::EMBEDDINGS,
            Kind::Rerank => Kinds::RERANK,
            Kind::Guardrail => Kinds::GUARDRAIL,
            Kind::Evaluator => Kinds::EVALUATOR,
            Kind::Step => Kinds::STEP,
        }
    }

    /// Both sets.
    pub const fn and(self, other: Kinds) -> Kinds {
        Kinds(self.0 | other.0)
    }

    /// This set without the kinds of `other`.
    pub const fn except(self, other: Kinds) -> Kinds {
        Kinds(self.0 & !other.0)
    }

    /// Whether the set holds `kind`.
    pub const fn contains(self, kind: Kind) -> bool {
        self.0 & Kinds::of(kind).0 != 0
    }
}

/// The conventions profile that turns a key on (see [`Conventions`](super::Conventions)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// The latest GenAI names, and the general OpenTelemetry ones they use (`error.type`,
    /// `server.*`): always on.
    GenAi,
    /// Deprecated GenAI names: [`Conventions::legacy`](super::Conventions::legacy).
    Legacy,
    /// The newest experimental GenAI names:
    /// [`Conventions::latest_experimental`](super::Conventions::latest_experimental).
    LatestExperimental,
    /// The OpenInference keys Phoenix needs beyond what it converts from the GenAI names:
    /// [`Conventions::openinference`](super::Conventions::openinference), on by default.
    OpenInference,
    /// The OpenInference duplicates of GenAI keys:
    /// [`Conventions::openinference_full`](super::Conventions::openinference_full).
    OpenInferenceFull,
    /// Langfuse keys: [`Conventions::langfuse`](super::Conventions::langfuse), on by default.
    Langfuse,
    /// llmtrace's own keys (`llmtrace.*`): always on.
    Llmtrace,
    /// Keys of other conventions emitted in every profile, because the GenAI conventions have
    /// none for what they carry and several backends read them: `llm.cost.*`, `session.id`,
    /// `user.id`.
    Common,
}

/// When a key's value is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// The request: the macro's arguments (literals, or expressions evaluated when the call
    /// starts) and values set in their place at run time. When every value a callsite's request
    /// keys read is a literal, the mapper computes them once per callsite.
    Request,
    /// What the call produced: response fields, usage, cost, content, errors, roll-ups.
    Response,
    /// The scope the span ran in (`llmtrace::scope()`): session, user, tags, metadata.
    Context,
}

/// Where a key's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// A plain copy of the field's value, emitted whenever the field is recorded.
    Field(Field),
    /// The field's value, or this string when the field is not recorded.
    FieldOr(Field, &'static str),
    /// Content (prompts, responses, arguments, documents): shaped by the mapper, and recorded on
    /// the span, the content event, both or neither as the content capture setting says.
    Content,
    /// Shaped by the mapper from one or more fields, the record's status or its scope.
    Derived,
}

/// One attribute key, as the table lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Key {
    /// The attribute key.
    pub name: &'static str,
    /// The span kinds that emit it.
    pub kinds: Kinds,
    /// The conventions profile that turns it on.
    pub profile: Profile,
    /// When its value is known.
    pub phase: Phase,
    /// Where its value comes from.
    pub source: Source,
}

impl Key {
    /// The field this key is a plain copy of, with the value it takes when the field is not
    /// recorded; `None` for content and derived keys.
    pub const fn field(&self) -> Option<(Field, Option<&'static str>)> {
        match self.source {
            Source::Field(f) => Some((f, None)),
            Source::FieldOr(f, default) => Some((f, Some(default))),
            Source::Content | Source::Derived => None,
        }
    }
}

const fn key(
    name: &'static str,
    kinds: Kinds,
    profile: Profile,
    phase: Phase,
    source: Source,
) -> Key {
    Key {
        name,
        kinds,
        profile,
        phase,
        source,
    }
}

const fn copy(field: Field) -> Source {
    Source::Field(field)
}

const ALL: Kinds = Kinds::ALL;
const WORKFLOW: Kinds = Kinds::WORKFLOW;
const LLM: Kinds = Kinds::LLM_CALL;
const RETRIEVAL: Kinds = Kinds::RETRIEVAL;
const TOOL: Kinds = Kinds::TOOL;
const AGENT: Kinds = Kinds::AGENT;
const EMBEDDINGS: Kinds = Kinds::EMBEDDINGS;
const RERANK: Kinds = Kinds::RERANK;
const GUARDRAIL: Kinds = Kinds::GUARDRAIL;
const EVALUATOR: Kinds = Kinds::EVALUATOR;
/// The GenAI operations: every kind but block spans, which are the application's own steps.
const OPERATIONS: Kinds = Kinds::ALL.except(Kinds::STEP);
/// Model calls: they report usage and cost.
const MODEL_CALLS: Kinds = LLM.and(EMBEDDINGS);
/// Calls to a provider's model: a provider and a model name.
const PROVIDER_MODEL: Kinds = MODEL_CALLS.and(RETRIEVAL).and(AGENT).and(RERANK);
/// The kinds Langfuse does not type by itself (from the GenAI operation or the OpenInference
/// kind it knows).
const LANGFUSE_TYPED: Kinds = WORKFLOW
    .and(RETRIEVAL)
    .and(RERANK)
    .and(GUARDRAIL)
    .and(EVALUATOR)
    .and(Kinds::STEP);
/// The kinds a trace is named after, on a root.
const TRACE_NAMED: Kinds = WORKFLOW.and(AGENT);

/// Every key, one row each. Within a phase, plain copies are emitted in table order.
#[rustfmt::skip] // One row a line: the table reads as a table.
pub const KEYS: &[Key] = &[
    // ---- request: what every kind says about itself
    key(gen_ai::OPERATION_NAME, OPERATIONS, GenAi, Request, Derived),
    key(oi::SPAN_KIND, ALL, OpenInference, Request, Derived),
    // Langfuse types model calls, agents, embeddings and tools itself, not the others.
    key(langfuse::OBSERVATION_TYPE, LANGFUSE_TYPED, Langfuse, Request, Derived),
    // On a root workflow or agent: the Langfuse trace is named after it.
    key(langfuse::TRACE_NAME, TRACE_NAMED, Langfuse, Request, Derived),
    // Any kind, since these fields can be set at run time on any span.
    key(gen_ai::SERVER_ADDRESS, ALL, GenAi, Request, copy(Field::ServerAddress)),
    key(gen_ai::SERVER_PORT, ALL, GenAi, Request, copy(Field::ServerPort)),
    // An agent's own name; on model calls and tools, the agent making them (from the
    // enclosing agent when they do not say).
    key(gen_ai::AGENT_NAME, ALL, GenAi, Request, copy(Field::AgentName)),
    // Also taken from the scope when the span has none of its own.
    key(gen_ai::CONVERSATION_ID, ALL, GenAi, Request, copy(Field::ConversationId)),
    key(gen_ai::WORKFLOW_NAME, WORKFLOW, GenAi, Request, Derived),
    // ---- request: agents
    key(gen_ai::AGENT_ID, AGENT, GenAi, Request, copy(Field::AgentId)),
    key(gen_ai::AGENT_DESCRIPTION, AGENT, GenAi, Request, copy(Field::AgentDescription)),
    key(gen_ai::AGENT_VERSION, AGENT, GenAi, Request, copy(Field::AgentVersion)),
    // ---- request: retrievals and rerankers
    key(gen_ai::DATA_SOURCE_ID, RETRIEVAL, GenAi, Request, copy(Field::DataSource)),
    key(gen_ai::RETRIEVAL_TOP_K, RETRIEVAL, GenAi, Request, copy(Field::RetrievalTopK)),
    // The GenAI conventions have no reranker: llmtrace's key, and OpenInference's.
    key(lt::RERANK_TOP_K, RERANK, Llmtrace, Request, copy(Field::RetrievalTopK)),
    key(oi::RERANKER_TOP_K, RERANK, OpenInference, Request, copy(Field::RetrievalTopK)),
    // ---- request: model calls (and hosted retrievals, agents and rerankers)
    key(gen_ai::PROVIDER_NAME, PROVIDER_MODEL, GenAi, Request, copy(Field::Provider)),
    key(legacy::SYSTEM, MODEL_CALLS, Legacy, Request, copy(Field::Provider)),
    // On an agent: its own model, else the one model all its calls used (set by the agent
    // stage).
    key(gen_ai::REQUEST_MODEL, PROVIDER_MODEL, GenAi, Request, copy(Field::Model)),
    // Phoenix does not convert a reranker's model from the GenAI name.
    key(oi::RERANKER_MODEL_NAME, RERANK, OpenInference, Request, copy(Field::Model)),
    key(gen_ai::REQUEST_TEMPERATURE, LLM, GenAi, Request, copy(Field::Temperature)),
    key(gen_ai::REQUEST_MAX_TOKENS, LLM, GenAi, Request, copy(Field::MaxTokens)),
    key(gen_ai::REQUEST_TOP_P, LLM, GenAi, Request, copy(Field::TopP)),
    key(gen_ai::REQUEST_TOP_K, LLM, GenAi, Request, copy(Field::TopK)),
    key(gen_ai::REQUEST_FREQUENCY_PENALTY, LLM, GenAi, Request, copy(Field::FrequencyPenalty)),
    key(gen_ai::REQUEST_PRESENCE_PENALTY, LLM, GenAi, Request, copy(Field::PresencePenalty)),
    key(gen_ai::REQUEST_SEED, LLM, GenAi, Request, copy(Field::Seed)),
    key(gen_ai::REQUEST_STOP_SEQUENCES, LLM, GenAi, Request, copy(Field::StopSequences)),
    key(gen_ai::REQUEST_CHOICE_COUNT, LLM, GenAi, Request, copy(Field::ChoiceCount)),
    key(gen_ai::REQUEST_STREAM, LLM, GenAi, Request, copy(Field::Stream)),
    key(gen_ai::REQUEST_REASONING_LEVEL, LLM, GenAi, Request, copy(Field::ReasoningLevel)),
    key(gen_ai::OUTPUT_TYPE, LLM, GenAi, Request, copy(Field::OutputType)),
    key(gen_ai::PROMPT_NAME, LLM, GenAi, Request, copy(Field::PromptName)),
    key(gen_ai::PROMPT_VERSION, LLM, GenAi, Request, copy(Field::PromptVersion)),
    key(langfuse::OBSERVATION_PROMPT_NAME, LLM, Langfuse, Request, copy(Field::PromptName)),
    key(langfuse::OBSERVATION_PROMPT_VERSION, LLM, Langfuse, Request, copy(Field::PromptVersion)),
    key(gen_ai::REQUEST_ENCODING_FORMATS, EMBEDDINGS, GenAi, Request, copy(Field::EncodingFormats)),
    // `embedding.model_name` for embeddings, `llm.model_name` otherwise.
    key(oi::LLM_MODEL_NAME, LLM, OpenInferenceFull, Request, Derived),
    key(oi::EMBEDDING_MODEL_NAME, MODEL_CALLS, OpenInferenceFull, Request, Derived),
    // OpenInference's spelling of the provider.
    key(oi::LLM_PROVIDER, LLM, OpenInferenceFull, Request, Derived),
    key(oi::LLM_SYSTEM, LLM, OpenInferenceFull, Request, Derived),
    // The request parameters as one JSON object.
    key(oi::LLM_INVOCATION_PARAMETERS, LLM, OpenInferenceFull, Request, Derived),
    // ---- request: tools (the name is the `name` argument, else the function's name)
    key(gen_ai::TOOL_NAME, TOOL, GenAi, Request, Derived),
    key(gen_ai::TOOL_TYPE, TOOL, GenAi, Request, Source::FieldOr(Field::ToolType, "function")),
    key(gen_ai::TOOL_DESCRIPTION, TOOL, GenAi, Request, copy(Field::ToolDescription)),
    key(gen_ai::TOOL_CALL_ID, TOOL, GenAi, Request, copy(Field::ToolCallId)),
    key(oi::TOOL_NAME, TOOL, OpenInferenceFull, Request, Derived),
    key(oi::TOOL_DESCRIPTION, TOOL, OpenInferenceFull, Request, copy(Field::ToolDescription)),
    // ---- response: status and roll-ups, every kind
    key(gen_ai::ERROR_TYPE, ALL, GenAi, Response, copy(Field::ErrorType)),
    key(lt::CANCELLED, ALL, Llmtrace, Response, Derived),
    key(lt::CONTENT_TRUNCATED, ALL, Llmtrace, Response, Derived),
    key(lt::PARENT_EXTERNAL, ALL, Llmtrace, Response, Derived),
    key(lt::RETRY_ATTEMPT, ALL, Llmtrace, Response, copy(Field::RetryAttempt)),
    key(lt::TRACE_INPUT_TOKENS, ALL, Llmtrace, Response, copy(Field::TraceInputTokens)),
    key(lt::TRACE_OUTPUT_TOKENS, ALL, Llmtrace, Response, copy(Field::TraceOutputTokens)),
    key(lt::TRACE_COST_USD, ALL, Llmtrace, Response, copy(Field::TraceCost)),
    key(lt::TRACE_UNPRICED_CALLS, ALL, Llmtrace, Response, copy(Field::TraceUnpricedCalls)),
    // ---- response: model calls
    key(gen_ai::RESPONSE_MODEL, MODEL_CALLS, GenAi, Response, copy(Field::ResponseModel)),
    key(gen_ai::RESPONSE_ID, LLM, GenAi, Response, copy(Field::ResponseId)),
    key(lt::STREAM_CHUNKS, LLM, Llmtrace, Response, copy(Field::ChunkCount)),
    key(lt::STREAM_TIME_PER_OUTPUT_CHUNK, LLM, Llmtrace, Response, copy(Field::TimePerOutputChunk)),
    key(gen_ai::RESPONSE_FINISH_REASONS, LLM, GenAi, Response, copy(Field::FinishReasons)),
    // The first finish reason.
    key(oi::LLM_FINISH_REASON, LLM, OpenInferenceFull, Response, Derived),
    // Seconds, as a double whatever number was recorded.
    key(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK, LLM, GenAi, Response, Derived),
    // The span's start plus the time to first chunk, as ISO-8601.
    key(langfuse::OBSERVATION_COMPLETION_START_TIME, LLM, Langfuse, Response, Derived),
    // ---- response: embeddings (never the vectors)
    key(lt::EMBEDDINGS_COUNT, EMBEDDINGS, Llmtrace, Response, copy(Field::EmbeddingCount)),
    key(gen_ai::EMBEDDINGS_DIMENSION_COUNT, EMBEDDINGS, GenAi, Response, copy(Field::EmbeddingDimension)),
    // ---- response: agents, over their own calls (not their sub-agents'); the usage is below
    key(lt::AGENT_INFERENCE_CALLS, AGENT, Llmtrace, Response, copy(Field::AgentInferenceCalls)),
    key(lt::AGENT_TOOL_CALLS, AGENT, Llmtrace, Response, copy(Field::AgentToolCalls)),
    key(lt::AGENT_STEPS, AGENT, Llmtrace, Response, copy(Field::AgentSteps)),
    key(lt::AGENT_COST_USD, AGENT, Llmtrace, Response, copy(Field::AgentCost)),
    // ---- response: guardrails (the reason only when content is captured)
    key(lt::GUARDRAIL_PASSED, GUARDRAIL, Llmtrace, Response, copy(Field::GuardrailPassed)),
    key(lt::GUARDRAIL_REASON, GUARDRAIL, Llmtrace, Response, copy(Field::GuardrailReason)),
    // A failed guardrail is a warning in Langfuse, with its reason.
    key(langfuse::OBSERVATION_LEVEL, GUARDRAIL, Langfuse, Response, Derived),
    key(langfuse::OBSERVATION_STATUS_MESSAGE, GUARDRAIL, Langfuse, Response, Derived),
    // ---- response: evaluators, over every model call inside them (their judges)
    key(lt::EVALUATOR_INPUT_TOKENS, EVALUATOR, Llmtrace, Response, copy(Field::EvaluatorInputTokens)),
    key(lt::EVALUATOR_OUTPUT_TOKENS, EVALUATOR, Llmtrace, Response, copy(Field::EvaluatorOutputTokens)),
    key(lt::EVALUATOR_COST_USD, EVALUATOR, Llmtrace, Response, copy(Field::EvaluatorCost)),
    // ---- response: usage (breakdowns only when non-zero; embeddings report input only; on an
    // agent, the sum over its own calls)
    key(lt::USAGE_MISSING, MODEL_CALLS, Llmtrace, Response, Derived),
    key(gen_ai::USAGE_INPUT_TOKENS, MODEL_CALLS.and(AGENT), GenAi, Response, Derived),
    key(gen_ai::USAGE_OUTPUT_TOKENS, LLM.and(AGENT), GenAi, Response, Derived),
    key(gen_ai::USAGE_CACHE_READ_INPUT_TOKENS, LLM.and(AGENT), GenAi, Response, Derived),
    key(gen_ai::USAGE_CACHE_CREATION_INPUT_TOKENS, LLM.and(AGENT), GenAi, Response, Derived),
    key(gen_ai::USAGE_REASONING_OUTPUT_TOKENS, LLM, GenAi, Response, Derived),
    key(gen_ai::USAGE_CACHE_WRITE_INPUT_TOKENS, LLM.and(AGENT), LatestExperimental, Response, Derived),
    key(legacy::USAGE_PROMPT_TOKENS, MODEL_CALLS, Legacy, Response, Derived),
    key(legacy::USAGE_COMPLETION_TOKENS, LLM, Legacy, Response, Derived),
    key(oi::LLM_TOKEN_COUNT_PROMPT, LLM, OpenInferenceFull, Response, Derived),
    key(oi::LLM_TOKEN_COUNT_COMPLETION, LLM, OpenInferenceFull, Response, Derived),
    key(oi::LLM_TOKEN_COUNT_TOTAL, LLM, OpenInferenceFull, Response, Derived),
    key(oi::LLM_TOKEN_COUNT_CACHE_READ, LLM, OpenInferenceFull, Response, Derived),
    key(oi::LLM_TOKEN_COUNT_CACHE_WRITE, LLM, OpenInferenceFull, Response, Derived),
    // Phoenix does not derive it from the GenAI name.
    key(oi::LLM_TOKEN_COUNT_REASONING, LLM, OpenInference, Response, Derived),
    key(langfuse::OBSERVATION_USAGE_DETAILS, LLM, Langfuse, Response, Derived),
    // ---- response: cost
    key(lt::COST_UNPRICED, MODEL_CALLS, Llmtrace, Response, Derived),
    key(oi::LLM_COST_TOTAL, MODEL_CALLS, Common, Response, Derived),
    key(oi::LLM_COST_PROMPT, MODEL_CALLS, Common, Response, Derived),
    key(oi::LLM_COST_COMPLETION, MODEL_CALLS, Common, Response, Derived),
    key(oi::LLM_COST_CACHE_READ, MODEL_CALLS, Common, Response, Derived),
    key(oi::LLM_COST_CACHE_WRITE, MODEL_CALLS, Common, Response, Derived),
    key(langfuse::OBSERVATION_COST_DETAILS, MODEL_CALLS, Langfuse, Response, Derived),
    // ---- response: content
    key(gen_ai::SYSTEM_INSTRUCTIONS, LLM, GenAi, Response, Content),
    // The tools offered to the model, `{"type": "function", "name", "description", "parameters"}`.
    key(gen_ai::TOOL_DEFINITIONS, LLM, GenAi, Response, Content),
    key(gen_ai::INPUT_MESSAGES, LLM, GenAi, Response, Content),
    key(gen_ai::OUTPUT_MESSAGES, LLM, GenAi, Response, Content),
    key(gen_ai::RETRIEVAL_QUERY_TEXT, RETRIEVAL, GenAi, Response, Content),
    key(gen_ai::RETRIEVAL_DOCUMENTS, RETRIEVAL, GenAi, Response, Content),
    key(lt::RETRIEVAL_DOCUMENT_COUNT, RETRIEVAL, Llmtrace, Response, Derived),
    key(oi::RERANKER_QUERY, RERANK, OpenInference, Response, Content),
    key(lt::RERANK_INPUT_DOCUMENT_COUNT, RERANK, Llmtrace, Response, Derived),
    key(lt::RERANK_OUTPUT_DOCUMENT_COUNT, RERANK, Llmtrace, Response, Derived),
    // The documents' scores, before and after: known when the documents were captured.
    key(lt::RERANK_INPUT_SCORES, RERANK, Llmtrace, Response, Derived),
    key(lt::RERANK_OUTPUT_SCORES, RERANK, Llmtrace, Response, Derived),
    key(gen_ai::TOOL_CALL_ARGUMENTS, TOOL, GenAi, Response, Content),
    key(oi::TOOL_PARAMETERS, TOOL, OpenInferenceFull, Response, Content),
    key(gen_ai::TOOL_CALL_RESULT, TOOL, GenAi, Response, Content),
    // The messages when there are any, the parameters and return value (or a retrieval's query
    // and documents) otherwise; the MIME types go with the values onto the span. Never an
    // embeddings call's return value (the vectors).
    key(oi::INPUT_VALUE, ALL, OpenInference, Response, Content),
    key(oi::INPUT_MIME_TYPE, ALL, OpenInference, Response, Derived),
    key(oi::OUTPUT_VALUE, ALL, OpenInference, Response, Content),
    key(oi::OUTPUT_MIME_TYPE, ALL, OpenInference, Response, Derived),
    // ---- context: the scope's values
    key(oi::SESSION_ID, ALL, Common, Context, Derived),
    key(oi::USER_ID, ALL, Common, Context, Derived),
    // On the spans inside an evaluator: they judge another operation.
    key(lt::EVALUATION, ALL, Llmtrace, Context, Derived),
    key(oi::TAG_TAGS, ALL, OpenInference, Context, Derived),
    key(langfuse::TRACE_TAGS, ALL, Langfuse, Context, Derived),
    key(oi::METADATA, ALL, OpenInference, Context, Derived),
    key(langfuse::TRACE_METADATA, ALL, Langfuse, Context, Derived),
];

/// The row of a key.
pub(crate) fn find(name: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name)
}

/// A plain copy, as the mapper's loops read it: `key` gets the value of `field`, or `default`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldCopy {
    pub(crate) key: &'static str,
    pub(crate) field: Field,
    pub(crate) default: Option<&'static str>,
    pub(crate) profile: Profile,
}

/// How many plain copies spans of `kind` make in `phase`.
pub(crate) const fn count_copies(kind: Kind, phase: Phase) -> usize {
    let (mut i, mut n) = (0, 0);
    while i < KEYS.len() {
        if is_copy(&KEYS[i], kind, phase) {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The plain copies spans of `kind` make in `phase`, in table order; `N` is
/// [`count_copies`]`(kind, phase)` (evaluated in a `const`, a wrong `N` fails the build).
pub(crate) const fn copies<const N: usize>(kind: Kind, phase: Phase) -> [FieldCopy; N] {
    let mut out = [FieldCopy {
        key: "",
        field: Field::Name,
        default: None,
        profile: Profile::GenAi,
    }; N];
    let (mut i, mut n) = (0, 0);
    while i < KEYS.len() {
        let row = &KEYS[i];
        if is_copy(row, kind, phase) {
            if let Some((field, default)) = row.field() {
                out[n] = FieldCopy {
                    key: row.name,
                    field,
                    default,
                    profile: row.profile,
                };
            }
            n += 1;
        }
        i += 1;
    }
    assert!(n == N, "`N` is not the number of copies");
    out
}

const fn is_copy(row: &Key, kind: Kind, phase: Phase) -> bool {
    row.kinds.contains(kind) && row.phase as u8 == phase as u8 && row.field().is_some()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::semconv::keys;

    #[test]
    fn every_key_is_listed_once() {
        let mut seen = BTreeSet::new();
        for row in KEYS {
            assert!(seen.insert(row.name), "`{}` is listed twice", row.name);
            assert!(row.kinds.0 != 0, "`{}` has no kind", row.name);
            assert_eq!(find(row.name), Some(row));
        }
        // Every key constant but the exception and evaluation events' and the documents'
        // prefix.
        let constants = [
            keys::gen_ai::ALL,
            keys::legacy::ALL,
            keys::openinference::ALL,
            keys::langfuse::ALL,
            keys::llmtrace::ALL,
        ]
        .concat();
        let unlisted = [
            keys::gen_ai::EXCEPTION_TYPE,
            keys::gen_ai::EXCEPTION_MESSAGE,
            keys::gen_ai::EVALUATION_NAME,
            keys::gen_ai::EVALUATION_SCORE_VALUE,
            keys::gen_ai::EVALUATION_SCORE_LABEL,
            keys::gen_ai::EVALUATION_EXPLANATION,
            keys::openinference::RETRIEVAL_DOCUMENTS_PREFIX,
            keys::openinference::RERANKER_INPUT_DOCUMENTS_PREFIX,
            keys::openinference::RERANKER_OUTPUT_DOCUMENTS_PREFIX,
        ];
        for &name in &constants {
            assert_eq!(
                find(name).is_some(),
                !unlisted.contains(&name),
                "`{name}`: a key constant must have a row (or be one of {unlisted:?})"
            );
        }
        assert_eq!(seen.len() + unlisted.len(), constants.len());
    }

    #[test]
    fn the_profile_follows_the_key_namespace() {
        for row in KEYS {
            let name = row.name;
            let expected: &[Profile] = if name.starts_with("llmtrace.") {
                &[Profile::Llmtrace]
            } else if name.starts_with("langfuse.") {
                &[Profile::Langfuse]
            } else if keys::legacy::ALL.contains(&name) {
                &[Profile::Legacy]
            } else if keys::gen_ai::ALL.contains(&name) {
                &[Profile::GenAi, Profile::LatestExperimental]
            } else {
                &[
                    Profile::OpenInference,
                    Profile::OpenInferenceFull,
                    Profile::Common,
                ]
            };
            assert!(
                expected.contains(&row.profile),
                "`{name}`: {:?}",
                row.profile
            );
        }
    }

    #[test]
    fn kind_sets_hold_their_kinds() {
        let kinds = Kind::ALL;
        for (i, kind) in kinds.into_iter().enumerate() {
            assert!(Kinds::ALL.contains(kind));
            assert!(Kinds::of(kind).contains(kind));
            for (j, other) in kinds.into_iter().enumerate() {
                assert_eq!(Kinds::of(kind).contains(other), i == j);
            }
        }
        assert!(PROVIDER_MODEL.contains(Kind::Retrieval) && !PROVIDER_MODEL.contains(Kind::Tool));
        assert!(!OPERATIONS.contains(Kind::Step) && OPERATIONS.contains(Kind::Agent));
    }

    #[test]
    fn copies_are_the_plain_copy_rows_in_table_order() {
        const N: usize = count_copies(Kind::LlmCall, Phase::Request);
        const LLM_REQUEST: [FieldCopy; N] = copies(Kind::LlmCall, Phase::Request);
        let names: Vec<&str> = LLM_REQUEST.iter().map(|c| c.key).collect();
        let expected: Vec<&str> = KEYS
            .iter()
            .filter(|k| {
                k.kinds.contains(Kind::LlmCall)
                    && k.phase == Phase::Request
                    && matches!(k.source, Source::Field(_) | Source::FieldOr(..))
            })
            .map(|k| k.name)
            .collect();
        assert_eq!(names, expected);
        assert!(names.contains(&keys::gen_ai::REQUEST_TEMPERATURE));
        assert!(names.contains(&keys::legacy::SYSTEM));
        assert!(!names.contains(&keys::gen_ai::DATA_SOURCE_ID));
        const M: usize = count_copies(Kind::Tool, Phase::Request);
        const TOOL_REQUEST: [FieldCopy; M] = copies(Kind::Tool, Phase::Request);
        let tool_type = TOOL_REQUEST
            .iter()
            .find(|c| c.key == keys::gen_ai::TOOL_TYPE)
            .unwrap();
        assert_eq!(tool_type.field, Field::ToolType);
        assert_eq!(tool_type.default, Some("function"));
    }
}
