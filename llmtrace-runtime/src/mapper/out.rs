//! The attribute builder: the attributes of one span as they are collected, content routed by
//! the capture setting, and the key table's plain copies.

use std::sync::Arc;

use opentelemetry::{KeyValue, StringValue};

use crate::record::{Field, Kind, Value};
use crate::semconv::Conventions;
use crate::semconv::table::{FieldCopy, Phase};
use crate::state::ContentCapture;

/// Attributes being built, with content routed by the capture setting.
#[derive(Debug)]
pub(super) struct Out {
    pub(super) attrs: Vec<KeyValue>,
    /// Content bound for the content event (`EventOnly`, `SpanAndEvent`).
    pub(super) content_event: Vec<KeyValue>,
    pub(super) content: ContentCapture,
}

impl Out {
    /// A builder that appends to `attrs` (the mapper's reused scratch list).
    pub(super) fn new(attrs: Vec<KeyValue>, content: ContentCapture) -> Self {
        Out {
            attrs,
            content_event: Vec::new(),
            content,
        }
    }

    #[inline]
    pub(super) fn attr(&mut self, key: &'static str, value: impl Into<opentelemetry::Value>) {
        self.attrs.push(KeyValue::new(key, value));
    }

    /// The table's plain copies, in table order: each whose profile is on gets the value
    /// `value` gives for its field, or its default. `value` is called once for each copy whose
    /// profile is on, so it can also collect what it reads.
    #[inline]
    pub(super) fn copy<V: Into<opentelemetry::Value>>(
        &mut self,
        copies: &[FieldCopy],
        conventions: &Conventions,
        mut value: impl FnMut(Field) -> Option<V>,
    ) {
        for c in copies {
            if !conventions.emits(c.profile) {
                continue;
            }
            match value(c.field) {
                Some(v) => self.attr(c.key, v),
                None => {
                    if let Some(default) = c.default {
                        self.attr(c.key, default);
                    }
                }
            }
        }
    }

    /// A content attribute: on the span, on the content event, both or neither. Returns whether
    /// it went on the span.
    pub(super) fn content(
        &mut self,
        key: &'static str,
        value: impl Into<opentelemetry::Value>,
    ) -> bool {
        self.content_kv(KeyValue::new(key, value))
    }

    pub(super) fn content_kv(&mut self, kv: KeyValue) -> bool {
        match self.content {
            ContentCapture::NoContent => false,
            ContentCapture::SpanOnly => {
                self.attrs.push(kv);
                true
            }
            ContentCapture::EventOnly => {
                self.content_event.push(kv);
                false
            }
            ContentCapture::SpanAndEvent => {
                self.content_event.push(kv.clone());
                self.attrs.push(kv);
                true
            }
        }
    }
}

/// The table's plain copies of a kind in a phase, filtered out of the table at compile time:
/// `copies!(Kind::LlmCall, Phase::Response)` is a `&'static [FieldCopy; N]` whose length and
/// contents the compiler knows, so what a loop over it computes from the list alone (the set of
/// fields it reads, say) is folded to a constant at a call site that names the kind.
macro_rules! copies {
    ($kind:expr, $phase:expr) => {{
        const COPIES: [$crate::semconv::table::FieldCopy;
            $crate::semconv::table::count_copies($kind, $phase)] =
            $crate::semconv::table::copies($kind, $phase);
        &COPIES
    }};
}
pub(super) use copies;

/// The table's plain copies of `kind` in `phase`, for callers that do not name the kind.
pub(super) fn copies_of(kind: Kind, phase: Phase) -> &'static [FieldCopy] {
    macro_rules! by_phase {
        ($kind:expr) => {
            match phase {
                Phase::Request => copies!($kind, Phase::Request),
                Phase::Response => copies!($kind, Phase::Response),
                Phase::Context => copies!($kind, Phase::Context),
            }
        };
    }
    match kind {
        Kind::Workflow => by_phase!(Kind::Workflow),
        Kind::LlmCall => by_phase!(Kind::LlmCall),
        Kind::Retrieval => by_phase!(Kind::Retrieval),
        Kind::Tool => by_phase!(Kind::Tool),
        Kind::Agent => by_phase!(Kind::Agent),
        Kind::Embeddings => by_phase!(Kind::Embeddings),
        Kind::Rerank => by_phase!(Kind::Rerank),
        Kind::Guardrail => by_phase!(Kind::Guardrail),
        Kind::Evaluator => by_phase!(Kind::Evaluator),
        Kind::Step => by_phase!(Kind::Step),
    }
}

