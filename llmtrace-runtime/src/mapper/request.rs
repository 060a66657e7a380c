//! The request side: the attributes and span name a span takes from its macro's arguments
//! (literal, evaluated at call time, or set in their place at run time).
//!
//! They depend on nothing else, so when every request field of a callsite is a literal the
//! mapper computes them once per callsite and clones them onto its spans.

use std::borrow::Cow;

use serde_json::{Map, Value as Json};

use super::fields;
use super::format;
use super::out::{self, Out, shared};
use crate::record::{Field, Kind, Record, Value};
use crate::semconv::keys::{gen_ai, langfuse, openinference as oi};
use crate::semconv::table::{self, Phase};
use crate::semconv::{self, Conventions};

/// The OpenInference span kind of a record.
fn openinference_kind(rec: &Record) -> &'static str {
    match rec.kind() {
        Kind::Workflow | Kind::Step => "CHAIN",
        Kind::LlmCall if semconv::operation(rec) == "embeddings" => "EMBEDDING",
        Kind::LlmCall => "LLM",
        Kind::Retrieval => "RETRIEVER",
        Kind::Tool => "TOOL",
        Kind::Agent => "AGENT",
        Kind::Embeddings => "EMBEDDING",
        Kind::Rerank => "RERANKER",
        Kind::Guardrail => "GUARDRAIL",
        Kind::Evaluator => "EVALUATOR",
    }
}

/// The Langfuse observation type of the kinds Langfuse does not type by itself (it types model
/// calls, embeddings, agents and tools from the GenAI operation or the OpenInference kind).
/// Langfuse has no reranker type: a reranker is part of retrieval, and typed by its model
/// it would be taken for a generation (and priced as one).
fn langfuse_type(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Workflow | Kind::Step => Some("chain"),
        Kind::Retrieval | Kind::Rerank => Some("retriever"),
        Kind::Guardrail => Some("guardrail"),
        Kind::Evaluator => Some("evaluator"),
        Kind::LlmCall | Kind::Tool | Kind::Agent | Kind::Embeddings => None,
    }
}

/// The request attributes of a record.
pub(super) fn request(c: &Conventions, rec: &Record, out: &mut Out) {
    let kind = rec.kind();
    if kind != Kind::Step {
        out.attr(gen_ai::OPERATION_NAME, semconv::operation_value(rec));
    }
    if c.openinference {
        out.attr(oi::SPAN_KIND, openinference_kind(rec));
    }
    if c.langfuse {
        if let Some(t) = langfuse_type(kind) {
            out.attr(langfuse::OBSERVATION_TYPE, t);
        }
    }
    if kind == Kind::Tool {
        out.attr(gen_ai::TOOL_NAME, semconv::name(rec).into_owned());
    }
    // The parameters go into `llm.invocation_parameters` as they are copied, in the same pass.
    let full = c.openinference_full && kind == Kind::LlmCall;
    let mut invocation = Map::new();
    // Each field is searched for only when the record has it: most copies find nothing.
    let present = fields::present(rec);
    out.copy(out::copies_of(kind, Phase::Request), c, |field| {
        let v = match present & fields::bit(field) {
            0 => None,
            _ => rec.get(field),
        };
        if full {
            if let (Some(v), Some(name)) = (v, invocation_name(field)) {
                invocation.insert(name.to_owned(), format::to_json(v));
            }
        }
        v
    });
    match kind {
        // An agent or plan span of another crate (operation other than `invoke_workflow`) has
        // its agent's name, not a workflow name.
        Kind::Workflow if semconv::operation(rec) == "invoke_workflow" => {
            out.attr(gen_ai::WORKFLOW_NAME, semconv::name(rec).into_owned());
        }
        Kind::Workflow => {}
        Kind::LlmCall if full => llm_openinference(rec, invocation, out),
        Kind::Embeddings if c.openinference_full => {
            if let Some(m) = rec.get(Field::Model) {
                out.attr(oi::EMBEDDING_MODEL_NAME, m);
            }
        }
        Kind::Tool if c.openinference_full => {
            out.attr(oi::TOOL_NAME, semconv::name(rec).into_owned());
        }
        Kind::LlmCall
        | Kind::Retrieval
        | Kind::Tool
        | Kind::Agent
        | Kind::Embeddings
        | Kind::Rerank
        | Kind::Guardrail
        | Kind::Evaluator
        | Kind::Step => {}
    }
}

