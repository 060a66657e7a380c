//! Attribute keys, as constants. Every key llmtrace emits is defined here once.
//!
//! The `gen_ai.*` names follow the OpenTelemetry GenAI conventions (development stability,
//! `semantic-conventions-genai` main of 2026-08); a test checks them against the registry list
//! in `tests/data/genai-attributes.txt`.

/// OpenTelemetry GenAI and general semantic conventions.
pub mod gen_ai {
    /// `gen_ai.operation.name`.
    pub const OPERATION_NAME: &str = "gen_ai.operation.name";
    /// `gen_ai.provider.name`.
    pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
    /// `gen_ai.request.model`.
    pub const REQUEST_MODEL: &str = "gen_ai.request.model";
    /// `gen_ai.request.temperature`.
    pub const REQUEST_TEMPERATURE: &str = "gen_ai.request.temperature";
    /// `gen_ai.request.max_tokens`.
    pub const REQUEST_MAX_TOKENS: &str = "gen_ai.request.max_tokens";
    /// `gen_ai.request.top_p`.
    pub const REQUEST_TOP_P: &str = "gen_ai.request.top_p";
    /// `gen_ai.request.top_k`.
    pub const REQUEST_TOP_K: &str = "gen_ai.request.top_k";
    /// `gen_ai.request.frequency_penalty`.
    pub const REQUEST_FREQUENCY_PENALTY: &str = "gen_ai.request.frequency_penalty";
    /// `gen_ai.request.presence_penalty`.
    pub const REQUEST_PRESENCE_PENALTY: &str = "gen_ai.request.presence_penalty";
    /// `gen_ai.request.seed`.
    pub const REQUEST_SEED: &str = "gen_ai.request.seed";
    /// `gen_ai.request.stop_sequences`.
    pub const REQUEST_STOP_SEQUENCES: &str = "gen_ai.request.stop_sequences";
    /// `gen_ai.request.choice.count`.
    pub const REQUEST_CHOICE_COUNT: &str = "gen_ai.request.choice.count";
    /// `gen_ai.request.reasoning.level`.
    pub const REQUEST_REASONING_LEVEL: &str = "gen_ai.request.reasoning.level";
    /// `gen_ai.request.stream`.
    pub const REQUEST_STREAM: &str = "gen_ai.request.stream";
    /// `gen_ai.output.type`.
    pub const OUTPUT_TYPE: &str = "gen_ai.output.type";
    /// `gen_ai.prompt.name`.
    pub const PROMPT_NAME: &str = "gen_ai.prompt.name";
    /// `gen_ai.prompt.version`.
    pub const PROMPT_VERSION: &str = "gen_ai.prompt.version";
    /// `gen_ai.conversation.id`.
    pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
    /// `gen_ai.data_source.id`.
    pub const DATA_SOURCE_ID: &str = "gen_ai.data_source.id";
    /// `gen_ai.retrieval.top_k`.
    pub const RETRIEVAL_TOP_K: &str = "gen_ai.retrieval.top_k";
    /// `gen_ai.retrieval.query.text`.
    pub const RETRIEVAL_QUERY_TEXT: &str = "gen_ai.retrieval.query.text";
    /// `gen_ai.retrieval.documents`.
    pub const RETRIEVAL_DOCUMENTS: &str = "gen_ai.retrieval.documents";
    /// `gen_ai.tool.name`.
    pub const TOOL_NAME: &str = "gen_ai.tool.name";
    /// `gen_ai.tool.description`.
    pub const TOOL_DESCRIPTION: &str = "gen_ai.tool.description";
    /// `gen_ai.tool.type`.
    pub const TOOL_TYPE: &str = "gen_ai.tool.type";
    /// `gen_ai.tool.call.id`.
    pub const TOOL_CALL_ID: &str = "gen_ai.tool.call.id";
    /// `gen_ai.tool.call.arguments`.
    pub const TOOL_CALL_ARGUMENTS: &str = "gen_ai.tool.call.arguments";
    /// `gen_ai.tool.call.result`.
    pub const TOOL_CALL_RESULT: &str = "gen_ai.tool.call.result";
    /// `gen_ai.agent.name`.
    pub const AGENT_NAME: &str = "gen_ai.agent.name";
    /// `gen_ai.workflow.name`.
    pub const WORKFLOW_NAME: &str = "gen_ai.workflow.name";
    /// `gen_ai.input.messages`.
    pub const INPUT_MESSAGES: &str = "gen_ai.input.messages";
    /// `gen_ai.output.messages`.
    pub const OUTPUT_MESSAGES: &str = "gen_ai.output.messages";
    /// `gen_ai.system_instructions`.
    pub const SYSTEM_INSTRUCTIONS: &str = "gen_ai.system_instructions";
    /// `gen_ai.response.model`.
    pub const RESPONSE_MODEL: &str = "gen_ai.response.model";
    /// `gen_ai.response.id`.
    pub const RESPONSE_ID: &str = "gen_ai.response.id";
    /// `gen_ai.response.finish_reasons`.
    pub const RESPONSE_FINISH_REASONS: &str = "gen_ai.response.finish_reasons";
    /// `gen_ai.response.time_to_first_chunk`.
    pub const RESPONSE_TIME_TO_FIRST_CHUNK: &str = "gen_ai.response.time_to_first_chunk";
    /// `gen_ai.usage.input_tokens`.
    pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
    /// `gen_ai.usage.output_tokens`.
    pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
    /// `gen_ai.usage.cache_read.input_tokens`.
    pub const USAGE_CACHE_READ_INPUT_TOKENS: &str = "gen_ai.usage.cache_read.input_tokens";
    /// `gen_ai.usage.cache_creation.input_tokens`: the name Phoenix and Langfuse read.
    pub const USAGE_CACHE_CREATION_INPUT_TOKENS: &str = "gen_ai.usage.cache_creation.input_tokens";
    /// `gen_ai.usage.cache_write.input_tokens`: newest name, emitted in the latest profile only.
    pub const USAGE_CACHE_WRITE_INPUT_TOKENS: &str = "gen_ai.usage.cache_write.input_tokens";
    /// `gen_ai.usage.reasoning.output_tokens`.
    pub const USAGE_REASONING_OUTPUT_TOKENS: &str = "gen_ai.usage.reasoning.output_tokens";
    /// `error.type`.
    pub const ERROR_TYPE: &str = "error.type";
    /// `server.address`.
    pub const SERVER_ADDRESS: &str = "server.address";
    /// `server.port`.
    pub const SERVER_PORT: &str = "server.port";
    /// `exception.type` (on the `exception` event).
    pub const EXCEPTION_TYPE: &str = "exception.type";
    /// `exception.message` (on the `exception` event).
    pub const EXCEPTION_MESSAGE: &str = "exception.message";
}

