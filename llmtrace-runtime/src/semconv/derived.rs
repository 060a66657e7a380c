//! Values the conventions derive from a record rather than copy from one field: the operation
//! name and the workflow or tool name. The mapper emits them and the tail sampler matches them,
//! so both read them here.

use std::borrow::Cow;

use crate::record::{Field, Kind, Record, Value};

/// `gen_ai.operation.name`: fixed by the kind, except for model calls, whose `operation`
/// argument (default `chat`) names it.
pub(crate) fn operation(rec: &Record) -> &str {
    match rec.kind() {
        // A span of another crate's (`llmtrace::tracing::GenAiLayer`) keeps its own operation:
        // an agent's `invoke_agent` is traced as a workflow but named as what it is.
        Kind::Workflow => rec
            .get(Field::Operation)
            .and_then(Value::as_str)
            .unwrap_or("invoke_workflow"),
        Kind::LlmCall => rec
            .get(Field::Operation)
            .and_then(Value::as_str)
            .unwrap_or("chat"),
        Kind::Retrieval => "retrieval",
        Kind::Tool => "execute_tool",
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
        Kind::Workflow => rec
            .get(Field::Operation)
            .cloned()
            .unwrap_or(Value::Str("invoke_workflow")),
        Kind::Retrieval => Value::Str("retrieval"),
        Kind::Tool => Value::Str("execute_tool"),
    }
}

/// A workflow's or tool's name (`gen_ai.workflow.name`, `gen_ai.tool.name`): the `name`
/// argument, else the function's name.
pub(crate) fn name(rec: &Record) -> Cow<'_, Value> {
    match rec.get(Field::Name) {
        Some(v) => Cow::Borrowed(v),
        None => Cow::Owned(Value::Str(rec.callsite.fn_name)),
    }
}
