//! `http::HeaderMap` as a carrier (the `http` feature).

use http::{HeaderMap, HeaderName, HeaderValue};

use super::{BaggageKeys, Extractor, Injector};
use crate::context::TraceContext;

/// Writes into an `http::HeaderMap`, replacing a header already there (values that are not
/// valid header values are left out).
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use llmtrace::propagation::{self, HeaderInjector};
/// use llmtrace::{SpanId, TraceContext, TraceId};
///
/// let ctx = TraceContext::remote(TraceId(1), SpanId(2), true);
/// let mut headers = http::HeaderMap::new();
/// propagation::inject(&ctx, &mut HeaderInjector(&mut headers));
/// assert_eq!(
///     headers["traceparent"],
///     "00-00000000000000000000000000000001-0000000000000002-01"
/// );
/// ```
#[derive(Debug)]
pub struct HeaderInjector<'a>(pub &'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::try_from(value),
        ) {
            self.0.insert(name, value);
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.0.reserve(additional);
    }
}

/// Reads from an `http::HeaderMap` (names are case-insensitive; values that are not visible
/// ASCII are ignored).
#[derive(Debug)]
pub struct HeaderExtractor<'a>(pub &'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

/// [`inject`](super::inject)s the current context into `headers`: `traceparent` and
/// `tracestate`, never baggage.
pub fn inject_headers(headers: &mut HeaderMap) {
    super::inject(&TraceContext::current(), &mut HeaderInjector(headers));
}

/// [`inject_with_baggage`](super::inject_with_baggage)s the current context into `headers`:
/// `traceparent`, `tracestate` and the allowed keys as `baggage`.
///
/// ```
/// use llmtrace_runtime as llmtrace;
/// use llmtrace::propagation::{self, BaggageKeys};
///
/// let mut headers = http::HeaderMap::new();
/// llmtrace::scope().session_id("chat-42").in_scope(|| {
///     propagation::inject_headers_with_baggage(&mut headers, &BaggageKeys::default());
/// });
/// assert_eq!(headers["baggage"], "session.id=chat-42");
///
/// let ctx = propagation::extract_headers_with_baggage(&headers, &BaggageKeys::default());
/// ```
pub fn inject_headers_with_baggage(headers: &mut HeaderMap, keys: &BaggageKeys) {
    super::inject_with_baggage(&TraceContext::current(), &mut HeaderInjector(headers), keys);
}

/// [`extract`](super::extract)s the context a request's `headers` carry (baggage is not read).
pub fn extract_headers(headers: &HeaderMap) -> TraceContext {
    super::extract(&HeaderExtractor(headers))
}

/// [`extract_with_baggage`](super::extract_with_baggage)s the context a request's `headers`
/// carry, with the allowed baggage keys in its scope.
pub fn extract_headers_with_baggage(headers: &HeaderMap, keys: &BaggageKeys) -> TraceContext {
    super::extract_with_baggage(&HeaderExtractor(headers), keys)
}