/// Deprecated GenAI names, emitted only by the legacy profile.
pub mod legacy {
    /// `gen_ai.system`, renamed `gen_ai.provider.name`.
    pub const SYSTEM: &str = "gen_ai.system";
    /// `gen_ai.usage.prompt_tokens`, renamed `gen_ai.usage.input_tokens`.
    pub const USAGE_PROMPT_TOKENS: &str = "gen_ai.usage.prompt_tokens";
    /// `gen_ai.usage.completion_tokens`, renamed `gen_ai.usage.output_tokens`.
    pub const USAGE_COMPLETION_TOKENS: &str = "gen_ai.usage.completion_tokens";
}

/// OpenInference keys (Arize Phoenix).
pub mod openinference {
    /// `openinference.span.kind`.
    pub const SPAN_KIND: &str = "openinference.span.kind";
    /// `input.value`.
    pub const INPUT_VALUE: &str = "input.value";
    /// `input.mime_type`.
    pub const INPUT_MIME_TYPE: &str = "input.mime_type";
    /// `output.value`.
    pub const OUTPUT_VALUE: &str = "output.value";
    /// `output.mime_type`.
    pub const OUTPUT_MIME_TYPE: &str = "output.mime_type";
    /// `llm.model_name`.
    pub const LLM_MODEL_NAME: &str = "llm.model_name";
    /// `embedding.model_name`.
    pub const EMBEDDING_MODEL_NAME: &str = "embedding.model_name";
    /// `llm.provider`.
    pub const LLM_PROVIDER: &str = "llm.provider";
    /// `llm.system`.
    pub const LLM_SYSTEM: &str = "llm.system";
    /// `llm.invocation_parameters` (JSON string).
    pub const LLM_INVOCATION_PARAMETERS: &str = "llm.invocation_parameters";
    /// `llm.token_count.prompt`.
    pub const LLM_TOKEN_COUNT_PROMPT: &str = "llm.token_count.prompt";
    /// `llm.token_count.completion`.
    pub const LLM_TOKEN_COUNT_COMPLETION: &str = "llm.token_count.completion";
    /// `llm.token_count.total`.
    pub const LLM_TOKEN_COUNT_TOTAL: &str = "llm.token_count.total";
    /// `llm.token_count.prompt_details.cache_read`.
    pub const LLM_TOKEN_COUNT_CACHE_READ: &str = "llm.token_count.prompt_details.cache_read";
    /// `llm.token_count.prompt_details.cache_write`.
    pub const LLM_TOKEN_COUNT_CACHE_WRITE: &str = "llm.token_count.prompt_details.cache_write";
    /// `llm.token_count.completion_details.reasoning`.
    pub const LLM_TOKEN_COUNT_REASONING: &str = "llm.token_count.completion_details.reasoning";
    /// `llm.cost.prompt` (USD).
    pub const LLM_COST_PROMPT: &str = "llm.cost.prompt";
    /// `llm.cost.completion` (USD).
    pub const LLM_COST_COMPLETION: &str = "llm.cost.completion";
    /// `llm.cost.total` (USD).
    pub const LLM_COST_TOTAL: &str = "llm.cost.total";
    /// `llm.cost.prompt_details.cache_read` (USD).
    pub const LLM_COST_CACHE_READ: &str = "llm.cost.prompt_details.cache_read";
    /// `llm.cost.prompt_details.cache_write` (USD).
    pub const LLM_COST_CACHE_WRITE: &str = "llm.cost.prompt_details.cache_write";
    /// `llm.finish_reason`.
    pub const LLM_FINISH_REASON: &str = "llm.finish_reason";
    /// `tool.name`.
    pub const TOOL_NAME: &str = "tool.name";
    /// `tool.description`.
    pub const TOOL_DESCRIPTION: &str = "tool.description";
    /// `tool.parameters` (JSON string of the call's arguments).
    pub const TOOL_PARAMETERS: &str = "tool.parameters";
    /// `session.id`.
    pub const SESSION_ID: &str = "session.id";
    /// `user.id`.
    pub const USER_ID: &str = "user.id";
    /// `metadata` (JSON string).
    pub const METADATA: &str = "metadata";
    /// `tag.tags`.
    pub const TAG_TAGS: &str = "tag.tags";
    /// Prefix of the indexed retrieval document keys: `retrieval.documents.{i}.document.{field}`.
    pub const RETRIEVAL_DOCUMENTS_PREFIX: &str = "retrieval.documents";
}

