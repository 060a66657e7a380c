//! The schema table: every argument each macro accepts, its type, whether it is required, its
//! default, the runtime field it fills and the attribute keys it produces. Parsing, validation,
//! code generation and the generated documentation all read this table.

/// The span kinds: one per attribute macro, and the block span of `step!`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Workflow,
    LlmCall,
    Retrieval,
    Tool,
    Agent,
    Embeddings,
    Rerank,
    Guardrail,
    Evaluator,
    Step,
}

impl Kind {
    pub(crate) const ALL: [Kind; 10] = [
        Kind::Workflow,
        Kind::LlmCall,
        Kind::Retrieval,
        Kind::Tool,
        Kind::Agent,
        Kind::Embeddings,
        Kind::Rerank,
        Kind::Guardrail,
        Kind::Evaluator,
        Kind::Step,
    ];

    /// The macro name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Workflow => "workflow",
            Kind::LlmCall => "llm_call",
            Kind::Retrieval => "retrieval",
            Kind::Tool => "tool",
            Kind::Agent => "agent",
            Kind::Embeddings => "embeddings",
            Kind::Rerank => "rerank",
            Kind::Guardrail => "guardrail",
            Kind::Evaluator => "evaluator",
            Kind::Step => "step",
        }
    }

    /// How the macro is written in documentation and messages: `#[tool]`, `step!`.
    pub(crate) fn written(self) -> String {
        match self {
            Kind::Step => "`step!`".to_owned(),
            other => format!("`#[{}]`", other.name()),
        }
    }

    /// The variant of the runtime's `Kind`.
    pub(crate) fn runtime_variant(self) -> &'static str {
        match self {
            Kind::Workflow => "Workflow",
            Kind::LlmCall => "LlmCall",
            Kind::Retrieval => "Retrieval",
            Kind::Tool => "Tool",
            Kind::Agent => "Agent",
            Kind::Embeddings => "Embeddings",
            Kind::Rerank => "Rerank",
            Kind::Guardrail => "Guardrail",
            Kind::Evaluator => "Evaluator",
            Kind::Step => "Step",
        }
    }

    /// The runtime field the return value is captured into; `None` for embeddings, whose
    /// return value (the vectors) is never captured.
    pub(crate) fn output_field(self) -> Option<&'static str> {
        match self {
            Kind::Retrieval | Kind::Rerank => Some("Documents"),
            Kind::Embeddings => None,
            Kind::Workflow
            | Kind::LlmCall
            | Kind::Tool
            | Kind::Agent
            | Kind::Guardrail
            | Kind::Evaluator
            | Kind::Step => Some("Output"),
        }
    }

    /// The arguments this kind accepts, in table order.
    pub(crate) fn args(self) -> impl Iterator<Item = &'static ArgSpec> {
        ARGS.iter().filter(move |a| a.kinds.contains(&self))
    }
}

/// The type of an argument's value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ArgType {
    /// A string literal, or an expression of a string type.
    Str,
    /// One of these string literals.
    Enum(&'static [&'static str]),
    /// A well-known `gen_ai.provider.name`, `custom("name")`, or a string expression.
    Provider,
    /// An integer literal within the bounds, or an expression of an integer type.
    Int { min: i64, max: i64 },
    /// A number literal within the bounds, or an expression of a number type.
    Float { min: f64, max: f64 },
    /// A `bool` literal only (a compile-time switch).
    Switch,
    /// An array of string literals, or an expression of a list of strings.
    StrList,
    /// Parameter names: `skip(a, b)`, with what naming them does.
    Params(ParamList),
    /// A bare flag (`skip_all`, `stream`), with what giving it does.
    Flag(Flag),
    /// A path: `crate = path`.
    Path,
    /// Custom attributes: `attributes(app.tier = "pro", app.region = region)`.
    Attributes,
    /// Spans to link to: `links = [handoff, previous]`, or one expression of a list.
    Links,
    /// An expression of the type described (checked by the compiler, at the expression).
    Expr(&'static str),
}

