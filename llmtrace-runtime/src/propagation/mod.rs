//! Continue a trace in another process: W3C Trace Context (`traceparent`, `tracestate`) and,
//! only when asked, W3C Baggage carrying the session and user ids.
//!
//! The caller [`inject`]s its context into the request's headers; the service that receives it
//! [`extract`]s a [`TraceContext`] and runs its work inside it. Spans started there are children
//! of the caller's span (marked as having a remote parent, so each process's tree has its own
//! root), in the same trace, and follow the caller's sampling decision.
//!
//! ```
//! use std::collections::HashMap;
//! use llmtrace_runtime as llmtrace;
//! use llmtrace::propagation;
//! use llmtrace::{SpanId, TraceContext, TraceId};
//!
//! // The caller, in the common case: `propagation::inject(&TraceContext::current(), ..)`.
//! let caller = TraceContext::remote(
//!     TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
//!     SpanId(0x00f0_67aa_0ba9_02b7),
//!     true,
//! );
//! let mut headers = HashMap::new();
//! propagation::inject(&caller, &mut headers);
//! assert_eq!(
//!     headers["traceparent"],
//!     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
//! );
//!
//! // The service that receives the request.
//! let received = propagation::extract(&headers);
//! assert_eq!(received.trace_id(), caller.trace_id());
//! assert_eq!(received.span_id(), caller.span_id());
//! received.in_scope(|| {
//!     // spans started here are children of the caller's span
//! });
//! ```
//!
//! Carriers are anything implementing OpenTelemetry's [`Injector`] / [`Extractor`]:
//! `HashMap<String, String>` out of the box, and `http::HeaderMap` through `HeaderInjector` /
//! `HeaderExtractor` (or `inject_headers` / `extract_headers`) with the `http` feature.
//!
//! # Baggage
//!
//! Plain [`inject`] never writes baggage: requests to third-party APIs (a model provider, say)
//! must not receive your session and user ids. Between your own services,
//! [`inject_with_baggage`] sends the scope's values for an allow-list of keys ([`BaggageKeys`]:
//! `session.id` and `user.id` by default), and [`extract_with_baggage`] reads only the allowed
//! keys back into the returned context's scope, so the receiving service's spans carry the same
//! `session.id` and `user.id` as the caller's:
//!
//! ```
//! use std::collections::HashMap;
//! use llmtrace_runtime as llmtrace;
//! use llmtrace::propagation::{self, BaggageKeys};
//!
//! let keys = BaggageKeys::default().allow("tenant"); // session.id, user.id, tenant
//! let caller = llmtrace::scope()
//!     .session_id("chat-42")
//!     .user_id("user-7")
//!     .metadata("tenant", "acme")
//!     .metadata("plan", "pro") // not allowed: stays in this process
//!     .into_context();
//!
//! let mut headers = HashMap::new();
//! propagation::inject(&caller, &mut headers);
//! assert!(!headers.contains_key("baggage"));
//!
//! propagation::inject_with_baggage(&caller, &mut headers, &keys);
//! let baggage = &headers["baggage"];
//! assert!(baggage.contains("session.id=chat-42") && baggage.contains("tenant=acme"));
//! assert!(!baggage.contains("plan"));
//!
//! // On the other side, the session, the user and the tenant (as metadata) are in scope.
//! propagation::extract_with_baggage(&headers, &keys).in_scope(|| {
//!     // spans started here carry session.id, user.id and the tenant
//! });
//! ```
//!
//! Values are read from baggage only with the `_with_baggage` functions, and only for allowed
//! keys: an outside client cannot set the ids your spans carry unless you ask for them.
//!
//! # The returned context's scope
//!
//! [`extract`] positions the context on the remote span; its scope (session, user, tags,
//! metadata) starts from the scope in effect where `extract` is called, with the `tracestate`
//! and the allowed baggage values on top. The `tracestate` is kept in the scope, so spans
//! started under the context forward it when they inject in turn.

mod baggage;
#[cfg(feature = "http")]
mod headers;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use opentelemetry::Context;
use opentelemetry::baggage::BaggageExt;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::{
    SpanContext, SpanId as OtelSpanId, TraceContextExt, TraceFlags, TraceId as OtelTraceId,
    TraceState,
};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

pub use opentelemetry::propagation::{Extractor, Injector};

pub use baggage::BaggageKeys;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use headers::{
    HeaderExtractor, HeaderInjector, extract_headers, extract_headers_with_baggage, inject_headers,
    inject_headers_with_baggage,
};

use crate::context::{SpanId, TraceContext, TraceId};
use crate::record::Scope;

/// Writes `traceparent` (and `tracestate`, when the trace has one) for `ctx`: new spans in the
/// receiving process become children of `ctx`'s span. Writes nothing when `ctx` is not inside a
/// trace. Never writes baggage (see [`inject_with_baggage`]).
///
/// In the common case `ctx` is [`TraceContext::current()`], inside the span that makes the call.
pub fn inject(ctx: &TraceContext, carrier: &mut dyn Injector) {
    if let Some(cx) = otel_context(ctx) {
        TraceContextPropagator::new().inject_context(&cx, &mut NonEmpty(carrier));
    }
}