/// Langfuse keys.
pub mod langfuse {
    /// `langfuse.observation.type`.
    pub const OBSERVATION_TYPE: &str = "langfuse.observation.type";
    /// `langfuse.observation.usage_details` (JSON object).
    pub const OBSERVATION_USAGE_DETAILS: &str = "langfuse.observation.usage_details";
    /// `langfuse.observation.cost_details` (JSON object).
    pub const OBSERVATION_COST_DETAILS: &str = "langfuse.observation.cost_details";
    /// `langfuse.observation.completion_start_time` (ISO-8601).
    pub const OBSERVATION_COMPLETION_START_TIME: &str =
        "langfuse.observation.completion_start_time";
    /// `langfuse.observation.prompt.name`.
    pub const OBSERVATION_PROMPT_NAME: &str = "langfuse.observation.prompt.name";
    /// `langfuse.observation.prompt.version`.
    pub const OBSERVATION_PROMPT_VERSION: &str = "langfuse.observation.prompt.version";
    /// `langfuse.trace.name`.
    pub const TRACE_NAME: &str = "langfuse.trace.name";
    /// `langfuse.trace.tags`.
    pub const TRACE_TAGS: &str = "langfuse.trace.tags";
    /// `langfuse.trace.metadata` (JSON object).
    pub const TRACE_METADATA: &str = "langfuse.trace.metadata";
}

/// llmtrace's own keys.
pub mod llmtrace {
    /// `llmtrace.cancelled`: the operation was dropped before it completed.
    pub const CANCELLED: &str = "llmtrace.cancelled";
    /// `llmtrace.usage.missing`: a model call reported no token usage.
    pub const USAGE_MISSING: &str = "llmtrace.usage.missing";
    /// `llmtrace.cost.unpriced`: no price is known for the model; cost is unknown, not zero.
    pub const COST_UNPRICED: &str = "llmtrace.cost.unpriced";
    /// `llmtrace.stream.chunks`: chunks a streamed response produced.
    pub const STREAM_CHUNKS: &str = "llmtrace.stream.chunks";
    /// `llmtrace.trace.input_tokens`: roll-up on the root span.
    pub const TRACE_INPUT_TOKENS: &str = "llmtrace.trace.input_tokens";
    /// `llmtrace.trace.output_tokens`: roll-up on the root span.
    pub const TRACE_OUTPUT_TOKENS: &str = "llmtrace.trace.output_tokens";
    /// `llmtrace.trace.cost_usd`: roll-up on the root span.
    pub const TRACE_COST_USD: &str = "llmtrace.trace.cost_usd";
    /// `llmtrace.content.truncated`: some captured content was cut to its size limit.
    pub const CONTENT_TRUNCATED: &str = "llmtrace.content.truncated";
    /// `llmtrace.retrieval.documents.count`: number of documents retrieved.
    pub const RETRIEVAL_DOCUMENT_COUNT: &str = "llmtrace.retrieval.documents.count";
}