/// A string that will be cloned: reference-counted, so clones do not copy it.
pub(super) fn shared(s: String) -> opentelemetry::Value {
    opentelemetry::Value::String(StringValue::from(Arc::<str>::from(s)))
}

/// Content that goes on more than one key.
pub(super) fn shared_value(v: Value) -> opentelemetry::Value {
    match v {
        Value::String(s) | Value::Json(s) => {
            opentelemetry::Value::String(StringValue::from(Arc::<str>::from(s)))
        }
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semconv::keys::{gen_ai, langfuse, legacy};
    use crate::semconv::table::KEYS;

    fn keys(out: &Out) -> Vec<&str> {
        out.attrs.iter().map(|kv| kv.key.as_str()).collect()
    }

    #[test]
    fn copies_follow_the_profile_and_the_defaults() {
        let llm = copies_of(Kind::LlmCall, Phase::Request);
        let value = |f: Field| match f {
            Field::Provider => Some(Value::Str("openai")),
            Field::PromptName => Some(Value::Str("greet")),
            _ => None,
        };
        let mut out = Out::new(Vec::new(), ContentCapture::SpanOnly);
        out.copy(llm, &Conventions::default(), value);
        assert_eq!(
            keys(&out),
            [
                gen_ai::PROVIDER_NAME,
                gen_ai::PROMPT_NAME,
                langfuse::OBSERVATION_PROMPT_NAME
            ]
        );
        let mut out = Out::new(Vec::new(), ContentCapture::SpanOnly);
        let conventions = Conventions::default().legacy(true).langfuse(false);
        out.copy(llm, &conventions, value);
        assert_eq!(
            keys(&out),
            [gen_ai::PROVIDER_NAME, legacy::SYSTEM, gen_ai::PROMPT_NAME]
        );
        // A default stands in for a missing field.
        let mut out = Out::new(Vec::new(), ContentCapture::SpanOnly);
        let conventions = Conventions::default();
        out.copy(copies!(Kind::Tool, Phase::Request), &conventions, |_| {
            None::<Value>
        });
        assert_eq!(out.attrs, [KeyValue::new(gen_ai::TOOL_TYPE, "function")]);
    }

    #[test]
    fn every_copy_row_is_in_its_kinds_and_phases_copies() {
        let kinds = Kind::ALL;
        let phases = [Phase::Request, Phase::Response, Phase::Context];
        let mut total = 0;
        for kind in kinds {
            for phase in phases {
                let names: Vec<&str> = copies_of(kind, phase).iter().map(|c| c.key).collect();
                let rows: Vec<&str> = KEYS
                    .iter()
                    .filter(|k| k.kinds.contains(kind) && k.phase == phase && k.field().is_some())
                    .map(|k| k.name)
                    .collect();
                assert_eq!(names, rows, "{kind:?} {phase:?}");
                total += names.len();
            }
        }
        assert!(copies_of(Kind::Workflow, Phase::Context).is_empty());
        assert!(total > 40, "{total}");
    }

    #[test]
    fn content_goes_where_the_setting_says() {
        let cases = [
            (ContentCapture::NoContent, 0, 0, false),
            (ContentCapture::SpanOnly, 1, 0, true),
            (ContentCapture::EventOnly, 0, 1, false),
            (ContentCapture::SpanAndEvent, 1, 1, true),
        ];
        for (content, on_span, on_event, returned) in cases {
            let mut out = Out::new(Vec::new(), content);
            assert_eq!(out.content(gen_ai::INPUT_MESSAGES, "[]"), returned);
            assert_eq!(out.attrs.len(), on_span, "{content:?}");
            assert_eq!(out.content_event.len(), on_event, "{content:?}");
        }
    }

    #[test]
    fn shared_strings_are_reference_counted() {
        let v = shared_value(Value::Json("[1]".into()));
        assert!(matches!(&v, opentelemetry::Value::String(s) if s.as_str() == "[1]"));
        assert_eq!(format!("{v:?}"), r#"String(RefCounted("[1]"))"#);
        assert_eq!(shared_value(Value::I64(3)), opentelemetry::Value::I64(3));
        assert_eq!(
            format!("{:?}", shared("x".into())),
            r#"String(RefCounted("x"))"#
        );
    }
}