/// As [`inject`], and writes a `baggage` header with the scope's values for the keys `keys`
/// allows (`session.id`, `user.id`, `gen_ai.conversation.id`, else a metadata entry of that name
/// with a string, number or boolean value). The baggage is written even outside a trace: a
/// scope with a session can call a service before any span starts.
pub fn inject_with_baggage(ctx: &TraceContext, carrier: &mut dyn Injector, keys: &BaggageKeys) {
    inject(ctx, carrier);
    let Some(scope) = ctx.scope.as_deref() else {
        return;
    };
    let bag = baggage::from_scope(scope, keys);
    if !bag.is_empty() {
        let cx = Context::new().with_baggage(bag);
        BaggagePropagator::new().inject_context(&cx, &mut NonEmpty(carrier));
    }
}

/// Reads `traceparent` and `tracestate`: the returned context continues the remote trace as a
/// child of the remote span, with its sampling decision. A missing or invalid `traceparent`
/// gives a context outside any trace (spans started in it start new traces). Baggage is not
/// read (see [`extract_with_baggage`]).
pub fn extract(carrier: &dyn Extractor) -> TraceContext {
    extract_impl(carrier, None)
}

/// As [`extract`], and reads the `baggage` header's allowed keys into the returned context's
/// scope: `session.id` and `user.id` (and `gen_ai.conversation.id`) as the scope's ids, other
/// allowed keys as metadata entries (strings). Keys not allowed are ignored. Baggage is read
/// even when `traceparent` is missing or invalid.
pub fn extract_with_baggage(carrier: &dyn Extractor, keys: &BaggageKeys) -> TraceContext {
    extract_impl(carrier, Some(keys))
}

fn extract_impl(carrier: &dyn Extractor, keys: Option<&BaggageKeys>) -> TraceContext {
    let mut cx = match carrier.get(TRACEPARENT) {
        Some(value) if well_formed(value) => TraceContextPropagator::new().extract(carrier),
        _ => Context::new(),
    };
    if keys.is_some() {
        cx = BaggagePropagator::new().extract_with_context(&cx, carrier);
    }
    let remote = cx.span().span_context().clone();
    let mut ctx = if remote.is_valid() {
        TraceContext::remote(
            TraceId(u128::from_be_bytes(remote.trace_id().to_bytes())),
            SpanId(u64::from_be_bytes(remote.span_id().to_bytes())),
            remote.is_sampled(),
        )
    } else {
        TraceContext::default()
    };
    let inherited = TraceContext::current().scope;
    let trace_state = if remote.is_valid() && !is_empty(remote.trace_state()) {
        remote.trace_state().clone()
    } else {
        TraceState::NONE
    };
    let bag = cx.baggage();
    let carries_baggage = keys.is_some_and(|keys| bag.iter().any(|(k, _)| keys.allows(k.as_str())));
    // A new scope only when there is something to add, or a stale `tracestate` to clear.
    let needs_scope = carries_baggage
        || !is_empty(&trace_state)
        || inherited
            .as_deref()
            .is_some_and(|s| !is_empty(&s.trace_state));
    ctx.scope = if needs_scope {
        let mut scope: Scope = inherited.as_deref().cloned().unwrap_or_default();
        scope.trace_state = trace_state;
        if let Some(keys) = keys {
            baggage::into_scope(bag, keys, &mut scope);
        }
        Some(Arc::new(scope))
    } else {
        inherited
    };
    ctx
}

/// The OpenTelemetry context of `ctx`'s position, when it is inside a trace.
fn otel_context(ctx: &TraceContext) -> Option<Context> {
    let (trace_id, span_id) = (ctx.trace_id()?, ctx.span_id()?);
    let flags = if ctx.is_sampled() {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    let trace_state = ctx
        .scope
        .as_deref()
        .map_or(TraceState::NONE, |s| s.trace_state.clone());
    let span = SpanContext::new(
        OtelTraceId::from(trace_id),
        OtelSpanId::from(span_id),
        flags,
        true,
        trace_state,
    );
    Some(Context::new().with_remote_span_context(span))
}

const TRACEPARENT: &str = "traceparent";

/// Whether the four fields of `traceparent` have their W3C lengths and are hex digits.
/// OpenTelemetry's parser checks the rest, but accepts shorter ids (read as if zero-padded, so
/// the spans would land in another trace) and a `+` sign.
fn well_formed(traceparent: &str) -> bool {
    let mut fields = traceparent.trim().split('-');
    [2, 32, 16, 2].into_iter().all(|len| {
        fields
            .next()
            .is_some_and(|f| f.len() == len && f.bytes().all(|b| b.is_ascii_hexdigit()))
    })
}

fn is_empty(state: &TraceState) -> bool {
    *state == TraceState::NONE || state.header().is_empty()
}

/// Leaves out empty values (the propagator writes an empty `tracestate` when there is none).
struct NonEmpty<'a>(&'a mut dyn Injector);

impl Injector for NonEmpty<'_> {
    fn set(&mut self, key: &str, value: String) {
        if !value.is_empty() {
            self.0.set(key, value);
        }
    }
}
