//! Captured content on its way out: redacted, then cut to the content limit, where the stages
//! run. In that order: a secret that straddles the limit is still whole when the redactor looks
//! (the caller captures a margin beyond the limit for that), and the cut never leaves half a
//! secret behind.
//!
//! What is redacted: the content fields (arguments, return values, messages, documents, the
//! query, a guardrail's reason), custom attributes, event and link attributes (values, and the keys set at run time; a key
//! that names a secret hides its value whole), event names set at run time, status descriptions
//! (error and panic messages), and the scope's values (session, user and conversation ids,
//! tags, metadata keys and values). Literals of the program (a macro's arguments, attribute
//! keys written in the code) are not content and are left as they are.

mod cut;
mod scope;

use std::borrow::Cow;
use std::sync::atomic::Ordering;

use super::redact::{Redaction, Redactor};
use crate::capture::MAX_MESSAGE;
use crate::record::{EvaluationResult, FLAG_TRUNCATED, Field, Record, Value};
use crate::state::Counters;
use cut::{cap_json, cap_text};

/// Fields that hold captured content (a guardrail's reason may quote the text it checked).
const CONTENT: [Field; 10] = [
    Field::Input,
    Field::Output,
    Field::InputMessages,
    Field::OutputMessages,
    Field::SystemInstructions,
    Field::ToolDefinitions,
    Field::Documents,
    Field::Query,
    Field::RerankInputDocuments,
    Field::GuardrailReason,
];

/// See the module docs.
#[derive(Debug)]
pub(crate) struct ContentStage {
    limit: usize,
    /// The rules to compile in `start` (a few milliseconds), when the stages start.
    rules: Option<Redaction>,
    redactor: Option<Redactor>,
}

impl ContentStage {
    pub(crate) fn new(limit: usize, rules: Redaction) -> Self {
        ContentStage {
            limit,
            rules: Some(rules),
            redactor: None,
        }
    }

    /// Redacts and cuts one value; `true` when it was cut.
    fn clean(&self, value: &mut Value, json: bool, counters: &Counters) -> bool {
        let mut redactor = self.redactor.as_ref();
        if let Value::Captured(captured) = value {
            // Most captured values (a question, a count, an id) hold nothing to redact: their
            // typed items tell it for a fraction of what walking their JSON costs.
            if redactor.is_some_and(|r| r.captured_is_clean(captured)) {
                redactor = None;
            }
            *value = Value::Json(captured.json());
        }
        let text: &str = match value {
            Value::String(s) | Value::Json(s) => s,
            // Literals are the program's own text, not captured content.
            _ => return false,
        };
        let mut out: Cow<'_, str> = Cow::Borrowed(text);
        if let Some(r) = redactor {
            let redacted = if json {
                r.redact_json(text)
            } else {
                r.redact_text(text)
            };
            if redacted.count > 0 {
                counters
                    .redactions
                    .fetch_add(redacted.count as u64, Ordering::Relaxed);
                out = Cow::Owned(redacted.text.into_owned());
            }
        }
        let mut cut = false;
        if out.len() > self.limit {
            cut = true;
            out = Cow::Owned(if json {
                cap_json(&out, self.limit)
            } else {
                cap_text(&out, self.limit)
            });
        }
        if let Cow::Owned(s) = out {
            let s = s.into_boxed_str();
            *value = match value {
                Value::Json(_) => Value::Json(s),
                _ => Value::String(s),
            };
        }
        cut
    }

    /// Redacts a key set at run time: its text, and whether it names a secret (then its value
    /// is replaced whole). Keys written in the program are left as they are.
    fn clean_entry(
        &self,
        key: &mut Cow<'static, str>,
        value: &mut Value,
        counters: &Counters,
    ) -> bool {
        let Some(r) = &self.redactor else {
            return self.clean(
                value,
                matches!(value, Value::Json(_) | Value::Captured(_)),
                counters,
            );
        };
        if let Some(marker) = r.field_marker(key) {
            if !matches!(value, Value::Bool(_)) {
                *value = Value::Str(marker);
                counters.redactions.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        }
        if let Cow::Owned(text) = key {
            self.redact_owned(text, counters);
        }
        self.clean(
            value,
            matches!(value, Value::Json(_) | Value::Captured(_)),
            counters,
        )
    }

    /// Redacts text set at run time in place.
    fn redact_owned(&self, text: &mut String, counters: &Counters) {
        if let Some(r) = &self.redactor {
            let redacted = r.redact_text(text);
            if redacted.count > 0 {
                counters
                    .redactions
                    .fetch_add(redacted.count as u64, Ordering::Relaxed);
                *text = redacted.text.into_owned();
            }
        }
    }

    pub(crate) fn process_record(&self, rec: &mut Record, counters: &Counters) {
        let mut cut = false;
        for (field, value) in rec.attrs.iter_mut() {
            if CONTENT.contains(field) {
                let json = matches!(value, Value::Json(_) | Value::Captured(_));
                cut |= self.clean(value, json, counters);
            }
        }
        if let (Some(scope), Some(r)) = (&mut rec.scope, &self.redactor) {
            scope::redact(scope, r, counters);
        }
        if let Some(extra) = &mut rec.extra {
            for (key, value) in extra.custom.iter_mut() {
                cut |= self.clean_entry(key, value, counters);
            }
            distinct_keys(&mut extra.custom);
            for event in extra.events.iter_mut() {
                if let Cow::Owned(name) = &mut event.name {
                    self.redact_owned(name, counters);
                }
                for (key, value) in event.attributes.iter_mut() {
                    cut |= self.clean_entry(key, value, counters);
                }
                distinct_keys(&mut event.attributes);
            }
            for link in extra.links.iter_mut() {
                for (key, value) in link.attributes.iter_mut() {
                    cut |= self.clean_entry(key, value, counters);
                }
                distinct_keys(&mut link.attributes);
            }
            if let Some(message) = &mut extra.status_message {
                // Captured with a margin past the limit: redacted whole, then cut, so that no
                // part of a secret straddling the limit is left.
                if let Some(r) = &self.redactor {
                    let redacted = r.redact_text(message);
                    if redacted.count > 0 {
                        counters
                            .redactions
                            .fetch_add(redacted.count as u64, Ordering::Relaxed);
                        *message = redacted.text.into_owned().into_boxed_str();
                    }
                }
                if message.len() > MAX_MESSAGE {
                    *message = cap_text(message, MAX_MESSAGE).into_boxed_str();
                }
            }
        }
        if cut {
            rec.flags |= FLAG_TRUNCATED;
        }
    }
}

impl ContentStage {
    /// Redacts and cuts an evaluation's free text (its explanation, a user's comment) as a
    /// span's content is, before it is exported as a log record.
    pub(crate) fn process_evaluation(&self, result: &mut EvaluationResult, counters: &Counters) {
        if let Some(text) = result.explanation.take() {
            let mut value = Value::String(text.into());
            self.clean(&mut value, false, counters);
            result.explanation = value.as_str().map(str::to_owned);
        }
    }

