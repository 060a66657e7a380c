//! Attribute keys, as constants. Every key llmtrace emits is defined here once.
//!
//! The `gen_ai.*` names follow the OpenTelemetry GenAI conventions (development stability,
//! `semantic-conventions-genai` main of 2026-08); a test checks them against the registry list
//! in `llmtrace-macros/data/genai-attributes.txt`.

/// Defines key constants with their key as documentation, and `ALL`, every key of the module.
macro_rules! keys {
    ($( $(#[$extra:meta])* $name:ident = $value:literal; )*) => {
        $(
            #[doc = concat!("`", $value, "`")]
            #[doc = ""]
            $(#[$extra])*
            pub const $name: &str = $value;
        )*
        /// Every key of this module.
        pub const ALL: &[&str] = &[$($value),*];
    };
}

/// OpenTelemetry GenAI and general semantic conventions.
pub mod gen_ai {
    keys! {
        OPERATION_NAME = "gen_ai.operation.name";
        PROVIDER_NAME = "gen_ai.provider.name";
        REQUEST_MODEL = "gen_ai.request.model";
        REQUEST_TEMPERATURE = "gen_ai.request.temperature";
        REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens";
        REQUEST_TOP_P = "gen_ai.request.top_p";
        REQUEST_TOP_K = "gen_ai.request.top_k";
        REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty";
        REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty";
        REQUEST_SEED = "gen_ai.request.seed";
        REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences";
        REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count";
        REQUEST_REASONING_LEVEL = "gen_ai.request.reasoning.level";
        REQUEST_STREAM = "gen_ai.request.stream";
        OUTPUT_TYPE = "gen_ai.output.type";
        PROMPT_NAME = "gen_ai.prompt.name";
        PROMPT_VERSION = "gen_ai.prompt.version";
        CONVERSATION_ID = "gen_ai.conversation.id";
        DATA_SOURCE_ID = "gen_ai.data_source.id";
        RETRIEVAL_TOP_K = "gen_ai.retrieval.top_k";
        RETRIEVAL_QUERY_TEXT = "gen_ai.retrieval.query.text";
        RETRIEVAL_DOCUMENTS = "gen_ai.retrieval.documents";
        TOOL_NAME = "gen_ai.tool.name";
        TOOL_DESCRIPTION = "gen_ai.tool.description";
        TOOL_TYPE = "gen_ai.tool.type";
        TOOL_CALL_ID = "gen_ai.tool.call.id";
        TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments";
        TOOL_CALL_RESULT = "gen_ai.tool.call.result";
        AGENT_NAME = "gen_ai.agent.name";
        AGENT_ID = "gen_ai.agent.id";
        AGENT_DESCRIPTION = "gen_ai.agent.description";
        AGENT_VERSION = "gen_ai.agent.version";
        REQUEST_ENCODING_FORMATS = "gen_ai.request.encoding_formats";
        EMBEDDINGS_DIMENSION_COUNT = "gen_ai.embeddings.dimension.count";
        WORKFLOW_NAME = "gen_ai.workflow.name";
        INPUT_MESSAGES = "gen_ai.input.messages";
        OUTPUT_MESSAGES = "gen_ai.output.messages";
        SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions";
        TOOL_DEFINITIONS = "gen_ai.tool.definitions";
        RESPONSE_MODEL = "gen_ai.response.model";
        RESPONSE_ID = "gen_ai.response.id";
        /// On the `gen_ai.evaluation.result` event: what was evaluated (`relevance`,
        /// `user_feedback`).
        EVALUATION_NAME = "gen_ai.evaluation.name";
        /// On the `gen_ai.evaluation.result` event: the score.
        EVALUATION_SCORE_VALUE = "gen_ai.evaluation.score.value";
        /// On the `gen_ai.evaluation.result` event: a low-cardinality label for the score.
        EVALUATION_SCORE_LABEL = "gen_ai.evaluation.score.label";
        /// On the `gen_ai.evaluation.result` event: why the score was given.
        EVALUATION_EXPLANATION = "gen_ai.evaluation.explanation";
        RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
        RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk";
        USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
        USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
        USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
        /// The name Phoenix and Langfuse read.
        USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens";
        /// Newest name, emitted in the latest profile only.
        USAGE_CACHE_WRITE_INPUT_TOKENS = "gen_ai.usage.cache_write.input_tokens";
        USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens";
        ERROR_TYPE = "error.type";
        SERVER_ADDRESS = "server.address";
        SERVER_PORT = "server.port";
        /// On the `exception` event.
        EXCEPTION_TYPE = "exception.type";
        /// On the `exception` event.
        EXCEPTION_MESSAGE = "exception.message";
    }
}

/// Deprecated GenAI names, emitted only by the legacy profile.
pub mod legacy {
    keys! {
        /// Renamed `gen_ai.provider.name`.
        SYSTEM = "gen_ai.system";
        /// Renamed `gen_ai.usage.input_tokens`.
        USAGE_PROMPT_TOKENS = "gen_ai.usage.prompt_tokens";
        /// Renamed `gen_ai.usage.output_tokens`.
        USAGE_COMPLETION_TOKENS = "gen_ai.usage.completion_tokens";
    }
}

/// OpenInference keys (Arize Phoenix).
pub mod openinference {
    keys! {
        SPAN_KIND = "openinference.span.kind";
        INPUT_VALUE = "input.value";
        INPUT_MIME_TYPE = "input.mime_type";
        OUTPUT_VALUE = "output.value";
        OUTPUT_MIME_TYPE = "output.mime_type";
        LLM_MODEL_NAME = "llm.model_name";
        EMBEDDING_MODEL_NAME = "embedding.model_name";
        LLM_PROVIDER = "llm.provider";
        LLM_SYSTEM = "llm.system";
        /// JSON string.
        LLM_INVOCATION_PARAMETERS = "llm.invocation_parameters";
        LLM_TOKEN_COUNT_PROMPT = "llm.token_count.prompt";
        LLM_TOKEN_COUNT_COMPLETION = "llm.token_count.completion";
        LLM_TOKEN_COUNT_TOTAL = "llm.token_count.total";
        LLM_TOKEN_COUNT_CACHE_READ = "llm.token_count.prompt_details.cache_read";
        LLM_TOKEN_COUNT_CACHE_WRITE = "llm.token_count.prompt_details.cache_write";
        LLM_TOKEN_COUNT_REASONING = "llm.token_count.completion_details.reasoning";
        /// USD.
        LLM_COST_PROMPT = "llm.cost.prompt";
        /// USD.
        LLM_COST_COMPLETION = "llm.cost.completion";
        /// USD.
        LLM_COST_TOTAL = "llm.cost.total";
        /// USD.
        LLM_COST_CACHE_READ = "llm.cost.prompt_details.cache_read";
        /// USD.
        LLM_COST_CACHE_WRITE = "llm.cost.prompt_details.cache_write";
        LLM_FINISH_REASON = "llm.finish_reason";
        TOOL_NAME = "tool.name";
        TOOL_DESCRIPTION = "tool.description";
        /// JSON string of the call's arguments.
        TOOL_PARAMETERS = "tool.parameters";
        SESSION_ID = "session.id";
        USER_ID = "user.id";
        /// JSON string.
        METADATA = "metadata";
        TAG_TAGS = "tag.tags";
        /// Prefix of the indexed retrieval document keys: `retrieval.documents.{i}.document.{field}`.
        RETRIEVAL_DOCUMENTS_PREFIX = "retrieval.documents";
        RERANKER_MODEL_NAME = "reranker.model_name";
        RERANKER_QUERY = "reranker.query";
        RERANKER_TOP_K = "reranker.top_k";
        /// Prefix of the indexed keys of a reranker's input documents:
        /// `reranker.input_documents.{i}.document.{field}`.
        RERANKER_INPUT_DOCUMENTS_PREFIX = "reranker.input_documents";
        /// Prefix of the indexed keys of a reranker's output documents:
        /// `reranker.output_documents.{i}.document.{field}`.
        RERANKER_OUTPUT_DOCUMENTS_PREFIX = "reranker.output_documents";
    }
}

/// Langfuse keys.
pub mod langfuse {
    keys! {
        OBSERVATION_TYPE = "langfuse.observation.type";
        /// JSON object.
        OBSERVATION_USAGE_DETAILS = "langfuse.observation.usage_details";
        /// JSON object.
        OBSERVATION_COST_DETAILS = "langfuse.observation.cost_details";
        /// ISO-8601.
        OBSERVATION_COMPLETION_START_TIME = "langfuse.observation.completion_start_time";
        OBSERVATION_PROMPT_NAME = "langfuse.observation.prompt.name";
        OBSERVATION_PROMPT_VERSION = "langfuse.observation.prompt.version";
        /// `DEBUG`, `DEFAULT`, `WARNING` or `ERROR`.
        OBSERVATION_LEVEL = "langfuse.observation.level";
        OBSERVATION_STATUS_MESSAGE = "langfuse.observation.status_message";
        TRACE_NAME = "langfuse.trace.name";
        TRACE_TAGS = "langfuse.trace.tags";
        /// JSON object.
        TRACE_METADATA = "langfuse.trace.metadata";
    }
}

/// llmtrace's own keys.
pub mod llmtrace {
    keys! {
        /// The operation was dropped before it completed.
        CANCELLED = "llmtrace.cancelled";
        /// A model call reported no token usage.
        USAGE_MISSING = "llmtrace.usage.missing";
        /// No price is known for the model; cost is unknown, not zero.
        COST_UNPRICED = "llmtrace.cost.unpriced";
        /// Chunks a streamed response produced.
        STREAM_CHUNKS = "llmtrace.stream.chunks";
        /// Seconds per chunk after the first of a streamed response.
        STREAM_TIME_PER_OUTPUT_CHUNK = "llmtrace.stream.time_per_output_chunk";
        /// Roll-up on the root span.
        TRACE_INPUT_TOKENS = "llmtrace.trace.input_tokens";
        /// Roll-up on the root span.
        TRACE_OUTPUT_TOKENS = "llmtrace.trace.output_tokens";
        /// Roll-up on the root span.
        TRACE_COST_USD = "llmtrace.trace.cost_usd";
        /// Roll-up on the root span: model calls without a price (the cost is a lower bound).
        TRACE_UNPRICED_CALLS = "llmtrace.trace.unpriced_calls";
        /// Some captured content was cut to its size limit.
        CONTENT_TRUNCATED = "llmtrace.content.truncated";
        /// Number of documents retrieved.
        RETRIEVAL_DOCUMENT_COUNT = "llmtrace.retrieval.documents.count";
        /// The parent is a span of another tracing system in this process (an HTTP server's
        /// request span): the span is the outermost llmtrace span of its trace here, the root of
        /// its tree in the console and the explorer.
        PARENT_EXTERNAL = "llmtrace.parent.external";
        /// On an agent: its own model calls (not its sub-agents'). The GenAI conventions count
        /// these in the `gen_ai.invoke_agent.inference_calls` metric, which has no span
        /// attribute.
        AGENT_INFERENCE_CALLS = "llmtrace.agent.inference_calls";
        /// On an agent: its own tool calls (the `gen_ai.invoke_agent.tool_calls` metric's
        /// count).
        AGENT_TOOL_CALLS = "llmtrace.agent.tool_calls";
        /// On an agent: its own steps (block spans).
        AGENT_STEPS = "llmtrace.agent.steps";
        /// On an agent: the cost of its own calls in USD (not `llm.cost.total`, which backends
        /// would add to its calls' costs).
        AGENT_COST_USD = "llmtrace.agent.cost_usd";
        /// Number of documents a reranker was given.
        RERANK_INPUT_DOCUMENT_COUNT = "llmtrace.rerank.input_documents.count";
        /// Number of documents a reranker returned.
        RERANK_OUTPUT_DOCUMENT_COUNT = "llmtrace.rerank.output_documents.count";
        /// Number of documents a reranker was asked to return.
        RERANK_TOP_K = "llmtrace.rerank.top_k";
        /// The scores of the documents a reranker was given, in their order.
        RERANK_INPUT_SCORES = "llmtrace.rerank.input_scores";
        /// The scores of the documents a reranker returned, in their order.
        RERANK_OUTPUT_SCORES = "llmtrace.rerank.output_scores";
        /// Number of vectors an embeddings call returned.
        EMBEDDINGS_COUNT = "llmtrace.embeddings.count";
        /// Whether a guardrail passed.
        GUARDRAIL_PASSED = "llmtrace.guardrail.passed";
        /// Why a guardrail passed or failed.
        GUARDRAIL_REASON = "llmtrace.guardrail.reason";
        /// On an evaluator: the input tokens of the model calls inside it (its judges), which
        /// the trace's roll-up does not count.
        EVALUATOR_INPUT_TOKENS = "llmtrace.evaluator.input_tokens";
        /// On an evaluator: the output tokens of the model calls inside it.
        EVALUATOR_OUTPUT_TOKENS = "llmtrace.evaluator.output_tokens";
        /// On an evaluator: the cost in USD of the model calls inside it.
        EVALUATOR_COST_USD = "llmtrace.evaluator.cost_usd";
        /// On a span inside an evaluator (an LLM judge's model call, its tools): `true`. Its
        /// tokens and cost count for the evaluator, not for the trace or agent it judges.
        EVALUATION = "llmtrace.evaluation";
        /// The attempt number of an operation re-issued after a failure (2 for the first
        /// retry); the span links to the failed attempt.
        RETRY_ATTEMPT = "llmtrace.retry.attempt";
    }
}

/// Attributes of metrics only (spans do not carry them).
pub mod metric_attr {
    keys! {
        /// On `gen_ai.client.token.usage`: `input` or `output`.
        TOKEN_TYPE = "gen_ai.token.type";
        /// On the `gen_ai.client.inference.usage.*` counters (latest experimental set): `text`,
        /// `image`, `audio`, or `unknown` for totals without a breakdown.
        TOKEN_MODALITY = "gen_ai.token.modality";
    }
}

/// Metric names: the GenAI client metrics of the conventions (semantic conventions v1.41 and
/// the GenAI repository's agent and tool metrics), and llmtrace's own.
pub mod metric {
    keys! {
        /// Histogram `{token}`: input and output tokens per model call.
        CLIENT_TOKEN_USAGE = "gen_ai.client.token.usage";
        /// Histogram `s`: the duration of a model call, with `error.type` when it failed.
        CLIENT_OPERATION_DURATION = "gen_ai.client.operation.duration";
        /// Histogram `s`: from the request to the first chunk of a streamed response.
        CLIENT_TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk";
        /// Histogram `s`: per chunk after the first of a streamed response.
        CLIENT_TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk";
        /// Histogram `s`: the duration of a tool call.
        EXECUTE_TOOL_DURATION = "gen_ai.execute_tool.duration";
        /// Histogram `s`: the duration of an agent's invocation.
        INVOKE_AGENT_DURATION = "gen_ai.invoke_agent.duration";
        /// Histogram `{inference_call}`: an agent's own model calls per invocation.
        INVOKE_AGENT_INFERENCE_CALLS = "gen_ai.invoke_agent.inference_calls";
        /// Histogram `{tool_call}`: an agent's own tool calls per invocation.
        INVOKE_AGENT_TOOL_CALLS = "gen_ai.invoke_agent.tool_calls";
        /// Histogram `s` (latest experimental set): the duration of an inference call.
        CLIENT_INFERENCE_DURATION = "gen_ai.client.inference.duration";
        /// Counter `{token}` (latest experimental set), with `gen_ai.token.modality`.
        CLIENT_INFERENCE_USAGE_INPUT_TOKENS = "gen_ai.client.inference.usage.input_tokens";
        /// Counter `{token}` (latest experimental set), with `gen_ai.token.modality`.
        CLIENT_INFERENCE_USAGE_OUTPUT_TOKENS = "gen_ai.client.inference.usage.output_tokens";
        /// Counter `{token}` (latest experimental set), with `gen_ai.token.modality`.
        CLIENT_INFERENCE_USAGE_CACHE_READ_INPUT_TOKENS =
            "gen_ai.client.inference.usage.cache_read.input_tokens";
        /// Counter `{token}` (latest experimental set), with `gen_ai.token.modality`.
        CLIENT_INFERENCE_USAGE_CACHE_WRITE_INPUT_TOKENS =
            "gen_ai.client.inference.usage.cache_write.input_tokens";
        /// Counter `{token}` (latest experimental set), with `gen_ai.token.modality`.
        CLIENT_INFERENCE_USAGE_REASONING_OUTPUT_TOKENS =
            "gen_ai.client.inference.usage.reasoning.output_tokens";
        /// Counter `USD`: the cost of model calls, from the same prices as the spans.
        LLMTRACE_CLIENT_COST = "llmtrace.client.cost";
        /// Counter `{call}`: model calls with usage but no known price.
        LLMTRACE_CLIENT_UNPRICED_CALLS = "llmtrace.client.unpriced_calls";
    }
}

/// Event names (span events, and the event name of log records).
pub mod event {
    /// `gen_ai.evaluation.result`: an evaluation of a span, a span event while the span is
    /// open, a log record parented to it after it ended.
    pub const EVALUATION_RESULT: &str = "gen_ai.evaluation.result";
    /// The `gen_ai.evaluation.name` of feedback from users.
    pub const USER_FEEDBACK: &str = "user_feedback";
}

/// Attributes of span links (not of spans: the key table does not list them).
pub mod link {
    keys! {
        /// Why the span links to another: `retry_of` for a retry's link to the failed attempt.
        TYPE = "llmtrace.link.type";
    }

    /// [`TYPE`] of a retry's link to the attempt that failed.
    pub const RETRY_OF: &str = "retry_of";
}
