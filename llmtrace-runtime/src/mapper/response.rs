//! The response side: what a span recorded while it ran (response fields, roll-ups, the error
//! type) and its content, per kind. Usage and cost are in `usage`.

use opentelemetry::KeyValue;
use serde_json::Value as Json;

use super::fields::Fields;
use super::format;
use super::out::{Out, copies, shared, shared_value};
use super::usage;
use std::sync::atomic::Ordering;

use crate::record::{Callsite, Field, Kind, Value, clock};
use crate::semconv::Conventions;
use crate::semconv::keys::{gen_ai, langfuse, llmtrace as lt, openinference as oi};
use crate::semconv::table::Phase;
use crate::state::warn;

/// The response attributes of a span of `kind` that started at `start`.
#[inline(always)]
pub(super) fn response(
    c: &Conventions,
    callsite: &'static Callsite,
    start: u64,
    mut r: Fields<'_>,
    out: &mut Out,
) {
    let kind = callsite.kind;
    // Read before the copies move the finish reasons out.
    let first_reason = match kind {
        Kind::LlmCall if c.openinference_full => {
            r.get(Field::FinishReasons).and_then(format::first_of_list)
        }
        _ => None,
    };
    // A failed guardrail's reason, read before the copies move it out.
    let failed_guardrail = match kind {
        Kind::Guardrail if c.langfuse => {
            matches!(r.get(Field::GuardrailPassed), Some(Value::Bool(false))).then(|| {
                r.get(Field::GuardrailReason)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
        }
        _ => None,
    };
    // Per kind, so that each list of copies is a constant at its call.
    match kind {
        Kind::Workflow => r.copy(copies!(Kind::Workflow, Phase::Response), c, out),
        Kind::LlmCall => r.copy(copies!(Kind::LlmCall, Phase::Response), c, out),
        Kind::Retrieval => r.copy(copies!(Kind::Retrieval, Phase::Response), c, out),
        Kind::Tool => r.copy(copies!(Kind::Tool, Phase::Response), c, out),
        Kind::Agent => r.copy(copies!(Kind::Agent, Phase::Response), c, out),
        Kind::Embeddings => r.copy(copies!(Kind::Embeddings, Phase::Response), c, out),
        Kind::Rerank => r.copy(copies!(Kind::Rerank, Phase::Response), c, out),
        Kind::Guardrail => r.copy(copies!(Kind::Guardrail, Phase::Response), c, out),
        Kind::Evaluator => r.copy(copies!(Kind::Evaluator, Phase::Response), c, out),
        Kind::Step => r.copy(copies!(Kind::Step, Phase::Response), c, out),
    }
    match kind {
        Kind::Workflow | Kind::Evaluator | Kind::Step => plain_io(c, r, out),
        Kind::LlmCall => llm(c, start, r, first_reason, out),
        Kind::Retrieval => retrieval(c, callsite, r, out),
        Kind::Tool => tool(c, r, out),
        Kind::Agent => {
            usage::usage(c, &r.tokens(), usage::UsageKeys::AgentTotals, out);
            plain_io(c, r, out);
        }
        Kind::Embeddings => embeddings(c, r, out),
        Kind::Rerank => rerank(c, callsite, r, out),
        Kind::Guardrail => {
            // Not an error (the span's status says whether the function failed): a warning.
            if let Some(reason) = failed_guardrail {
                out.attr(langfuse::OBSERVATION_LEVEL, "WARNING");
                if let Some(reason) = reason {
                    out.attr(langfuse::OBSERVATION_STATUS_MESSAGE, reason);
                }
            }
            plain_io(c, r, out);
        }
    }
}

/// The parameters and the return value as `input.value` and `output.value`.
#[inline(always)]
fn plain_io(c: &Conventions, mut r: Fields<'_>, out: &mut Out) {
    let (input, output) = (r.take(Field::Input), r.take(Field::Output));
    io_values(c, out, input.map(Io::from), output.map(Io::from));
}

#[inline(always)]
fn llm(
    c: &Conventions,
    start: u64,
    mut r: Fields<'_>,
    first_reason: Option<String>,
    out: &mut Out,
) {
    if let Some(first) = first_reason {
        out.attr(oi::LLM_FINISH_REASON, first);
    }
    if let Some(ttfc) = r.f64(Field::TimeToFirstChunk) {
        out.attr(gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK, ttfc);
        if c.langfuse {
            let at =
                clock::to_system_time(start) + std::time::Duration::from_secs_f64(ttfc.max(0.0));
            out.attr(
                langfuse::OBSERVATION_COMPLETION_START_TIME,
                format::iso8601(at),
            );
        }
    }
    usage::usage(c, &r.tokens(), usage::UsageKeys::ModelCall, out);
    usage::cost(c, &r, out);
    if let Some(v) = r.take(Field::SystemInstructions) {
        out.content(gen_ai::SYSTEM_INSTRUCTIONS, v);
    }
    if let Some(v) = r.take(Field::ToolDefinitions) {
        out.content(gen_ai::TOOL_DEFINITIONS, v);
    }
    let input_messages = r.take(Field::InputMessages).map(shared_value);
    let output_messages = r.take(Field::OutputMessages).map(shared_value);
    if let Some(v) = &input_messages {
        out.content(gen_ai::INPUT_MESSAGES, v.clone());
    }
    if let Some(v) = &output_messages {
        out.content(gen_ai::OUTPUT_MESSAGES, v.clone());
    }
    // Langfuse and Phoenix read `input.value` / `output.value` before the GenAI messages:
    // give them the messages when there are any, the parameters and return value otherwise.
    let input = match input_messages {
        Some(m) => Some(Io::Json(m)),
        None => r.take(Field::Input).map(Io::from),
    };
    let output = match output_messages {
        Some(m) => Some(Io::Json(m)),
        None => r.take(Field::Output).map(Io::from),
    };
    io_values(c, out, input, output);
}

/// An embeddings call: usage, cost and the input text. Never its output: the return value is
/// the vectors, of which only the count and dimension are recorded (by the copies).
fn embeddings(c: &Conventions, mut r: Fields<'_>, out: &mut Out) {
    usage::usage(c, &r.tokens(), usage::UsageKeys::Embeddings, out);
    usage::cost(c, &r, out);
    let input = r.take(Field::Input).map(Io::from);
    // Whatever was set as the output (`current().set(..)`) is dropped with the record.
    drop(r.take(Field::Output));
    io_values(c, out, input, None);
}

/// A reranker: the query, the documents given and returned (counted, their scores listed,
/// indexed for Phoenix), the query or parameters as input and the documents returned as
/// output.
fn rerank(c: &Conventions, callsite: &'static Callsite, mut r: Fields<'_>, out: &mut Out) {
    let query = r.take(Field::Query).map(shared_value);
    if let (Some(q), true) = (&query, c.openinference) {
        out.content(oi::RERANKER_QUERY, q.clone());
    }
    let mut unrecognised = false;
    let mut read = |v: Option<&Value>| {
        let d = v
            .and_then(Value::as_str)
            .and_then(format::normalize_documents)?;
        unrecognised |= d.unrecognised;
        Some(d.docs)
    };
    let given = read(r.take(Field::RerankInputDocuments).as_ref());
    let raw = r.take(Field::Documents);
    let returned = read(raw.as_ref());
    if unrecognised {
        warn_unrecognised_documents(callsite);
    }
    let mut output = raw.map(Io::from);
    for (docs, count_key, scores_key, prefix) in [
        (
            &given,
            lt::RERANK_INPUT_DOCUMENT_COUNT,
            lt::RERANK_INPUT_SCORES,
            oi::RERANKER_INPUT_DOCUMENTS_PREFIX,
        ),
        (
            &returned,
            lt::RERANK_OUTPUT_DOCUMENT_COUNT,
            lt::RERANK_OUTPUT_SCORES,
            oi::RERANKER_OUTPUT_DOCUMENTS_PREFIX,
        ),
    ] {
        let Some(docs) = docs else { continue };
        out.attr(count_key, docs.len() as i64);
        let scores: Vec<f64> = docs
            .iter()
            .filter_map(|d| d.get("score").and_then(Json::as_f64))
            .collect();
        if !scores.is_empty() {
            out.attr(
                scores_key,
                opentelemetry::Value::Array(opentelemetry::Array::F64(scores)),
            );
        }
        if c.openinference && out.content.captures() {
            indexed_documents(prefix, docs, out);
        }
    }
    if let Some(docs) = returned {
        if out.content.captures() {
            output = Some(Io::Json(shared(Json::Array(docs).to_string())));
        }
    }
    let input = match query {
        Some(q) => Some(Io::Text(q)),
        None => r.take(Field::Input).map(Io::from),
    };
    let output = output.or_else(|| r.take(Field::Output).map(Io::from));
    io_values(c, out, input, output);
}

fn retrieval(c: &Conventions, callsite: &'static Callsite, mut r: Fields<'_>, out: &mut Out) {
    let query = r.take(Field::Query).map(shared_value);
    if let Some(q) = &query {
        out.content(gen_ai::RETRIEVAL_QUERY_TEXT, q.clone());
    }
    let raw = r.take(Field::Documents);
    let documents = raw
        .as_ref()
        .and_then(Value::as_str)
        .and_then(format::normalize_documents);
    let mut output = raw.map(Io::from);
    if let Some(format::Documents { docs, unrecognised }) = documents {
        if unrecognised {
            warn_unrecognised_documents(callsite);
        }
        out.attr(lt::RETRIEVAL_DOCUMENT_COUNT, docs.len() as i64);
        if out.content.captures() {
            if c.openinference {
                indexed_documents(oi::RETRIEVAL_DOCUMENTS_PREFIX, &docs, out);
            }
            let json = shared(Json::Array(docs).to_string());
            out.content(gen_ai::RETRIEVAL_DOCUMENTS, json.clone());
            output = Some(Io::Json(json));
        }
    }
    let input = match query {
        Some(q) => Some(Io::Text(q)),
        None => r.take(Field::Input).map(Io::from),
    };
    let output = output.or_else(|| r.take(Field::Output).map(Io::from));
    io_values(c, out, input, output);
}

/// Says once per function that its documents had none of the field names read.
#[cold]
fn warn_unrecognised_documents(callsite: &'static Callsite) {
    if !callsite.documents_warned.swap(true, Ordering::Relaxed) {
        warn::warn(format_args!(
            "{}::{}: the documents returned have none of the fields read as id, score or content \
             (id/doc_id/key/uuid, score/similarity/relevance_score/distance, \
             content/text/page_content/body), so each is recorded whole as its content; implement \
             `llmtrace::Document` for the document type, or name its fields with \
             `#[serde(rename = \"content\")]` (reported once per function)",
            callsite.module_path, callsite.fn_name
        ));
    }
}

/// OpenInference's flat document keys, `{prefix}.{i}.document.{field}` (`retrieval.documents`,
/// `reranker.input_documents`, `reranker.output_documents`): strings, the score a double,
/// anything else as JSON.
fn indexed_documents(prefix: &str, docs: &[Json], out: &mut Out) {
    for (i, doc) in docs.iter().enumerate() {
        for field in ["id", "score", "content", "metadata"] {
            let Some(v) = doc.get(field) else { continue };
            let key = format!("{prefix}.{i}.document.{field}");
            let value: opentelemetry::Value = match v {
                Json::String(s) => s.clone().into(),
                Json::Number(n) if field == "score" => n.as_f64().unwrap_or_default().into(),
                other => other.to_string().into(),
            };
            out.content_kv(KeyValue::new(key, value));
        }
    }
}

fn tool(c: &Conventions, mut r: Fields<'_>, out: &mut Out) {
    let args = r.take(Field::Input).map(shared_value);
    let result = r.take(Field::Output).map(shared_value);
    if let Some(a) = &args {
        out.content(gen_ai::TOOL_CALL_ARGUMENTS, a.clone());
        if c.openinference_full {
            out.content(oi::TOOL_PARAMETERS, a.clone());
        }
    }
    if let Some(v) = &result {
        out.content(gen_ai::TOOL_CALL_RESULT, v.clone());
    }
    io_values(c, out, args.map(Io::Json), result.map(Io::Json));
}

/// `input.value` / `output.value` content with its MIME type.
enum Io {
    Json(opentelemetry::Value),
    Text(opentelemetry::Value),
}

impl From<Value> for Io {
    fn from(v: Value) -> Self {
        match v {
            Value::Json(_) | Value::Captured(_) => Io::Json(v.into()),
            other => Io::Text(other.into()),
        }
    }
}

/// `input.value` / `output.value` with their MIME types, which go on the span with the values.
#[inline(always)]
fn io_values(c: &Conventions, out: &mut Out, input: Option<Io>, output: Option<Io>) {
    if !c.openinference {
        return;
    }
    for (value, key, mime_key) in [
        (input, oi::INPUT_VALUE, oi::INPUT_MIME_TYPE),
        (output, oi::OUTPUT_VALUE, oi::OUTPUT_MIME_TYPE),
    ] {
        let Some(io) = value else { continue };
        let (value, mime) = match io {
            Io::Json(v) => (v, "application/json"),
            Io::Text(v) => (v, "text/plain"),
        };
        if out.content(key, value) {
            out.attr(mime_key, mime);
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::StringValue;

    use super::*;
    use crate::mapper::test_support::{
        KINDS, all_on, keys, out, profiles, record, record_with, string, value,
    };
    use crate::record::Record;
    use crate::state::ContentCapture;

    fn map(c: Conventions, content: ContentCapture, rec: &mut Record) -> Out {
        let mut o = out(content);
        response(&c, rec.callsite, rec.start, Fields::index(rec), &mut o);
        o
    }

    fn attrs(c: Conventions, content: ContentCapture, rec: &mut Record) -> Vec<KeyValue> {
        map(c, content, rec).attrs
    }

    #[test]
    fn response_fields_of_a_model_call() {
        let mut rec = record_with(
            Kind::LlmCall,
            &[
                (Field::ResponseModel, Value::String("gpt-4o-2024".into())),
                (Field::ResponseId, Value::String("chatcmpl-1".into())),
                (Field::FinishReasons, Value::StrList(&["stop", "length"])),
                (Field::InputTokens, Value::I64(10)),
                (Field::OutputTokens, Value::I64(4)),
            ],
        );
        let a = attrs(Conventions::default(), ContentCapture::SpanOnly, &mut rec);
        assert_eq!(
            keys(&a),
            [
                gen_ai::RESPONSE_MODEL,
                gen_ai::RESPONSE_ID,
                gen_ai::RESPONSE_FINISH_REASONS,
                gen_ai::USAGE_INPUT_TOKENS,
                gen_ai::USAGE_OUTPUT_TOKENS,
            ]
        );
        assert_eq!(string(&a, gen_ai::RESPONSE_ID), "chatcmpl-1");
        assert_eq!(
            *value(&a, gen_ai::RESPONSE_FINISH_REASONS),
            opentelemetry::Value::Array(vec![StringValue::from("stop"), "length".into()].into())
        );
    }

    #[test]
    fn the_first_finish_reason_in_the_full_profile() {
        let fields = [(Field::FinishReasons, Value::StrList(&["length", "stop"]))];
        let mut rec = record_with(Kind::LlmCall, &fields);
        let a = attrs(all_on(), ContentCapture::SpanOnly, &mut rec);
        assert_eq!(string(&a, oi::LLM_FINISH_REASON), "length");
        let mut rec = record_with(Kind::LlmCall, &fields);
        let a = attrs(Conventions::default(), ContentCapture::SpanOnly, &mut rec);
        assert!(!keys(&a).contains(&oi::LLM_FINISH_REASON));
    }

    #[test]
    fn roll_ups_and_the_error_type_on_every_kind() {
        for kind in KINDS {
            let mut rec = record_with(
                kind,
                &[
                    (Field::ErrorType, Value::Str("Timeout")),
                    (Field::TraceInputTokens, Value::I64(100)),
                    (Field::TraceOutputTokens, Value::I64(20)),
                    (Field::TraceCost, Value::F64(0.25)),
                    (Field::TraceUnpricedCalls, Value::I64(1)),
                ],
            );
            let a = attrs(Conventions::default(), ContentCapture::NoContent, &mut rec);
            assert_eq!(
                keys(&a)[..5],
                [
                    gen_ai::ERROR_TYPE,
                    lt::TRACE_INPUT_TOKENS,
                    lt::TRACE_OUTPUT_TOKENS,
                    lt::TRACE_COST_USD,
                    lt::TRACE_UNPRICED_CALLS
                ],
                "{kind:?}"
            );
            assert_eq!(string(&a, gen_ai::ERROR_TYPE), "Timeout");
            assert_eq!(
                *value(&a, lt::TRACE_COST_USD),
                opentelemetry::Value::F64(0.25)
            );
        }
    }

    #[test]
    fn time_to_first_chunk_is_seconds_and_a_langfuse_timestamp() {
        let fields = [
            (Field::TimeToFirstChunk, Value::I64(2)),
            (Field::ChunkCount, Value::I64(12)),
        ];
        let mut rec = record_with(Kind::LlmCall, &fields);
        let a = attrs(Conventions::default(), ContentCapture::NoContent, &mut rec);
        assert_eq!(
            *value(&a, gen_ai::RESPONSE_TIME_TO_FIRST_CHUNK),
            opentelemetry::Value::F64(2.0)
        );
        assert_eq!(*value(&a, lt::STREAM_CHUNKS), opentelemetry::Value::I64(12));
        let start = clock::to_system_time(0) + std::time::Duration::from_secs(2);
        assert_eq!(
            string(&a, langfuse::OBSERVATION_COMPLETION_START_TIME),
            format::iso8601(start)
        );
        let mut rec = record_with(Kind::LlmCall, &fields);
        let a = attrs(
            Conventions::default().langfuse(false),
            ContentCapture::NoContent,
            &mut rec,
        );
        assert!(!keys(&a).contains(&langfuse::OBSERVATION_COMPLETION_START_TIME));
    }

    fn chat_with_messages() -> Record {
        record_with(
            Kind::LlmCall,
            &[
                (Field::InputTokens, Value::I64(1)),
                (
                    Field::SystemInstructions,
                    Value::Json("[\"be brief\"]".into()),
                ),
                (Field::InputMessages, Value::Json("[\"in\"]".into())),
                (Field::OutputMessages, Value::Json("[\"out\"]".into())),
                (Field::Input, Value::Json("{\"q\":1}".into())),
            ],
        )
    }

    #[test]
    fn messages_are_the_input_and_output_values() {
        let a = attrs(
            Conventions::default(),
            ContentCapture::SpanOnly,
            &mut chat_with_messages(),
        );
        assert_eq!(string(&a, gen_ai::SYSTEM_INSTRUCTIONS), "[\"be brief\"]");
        assert_eq!(string(&a, gen_ai::INPUT_MESSAGES), "[\"in\"]");
        assert_eq!(string(&a, oi::INPUT_VALUE), "[\"in\"]");
        assert_eq!(string(&a, oi::INPUT_MIME_TYPE), "application/json");
        assert_eq!(string(&a, oi::OUTPUT_VALUE), "[\"out\"]");
        // Without messages, the parameters and the return value, typed by their MIME type.
        let mut rec = record_with(
            Kind::LlmCall,
            &[
                (Field::Input, Value::Json("{\"q\":1}".into())),
                (Field::Output, Value::String("plain".into())),
            ],
        );
        let a = attrs(Conventions::default(), ContentCapture::SpanOnly, &mut rec);
        assert_eq!(string(&a, oi::INPUT_VALUE), "{\"q\":1}");
        assert_eq!(string(&a, oi::INPUT_MIME_TYPE), "application/json");
        assert_eq!(string(&a, oi::OUTPUT_VALUE), "plain");
        assert_eq!(string(&a, oi::OUTPUT_MIME_TYPE), "text/plain");
    }

    #[test]
    fn content_follows_the_capture_setting() {
        let content_keys = [
            gen_ai::SYSTEM_INSTRUCTIONS,
            gen_ai::INPUT_MESSAGES,
            gen_ai::OUTPUT_MESSAGES,
            oi::INPUT_VALUE,
            oi::OUTPUT_VALUE,
        ];
        for content in [
            ContentCapture::NoContent,
            ContentCapture::SpanOnly,
            ContentCapture::EventOnly,
            ContentCapture::SpanAndEvent,
        ] {
            let o = map(Conventions::default(), content, &mut chat_with_messages());
            let on_span = matches!(
                content,
                ContentCapture::SpanOnly | ContentCapture::SpanAndEvent
            );
            let on_event = matches!(
                content,
                ContentCapture::EventOnly | ContentCapture::SpanAndEvent
            );
            let span = keys(&o.attrs);
            let event = keys(&o.content_event);
            for key in content_keys {
                assert_eq!(span.contains(&key), on_span, "{key} {content:?}");
                assert_eq!(event.contains(&key), on_event, "{key} {content:?}");
            }
            // The MIME types go with the values on the span, never on the event.
            assert_eq!(span.contains(&oi::INPUT_MIME_TYPE), on_span);
            assert!(!event.contains(&oi::INPUT_MIME_TYPE));
            // Usage is not content.
            assert!(span.contains(&gen_ai::USAGE_INPUT_TOKENS));
        }
    }

    #[test]
    fn input_and_output_values_need_the_openinference_keys() {
        let a = attrs(
            Conventions::default().openinference(false),
            ContentCapture::SpanOnly,
            &mut chat_with_messages(),
        );
        assert!(keys(&a).contains(&gen_ai::INPUT_MESSAGES));
        assert!(!keys(&a).contains(&oi::INPUT_VALUE));
        let mut flow = record_with(
            Kind::Workflow,
            &[(Field::Output, Value::Json("[1]".into()))],
        );
        let a = attrs(
            Conventions::default().openinference(false),
            ContentCapture::SpanOnly,
            &mut flow,
        );
        assert!(a.is_empty(), "{:?}", keys(&a));
    }

    fn search() -> Record {
        record_with(
            Kind::Retrieval,
            &[
                (Field::Query, Value::String("refunds?".into())),
                (
                    Field::Documents,
                    Value::Json(
                        r#"[{"id":7,"score":0.5,"content":"5 days","metadata":{"l":"en"}},"x"]"#
                            .into(),
                    ),
                ),
            ],
        )
    }

    #[test]
    fn documents_are_normalised_and_indexed() {
        let a = attrs(
            Conventions::default(),
            ContentCapture::SpanOnly,
            &mut search(),
        );
        assert_eq!(
            keys(&a),
            [
                gen_ai::RETRIEVAL_QUERY_TEXT,
                lt::RETRIEVAL_DOCUMENT_COUNT,
                "retrieval.documents.0.document.id",
                "retrieval.documents.0.document.score",
                "retrieval.documents.0.document.content",
                "retrieval.documents.0.document.metadata",
                "retrieval.documents.1.document.id",
                "retrieval.documents.1.document.content",
                gen_ai::RETRIEVAL_DOCUMENTS,
                oi::INPUT_VALUE,
                oi::INPUT_MIME_TYPE,
                oi::OUTPUT_VALUE,
                oi::OUTPUT_MIME_TYPE,
            ]
        );
        assert_eq!(
            *value(&a, lt::RETRIEVAL_DOCUMENT_COUNT),
            opentelemetry::Value::I64(2)
        );
        assert_eq!(string(&a, "retrieval.documents.0.document.id"), "7");
        assert_eq!(
            *value(&a, "retrieval.documents.0.document.score"),
            opentelemetry::Value::F64(0.5)
        );
        assert_eq!(
            string(&a, "retrieval.documents.0.document.metadata"),
            r#"{"l":"en"}"#
        );
        assert_eq!(string(&a, oi::INPUT_MIME_TYPE), "text/plain");
        let documents = string(&a, gen_ai::RETRIEVAL_DOCUMENTS);
        assert_eq!(string(&a, oi::OUTPUT_VALUE), documents);
        assert_eq!(
            documents,
            r#"[{"content":"5 days","id":"7","metadata":{"l":"en"},"score":0.5},{"content":"x","id":"1"}]"#
        );
    }

    #[test]
    fn documents_without_content_capture_are_only_counted() {
        let a = attrs(
            Conventions::default(),
            ContentCapture::NoContent,
            &mut search(),
        );
        assert_eq!(keys(&a), [lt::RETRIEVAL_DOCUMENT_COUNT]);
        // Documents that are no JSON list are the output as they are.
        let mut rec = record_with(
            Kind::Retrieval,
            &[(Field::Documents, Value::String("not json".into()))],
        );
        let a = attrs(Conventions::default(), ContentCapture::SpanOnly, &mut rec);
        assert_eq!(keys(&a), [oi::OUTPUT_VALUE, oi::OUTPUT_MIME_TYPE]);
        assert_eq!(string(&a, oi::OUTPUT_MIME_TYPE), "text/plain");
    }

    #[test]
    fn tool_arguments_and_result() {
        let fields = [
            (Field::Input, Value::Json("{\"id\":\"A1\"}".into())),
            (Field::Output, Value::Json("{\"ok\":true}".into())),
        ];
        let mut rec = record_with(Kind::Tool, &fields);
        let a = attrs(all_on(), ContentCapture::SpanOnly, &mut rec);
        assert_eq!(
            keys(&a),
            [
                gen_ai::TOOL_CALL_ARGUMENTS,
                oi::TOOL_PARAMETERS,
                gen_ai::TOOL_CALL_RESULT,
                oi::INPUT_VALUE,
                oi::INPUT_MIME_TYPE,
                oi::OUTPUT_VALUE,
                oi::OUTPUT_MIME_TYPE,
            ]
        );
        assert_eq!(string(&a, oi::TOOL_PARAMETERS), "{\"id\":\"A1\"}");
        assert_eq!(string(&a, oi::OUTPUT_MIME_TYPE), "application/json");
        let mut rec = record_with(Kind::Tool, &fields);
        let a = attrs(Conventions::default(), ContentCapture::EventOnly, &mut rec);
        assert!(a.is_empty());
    }

    #[test]
    fn an_empty_record_has_no_response() {
        for kind in [Kind::Workflow, Kind::Retrieval, Kind::Tool] {
            for c in profiles() {
                let a = attrs(c, ContentCapture::SpanAndEvent, &mut record(kind));
                assert!(a.is_empty(), "{kind:?}: {:?}", keys(&a));
            }
        }
    }
}