    /// Compiles the redaction rules (a few milliseconds: off the application's threads in
    /// native mode).
    pub(crate) fn start(&mut self) {
        if let Some(rules) = self.rules.take() {
            let redactor = Redactor::new(&rules);
            self.redactor = (!redactor.is_noop()).then_some(redactor);
        }
    }
}

/// Gives keys that redacted to the same text as an earlier key a suffix (`[REDACTED:email]#2`),
/// so that no attribute hides another.
fn distinct_keys(entries: &mut [(Cow<'static, str>, Value)]) {
    if entries.len() < 2 || !entries.iter().any(|(k, _)| k.starts_with("[REDACTED")) {
        return;
    }
    for i in 1..entries.len() {
        if !entries[..i].iter().any(|(k, _)| *k == entries[i].0) {
            continue;
        }
        let base = entries[i].0.to_string();
        let mut n = 2;
        let renamed = loop {
            let candidate = format!("{base}#{n}");
            if !entries.iter().any(|(k, _)| *k == candidate) {
                break candidate;
            }
            n += 1;
        };
        entries[i].0 = Cow::Owned(renamed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Callsite, Kind};

    static CALL: Callsite = Callsite::new(Kind::LlmCall, "chat", "m", &[], &[], 0);

    #[test]
    fn long_content_is_cut_to_valid_json_and_marked() {
        let mut stage = ContentStage::new(200, Redaction::none());
        stage.start();
        let c = Counters::default();
        let mut rec = Record::new(&CALL, 1, 1, 0, None, 0);
        let long = serde_json::json!({"q": "x".repeat(1_000), "n": [1, 2, 3]}).to_string();
        rec.set(Field::Input, Value::Json(long.into()));
        rec.set(Field::Query, Value::String("é".repeat(500).into()));
        rec.set(Field::Output, Value::Json("\"short\"".into()));
        stage.process_record(&mut rec, &c);
        let input = rec.get(Field::Input).and_then(Value::as_str).unwrap();
        assert!(input.len() <= 210, "{}", input.len());
        let parsed: serde_json::Value = serde_json::from_str(input).unwrap();
        assert!(parsed["q"].as_str().unwrap().ends_with('…'));
        let query = rec.get(Field::Query).and_then(Value::as_str).unwrap();
        assert!(query.len() <= 200 && query.ends_with('…'));
        assert_eq!(
            rec.get(Field::Output).and_then(Value::as_str),
            Some("\"short\"")
        );
        assert_ne!(rec.flags & FLAG_TRUNCATED, 0);
    }

    #[test]
    fn short_content_is_untouched() {
        let mut stage = ContentStage::new(1_000, Redaction::none());
        stage.start();
        let c = Counters::default();
        let mut rec = Record::new(&CALL, 1, 1, 0, None, 0);
        rec.set(Field::Input, Value::Json("{\"a\":1}".into()));
        stage.process_record(&mut rec, &c);
        assert_eq!(
            rec.get(Field::Input).and_then(Value::as_str),
            Some("{\"a\":1}")
        );
        assert_eq!(rec.flags & FLAG_TRUNCATED, 0);
    }

    #[test]
    fn secrets_are_redacted_before_the_cut() {
        let mut stage = ContentStage::new(120, Redaction::default());
        stage.start();
        let c = Counters::default();
        let mut rec = Record::new(&CALL, 1, 1, 0, None, 0);
        // The key straddles the limit: redacted whole first, then the marker is what is cut.
        let key = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
        let input = serde_json::json!({"q": format!("{} {key} and more", "x".repeat(100))});
        rec.set(Field::Input, Value::Json(input.to_string().into()));
        rec.set_error(Value::Str("Auth"), Some("bad key ann@example.com".into()));
        stage.process_record(&mut rec, &c);
        let out = rec.get(Field::Input).and_then(Value::as_str).unwrap();
        assert!(!out.contains("sk-proj") && !out.contains("Ab3dEf"), "{out}");
        let _: serde_json::Value = serde_json::from_str(out).unwrap();
        let message = rec
            .extra
            .as_ref()
            .unwrap()
            .status_message
            .as_deref()
            .unwrap();
        assert_eq!(message, "bad key [REDACTED:email]");
        assert_eq!(c.redactions.load(Ordering::Relaxed), 2);
    }
}
