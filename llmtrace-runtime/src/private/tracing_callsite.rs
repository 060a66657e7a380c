//! The `tracing` callsite of an instrumented function, for `tracing` mode.
//!
//! Every expansion calls `tracing_callsite!(Kind, "fn_name", "custom.key", ..)`. The macro crate
//! cannot know the runtime's features (a `cfg` in the expansion would test the user's crate),
//! so the runtime defines the macro twice: with the `tracing` feature it builds a `'static`
//! callsite whose fields are every attribute key a span of that kind can emit, declared up front
//! as `tracing`'s own macros build theirs (its `span!` takes at most 32 fields, fewer than a model
//! call has); without it, it is `None`.
//!
//! The key lists are the runtime's: a superset of what the mapper emits for the kind in every
//! conventions profile (a test maps maximal records and checks), plus the function's custom
//! keys. Keys that cannot be fields (the indexed `retrieval.documents.{i}.document.*`, keys set
//! at run time) go through tracing-opentelemetry directly.

#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __llmtrace_tracing_callsite {
    (Workflow, $name:literal $(, $custom:literal)* $(,)?) => {
        $crate::__llmtrace_tracing_callsite!(@build $name; [
            "langfuse.observation.type", "langfuse.trace.name", "gen_ai.workflow.name"
        ]; [$($custom),*])
    };
    (LlmCall, $name:literal $(, $custom:literal)* $(,)?) => {
        $crate::__llmtrace_tracing_callsite!(@build $name; [
            // request
            "gen_ai.provider.name", "gen_ai.system", "gen_ai.request.model",
            "gen_ai.request.temperature", "gen_ai.request.max_tokens", "gen_ai.request.top_p",
            "gen_ai.request.top_k", "gen_ai.request.frequency_penalty",
            "gen_ai.request.presence_penalty", "gen_ai.request.seed",
            "gen_ai.request.stop_sequences", "gen_ai.request.choice.count",
            "gen_ai.request.stream", "gen_ai.request.reasoning.level", "gen_ai.output.type",
            "gen_ai.prompt.name", "gen_ai.prompt.version", "llm.model_name",
            "embedding.model_name", "llm.provider", "llm.system", "llm.invocation_parameters",
            "langfuse.observation.prompt.name", "langfuse.observation.prompt.version",
            // response
            "gen_ai.response.model", "gen_ai.response.id", "llmtrace.stream.chunks",
            "llm.finish_reason", "gen_ai.response.finish_reasons",
            "gen_ai.response.time_to_first_chunk", "langfuse.observation.completion_start_time",
            // usage and cost
            "llmtrace.usage.missing", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
            "gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_creation.input_tokens",
            "gen_ai.usage.reasoning.output_tokens", "gen_ai.usage.cache_write.input_tokens",
            "gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens",
            "llm.token_count.prompt", "llm.token_count.completion", "llm.token_count.total",
            "llm.token_count.prompt_details.cache_read",
            "llm.token_count.prompt_details.cache_write",
            "llm.token_count.completion_details.reasoning", "langfuse.observation.usage_details",
            "llmtrace.cost.unpriced", "llm.cost.total", "llm.cost.prompt", "llm.cost.completion",
            "llm.cost.prompt_details.cache_read", "llm.cost.prompt_details.cache_write",
            "langfuse.observation.cost_details",
            // content
            "gen_ai.system_instructions", "gen_ai.input.messages", "gen_ai.output.messages"
        ]; [$($custom),*])
    };
    (Retrieval, $name:literal $(, $custom:literal)* $(,)?) => {
        $crate::__llmtrace_tracing_callsite!(@build $name; [
            "langfuse.observation.type", "gen_ai.data_source.id", "gen_ai.retrieval.top_k",
            "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.retrieval.query.text",
            "llmtrace.retrieval.documents.count", "gen_ai.retrieval.documents"
        ]; [$($custom),*])
    };
    (Tool, $name:literal $(, $custom:literal)* $(,)?) => {
        $crate::__llmtrace_tracing_callsite!(@build $name; [
            "gen_ai.tool.name", "gen_ai.tool.type", "gen_ai.tool.description",
            "gen_ai.tool.call.id", "tool.name", "tool.description", "gen_ai.tool.call.arguments",
            "tool.parameters", "gen_ai.tool.call.result"
        ]; [$($custom),*])
    };
    (@build $name:literal; [$($key:literal),*]; [$($custom:literal),*]) => {{
        static __LLMTRACE_TRACING_META: $crate::__private::tracing::Metadata<'static> =
            $crate::__private::tracing::Metadata::new(
                $name,
                ::core::module_path!(),
                $crate::__private::tracing::Level::INFO,
                ::core::option::Option::Some(::core::file!()),
                ::core::option::Option::Some(::core::line!()),
                ::core::option::Option::Some(::core::module_path!()),
                $crate::__private::tracing::field::FieldSet::new(
                    &[
                        // Read by tracing-opentelemetry.
                        "otel.name", "otel.kind", "otel.status_code", "otel.status_description",
                        // Every kind.
                        "gen_ai.operation.name", "openinference.span.kind", "server.address",
                        "server.port", "gen_ai.agent.name", "gen_ai.conversation.id",
                        "error.type", "llmtrace.cancelled", "llmtrace.content.truncated",
                        "llmtrace.trace.input_tokens", "llmtrace.trace.output_tokens",
                        "llmtrace.trace.cost_usd", "llmtrace.trace.unpriced_calls",
                        "session.id", "user.id", "tag.tags", "langfuse.trace.tags", "metadata",
                        "langfuse.trace.metadata", "input.value", "input.mime_type",
                        "output.value", "output.mime_type",
                        $($key,)*
                        $($custom,)*
                    ],
                    $crate::__private::tracing::callsite::Identifier(
                        &__LLMTRACE_TRACING_CALLSITE,
                    ),
                ),
                $crate::__private::tracing::metadata::Kind::SPAN,
            );
        static __LLMTRACE_TRACING_CALLSITE: $crate::__private::TracingCallsite =
            $crate::__private::TracingCallsite::new(&__LLMTRACE_TRACING_META);
        ::core::option::Option::Some(&__LLMTRACE_TRACING_CALLSITE)
    }};
}

