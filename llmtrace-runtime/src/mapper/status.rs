//! How a span ended: its status, the flags that qualify it, and its events (the exception, the
//! events added through the API, the content event).

use opentelemetry::KeyValue;
use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, Status as OtelStatus, TraceFlags, TraceId, TraceState,
};

use super::out::Out;
use crate::record::{FLAG_PARENT_EXTERNAL, FLAG_TRUNCATED, Record, Status, Value, clock};
use crate::semconv::keys::{gen_ai, llmtrace as lt};

/// Name of the event that carries content when content goes to events.
const CONTENT_EVENT: &str = "gen_ai.client.inference.operation.details";

/// Name of the event that describes an error.
const EXCEPTION_EVENT: &str = "exception";

/// The span's links, taken from the record, as OpenTelemetry links.
#[inline(always)]
pub(super) fn links(rec: &mut Record) -> Vec<Link> {
    let Some(extra) = &mut rec.extra else {
        return Vec::new();
    };
    std::mem::take(&mut extra.links)
        .into_iter()
        .map(|l| {
            let flags = if l.sampled {
                TraceFlags::SAMPLED
            } else {
                TraceFlags::default()
            };
            let context = SpanContext::new(
                TraceId::from(l.trace_id),
                SpanId::from(l.span_id),
                flags,
                l.remote,
                TraceState::default(),
            );
            let attributes = l
                .attributes
                .into_iter()
                .map(|(k, v)| KeyValue::new(k, v))
                .collect();
            Link::new(context, attributes, 0)
        })
        .collect()
}

/// `llmtrace.cancelled` (dropped before it completed: not an error),
/// `llmtrace.content.truncated`, and `llmtrace.parent.external` (the parent is another tracing
/// system's: readers of the spans, such as the console, cannot wait for it).
#[inline(always)]
pub(super) fn flags(rec: &Record, out: &mut Out) {
    if rec.status == Status::Cancelled {
        out.attr(lt::CANCELLED, true);
    }
    if rec.flags & FLAG_TRUNCATED != 0 {
        out.attr(lt::CONTENT_TRUNCATED, true);
    }
    if rec.flags & FLAG_PARENT_EXTERNAL != 0 {
        out.attr(lt::PARENT_EXTERNAL, true);
    }
}

/// The span's status and events, in order: the exception of a failed span (its type from
/// `error_type`, else `_OTHER`), the events added while it ran, and the content in `content`
/// (taken) as the content event when there is any.
#[inline(always)]
pub(super) fn status_and_events(
    rec: &mut Record,
    error_type: Option<Value>,
    content: &mut Vec<KeyValue>,
) -> (OtelStatus, Vec<Event>) {
    let mut events = Vec::new();
    let status = match rec.status {
        Status::Error => {
            let message: String = rec
                .extra
                .as_mut()
                .and_then(|e| e.status_message.take())
                .map(String::from)
                .unwrap_or_default();
            let error_type = error_type.unwrap_or(Value::Str("_OTHER"));
            let mut attrs = vec![KeyValue::new(gen_ai::EXCEPTION_TYPE, error_type)];
            if !message.is_empty() {
                attrs.push(KeyValue::new(gen_ai::EXCEPTION_MESSAGE, message.clone()));
            }
            events.push(Event::new(
                EXCEPTION_EVENT,
                clock::to_system_time(rec.end),
                attrs,
                0,
            ));
            OtelStatus::error(message)
        }
        Status::Unset | Status::Cancelled => OtelStatus::Unset,
    };
    if let Some(extra) = &mut rec.extra {
        for e in std::mem::take(&mut extra.events) {
            events.push(Event::new(
                e.name,
                clock::to_system_time(e.time),
                e.attributes
                    .into_iter()
                    .map(|(k, v)| KeyValue::new(k, v))
                    .collect(),
                0,
            ));
        }
    }
    if !content.is_empty() {
        events.push(Event::new(
            CONTENT_EVENT,
            clock::to_system_time(rec.end),
            std::mem::take(content),
            0,
        ));
    }
    (status, events)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::mapper::test_support::{KINDS, keys, out, record};
    use crate::record::{Event as RecordEvent, Field, Kind};
    use crate::state::ContentCapture;

    fn names(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.name.as_ref()).collect()
    }

    #[test]
    fn flags_on_every_kind() {
        for kind in KINDS {
            let mut rec = record(kind);
            let mut o = out(ContentCapture::SpanOnly);
            flags(&rec, &mut o);
            assert!(o.attrs.is_empty());
            rec.status = Status::Cancelled;
            rec.flags |= FLAG_TRUNCATED;
            flags(&rec, &mut o);
            assert_eq!(keys(&o.attrs), [lt::CANCELLED, lt::CONTENT_TRUNCATED]);
        }
    }

    #[test]
    fn a_failure_is_an_error_status_and_an_exception() {
        let mut rec = record(Kind::LlmCall);
        rec.set_error(Value::Str("RateLimited"), Some("slow down".into()));
        let error_type = rec.get(Field::ErrorType).cloned();
        let (status, events) = status_and_events(&mut rec, error_type, &mut Vec::new());
        assert_eq!(status, OtelStatus::error("slow down"));
        assert_eq!(names(&events), [EXCEPTION_EVENT]);
        assert_eq!(
            events[0].attributes,
            [
                KeyValue::new(gen_ai::EXCEPTION_TYPE, "RateLimited"),
                KeyValue::new(gen_ai::EXCEPTION_MESSAGE, "slow down"),
            ]
        );
        // Without a type or a message.
        let mut rec = record(Kind::Tool);
        rec.status = Status::Error;
        let (status, events) = status_and_events(&mut rec, None, &mut Vec::new());
        assert_eq!(status, OtelStatus::error(""));
        assert_eq!(
            events[0].attributes,
            [KeyValue::new(gen_ai::EXCEPTION_TYPE, "_OTHER")]
        );
    }

    #[test]
    fn a_cancelled_span_is_no_error() {
        let mut rec = record(Kind::Workflow);
        rec.status = Status::Cancelled;
        let (status, events) = status_and_events(&mut rec, None, &mut Vec::new());
        assert_eq!(status, OtelStatus::Unset);
        assert!(events.is_empty());
    }

    #[test]
    fn events_keep_their_order_and_content_comes_last() {
        let mut rec = record(Kind::LlmCall);
        rec.status = Status::Error;
        rec.extra_mut().events.push(RecordEvent {
            name: Cow::Borrowed("retry"),
            time: 0,
            attributes: vec![(Cow::Borrowed("attempt"), Value::I64(2))],
        });
        let content = vec![KeyValue::new(gen_ai::INPUT_MESSAGES, "[]")];
        let (_, events) = status_and_events(&mut rec, None, &mut content.clone());
        assert_eq!(names(&events), [EXCEPTION_EVENT, "retry", CONTENT_EVENT]);
        assert_eq!(events[1].attributes, [KeyValue::new("attempt", 2_i64)]);
        assert_eq!(events[2].attributes, content);
        // Taken: mapping the record again adds them no more.
        rec.status = Status::Unset;
        let (_, events) = status_and_events(&mut rec, None, &mut Vec::new());
        assert!(events.is_empty());
    }
}