/// The OpenInference duplicates of a model call's request (`openinference_full`).
fn llm_openinference(rec: &Record, invocation: Map<String, Json>, out: &mut Out) {
    if let Some(m) = rec.get(Field::Model) {
        let key = if semconv::operation(rec) == "embeddings" {
            oi::EMBEDDING_MODEL_NAME
        } else {
            oi::LLM_MODEL_NAME
        };
        out.attr(key, m);
    }
    if let Some(p) = rec.get(Field::Provider).and_then(Value::as_str) {
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

/// A request parameter's name in `llm.invocation_parameters` (the OpenAI request's spelling).
fn invocation_name(field: Field) -> Option<&'static str> {
    Some(match field {
        Field::Temperature => "temperature",
        Field::MaxTokens => "max_tokens",
        Field::TopP => "top_p",
        Field::TopK => "top_k",
        Field::FrequencyPenalty => "frequency_penalty",
        Field::PresencePenalty => "presence_penalty",
        Field::Seed => "seed",
        Field::StopSequences => "stop",
        Field::ChoiceCount => "n",
        Field::Stream => "stream",
        Field::ReasoningLevel => "reasoning_effort",
        _ => return None,
    })
}

/// `langfuse.trace.name` on a root workflow or agent: Langfuse names the trace after it rather
/// than after its span name. Not cached with the request: it depends on the span's parent.
#[inline(always)]
pub(super) fn trace_name(c: &Conventions, rec: &Record, out: &mut Out) {
    if !c.langfuse || rec.parent_id != 0 {
        return;
    }
    match rec.kind() {
        Kind::Workflow => out.attr(langfuse::TRACE_NAME, semconv::name(rec).into_owned()),
        Kind::Agent => {
            if let Some(name) = rec.get(Field::AgentName) {
                out.attr(langfuse::TRACE_NAME, name);
            }
        }
        _ => {}
    }
}

/// The span name, per the GenAI conventions: `{operation} {model}`, `retrieval {data_source}`,
/// `execute_tool {name}`, `invoke_workflow {name}`, `invoke_agent {name}`, and in the same form
/// `rerank {model}`, `guardrail {name}`, `evaluate {name}`; the operation alone without a suffix. A block span is
/// named by its step name alone. A name the record holds as a static string is not copied.
pub(super) fn span_name(rec: &Record) -> Cow<'static, str> {
    let named = || rec.get(Field::Name).and_then(Value::as_str);
    let suffix = match rec.kind() {
        Kind::Step => {
            return match rec.get(Field::Name) {
                Some(Value::Str(s)) => Cow::Borrowed(s),
                Some(v) => Cow::Owned(v.as_str().unwrap_or(rec.callsite.fn_name).to_owned()),
                None => Cow::Borrowed(rec.callsite.fn_name),
            };
        }
        Kind::Workflow | Kind::Tool | Kind::Guardrail | Kind::Evaluator => {
            named().or(Some(rec.callsite.fn_name))
        }
        Kind::LlmCall | Kind::Embeddings => rec.get(Field::Model).and_then(Value::as_str),
        // A step of these kinds falls back to its step name.
        Kind::Retrieval => rec
            .get(Field::DataSource)
            .and_then(Value::as_str)
            .or_else(named),
        Kind::Rerank => rec.get(Field::Model).and_then(Value::as_str).or_else(named),
        Kind::Agent => rec.get(Field::AgentName).and_then(Value::as_str),
    };
    let operation = semconv::operation(rec);
    Cow::Owned(match suffix {
        Some(s) if !s.is_empty() => format!("{operation} {s}"),
        _ => operation.to_owned(),
    })
}

/// Whether a field is read by the request side: when one is set at run time, the request
/// attributes cannot be taken from the callsite's cache.
#[inline]
pub(super) fn is_request_field(field: Field) -> bool {
    REQUEST_FIELDS[field as usize]
}