impl ArgType {
    /// How the type reads in documentation and messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            ArgType::Str => "string",
            ArgType::Enum(_) => "string (one of the listed values)",
            ArgType::Provider => "provider name",
            ArgType::Int { .. } => "integer",
            ArgType::Float { .. } => "number",
            ArgType::Switch => "bool literal",
            ArgType::StrList => "list of strings",
            ArgType::Params(_) => "parameter names",
            ArgType::Flag(_) => "flag",
            ArgType::Path => "path",
            ArgType::Attributes => "`key = value` list",
            ArgType::Links => "list of `llmtrace::TraceContext` expressions",
            ArgType::Expr(ty) => ty,
        }
    }

    /// Whether an expression may be given instead of a literal.
    pub(crate) fn accepts_expr(self) -> bool {
        matches!(
            self,
            ArgType::Str
                | ArgType::Provider
                | ArgType::Int { .. }
                | ArgType::Float { .. }
                | ArgType::StrList
        )
    }

    /// The runtime conversion trait for expressions of this type.
    pub(crate) fn expr_trait(self) -> &'static str {
        match self {
            ArgType::Int { .. } => "IntArg",
            ArgType::Float { .. } => "FloatArg",
            ArgType::StrList => "StrListArg",
            _ => "StrArg",
        }
    }
}

/// What a list of parameter names does, matched exhaustively by the parser as [`Flag`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamList {
    /// Not captured (`skip`).
    Skip,
    /// Captured as `"[REDACTED]"` (`redact`).
    Redact,
    /// The one parameter holding a reranker's input documents (`documents(hits)`), recorded
    /// as documents and not among the parameters.
    Documents,
}

/// What a flag argument does. Each flag of the table names its effect here, and the parser
/// matches on it exhaustively: a new flag needs a new variant (or an existing one, chosen on
/// purpose), and a new variant does not compile until the parser applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flag {
    /// Capture no parameters (`skip_all`).
    SkipAll,
    /// The function returns a stream; the span moves into it (`stream`).
    Stream,
}

impl Flag {
    /// Every effect, for tests that walk them.
    #[cfg(test)]
    pub(crate) const ALL: [Flag; 2] = [Flag::SkipAll, Flag::Stream];
}

/// One argument of one or more macros.
#[derive(Debug)]
pub(crate) struct ArgSpec {
    pub(crate) name: &'static str,
    pub(crate) kinds: &'static [Kind],
    pub(crate) ty: ArgType,
    pub(crate) required: bool,
    /// The default, as documentation.
    // Read by the generated reference (`docs.rs`), which tests check against the committed docs.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) default: Option<&'static str>,
    /// The runtime `Field` variant the value goes to.
    pub(crate) field: Option<&'static str>,
    /// The attribute keys the value produces (default conventions profile).
    pub(crate) keys: &'static [&'static str],
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) doc: &'static str,
}

const ALL: &[Kind] = &Kind::ALL;
/// The attribute macros: every kind but the block span, which has no parameters.
const FUNCTIONS: &[Kind] = &[
    Kind::Workflow,
    Kind::LlmCall,
    Kind::Retrieval,
    Kind::Tool,
    Kind::Agent,
    Kind::Embeddings,
    Kind::Rerank,
    Kind::Guardrail,
    Kind::Evaluator,
];
/// The kinds whose return value is captured as output: every kind but embeddings (vectors).
const OUTPUTS: &[Kind] = &[
    Kind::Workflow,
    Kind::LlmCall,
    Kind::Retrieval,
    Kind::Tool,
    Kind::Agent,
    Kind::Rerank,
    Kind::Guardrail,
    Kind::Evaluator,
    Kind::Step,
];
const LLM: &[Kind] = &[Kind::LlmCall];
const RETRIEVAL: &[Kind] = &[Kind::Retrieval];
const TOOL: &[Kind] = &[Kind::Tool];
const WORKFLOW: &[Kind] = &[Kind::Workflow];
const AGENT: &[Kind] = &[Kind::Agent];
const EMBEDDINGS: &[Kind] = &[Kind::Embeddings];
const RERANK: &[Kind] = &[Kind::Rerank];
const GUARDRAIL: &[Kind] = &[Kind::Guardrail];
const EVALUATOR: &[Kind] = &[Kind::Evaluator];
const STEP: &[Kind] = &[Kind::Step];
const MODEL_CALLS: &[Kind] = &[Kind::LlmCall, Kind::Embeddings];
const ENDPOINTS: &[Kind] = &[Kind::LlmCall, Kind::Retrieval, Kind::Embeddings];

const UNBOUNDED: i64 = i64::MAX;

