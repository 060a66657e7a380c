//! Semantic slots of a span record.
//!
//! A record stores *what* was observed (the model, a temperature, 120 input tokens), not the
//! attribute keys of one convention. The mapper turns fields into the keys of the active
//! conventions profile, so every export mode and every profile reads the same record.

/// One semantic value a span can carry. The macros' schema table names these variants; the key
/// table ([`semconv::table`](crate::semconv::table)) says which attribute keys each one becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Field {
    /// The name of a workflow, tool, guardrail or step, when it is not the function's.
    Name,
    /// `gen_ai.operation.name` override for model calls (`chat`, `embeddings`, ...).
    Operation,
    /// `gen_ai.provider.name`.
    Provider,
    /// `gen_ai.request.model`.
    Model,
    /// `gen_ai.request.temperature`.
    Temperature,
    /// `gen_ai.request.max_tokens`.
    MaxTokens,
    /// `gen_ai.request.top_p`.
    TopP,
    /// `gen_ai.request.top_k`.
    TopK,
    /// `gen_ai.request.frequency_penalty`.
    FrequencyPenalty,
    /// `gen_ai.request.presence_penalty`.
    PresencePenalty,
    /// `gen_ai.request.seed`.
    Seed,
    /// `gen_ai.request.stop_sequences`.
    StopSequences,
    /// `gen_ai.request.choice.count`.
    ChoiceCount,
    /// `gen_ai.request.reasoning.level`.
    ReasoningLevel,
    /// `gen_ai.output.type`.
    OutputType,
    /// `gen_ai.prompt.name`.
    PromptName,
    /// `gen_ai.prompt.version`.
    PromptVersion,
    /// `server.address`.
    ServerAddress,
    /// `server.port`.
    ServerPort,
    /// `gen_ai.request.stream`.
    Stream,
    /// `gen_ai.conversation.id`.
    ConversationId,
    /// `gen_ai.data_source.id`.
    DataSource,
    /// `gen_ai.retrieval.top_k`.
    RetrievalTopK,
    /// `gen_ai.retrieval.query.text` (content).
    Query,
    /// `gen_ai.retrieval.documents` (content, JSON array).
    Documents,
    /// `gen_ai.tool.description`.
    ToolDescription,
    /// `gen_ai.tool.type`.
    ToolType,
    /// `gen_ai.tool.call.id`.
    ToolCallId,
    /// `gen_ai.agent.name`: an agent's own name, or on a model call or tool the agent making
    /// it.
    AgentName,
    /// Captured parameters as a JSON object (content).
    Input,
    /// Captured return value as JSON (content).
    Output,
    /// `gen_ai.input.messages` (content, JSON array).
    InputMessages,
    /// `gen_ai.output.messages` (content, JSON array).
    OutputMessages,
    /// `gen_ai.system_instructions` (content, JSON array).
    SystemInstructions,
    /// `gen_ai.tool.definitions`: the tools offered to the model (content, JSON array).
    ToolDefinitions,
    /// `gen_ai.response.model`.
    ResponseModel,
    /// `gen_ai.response.id`.
    ResponseId,
    /// `gen_ai.response.finish_reasons`.
    FinishReasons,
    /// `gen_ai.response.time_to_first_chunk`, seconds.
    TimeToFirstChunk,
    /// Number of chunks a streamed response produced.
    ChunkCount,
    /// Seconds per chunk after the first of a streamed response: from the first chunk with
    /// content to the last, over the chunks after the first.
    TimePerOutputChunk,
    /// `gen_ai.usage.input_tokens` (all input tokens, cached ones included).
    InputTokens,
    /// `gen_ai.usage.output_tokens` (all output tokens, reasoning included).
    OutputTokens,
    /// `gen_ai.usage.cache_read.input_tokens`.
    CacheReadTokens,
    /// `gen_ai.usage.cache_creation.input_tokens`.
    CacheWriteTokens,
    /// `gen_ai.usage.reasoning.output_tokens`.
    ReasoningTokens,
    /// Cost of the input tokens in USD.
    CostInput,
    /// Cost of the output tokens in USD.
    CostOutput,
    /// Cost of cache reads in USD.
    CostCacheRead,
    /// Cost of cache writes in USD.
    CostCacheWrite,
    /// Total cost in USD.
    CostTotal,
    /// The model had no price: cost is unknown, not zero.
    Unpriced,
    /// Roll-up on a root: input tokens of the whole trace.
    TraceInputTokens,
    /// Roll-up on a root: output tokens of the whole trace.
    TraceOutputTokens,
    /// Roll-up on a root: cost of the whole trace in USD.
    TraceCost,
    /// Roll-up on a root: model calls of the trace that had no price (its cost is a lower
    /// bound).
    TraceUnpricedCalls,
    /// `gen_ai.agent.id`: the provider's id of a hosted agent.
    AgentId,
    /// `gen_ai.agent.description`.
    AgentDescription,
    /// `gen_ai.agent.version`.
    AgentVersion,
    /// Aggregate on an agent: its own model calls (`llmtrace.agent.inference_calls`).
    AgentInferenceCalls,
    /// Aggregate on an agent: its own tool calls (`llmtrace.agent.tool_calls`).
    AgentToolCalls,
    /// Aggregate on an agent: its own steps (`llmtrace.agent.steps`).
    AgentSteps,
    /// Aggregate on an agent: the cost of its own calls in USD (`llmtrace.agent.cost_usd`).
    AgentCost,
    /// Aggregate on an evaluator: input tokens of the model calls inside it
    /// (`llmtrace.evaluator.input_tokens`).
    EvaluatorInputTokens,
    /// Aggregate on an evaluator: output tokens of the model calls inside it
    /// (`llmtrace.evaluator.output_tokens`).
    EvaluatorOutputTokens,
    /// Aggregate on an evaluator: the cost of the model calls inside it in USD
    /// (`llmtrace.evaluator.cost_usd`).
    EvaluatorCost,
    /// The documents given to a reranker (content, JSON array).
    RerankInputDocuments,
    /// `gen_ai.request.encoding_formats` of an embeddings call.
    EncodingFormats,
    /// Number of vectors an embeddings call returned (the vectors themselves are never
    /// recorded).
    EmbeddingCount,
    /// `gen_ai.embeddings.dimension.count`: the dimension of the vectors returned (or
    /// requested).
    EmbeddingDimension,
    /// Whether a guardrail passed.
    GuardrailPassed,
    /// Why a guardrail passed or failed.
    GuardrailReason,
    /// `llmtrace.retry.attempt`: the attempt number of an operation re-issued after a failure
    /// (2 for the first retry).
    RetryAttempt,
    /// `error.type`. Keep this variant last: `Field::COUNT` counts up to it.
    ErrorType,
}

