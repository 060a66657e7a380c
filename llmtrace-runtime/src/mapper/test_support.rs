//! What the mapper's unit tests share: callsites of every kind, records, and reading the
//! attributes built.

use opentelemetry::KeyValue;

use super::out::Out;
use crate::record::{CAPTURE_INPUT, CAPTURE_OUTPUT, Callsite, Field, Kind, Record, Value};
use crate::semconv::Conventions;
use crate::state::ContentCapture;

/// Every kind, in declaration order.
pub(super) const KINDS: [Kind; 10] = Kind::ALL;

/// A new callsite of `kind` named `f`, with these literal arguments. Each is its own: a
/// callsite caches its request attributes for the first mapper that maps it, so tests that
/// compare profiles on literal arguments need one per mapper.
pub(super) fn callsite(kind: Kind, statics: &'static [(Field, Value)]) -> &'static Callsite {
    Box::leak(Box::new(Callsite::new(
        kind,
        "f",
        "m",
        statics,
        &[],
        CAPTURE_INPUT | CAPTURE_OUTPUT,
    )))
}

/// A root record of `kind` with nothing recorded.
pub(super) fn record(kind: Kind) -> Record {
    Record::new(callsite(kind, &[]), 1, 2, 0, None, 0)
}

/// A record of `kind` with these fields set at run time.
pub(super) fn record_with(kind: Kind, fields: &[(Field, Value)]) -> Record {
    let mut rec = record(kind);
    for (field, value) in fields {
        rec.set(*field, value.clone());
    }
    rec
}

/// Every conventions switch on.
pub(super) fn all_on() -> Conventions {
    Conventions::default()
        .legacy(true)
        .latest_experimental(true)
        .openinference_full(true)
}

/// The profiles the tests compare: the default, each switch flipped, all on, all off.
pub(super) fn profiles() -> [Conventions; 8] {
    let d = Conventions::default();
    [
        d,
        d.legacy(true),
        d.latest_experimental(true),
        d.openinference(false),
        d.openinference_full(true),
        d.langfuse(false),
        all_on(),
        d.openinference(false).langfuse(false),
    ]
}

/// An empty builder.
pub(super) fn out(content: ContentCapture) -> Out {
    Out::new(Vec::new(), content)
}

/// The keys, in order.
pub(super) fn keys(attrs: &[KeyValue]) -> Vec<&str> {
    attrs.iter().map(|kv| kv.key.as_str()).collect()
}

/// The value of `key`; panics if it is absent or set twice.
pub(super) fn value<'a>(attrs: &'a [KeyValue], key: &str) -> &'a opentelemetry::Value {
    let mut found = attrs.iter().filter(|kv| kv.key.as_str() == key);
    let kv = found
        .next()
        .unwrap_or_else(|| panic!("no `{key}` in {:?}", keys(attrs)));
    assert!(found.next().is_none(), "`{key}` is set twice");
    &kv.value
}

/// The value of `key` as a string.
pub(super) fn string(attrs: &[KeyValue], key: &str) -> String {
    value(attrs, key).as_str().into_owned()
}