/// The fields the request keys copy (from the table), and the two the derived ones read besides:
/// the name and the operation (span name, operation, OpenInference kind and model key).
const REQUEST_FIELDS: [bool; Field::COUNT] = {
    let mut fields = [false; Field::COUNT];
    fields[Field::Name as usize] = true;
    fields[Field::Operation as usize] = true;
    let mut i = 0;
    while i < table::KEYS.len() {
        let row = &table::KEYS[i];
        if let (Phase::Request, Some((field, _))) = (row.phase, row.field()) {
            fields[field as usize] = true;
        }
        i += 1;
    }
    fields
};

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;
    use serde_json::json;

    use super::*;
    use crate::mapper::test_support::{
        KINDS, all_on, callsite, keys, out, profiles, record, record_with, string, value,
    };
    use crate::semconv::keys::legacy;
    use crate::state::ContentCapture;

    fn map(c: Conventions, rec: &Record) -> Vec<KeyValue> {
        let mut o = out(ContentCapture::SpanOnly);
        request(&c, rec, &mut o);
        o.attrs
    }

    fn chat() -> Record {
        record_with(
            Kind::LlmCall,
            &[
                (Field::Provider, Value::Str("azure.ai.openai")),
                (Field::Model, Value::Str("gpt-4o")),
                (Field::Temperature, Value::F64(0.3)),
                (Field::MaxTokens, Value::I64(256)),
                (Field::StopSequences, Value::StrList(&["\n\n"])),
                (Field::ChoiceCount, Value::I64(2)),
                (Field::PromptName, Value::Str("greet")),
            ],
        )
    }

    #[test]
    fn a_model_call_in_the_default_profile() {
        let attrs = map(Conventions::default(), &chat());
        assert_eq!(
            keys(&attrs),
            [
                gen_ai::OPERATION_NAME,
                oi::SPAN_KIND,
                gen_ai::PROVIDER_NAME,
                gen_ai::REQUEST_MODEL,
                gen_ai::REQUEST_TEMPERATURE,
                gen_ai::REQUEST_MAX_TOKENS,
                gen_ai::REQUEST_STOP_SEQUENCES,
                gen_ai::REQUEST_CHOICE_COUNT,
                gen_ai::PROMPT_NAME,
                langfuse::OBSERVATION_PROMPT_NAME,
            ]
        );
        assert_eq!(string(&attrs, gen_ai::OPERATION_NAME), "chat");
        assert_eq!(string(&attrs, oi::SPAN_KIND), "LLM");
        assert_eq!(
            *value(&attrs, gen_ai::REQUEST_TEMPERATURE),
            opentelemetry::Value::F64(0.3)
        );
        assert_eq!(
            *value(&attrs, gen_ai::REQUEST_MAX_TOKENS),
            opentelemetry::Value::I64(256)
        );
        assert_eq!(string(&attrs, langfuse::OBSERVATION_PROMPT_NAME), "greet");
    }

    #[test]
    fn a_model_call_with_every_profile_on() {
        let attrs = map(all_on(), &chat());
        assert_eq!(string(&attrs, legacy::SYSTEM), "azure.ai.openai");
        assert_eq!(string(&attrs, oi::LLM_MODEL_NAME), "gpt-4o");
        assert_eq!(string(&attrs, oi::LLM_PROVIDER), "azure");
        assert_eq!(string(&attrs, oi::LLM_SYSTEM), "openai");
        let params: Json =
            serde_json::from_str(&string(&attrs, oi::LLM_INVOCATION_PARAMETERS)).unwrap();
        assert_eq!(
            params,
            json!({"temperature": 0.3, "max_tokens": 256, "stop": ["\n\n"], "n": 2})
        );
        // Legacy and the OpenInference duplicates are the only additions.
        let default = map(Conventions::default(), &chat());
        let added: Vec<&str> = keys(&attrs)
            .into_iter()
            .filter(|k| !keys(&default).contains(k))
            .collect();
        assert_eq!(
            added,
            [
                legacy::SYSTEM,
                oi::LLM_MODEL_NAME,
                oi::LLM_PROVIDER,
                oi::LLM_SYSTEM,
                oi::LLM_INVOCATION_PARAMETERS
            ]
        );
    }

    #[test]
    fn embeddings_name_their_model_and_kind_apart() {
        let mut rec = chat();
        rec.set(Field::Operation, Value::Str("embeddings"));
        let attrs = map(all_on(), &rec);
        assert_eq!(string(&attrs, gen_ai::OPERATION_NAME), "embeddings");
        assert_eq!(string(&attrs, oi::SPAN_KIND), "EMBEDDING");
        assert_eq!(string(&attrs, oi::EMBEDDING_MODEL_NAME), "gpt-4o");
        assert!(!keys(&attrs).contains(&oi::LLM_MODEL_NAME));
        assert_eq!(span_name(&rec), "embeddings gpt-4o");
    }

    #[test]
    fn an_unknown_provider_keeps_its_name_and_no_system() {
        let rec = record_with(Kind::LlmCall, &[(Field::Provider, Value::Str("acme"))]);
        let attrs = map(Conventions::default().openinference_full(true), &rec);
        assert_eq!(string(&attrs, oi::LLM_PROVIDER), "acme");
        assert!(!keys(&attrs).contains(&oi::LLM_SYSTEM));
        assert!(!keys(&attrs).contains(&oi::LLM_INVOCATION_PARAMETERS));
    }

    #[test]
    fn workflows_retrievals_and_tools() {
        let flow = record(Kind::Workflow);
        let attrs = map(Conventions::default(), &flow);
        assert_eq!(
            keys(&attrs),
            [
                gen_ai::OPERATION_NAME,
                oi::SPAN_KIND,
                langfuse::OBSERVATION_TYPE,
                gen_ai::WORKFLOW_NAME
            ]
        );
        assert_eq!(string(&attrs, gen_ai::WORKFLOW_NAME), "f");
        assert_eq!(string(&attrs, langfuse::OBSERVATION_TYPE), "chain");
        assert_eq!(span_name(&flow), "invoke_workflow f");

        let search = record_with(
            Kind::Retrieval,
            &[
                (Field::DataSource, Value::Str("kb")),
                (Field::RetrievalTopK, Value::I64(5)),
                (Field::Model, Value::Str("embed-3")),
            ],
        );
        let attrs = map(Conventions::default().langfuse(false), &search);
        assert_eq!(
            keys(&attrs),
            [
                gen_ai::OPERATION_NAME,
                oi::SPAN_KIND,
                gen_ai::DATA_SOURCE_ID,
                gen_ai::RETRIEVAL_TOP_K,
                gen_ai::REQUEST_MODEL
            ]
        );
        assert_eq!(string(&attrs, oi::SPAN_KIND), "RETRIEVER");
        assert_eq!(span_name(&search), "retrieval kb");

        let tool = record_with(
            Kind::Tool,
            &[
                (Field::Name, Value::String("lookup".into())),
                (Field::ToolDescription, Value::Str("finds orders")),
            ],
        );
        let attrs = map(Conventions::default(), &tool);
        assert_eq!(
            keys(&attrs),
            [
                gen_ai::OPERATION_NAME,
                oi::SPAN_KIND,
                gen_ai::TOOL_NAME,
                gen_ai::TOOL_TYPE,
                gen_ai::TOOL_DESCRIPTION
            ]
        );
        assert_eq!(string(&attrs, gen_ai::TOOL_TYPE), "function");
        assert_eq!(string(&attrs, gen_ai::TOOL_NAME), "lookup");
        let attrs = map(Conventions::default().openinference_full(true), &tool);
        assert_eq!(string(&attrs, oi::TOOL_NAME), "lookup");
        assert_eq!(string(&attrs, oi::TOOL_DESCRIPTION), "finds orders");
        assert_eq!(span_name(&tool), "execute_tool lookup");
    }

    #[test]
    fn agents_embeddings_rerankers_guardrails_and_steps() {
        // Kind, fields, span name, operation, OpenInference kind, Langfuse type.
        type Case = (
            Kind,
            &'static [(Field, Value)],
            &'static str,
            Option<&'static str>,
            &'static str,
            Option<&'static str>,
        );
        let cases: [Case; 5] = [
            (
                Kind::Agent,
                &[(Field::AgentName, Value::Str("planner"))],
                "invoke_agent planner",
                Some("invoke_agent"),
                "AGENT",
                None,
            ),
            (
                Kind::Embeddings,
                &[(Field::Model, Value::Str("text-embedding-3-small"))],
                "embeddings text-embedding-3-small",
                Some("embeddings"),
                "EMBEDDING",
                None,
            ),
            (
                Kind::Rerank,
                &[(Field::Model, Value::Str("rerank-v3.5"))],
                "rerank rerank-v3.5",
                Some("rerank"),
                "RERANKER",
                Some("retriever"),
            ),
            (
                Kind::Guardrail,
                &[(Field::Name, Value::Str("no_pii"))],
                "guardrail no_pii",
                Some("guardrail"),
                "GUARDRAIL",
                Some("guardrail"),
            ),
            (
                Kind::Step,
                &[(Field::Name, Value::Str("build_context"))],
                "build_context",
                None,
                "CHAIN",
                Some("chain"),
            ),
        ];
        for (kind, fields, name, operation, oi_kind, langfuse_type) in cases {
            let rec = record_with(kind, fields);
            assert_eq!(span_name(&rec), name);
            let attrs = map(Conventions::default(), &rec);
            let find = |key| {
                attrs
                    .iter()
                    .find(|kv| kv.key.as_str() == key)
                    .map(|kv| kv.value.as_str().into_owned())
            };
            assert_eq!(
                find(gen_ai::OPERATION_NAME).as_deref(),
                operation,
                "{kind:?}"
            );
            assert_eq!(find(oi::SPAN_KIND).as_deref(), Some(oi_kind), "{kind:?}");
            assert_eq!(
                find(langfuse::OBSERVATION_TYPE).as_deref(),
                langfuse_type,
                "{kind:?}"
            );
        }
        // A step of a kind falls back to its step name without the kind's own suffix.
        let step = record_with(Kind::Retrieval, &[(Field::Name, Value::Str("search"))]);
        assert_eq!(span_name(&step), "retrieval search");
        // A step named at run time, and one named by a static string, which is not copied.
        let owned = record_with(Kind::Step, &[(Field::Name, Value::String("parse".into()))]);
        assert_eq!(span_name(&owned), "parse");
        assert!(matches!(
            span_name(&record_with(Kind::Step, &[(Field::Name, Value::Str("s"))])),
            Cow::Borrowed("s")
        ));
    }

    #[test]
    fn literal_arguments_are_read_like_run_time_ones() {
        static STATICS: &[(Field, Value)] = &[
            (Field::Provider, Value::Str("openai")),
            (Field::Model, Value::Str("gpt-4o")),
        ];
        let rec = Record::new(callsite(Kind::LlmCall, STATICS), 1, 2, 0, None, 0);
        let literal = map(Conventions::default(), &rec);
        let run_time = map(Conventions::default(), &record_with(Kind::LlmCall, STATICS));
        assert_eq!(literal, run_time);
        assert_eq!(span_name(&rec), "chat gpt-4o");
    }

    #[test]
    fn span_names_fall_back_to_the_operation() {
        let empty = record_with(
            Kind::LlmCall,
            &[(Field::Operation, Value::Str("text_completion"))],
        );
        assert_eq!(span_name(&empty), "text_completion");
        let blank = record_with(Kind::Retrieval, &[(Field::DataSource, Value::Str(""))]);
        assert_eq!(span_name(&blank), "retrieval");
    }

    #[test]
    fn the_trace_name_is_on_root_workflows_only() {
        for kind in KINDS {
            for parent in [0, 7] {
                let mut rec = record(kind);
                rec.parent_id = parent;
                for c in profiles() {
                    let mut o = out(ContentCapture::SpanOnly);
                    trace_name(&c, &rec, &mut o);
                    let expected = c.langfuse && parent == 0 && kind == Kind::Workflow;
                    assert_eq!(!o.attrs.is_empty(), expected, "{kind:?} {parent} {c:?}");
                }
            }
        }
    }

    #[test]
    fn request_fields_are_what_the_request_side_reads() {
        let expected = [
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
            Field::ToolDescription,
            Field::ToolType,
            Field::ToolCallId,
            Field::AgentName,
            Field::AgentId,
            Field::AgentDescription,
            Field::AgentVersion,
            Field::EncodingFormats,
        ];
        for field in Field::ALL {
            assert_eq!(
                is_request_field(field),
                expected.contains(&field),
                "{field:?}"
            );
        }
        // And a response field set at run time changes no request attribute.
        let mut rec = chat();
        let before = map(all_on(), &rec);
        for field in Field::ALL.into_iter().filter(|f| !is_request_field(*f)) {
            rec.set(field, Value::Str("x"));
        }
        assert_eq!(map(all_on(), &rec), before);
    }
}