/// Well-known `gen_ai.provider.name` values (GenAI conventions, 2026-08).
pub(crate) const PROVIDERS: &[&str] = &[
    "openai",
    "anthropic",
    "aws.bedrock",
    "azure.ai.inference",
    "azure.ai.openai",
    "cohere",
    "deepseek",
    "gcp.gemini",
    "gcp.vertex_ai",
    "gcp.gen_ai",
    "groq",
    "ibm.watsonx.ai",
    "mistral_ai",
    "moonshot_ai",
    "perplexity",
    "x_ai",
];

/// Operations of `#[llm_call]`.
pub(crate) const OPERATIONS: &[&str] = &["chat", "text_completion", "generate_content"];

/// Values an argument took once and that another macro traces now: `(kind, argument, value,
/// what to write instead)`. The parser reports them with the replacement.
pub(crate) const MOVED: &[(Kind, &str, &str, &str)] = &[(
    Kind::LlmCall,
    "operation",
    "embeddings",
    "embeddings calls are traced by `#[embeddings(provider = .., model = ..)]`, which records the vector count and dimension and never the vectors; use it instead of `#[llm_call(operation = \"embeddings\")]`",
)];

/// Arguments other kinds take that a kind refuses for a reason of its own: `(kind, argument,
/// why)`. The parser says why rather than listing the kinds that take them.
pub(crate) const REFUSED: &[(Kind, &str, &str)] = &[
    (
        Kind::Embeddings,
        "output",
        "an embeddings call's return value is its vectors, which are never recorded (their count and dimension are)",
    ),
    (Kind::Step, "skip", "a step has no parameters to capture"),
    (Kind::Step, "redact", "a step has no parameters to capture"),
    (
        Kind::Step,
        "skip_all",
        "a step has no parameters to capture",
    ),
];

