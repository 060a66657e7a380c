//! Which scope values travel as W3C baggage, and how they map to and from the scope.

use std::borrow::Cow;

use opentelemetry::baggage::Baggage;

use crate::record::Scope;
use crate::record::Value;
use crate::semconv::keys::{gen_ai, openinference as oi};

/// The allow-list of baggage keys that [`inject_with_baggage`](super::inject_with_baggage) sends
/// and [`extract_with_baggage`](super::extract_with_baggage) reads.
///
/// The default allows `session.id` and `user.id`. `gen_ai.conversation.id` maps to the scope's
/// conversation id; any other key maps to a scope metadata entry of that name.
///
/// ```
/// use llmtrace_runtime::propagation::BaggageKeys;
///
/// let keys = BaggageKeys::default().allow("tenant");
/// assert!(keys.allows("session.id") && keys.allows("user.id") && keys.allows("tenant"));
/// assert!(!keys.allows("plan"));
///
/// let only_session = BaggageKeys::new(["session.id"]);
/// assert!(!only_session.allows("user.id"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaggageKeys {
    keys: Vec<Cow<'static, str>>,
}

impl Default for BaggageKeys {
    /// `session.id` and `user.id`.
    fn default() -> Self {
        BaggageKeys::new([oi::SESSION_ID, oi::USER_ID])
    }
}

impl BaggageKeys {
    /// Exactly these keys.
    pub fn new<K: Into<Cow<'static, str>>>(keys: impl IntoIterator<Item = K>) -> Self {
        let mut out = BaggageKeys::none();
        for key in keys {
            out = out.allow(key);
        }
        out
    }

    /// No key: the baggage functions then behave as the plain ones.
    pub fn none() -> Self {
        BaggageKeys { keys: Vec::new() }
    }

    /// Allows one more key.
    pub fn allow(mut self, key: impl Into<Cow<'static, str>>) -> Self {
        let key = key.into();
        if !self.allows(&key) {
            self.keys.push(key);
        }
        self
    }

    /// Whether `key` is allowed.
    pub fn allows(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    /// The allowed keys.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| &**k)
    }
}

/// The scope's values for the allowed keys.
pub(super) fn from_scope(scope: &Scope, keys: &BaggageKeys) -> Baggage {
    let mut bag = Baggage::new();
    for key in keys.iter() {
        let value: Option<Cow<'_, str>> = match key {
            oi::SESSION_ID => scope.session_id.as_deref().map(Cow::Borrowed),
            oi::USER_ID => scope.user_id.as_deref().map(Cow::Borrowed),
            gen_ai::CONVERSATION_ID => scope.conversation_id.as_deref().map(Cow::Borrowed),
            _ => scope
                .metadata
                .iter()
                .find(|(k, _)| &**k == key)
                .and_then(|(_, v)| scalar(v)),
        };
        if let Some(value) = value {
            // Over the W3C limits (or an invalid key), the entry is left out.
            let _ = bag.insert(key.to_owned(), value.into_owned());
        }
    }
    bag
}

/// A metadata value as a baggage string: strings, numbers and booleans only.
fn scalar(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::Str(s) => Some(Cow::Borrowed(s)),
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        Value::I64(i) => Some(Cow::Owned(i.to_string())),
        Value::F64(f) => Some(Cow::Owned(f.to_string())),
        Value::Json(_) | Value::Captured(_) | Value::StrList(_) | Value::StringList(_) => None,
    }
}

/// Puts the allowed keys of `bag` into `scope`.
pub(super) fn into_scope(bag: &Baggage, keys: &BaggageKeys, scope: &mut Scope) {
    for (key, (value, _)) in bag {
        let (key, value) = (key.as_str(), value.as_str());
        if !keys.allows(key) {
            continue;
        }
        let value: Box<str> = value.into();
        match key {
            oi::SESSION_ID => scope.session_id = Some(value),
            oi::USER_ID => scope.user_id = Some(value),
            gen_ai::CONVERSATION_ID => scope.conversation_id = Some(value),
            _ => {
                let value = Value::String(value);
                match scope.metadata.iter_mut().find(|(k, _)| &**k == key) {
                    Some(slot) => slot.1 = value,
                    None => scope.metadata.push((key.into(), value)),
                }
            }
        }
    }
}
