//! The scope's values (`llmtrace::scope()`): session, user, conversation, tags and metadata,
//! copied onto every span that ran inside it.

use opentelemetry::StringValue;
use serde_json::{Map, Value as Json};

use super::format;
use super::out::{Out, shared};
use crate::record::{Field, Kind, Record};
use crate::semconv::Conventions;
use crate::semconv::keys::{gen_ai, langfuse, llmtrace as lt, openinference as oi};

/// The scope attributes of a record.
#[inline(always)]
pub(super) fn scope(c: &Conventions, rec: &Record, out: &mut Out) {
    let Some(scope) = rec.scope.as_deref() else {
        return;
    };
    // In every profile: Phoenix and Langfuse both read these.
    if let Some(s) = &scope.session_id {
        out.attr(oi::SESSION_ID, s.to_string());
    }
    if let Some(u) = &scope.user_id {
        out.attr(oi::USER_ID, u.to_string());
    }
    // Model calls and tools inside an agent name it, unless they name their own (set with the
    // request). The agent's own record holds the scope it opened for its descendants.
    if let (Some(agent), Kind::LlmCall | Kind::Tool) = (&scope.agent, rec.kind()) {
        if agent.span_id != rec.span_id && rec.get(Field::AgentName).is_none() {
            if let Some(name) = &agent.name {
                out.attr(gen_ai::AGENT_NAME, name);
            }
        }
    }
    // A span inside an evaluator judges another operation (the evaluator itself does not).
    if scope.evaluator.is_some_and(|e| e != rec.span_id) {
        out.attr(lt::EVALUATION, true);
    }
    // The span's own conversation id, when it has one, was set with the request.
    if let Some(id) = &scope.conversation_id {
        if rec.get(Field::ConversationId).is_none() {
            out.attr(gen_ai::CONVERSATION_ID, id.to_string());
        }
    }
    if !scope.tags.is_empty() {
        let tags: Vec<StringValue> = scope.tags.iter().map(|t| t.to_string().into()).collect();
        if c.openinference {
            out.attr(
                oi::TAG_TAGS,
                opentelemetry::Value::Array(tags.clone().into()),
            );
        }
        if c.langfuse {
            out.attr(
                langfuse::TRACE_TAGS,
                opentelemetry::Value::Array(tags.into()),
            );
        }
    }
    if !scope.metadata.is_empty() {
        let map: Map<String, Json> = scope
            .metadata
            .iter()
            .map(|(k, v)| (k.to_string(), format::to_json(v)))
            .collect();
        let json = shared(Json::Object(map).to_string());
        if c.openinference {
            out.attr(oi::METADATA, json.clone());
        }
        if c.langfuse {
            out.attr(langfuse::TRACE_METADATA, json);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use opentelemetry::KeyValue;

    use super::*;
    use crate::mapper::test_support::{callsite, keys, out, string, value};
    use crate::record::{Scope, Value};
    use crate::state::ContentCapture;

    fn full_scope() -> Arc<Scope> {
        Arc::new(Scope {
            session_id: Some("s-1".into()),
            user_id: Some("u-1".into()),
            conversation_id: Some("c-1".into()),
            tags: vec!["beta".into(), "eu".into()],
            metadata: vec![
                ("tier".into(), Value::Str("pro")),
                ("seats".into(), Value::I64(3)),
            ],
            ..Scope::default()
        })
    }

    fn attrs(c: Conventions, rec: &Record) -> Vec<KeyValue> {
        let mut o = out(ContentCapture::NoContent);
        scope(&c, rec, &mut o);
        o.attrs
    }

    fn in_scope(scope: Arc<Scope>) -> Record {
        Record::new(callsite(Kind::Tool, &[]), 1, 2, 0, Some(scope), 0)
    }

    #[test]
    fn every_value_in_the_default_profile() {
        let a = attrs(Conventions::default(), &in_scope(full_scope()));
        assert_eq!(
            keys(&a),
            [
                oi::SESSION_ID,
                oi::USER_ID,
                gen_ai::CONVERSATION_ID,
                oi::TAG_TAGS,
                langfuse::TRACE_TAGS,
                oi::METADATA,
                langfuse::TRACE_METADATA,
            ]
        );
        assert_eq!(string(&a, oi::SESSION_ID), "s-1");
        assert_eq!(string(&a, gen_ai::CONVERSATION_ID), "c-1");
        assert_eq!(
            *value(&a, langfuse::TRACE_TAGS),
            opentelemetry::Value::Array(vec![StringValue::from("beta"), "eu".into()].into())
        );
        assert_eq!(string(&a, oi::METADATA), r#"{"seats":3,"tier":"pro"}"#);
        assert_eq!(
            string(&a, langfuse::TRACE_METADATA),
            string(&a, oi::METADATA)
        );
    }

    #[test]
    fn session_and_user_stay_without_the_backend_keys() {
        let c = Conventions::default().openinference(false).langfuse(false);
        let a = attrs(c, &in_scope(full_scope()));
        assert_eq!(
            keys(&a),
            [oi::SESSION_ID, oi::USER_ID, gen_ai::CONVERSATION_ID]
        );
        let a = attrs(
            Conventions::default().langfuse(false),
            &in_scope(full_scope()),
        );
        assert!(keys(&a).contains(&oi::TAG_TAGS) && !keys(&a).contains(&langfuse::TRACE_TAGS));
    }

    #[test]
    fn the_spans_own_conversation_id_wins() {
        let mut rec = in_scope(full_scope());
        rec.set(Field::ConversationId, Value::Str("own"));
        let a = attrs(Conventions::default(), &rec);
        assert!(!keys(&a).contains(&gen_ai::CONVERSATION_ID));
    }

    #[test]
    fn no_scope_or_an_empty_one_adds_nothing() {
        let rec = Record::new(callsite(Kind::Workflow, &[]), 1, 2, 0, None, 0);
        assert!(attrs(Conventions::default(), &rec).is_empty());
        let empty = in_scope(Arc::new(Scope::default()));
        assert!(attrs(Conventions::default(), &empty).is_empty());
    }
}
