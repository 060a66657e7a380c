//! The schema table: every argument each macro accepts, its type, whether it is required, its
//! default, the runtime field it fills and the attribute keys it produces. Parsing, validation,
//! code generation and the generated documentation all read this table.

/// The four span kinds, one per macro.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Workflow,
    LlmCall,
    Retrieval,
    Tool,
}

impl Kind {
    pub(crate) const ALL: [Kind; 4] = [Kind::Workflow, Kind::LlmCall, Kind::Retrieval, Kind::Tool];

    /// The macro name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Workflow => "workflow",
            Kind::LlmCall => "llm_call",
            Kind::Retrieval => "retrieval",
            Kind::Tool => "tool",
        }
    }

    /// The variant of the runtime's `Kind`.
    pub(crate) fn runtime_variant(self) -> &'static str {
        match self {
            Kind::Workflow => "Workflow",
            Kind::LlmCall => "LlmCall",
            Kind::Retrieval => "Retrieval",
            Kind::Tool => "Tool",
        }
    }

    /// The runtime field the return value is captured into.
    pub(crate) fn output_field(self) -> &'static str {
        match self {
            Kind::Retrieval => "Documents",
            _ => "Output",
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
const LLM: &[Kind] = &[Kind::LlmCall];
const RETRIEVAL: &[Kind] = &[Kind::Retrieval];
const TOOL: &[Kind] = &[Kind::Tool];
const WORKFLOW: &[Kind] = &[Kind::Workflow];
const LLM_RETRIEVAL: &[Kind] = &[Kind::LlmCall, Kind::Retrieval];

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
pub(crate) const OPERATIONS: &[&str] =
    &["chat", "text_completion", "generate_content", "embeddings"];

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
    // ---- model calls
    ArgSpec {
        name: "provider",
        kinds: LLM,
        ty: ArgType::Provider,
        required: true,
        default: None,
        field: Some("Provider"),
        keys: &["gen_ai.provider.name"],
        doc: "The API flavour called: a well-known `gen_ai.provider.name` (`openai`, `anthropic`, `aws.bedrock`, ...) or `custom(\"name\")`.",
    },
    ArgSpec {
        name: "model",
        kinds: LLM,
        ty: ArgType::Str,
        required: true,
        default: None,
        field: Some("Model"),
        keys: &["gen_ai.request.model"],
        doc: "Model requested; the span is `{operation} {model}`.",
    },
    ArgSpec {
        name: "operation",
        kinds: LLM,
        ty: ArgType::Enum(OPERATIONS),
        required: false,
        default: Some("\"chat\""),
        field: Some("Operation"),
        keys: &["gen_ai.operation.name"],
        doc: "`chat`, `text_completion`, `generate_content` or `embeddings`.",
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
        kinds: LLM,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("ConversationId"),
        keys: &["gen_ai.conversation.id"],
        doc: "Conversation or thread id, when the application has one.",
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
        default: None,
        field: Some("AgentName"),
        keys: &["gen_ai.agent.name"],
        doc: "Name of the agent making the call.",
    },
    // ---- endpoint
    ArgSpec {
        name: "server_address",
        kinds: LLM_RETRIEVAL,
        ty: ArgType::Str,
        required: false,
        default: None,
        field: Some("ServerAddress"),
        keys: &["server.address"],
        doc: "Host of the endpoint called.",
    },
    ArgSpec {
        name: "server_port",
        kinds: LLM_RETRIEVAL,
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
        kinds: ALL,
        ty: ArgType::Params(ParamList::Skip),
        required: false,
        default: None,
        field: None,
        keys: &[],
        doc: "Parameters not to capture as input: `skip(client, cache)`.",
    },
    ArgSpec {
        name: "redact",
        kinds: ALL,
        ty: ArgType::Params(ParamList::Redact),
        required: false,
        default: None,
        field: None,
        keys: &[],
        doc: "Parameters captured as `\"[REDACTED]\"` instead of their value (their type need not be `Serialize`): `redact(card_number, ssn)`. Every captured value also goes through the redaction rules configured at install.",
    },
    ArgSpec {
        name: "skip_all",
        kinds: ALL,
        ty: ArgType::Flag(Flag::SkipAll),
        required: false,
        default: None,
        field: None,
        keys: &[],
        doc: "Capture no parameters.",
    },
    ArgSpec {
        name: "output",
        kinds: ALL,
        ty: ArgType::Switch,
        required: false,
        default: Some("true"),
        field: None,
        keys: &["output.value"],
        doc: "Whether to capture the return value (`Ok` value of a `Result`) as output.",
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

        let runtime_kind = |kind: Kind| match kind {
            Kind::Workflow => llmtrace_runtime::Kind::Workflow,
            Kind::LlmCall => llmtrace_runtime::Kind::LlmCall,
            Kind::Retrieval => llmtrace_runtime::Kind::Retrieval,
            Kind::Tool => llmtrace_runtime::Kind::Tool,
        };
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
            assert!(fields.iter().any(|f| f == kind.output_field()));
            let runtime = runtime_kind(kind);
            assert_eq!(format!("{runtime:?}"), kind.runtime_variant());
            assert_eq!(runtime.macro_name(), kind.name());
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
