//! Low-cardinality strings reported at run time (the model that answered), kept as
//! `&'static str` so that recording one does not allocate.
//!
//! A process talks to a handful of models, yet every call reports the name: each distinct name
//! is leaked once (at most [`MAX_NAMES`] of them, a few KiB), and a thread finds the names it
//! uses in a small thread-local cache without taking the lock. Past the bound, names are
//! stored as owned strings, as any other value.

use std::cell::RefCell;
use std::sync::{Mutex, PoisonError};

use crate::record::Value;

/// Distinct names leaked at most, process-wide.
const MAX_NAMES: usize = 256;
/// Longest name interned: anything longer is not a model name.
const MAX_LEN: usize = 128;
/// Names a thread remembers.
const LOCAL: usize = 4;

static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

thread_local! {
    static RECENT: RefCell<([Option<&'static str>; LOCAL], usize)> =
        const { RefCell::new(([None; LOCAL], 0)) };
}

/// `name` as a value, without allocating once the name has been seen.
pub(crate) fn name_value(name: &str) -> Value {
    if name.len() > MAX_LEN {
        return Value::String(name.into());
    }
    let local = RECENT
        .try_with(|r| r.borrow().0.iter().flatten().find(|n| **n == name).copied())
        .ok()
        .flatten();
    if let Some(n) = local {
        return Value::Str(n);
    }
    match global(name) {
        Some(n) => {
            let _ = RECENT.try_with(|r| {
                let mut r = r.borrow_mut();
                let next = r.1;
                r.0[next] = Some(n);
                r.1 = (next + 1) % LOCAL;
            });
            Value::Str(n)
        }
        None => Value::String(name.into()),
    }
}

fn global(name: &str) -> Option<&'static str> {
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(n) = names.iter().find(|n| **n == name) {
        return Some(n);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    let leaked: &'static str = Box::leak(name.into());
    names.push(leaked);
    Some(leaked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_shared_and_bounded() {
        let a = name_value("gpt-4o-2024-08-06");
        let b = name_value(&String::from("gpt-4o-2024-08-06"));
        match (a, b) {
            (Value::Str(a), Value::Str(b)) => assert!(std::ptr::eq(a, b)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            name_value(&"x".repeat(MAX_LEN + 1)),
            Value::String(_)
        ));
        // Past the bound, names are owned values.
        for i in 0..MAX_NAMES {
            let _ = name_value(&format!("model-{i}"));
        }
        assert!(matches!(name_value("one-too-many"), Value::String(_)));
    }
}