/// The table. Order is documentation order.
pub(crate) static ARGS: &[ArgSpec] = &[
    // ---- names
    ArgSpec {
        name: "name",
        kinds: WORKFLOW,
        ty: ArgType::Str,
        required: false,
        default: Some("the function's name"),
        field: Some("Name"),
        keys: &["gen_ai.workflow.name"],
        doc: "Workflow name; the span is `invoke_workflow {name}`.",
    },
    ArgSpec {
        name: "name",
        kinds: TOOL,
        ty: ArgType::Str,
        required: false,
        default: Some("the function's name"),
        field: Some("Name"),
        keys: &["gen_ai.tool.name"],
        doc: "Tool name; the span is `execute_tool {name}`.",
    },
    ArgSpec {
        name: "name",
        kinds: AGENT,
        ty: ArgType::Str,
        required: false,
        default: Some("the function's name"),
        field: Some("AgentName"),
        keys: &["gen_ai.agent.name"],
        doc: "Agent name; the span is `invoke_agent {name}`. Model calls and tools inside the agent that give no `agent` of their own carry it too.",
    },
    ArgSpec {
        name: "name",
        kinds: GUARDRAIL,
        ty: ArgType::Str,
        required: false,
        default: Some("the function's name"),
        field: Some("Name"),
        keys: &[],
        doc: "Guardrail name; the span is `guardrail {name}`.",
    },
    ArgSpec {
        name: "name",
        kinds: EVALUATOR,
        ty: ArgType::Str,
        required: false,
        default: Some("the function's name"),
        field: Some("Name"),
        keys: &[],
        doc: "What the evaluator judges (`relevance`, `faithfulness`); the span is `evaluate {name}`. The model calls and tools inside it (an LLM judge) are marked `llmtrace.evaluation = true`; their tokens and cost are totalled on the evaluator (`llmtrace.evaluator.*`) and never in the judged trace's roll-up nor an agent's totals.",
    },
    ArgSpec {
        name: "name",
        kinds: STEP,
        ty: ArgType::Str,
        required: true,
        default: None,
        field: Some("Name"),
        keys: &[],
        doc: "The step's name, which is the span's name; given first: `step!(\"build_context\", { .. })`.",
    },
    // ---- agents
    ArgSpec {
        name: "id",
        kinds: AGENT,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("AgentId"),
        keys: &["gen_ai.agent.id"],
        doc: "The provider's id of a hosted agent (not an in-memory id).",
    },
    ArgSpec {
        name: "description",
        kinds: AGENT,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("AgentDescription"),
        keys: &["gen_ai.agent.description"],
        doc: "What the agent does.",
    },
    ArgSpec {
        name: "version",
        kinds: AGENT,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("AgentVersion"),
        keys: &["gen_ai.agent.version"],
        doc: "The agent's version.",
    },
    // ---- model calls
    ArgSpec {
        name: "provider",
        kinds: MODEL_CALLS,
        ty: ArgType::Provider,
        required: true,
        default: None,
        field: Some("Provider"),
        keys: &["gen_ai.provider.name"],
        doc: "The API flavour called: a well-known `gen_ai.provider.name` (`openai`, `anthropic`, `aws.bedrock`, ...) or `custom(\"name\")`.",
    },
    ArgSpec {
        name: "provider",
        kinds: AGENT,
        ty: ArgType::Provider,
        required: false,
        default: None,
        field: Some("Provider"),
        keys: &["gen_ai.provider.name"],
        doc: "The provider of a hosted agent (OpenAI Assistants, Bedrock Agents, ...): the span is then a CLIENT span, else INTERNAL.",
    },
    ArgSpec {
        name: "model",
        kinds: MODEL_CALLS,
        ty: ArgType::Str,
        required: true,
        default: None,
        field: Some("Model"),
        keys: &["gen_ai.request.model"],
        doc: "Model requested; the span is `{operation} {model}`.",
    },
    ArgSpec {
        name: "model",
        kinds: AGENT,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("Model"),
        keys: &["gen_ai.request.model"],
        doc: "The model of a hosted agent. Without it, the span carries the one model all the agent's own calls used, when they used one.",
    },
    ArgSpec {
        name: "operation",
        kinds: LLM,
        ty: ArgType::Enum(OPERATIONS),
        required: false,
        default: Some("\"chat\""),
        field: Some("Operation"),
        keys: &["gen_ai.operation.name"],
        doc: "`chat`, `text_completion` or `generate_content` (embeddings calls are `#[embeddings]`).",
    },
    ArgSpec {
        name: "temperature",
        kinds: LLM,
        ty: ArgType::Float { min: 0.0, max: 2.0 },
        required: false,
        default: None,
        field: Some("Temperature"),
        keys: &["gen_ai.request.temperature"],
        doc: "Sampling temperature, 0 to 2.",
    },
    ArgSpec {
        name: "max_tokens",
        kinds: LLM,
        ty: ArgType::Int {
            min: 1,
            max: UNBOUNDED,
        },
        required: false,
        default: None,
        field: Some("MaxTokens"),
        keys: &["gen_ai.request.max_tokens"],
        doc: "Maximum output tokens requested.",
    },
    ArgSpec {
        name: "top_p",
        kinds: LLM,
        ty: ArgType::Float { min: 0.0, max: 1.0 },
        required: false,
        default: None,
        field: Some("TopP"),
        keys: &["gen_ai.request.top_p"],
        doc: "Nucleus sampling, 0 to 1.",
    },
    ArgSpec {
        name: "top_k",
        kinds: LLM,
        ty: ArgType::Int {
            min: 1,
            max: UNBOUNDED,
        },
        required: false,
        default: None,
        field: Some("TopK"),
        keys: &["gen_ai.request.top_k"],
        doc: "Top-K sampling.",
    },
    ArgSpec {
        name: "frequency_penalty",
        kinds: LLM,
        ty: ArgType::Float {
            min: -2.0,
            max: 2.0,
        },
        required: false,
        default: None,
        field: Some("FrequencyPenalty"),
        keys: &["gen_ai.request.frequency_penalty"],
        doc: "Frequency penalty, -2 to 2.",
    },
    ArgSpec {
        name: "presence_penalty",
        kinds: LLM,
        ty: ArgType::Float {
            min: -2.0,
            max: 2.0,
        },
        required: false,
        default: None,
        field: Some("PresencePenalty"),
        keys: &["gen_ai.request.presence_penalty"],
        doc: "Presence penalty, -2 to 2.",
    },
    ArgSpec {
        name: "seed",
        kinds: LLM,
        ty: ArgType::Int {
            min: i64::MIN,
            max: UNBOUNDED,
        },
        required: false,
        default: None,
        field: Some("Seed"),
        keys: &["gen_ai.request.seed"],
        doc: "Seed sent with the request.",
    },
    ArgSpec {
        name: "stop_sequences",
        kinds: LLM,
        ty: ArgType::StrList,
        required: false,
        default: None,
        field: Some("StopSequences"),
        keys: &["gen_ai.request.stop_sequences"],
        doc: "Stop sequences.",
    },
    ArgSpec {
        name: "choice_count",
        kinds: LLM,
        ty: ArgType::Int {
            min: 1,
            max: UNBOUNDED,
        },
        required: false,
        default: None,
        field: Some("ChoiceCount"),
        keys: &["gen_ai.request.choice.count"],
        doc: "Number of candidates requested.",
    },
    ArgSpec {
        name: "reasoning_level",
        kinds: LLM,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("ReasoningLevel"),
        keys: &["gen_ai.request.reasoning.level"],
        doc: "Reasoning effort exactly as sent (`low`, `medium`, `high`, ...).",
    },
    ArgSpec {
        name: "output_type",
        kinds: LLM,
        ty: ArgType::Enum(&["text", "json", "image", "speech"]),
        required: false,
        default: None,
        field: Some("OutputType"),
        keys: &["gen_ai.output.type"],
        doc: "Output modality requested: `text`, `json`, `image` or `speech`.",
    },
    ArgSpec {
        name: "prompt_name",
        kinds: LLM,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("PromptName"),
        keys: &["gen_ai.prompt.name", "langfuse.observation.prompt.name"],
        doc: "Name of the prompt template used.",
    },
    ArgSpec {
        name: "prompt_version",
        kinds: LLM,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("PromptVersion"),
        keys: &[
            "gen_ai.prompt.version",
            "langfuse.observation.prompt.version",
        ],
        doc: "Version of the prompt template used.",
    },
    ArgSpec {
        name: "conversation_id",
        kinds: &[Kind::LlmCall, Kind::Agent],
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("ConversationId"),
        keys: &["gen_ai.conversation.id"],
        doc: "Conversation or thread id, when the application has one.",
    },
    // ---- embeddings
    ArgSpec {
        name: "encoding_formats",
        kinds: EMBEDDINGS,
        ty: ArgType::StrList,
        required: false,
        default: None,
        field: Some("EncodingFormats"),
        keys: &["gen_ai.request.encoding_formats"],
        doc: "Encoding formats requested (`[\"float\"]`, `[\"base64\"]`).",
    },
    // ---- retrieval
    ArgSpec {
        name: "data_source",
        kinds: RETRIEVAL,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("DataSource"),
        keys: &["gen_ai.data_source.id"],
        doc: "Id of the data source searched; the span is `retrieval {data_source}`.",
    },
    ArgSpec {
        name: "top_k",
        kinds: RETRIEVAL,
        ty: ArgType::Int {
            min: 1,
            max: UNBOUNDED,
        },
        required: false,
        default: None,
        field: Some("RetrievalTopK"),
        keys: &["gen_ai.retrieval.top_k"],
        doc: "Number of documents requested.",
    },
    ArgSpec {
        name: "query",
        kinds: RETRIEVAL,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("Query"),
        keys: &["gen_ai.retrieval.query.text", "input.value"],
        doc: "The query text (content: recorded only when content capture is on).",
    },
    ArgSpec {
        name: "provider",
        kinds: RETRIEVAL,
        ty: ArgType::Provider,
        required: false,
        default: None,
        field: Some("Provider"),
        keys: &["gen_ai.provider.name"],
        doc: "Provider of a hosted retrieval service.",
    },
    ArgSpec {
        name: "model",
        kinds: RETRIEVAL,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("Model"),
        keys: &["gen_ai.request.model"],
        doc: "Embedding or reranking model used.",
    },
    // ---- reranking
    ArgSpec {
        name: "model",
        kinds: RERANK,
        ty: ArgType::Str,
        required: true,
        default: None,
        field: Some("Model"),
        keys: &["gen_ai.request.model", "reranker.model_name"],
        doc: "The reranking model; the span is `rerank {model}`.",
    },
    ArgSpec {
        name: "provider",
        kinds: RERANK,
        ty: ArgType::Provider,
        required: false,
        default: None,
        field: Some("Provider"),
        keys: &["gen_ai.provider.name"],
        doc: "Provider of a hosted reranker (`cohere`, ...): the span is then a CLIENT span, else INTERNAL.",
    },
    ArgSpec {
        name: "top_k",
        kinds: RERANK,
        ty: ArgType::Int {
            min: 1,
            max: UNBOUNDED,
        },
        required: false,
        default: None,
        field: Some("RetrievalTopK"),
        keys: &["llmtrace.rerank.top_k", "reranker.top_k"],
        doc: "Number of documents to return.",
    },
    ArgSpec {
        name: "query",
        kinds: RERANK,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("Query"),
        keys: &["reranker.query", "input.value"],
        doc: "The query the documents are ranked for (content: recorded only when content capture is on).",
    },
    ArgSpec {
        name: "documents",
        kinds: RERANK,
        ty: ArgType::Params(ParamList::Documents),
        required: false,
        default: Some("the parameter named `documents` or `candidates`"),
        field: Some("RerankInputDocuments"),
        keys: &[
            "llmtrace.rerank.input_documents.count",
            "llmtrace.rerank.input_scores",
        ],
        doc: "The parameter holding the documents to rerank, read like a `#[retrieval]`'s return value (`serde::Serialize` with `id`, `score`, `content`, `metadata` fields, or `llmtrace::Document`): `documents(hits)`. The documents returned are the return value; both are recorded as documents (with their scores before and after), not among the parameters.",
    },
    // ---- tools
    ArgSpec {
        name: "description",
        kinds: TOOL,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("ToolDescription"),
        keys: &["gen_ai.tool.description"],
        doc: "What the tool does.",
    },
    ArgSpec {
        name: "tool_type",
        kinds: TOOL,
        ty: ArgType::Enum(&["function", "extension", "datastore"]),
        required: false,
        default: Some("\"function\""),
        field: Some("ToolType"),
        keys: &["gen_ai.tool.type"],
        doc: "`function` (runs in the client), `extension` or `datastore`.",
    },
    ArgSpec {
        name: "call_id",
        kinds: TOOL,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("ToolCallId"),
        keys: &["gen_ai.tool.call.id"],
        doc: "Id of the model's tool call this execution answers (usually an expression).",
    },
    ArgSpec {
        name: "agent",
        kinds: &[Kind::LlmCall, Kind::Tool],
        ty: ArgType::Str,
        required: false,
        default: Some("the enclosing `#[agent]`'s name"),
        field: Some("AgentName"),
        keys: &["gen_ai.agent.name"],
        doc: "Name of the agent making the call.",
    },
    // ---- endpoint
    ArgSpec {
        name: "server_address",
        kinds: ENDPOINTS,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("ServerAddress"),
        keys: &["server.address"],
        doc: "Host of the endpoint called.",
    },
    ArgSpec {
        name: "server_port",
        kinds: ENDPOINTS,
        ty: ArgType::Int {
            min: 1,
            max: 65_535,
        },
        required: false,
        default: None,
        field: Some("ServerPort"),
        keys: &["server.port"],
        doc: "Port of the endpoint called.",
    },
    // ---- content and response
    ArgSpec {
        name: "messages",
        kinds: LLM,
        ty: ArgType::Expr("expression of a type implementing `llmtrace::Messages`"),
        required: false,
        default: None,
        field: Some("InputMessages"),
        keys: &["gen_ai.input.messages", "gen_ai.system_instructions"],
        doc: "The messages sent: a prompt string, `llmtrace::Message`s, or a client's request type (evaluated at the call; recorded when content is captured). They are the call's input: parameters are then not captured.",
    },
    ArgSpec {
        name: "usage",
        kinds: LLM,
        ty: ArgType::Expr("closure from `&` the returned value to `impl llmtrace::LlmResponse`"),
        required: false,
        default: None,
        field: None,
        keys: &[
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
            "gen_ai.response.model",
            "gen_ai.response.id",
            "gen_ai.response.finish_reasons",
            "gen_ai.output.messages",
        ],
        doc: "Reads usage from a returned value whose type does not implement `llmtrace::LlmResponse` (the `Ok` value of a `Result`): `usage = |r| llmtrace::Usage::new(r.tokens.input, r.tokens.output)`.",
    },
    ArgSpec {
        name: "usage",
        kinds: EMBEDDINGS,
        ty: ArgType::Expr("closure from `&` the returned value to `impl llmtrace::LlmResponse`"),
        required: false,
        default: None,
        field: None,
        keys: &["gen_ai.usage.input_tokens", "gen_ai.response.model"],
        doc: "Reads usage from a returned value whose type does not implement `llmtrace::LlmResponse` (the `Ok` value of a `Result`): `usage = |r| llmtrace::Usage::new(r.prompt_tokens, 0)`. The vector count and dimension are read through `llmtrace::EmbeddingVectors` (`Vec<Vec<f32>>` implements it); the vectors are never recorded.",
    },
    ArgSpec {
        name: "stream",
        kinds: LLM,
        ty: ArgType::Flag(Flag::Stream),
        required: false,
        default: None,
        field: Some("Stream"),
        keys: &[
            "gen_ai.request.stream",
            "gen_ai.response.time_to_first_chunk",
            "llmtrace.stream.chunks",
        ],
        doc: "The function returns a stream of `llmtrace::StreamChunk`s (`impl Stream`, `Pin<Box<dyn Stream>>`, `llmtrace::stream::Traced<_>`, or a `Result` of one; sync or `async`): the span stays open until the stream ends, fails or is dropped, and records the time to first chunk, the chunk count, the assembled text and the final chunk's usage.",
    },
    // ---- capture
    ArgSpec {
        name: "skip",
        kinds: FUNCTIONS,
        ty: ArgType::Params(ParamList::Skip),
        required: false,
        default: None,
        field: None,
        keys: &[],
        doc: "Parameters not to capture as input: `skip(client, cache)`.",
    },
    ArgSpec {
        name: "redact",
        kinds: FUNCTIONS,
        ty: ArgType::Params(ParamList::Redact),
        required: false,
        default: None,
        field: None,
        keys: &[],
        doc: "Parameters captured as `\"[REDACTED]\"` instead of their value (their type need not be `Serialize`): `redact(card_number, ssn)`. Every captured value also goes through the redaction rules configured at install.",
    },
    ArgSpec {
        name: "skip_all",
        kinds: FUNCTIONS,
        ty: ArgType::Flag(Flag::SkipAll),
        required: false,
        default: None,
        field: None,
        keys: &[],
        doc: "Capture no parameters.",
    },
    ArgSpec {
        name: "output",
        kinds: OUTPUTS,
        ty: ArgType::Switch,
        required: false,
        default: Some("true"),
        field: None,
        keys: &["output.value"],
        doc: "Whether to capture the return value (`Ok` value of a `Result`) as output.",
    },
    ArgSpec {
        name: "links",
        kinds: ALL,
        ty: ArgType::Links,
        required: false,
        default: None,
        field: None,
        keys: &[],
        doc: "Spans to link to, exported as OpenTelemetry span links: `links = [handoff, previous_attempt]`, each a `llmtrace::TraceContext` (captured with `llmtrace::current().context()`), an OpenTelemetry `SpanContext`, or an `Option` or list of them (evaluated when the span starts).",
    },
    ArgSpec {
        name: "attributes",
        kinds: ALL,
        ty: ArgType::Attributes,
        required: false,
        default: None,
        field: None,
        keys: &[],
        doc: "Custom attributes, literals or expressions: `attributes(app.tier = \"pro\", app.region = region)`. Keys are dotted lowercase names; `gen_ai.*` keys must be registered ones, with a value of their type; `llm.*`, `openinference.*`, `langfuse.*` and `llmtrace.*` are reserved.",
    },
    ArgSpec {
        name: "crate",
        kinds: ALL,
        ty: ArgType::Path,
        required: false,
        default: None,
        field: None,
        keys: &[],
        doc: "Path to the runtime crate, for a crate that re-exports it: `crate = my_facade::llmtrace`. Without it, the runtime is found under the name Cargo.toml gives it, renamed or not (`llmtrace = { package = \"llmtrace-runtime\", .. }`).",
    },
];