impl Field {
    /// The number of fields.
    pub(crate) const COUNT: usize = Field::ErrorType as usize + 1;

    /// Every field, in declaration order.
    ///
    /// ```
    /// use llmtrace_runtime::Field;
    ///
    /// assert!(Field::ALL.contains(&Field::Model));
    /// ```
    pub const ALL: [Field; Field::COUNT] = [
        Field::Name,
        Field::Operation,
        Field::Provider,
        Field::Model,
        Field::Temperature,
        Field::MaxTokens,
        Field::TopP,
        Field::TopK,
        Field::FrequencyPenalty,
        Field::PresencePenalty,
        Field::Seed,
        Field::StopSequences,
        Field::ChoiceCount,
        Field::ReasoningLevel,
        Field::OutputType,
        Field::PromptName,
        Field::PromptVersion,
        Field::ServerAddress,
        Field::ServerPort,
        Field::Stream,
        Field::ConversationId,
        Field::DataSource,
        Field::RetrievalTopK,
        Field::Query,
        Field::Documents,
        Field::ToolDescription,
        Field::ToolType,
        Field::ToolCallId,
        Field::AgentName,
        Field::Input,
        Field::Output,
        Field::InputMessages,
        Field::OutputMessages,
        Field::SystemInstructions,
        Field::ToolDefinitions,
        Field::ResponseModel,
        Field::ResponseId,
        Field::FinishReasons,
        Field::TimeToFirstChunk,
        Field::ChunkCount,
        Field::TimePerOutputChunk,
        Field::InputTokens,
        Field::OutputTokens,
        Field::CacheReadTokens,
        Field::CacheWriteTokens,
        Field::ReasoningTokens,
        Field::CostInput,
        Field::CostOutput,
        Field::CostCacheRead,
        Field::CostCacheWrite,
        Field::CostTotal,
        Field::Unpriced,
        Field::TraceInputTokens,
        Field::TraceOutputTokens,
        Field::TraceCost,
        Field::TraceUnpricedCalls,
        Field::AgentId,
        Field::AgentDescription,
        Field::AgentVersion,
        Field::AgentInferenceCalls,
        Field::AgentToolCalls,
        Field::AgentSteps,
        Field::AgentCost,
        Field::EvaluatorInputTokens,
        Field::EvaluatorOutputTokens,
        Field::EvaluatorCost,
        Field::RerankInputDocuments,
        Field::EncodingFormats,
        Field::EmbeddingCount,
        Field::EmbeddingDimension,
        Field::GuardrailPassed,
        Field::GuardrailReason,
        Field::RetryAttempt,
        Field::ErrorType,
    ];
}

#[cfg(test)]
impl Field {
    /// A value of the field's type for tests, the `n`th of a few distinct ones (content fields
    /// get plain text: tests that need their JSON shapes give them).
    pub(crate) fn sample(self, n: u8) -> super::Value {
        use super::Value;
        match self {
            Field::Temperature
            | Field::TopP
            | Field::FrequencyPenalty
            | Field::PresencePenalty
            | Field::TimeToFirstChunk
            | Field::TimePerOutputChunk
            | Field::CostInput
            | Field::CostOutput
            | Field::CostCacheRead
            | Field::CostCacheWrite
            | Field::CostTotal
            | Field::TraceCost
            | Field::AgentCost
            | Field::EvaluatorCost => Value::F64(0.25 * f64::from(n + 1)),
            Field::MaxTokens
            | Field::TopK
            | Field::Seed
            | Field::ChoiceCount
            | Field::ServerPort
            | Field::RetrievalTopK
            | Field::ChunkCount
            | Field::InputTokens
            | Field::OutputTokens
            | Field::CacheReadTokens
            | Field::CacheWriteTokens
            | Field::ReasoningTokens
            | Field::TraceInputTokens
            | Field::TraceOutputTokens
            | Field::TraceUnpricedCalls
            | Field::AgentInferenceCalls
            | Field::AgentToolCalls
            | Field::AgentSteps
            | Field::EvaluatorInputTokens
            | Field::EvaluatorOutputTokens
            | Field::EmbeddingCount
            | Field::EmbeddingDimension
            | Field::RetryAttempt => Value::I64(7 + i64::from(n)),
            Field::Stream | Field::Unpriced | Field::GuardrailPassed => {
                Value::Bool(n.is_multiple_of(2))
            }
            Field::StopSequences | Field::FinishReasons | Field::EncodingFormats => match n % 2 {
                0 => Value::StrList(&["stop", "length"]),
                _ => Value::StrList(&["stop"]),
            },
            _ => Value::String(format!("{self:?}-{n}").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Field;

    #[test]
    fn all_lists_every_variant_once_in_order() {
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i, "{f:?} is out of place in Field::ALL");
        }
    }
}