#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __llmtrace_tracing_callsite {
    ($($tokens:tt)*) => {
        ::core::option::Option::None
    };
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use opentelemetry::KeyValue;
    use tracing::callsite::Callsite as _;

    use crate::mapper::Mapper;
    use crate::record::Scope;
    use crate::record::{
        CAPTURE_INPUT, CAPTURE_OUTPUT, Callsite, FLAG_TRUNCATED, Field, Kind, Record, Status, Value,
    };
    use crate::semconv::{Conventions, keys};
    use crate::state::ContentCapture;

    static WORKFLOW: Callsite = Callsite::new(
        Kind::Workflow,
        "flow",
        "m",
        &[],
        &[],
        CAPTURE_INPUT | CAPTURE_OUTPUT,
    )
    .with_tracing(crate::__llmtrace_tracing_callsite!(Workflow, "flow"));
    static LLM: Callsite = Callsite::new(
        Kind::LlmCall,
        "chat",
        "m",
        &[],
        &[],
        CAPTURE_INPUT | CAPTURE_OUTPUT,
    )
    .with_tracing(crate::__llmtrace_tracing_callsite!(LlmCall, "chat"));
    static RETRIEVAL: Callsite = Callsite::new(
        Kind::Retrieval,
        "search",
        "m",
        &[],
        &[],
        CAPTURE_INPUT | CAPTURE_OUTPUT,
    )
    .with_tracing(crate::__llmtrace_tracing_callsite!(Retrieval, "search"));
    static TOOL: Callsite = Callsite::new(
        Kind::Tool,
        "lookup",
        "m",
        &[],
        &[],
        CAPTURE_INPUT | CAPTURE_OUTPUT,
    )
    .with_tracing(crate::__llmtrace_tracing_callsite!(
        Tool, "lookup", "app.tier"
    ));

    /// A plausible value of every field.
    fn value(field: Field, operation: &'static str) -> Value {
        match field {
            Field::Operation => Value::Str(operation),
            Field::Temperature
            | Field::TopP
            | Field::FrequencyPenalty
            | Field::PresencePenalty
            | Field::TimeToFirstChunk
            | Field::CostInput
            | Field::CostOutput
            | Field::CostCacheRead
            | Field::CostCacheWrite
            | Field::CostTotal
            | Field::TraceCost => Value::F64(0.5),
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
            | Field::TraceUnpricedCalls => Value::I64(7),
            Field::Stream | Field::Unpriced => Value::Bool(true),
            Field::StopSequences | Field::FinishReasons => Value::StrList(&["stop", "length"]),
            Field::Documents => Value::Json(
                r#"[{"id":"d1","score":0.9,"content":"refunds","metadata":{"lang":"en"}},"plain"]"#
                    .into(),
            ),
            Field::Input => Value::Json(r#"{"q":"refund?"}"#.into()),
            Field::Output => Value::Json(r#""5 days""#.into()),
            Field::InputMessages | Field::OutputMessages | Field::SystemInstructions => {
                Value::Json(r#"[{"role":"user","parts":[]}]"#.into())
            }
            _ => Value::Str("x"),
        }
    }

    /// Records with every field set (and some with none), every flag and status, in every
    /// shape the mapper branches on.
    fn maximal(callsite: &'static Callsite) -> Vec<Record> {
        let scope = Arc::new(Scope {
            session_id: Some("s".into()),
            user_id: Some("u".into()),
            conversation_id: Some("c".into()),
            tags: vec!["beta".into()],
            metadata: vec![("tier".into(), Value::Str("pro"))],
            ..Scope::default()
        });
        let mut out = Vec::new();
        for operation in ["chat", "embeddings"] {
            for (parent, status) in [
                (0, Status::Error),
                (1, Status::Cancelled),
                (0, Status::Unset),
            ] {
                let mut rec = Record::new(callsite, 1, 2, parent, Some(scope.clone()), 0);
                for field in Field::ALL {
                    rec.set(field, value(field, operation));
                }
                rec.status = status;
                rec.flags |= FLAG_TRUNCATED;
                rec.set_custom("app.run_time_key".into(), Value::I64(1));
                out.push(rec);
            }
            // No usage at all, no documents that parse, nothing dynamic.
            let mut bare = Record::new(callsite, 1, 2, 0, None, 0);
            bare.set(Field::Operation, Value::Str(operation));
            bare.set(Field::Documents, Value::String("not json".into()));
            out.push(bare);
        }
        out
    }

    fn emitted(callsite: &'static Callsite, content: ContentCapture) -> BTreeSet<String> {
        let all = Conventions::default()
            .legacy(true)
            .latest_experimental(true)
            .openinference_full(true)
            .langfuse(true);
        let mut keys = BTreeSet::new();
        for conventions in [Conventions::default(), all] {
            let mapper = Mapper::new(
                conventions,
                content,
                opentelemetry_sdk::Resource::builder_empty().build(),
            );
            for mut rec in maximal(callsite) {
                let mapped = mapper.map(&mut rec, &mut Vec::<KeyValue>::new());
                keys.extend(mapped.attributes.iter().map(|kv| kv.key.to_string()));
            }
        }
        keys
    }

    fn declared(callsite: &'static Callsite) -> BTreeSet<&'static str> {
        let fields = callsite
            .tracing
            .expect("a tracing callsite")
            .metadata()
            .fields();
        fields.iter().map(|f| f.name()).collect()
    }

    #[test]
    fn every_key_the_mapper_emits_is_declared_or_indexed() {
        // The maximal records reach the mapper's every branch, the indexed keys included.
        let llm = emitted(&LLM, ContentCapture::SpanOnly);
        assert!(llm.contains("embedding.model_name") && llm.contains("llm.token_count.total"));
        let retrieval = emitted(&RETRIEVAL, ContentCapture::SpanOnly);
        assert!(retrieval.contains("retrieval.documents.1.document.content"));
        for callsite in [&WORKFLOW, &LLM, &RETRIEVAL, &TOOL] {
            let declared = declared(callsite);
            for content in [ContentCapture::SpanOnly, ContentCapture::SpanAndEvent] {
                for key in emitted(callsite, content) {
                    let indexed = callsite.kind == Kind::Retrieval
                        && key.starts_with("retrieval.documents.")
                        && key.contains(".document.");
                    let run_time = key == "app.run_time_key";
                    assert!(
                        declared.contains(key.as_str()) || indexed || run_time,
                        "{:?} emits `{key}`, not declared in its tracing callsite",
                        callsite.kind
                    );
                }
            }
        }
    }

    #[test]
    fn declared_keys_are_known_keys_and_custom_keys_are_added() {
        let known: BTreeSet<&str> = [
            keys::gen_ai::ALL,
            keys::legacy::ALL,
            keys::openinference::ALL,
            keys::langfuse::ALL,
            keys::llmtrace::ALL,
        ]
        .concat()
        .into_iter()
        .collect();
        for callsite in [&WORKFLOW, &LLM, &RETRIEVAL, &TOOL] {
            let declared = declared(callsite);
            for key in &declared {
                assert!(
                    known.contains(key) || key.starts_with("otel.") || *key == "app.tier",
                    "`{key}` is declared but is no key of `semconv::keys`"
                );
            }
            let name = callsite.tracing.unwrap().metadata().name();
            assert_eq!(name, callsite.fn_name);
        }
        assert!(declared(&TOOL).contains("app.tier"));
        assert!(!declared(&LLM).contains("app.tier"));
    }
}