/// The spec of `name` for `kind`.
pub(crate) fn lookup(kind: Kind, name: &str) -> Option<&'static ArgSpec> {
    ARGS.iter()
        .find(|a| a.name == name && a.kinds.contains(&kind))
}

/// The kinds that accept an argument `name`.
pub(crate) fn kinds_accepting(name: &str) -> Vec<Kind> {
    let mut kinds: Vec<Kind> = Vec::new();
    for a in ARGS.iter().filter(|a| a.name == name) {
        for k in a.kinds {
            if !kinds.contains(k) {
                kinds.push(*k);
            }
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_name_is_unique_per_kind() {
        for kind in Kind::ALL {
            let names: Vec<_> = kind.args().map(|a| a.name).collect();
            for (i, n) in names.iter().enumerate() {
                assert!(!names[i + 1..].contains(n), "{n} twice for {kind:?}");
            }
        }
    }

    /// The table names runtime `Field` variants and attribute keys as strings (they end up in
    /// generated code and docs); these must be the runtime's own: every key an argument produces
    /// is one the runtime's key table lists for each kind that takes the argument.
    #[test]
    fn table_agrees_with_the_runtime() {
        use llmtrace_runtime::semconv::table::KEYS;

        let runtime_kind = runtime_kind;
        let fields: Vec<String> = llmtrace_runtime::Field::ALL
            .iter()
            .map(|f| format!("{f:?}"))
            .collect();
        for arg in ARGS {
            if let Some(field) = arg.field {
                assert!(
                    fields.iter().any(|f| f == field),
                    "`{}` fills `Field::{field}`, which the runtime does not have",
                    arg.name
                );
            }
            for key in arg.keys {
                let row = KEYS.iter().find(|k| k.name == *key).unwrap_or_else(|| {
                    panic!(
                        "`{}` produces `{key}`, which is not in the runtime's key table",
                        arg.name
                    )
                });
                for kind in arg.kinds {
                    assert!(
                        row.kinds.contains(runtime_kind(*kind)),
                        "`{}` of `#[{}]` produces `{key}`, which the runtime's key table does \
                         not list for that kind",
                        arg.name,
                        kind.name()
                    );
                }
            }
        }
        for kind in Kind::ALL {
            if let Some(output) = kind.output_field() {
                assert!(fields.iter().any(|f| f == output));
            }
            let runtime = runtime_kind(kind);
            assert_eq!(format!("{runtime:?}"), kind.runtime_variant());
            assert_eq!(runtime.macro_name(), kind.name());
        }
    }

    fn runtime_kind(kind: Kind) -> llmtrace_runtime::Kind {
        match kind {
            Kind::Workflow => llmtrace_runtime::Kind::Workflow,
            Kind::LlmCall => llmtrace_runtime::Kind::LlmCall,
            Kind::Retrieval => llmtrace_runtime::Kind::Retrieval,
            Kind::Tool => llmtrace_runtime::Kind::Tool,
            Kind::Agent => llmtrace_runtime::Kind::Agent,
            Kind::Embeddings => llmtrace_runtime::Kind::Embeddings,
            Kind::Rerank => llmtrace_runtime::Kind::Rerank,
            Kind::Guardrail => llmtrace_runtime::Kind::Guardrail,
            Kind::Evaluator => llmtrace_runtime::Kind::Evaluator,
            Kind::Step => llmtrace_runtime::Kind::Step,
        }
    }

    /// A step of a kind (`llmtrace::step(..).kind(..)`) requires, through its constructor's
    /// arguments, the fields the kind's macro requires: the builder's types and this table say
    /// the same.
    #[test]
    fn step_kinds_require_what_the_macros_require() {
        let kinds: Vec<llmtrace_runtime::Kind> = llmtrace_runtime::step::REQUIRED_FIELDS
            .iter()
            .map(|(k, _)| *k)
            .collect();
        assert!(kinds.contains(&llmtrace_runtime::Kind::Rerank));
        for (runtime, fields) in llmtrace_runtime::step::REQUIRED_FIELDS {
            let kind = Kind::ALL
                .into_iter()
                .find(|k| runtime_kind(*k) == *runtime)
                .expect("a kind of the table");
            let required: Vec<String> = kind
                .args()
                .filter(|a| a.required)
                .map(|a| {
                    a.field
                        .expect("a required argument fills a field")
                        .to_owned()
                })
                .collect();
            let builder: Vec<String> = fields.iter().map(|f| format!("{f:?}")).collect();
            assert_eq!(required, builder, "{kind:?}");
        }
    }

    #[test]
    fn every_kind_is_in_the_runtime_and_moved_values_are_not_accepted() {
        assert_eq!(Kind::ALL.len(), llmtrace_runtime::Kind::ALL.len());
        for (kind, arg, _) in REFUSED {
            assert!(
                lookup(*kind, arg).is_none(),
                "{arg} is both refused and taken"
            );
            assert!(
                !kinds_accepting(arg).is_empty(),
                "{arg} is no argument at all"
            );
        }
        for (kind, arg, value, _) in MOVED {
            let spec = lookup(*kind, arg).expect("a moved value's argument exists");
            if let ArgType::Enum(values) = spec.ty {
                assert!(
                    !values.contains(value),
                    "{value} is both moved and accepted"
                );
            }
        }
    }

    #[test]
    fn llm_call_requires_provider_and_model() {
        let required: Vec<_> = Kind::LlmCall
            .args()
            .filter(|a| a.required)
            .map(|a| a.name)
            .collect();
        assert_eq!(required, ["provider", "model"]);
    }
}
