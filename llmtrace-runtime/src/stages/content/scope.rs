//! Redacting a scope's values (session, user and conversation ids, tags, metadata), which every
//! span of the scope carries.
//!
//! A scope is shared by all the spans started in it, so it is redacted once and the result
//! reused while the next spans carry the same scope: a one-entry cache per thread, keyed by the
//! scope's address (the cache keeps the scope alive, so the address cannot be reused for
//! another one while it is cached).

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::record::{Scope, Value};
use crate::stages::redact::Redactor;
use crate::state::Counters;

/// The last scope redacted on this thread: the original, the redacted one (the same `Arc` when
/// nothing changed), and how many redactions that made.
type Cached = (Arc<Scope>, Arc<Scope>, u64);

thread_local! {
    static LAST: RefCell<Option<Cached>> = const { RefCell::new(None) };
}

/// Replaces `scope` by its redacted copy, counting the redactions for this span.
pub(super) fn redact(scope: &mut Arc<Scope>, r: &Redactor, counters: &Counters) {
    let cached = LAST.with(|last| {
        let last = last.borrow();
        match &*last {
            Some((original, redacted, n)) if Arc::ptr_eq(original, scope) => {
                Some((redacted.clone(), *n))
            }
            _ => None,
        }
    });
    let (redacted, n) = match cached {
        Some(hit) => hit,
        None => {
            let (redacted, n) = match redacted(scope, r) {
                Some((copy, n)) => (Arc::new(copy), n),
                None => (scope.clone(), 0),
            };
            // `try_with`: a span ending while the thread is being torn down is not cached.
            let _ = LAST.try_with(|last| {
                *last.borrow_mut() = Some((scope.clone(), redacted.clone(), n));
            });
            (redacted, n)
        }
    };
    if n > 0 {
        counters.redactions.fetch_add(n, Ordering::Relaxed);
        *scope = redacted;
    }
}

/// A redacted copy of `scope` and the number of redactions, or `None` when nothing changed.
fn redacted(scope: &Scope, r: &Redactor) -> Option<(Scope, u64)> {
    let mut copy = scope.clone();
    let mut n = 0u64;
    let text = |s: &mut Box<str>| -> u64 {
        let redacted = r.redact_text(s);
        if redacted.count == 0 {
            return 0;
        }
        let count = redacted.count as u64;
        *s = redacted.text.into_owned().into_boxed_str();
        count
    };
    for id in [
        &mut copy.session_id,
        &mut copy.user_id,
        &mut copy.conversation_id,
    ]
    .into_iter()
    .flatten()
    {
        n += text(id);
    }
    for tag in &mut copy.tags {
        n += text(tag);
    }
    for (key, value) in &mut copy.metadata {
        if let Some(marker) = r.field_marker(key) {
            if !matches!(value, Value::Bool(_)) {
                *value = Value::Str(marker);
                n += 1;
            }
        } else {
            match value {
                Value::String(s) => n += text(s),
                Value::Json(s) => {
                    let redacted = r.redact_json(s);
                    if redacted.count > 0 {
                        n += redacted.count as u64;
                        *s = redacted.text.into_owned().into_boxed_str();
                    }
                }
                _ => {}
            }
        }
        n += text(key);
    }
    // Keys that now read the same would collapse into one entry of the metadata object.
    for i in 1..copy.metadata.len() {
        if copy.metadata[..i]
            .iter()
            .any(|(k, _)| *k == copy.metadata[i].0)
        {
            let base = copy.metadata[i].0.to_string();
            let mut suffix = 2;
            while copy
                .metadata
                .iter()
                .any(|(k, _)| **k == *format!("{base}#{suffix}"))
            {
                suffix += 1;
            }
            copy.metadata[i].0 = format!("{base}#{suffix}").into_boxed_str();
        }
    }
    (n > 0).then_some((copy, n))
}
