//! Values the conventions derive from a record rather than copy from one field: the operation
//! name and the workflow or tool name. The mapper emits them and the tail sampler matches them,
//! so both read them here.

use std::borrow::Cow;

use crate::record::{Field, Kind, Record, Value};

/// `gen_ai.operation.name`: fixed by the kind, except for model calls, whose `operation`
/// argument (default `chat`) names it. Rerankers, guardrails and evaluators have no operation in
/// the GenAI conventions, which allow custom values: `rerank`, `guardrail`, `evaluate`. Block spans are the
/// application's own steps, not GenAI operations: `""` (no attribute is emitted).
pub(crate) fn operation(rec: &Record) -> &str {
    match rec.kind() {
        // A span of another crate's (`llmtrace::tracing::GenAiLayer`) keeps its own operation:
        // a `plan` or `create_agent` span is traced as a workflow or agent but named as what it
        // is.
        Kind::Workflow | Kind::Agent => rec
            .get(Field::Operation)
            .and_then(Value::as_str)
            .unwrap_or(fixed_operation(rec.kind())),
        Kind::LlmCall => rec
            .get(Field::Operation)
            .and_then(Value::as_str)
            .unwrap_or("chat"),
        kind => fixed_operation(kind),
    }
}

/// The operation of a kind whose operation does not depend on its arguments.
const fn fixed_operation(kind: Kind) -> &'static str {
    match kind {
        Kind::Workflow => "invoke_workflow",
        Kind::LlmCall => "chat",
        Kind::Retrieval => "retrieval",
        Kind::Tool => "execute_tool",
        Kind::Agent => "invoke_agent",
        Kind::Embeddings => "embeddings",
        Kind::Rerank => "rerank",
        Kind::Guardrail => "guardrail",
        Kind::Evaluator => "evaluate",
        Kind::Step => "",
    }
}

/// [`operation`] as the attribute value: the recorded value itself when there is one, so a
/// model call's operation keeps its storage (and its type, should it not be a string).
pub(crate) fn operation_value(rec: &Record) -> Value {
    match rec.kind() {
        Kind::LlmCall => rec
            .get(Field::Operation)
            .cloned()
            .unwrap_or(Value::Str("chat")),
        Kind::Workflow | Kind::Agent => rec
            .get(Field::Operation)
            .cloned()
            .unwrap_or(Value::Str(fixed_operation(rec.kind()))),
        kind => Value::Str(fixed_operation(kind)),
    }
}

/// A workflow's, tool's, guardrail's or step's name (`gen_ai.workflow.name`,
/// `gen_ai.tool.name`, the span name): the `name` argument, else the function's name.
pub(crate) fn name(rec: &Record) -> Cow<'_, Value> {
    match rec.get(Field::Name) {
        Some(v) => Cow::Borrowed(v),
        None => Cow::Owned(Value::Str(rec.callsite.fn_name)),
    }
}
