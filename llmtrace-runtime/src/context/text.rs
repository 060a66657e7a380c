//! Trace contexts and ids as text, for carrying them where only strings go: to a web front end
//! that sends feedback later, into a job queue, a database row. The text of a context is the
//! W3C `traceparent` header value.

use std::fmt;
use std::str::FromStr;

use super::handle::TraceContext;
use super::ids::{SpanId, TraceId};
use super::thread::{SAMPLED, VALID};

/// Why a string is not a trace context or a trace id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseTraceContextError {
    reason: &'static str,
}

impl fmt::Display for ParseTraceContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a W3C traceparent: {}", self.reason)
    }
}

impl std::error::Error for ParseTraceContextError {}

fn invalid(reason: &'static str) -> ParseTraceContextError {
    ParseTraceContextError { reason }
}

/// The W3C `traceparent` of the span the context is positioned at:
/// `00-{trace id: 32 hex}-{span id: 16 hex}-{flags: 01 sampled, 00 not}`. A context outside any
/// trace writes zero ids, which [`FromStr`] reads back as a context outside any trace.
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// #[llmtrace::workflow(name = "support_answer")]
/// fn answer(question: &str) -> (String, String) {
///     // Sent to the front end with the answer; it comes back with the user's feedback.
///     let trace = llmtrace::current().context().to_string();
///     (format!("echo: {question}"), trace)
/// }
///
/// let (_answer, trace) = answer("where is my order?");
/// let ctx: llmtrace::TraceContext = trace.parse().unwrap();
/// assert_eq!(ctx.to_string(), trace);
/// ```
impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (trace_id, span_id) = if self.flags & VALID != 0 {
            (self.trace_id, self.span_id)
        } else {
            (0, 0)
        };
        let sampled = u8::from(self.flags & SAMPLED != 0 && self.flags & VALID != 0);
        write!(f, "00-{trace_id:032x}-{span_id:016x}-{sampled:02x}")
    }
}

/// Reads a W3C `traceparent` (as [`Display`](fmt::Display) writes it, or as received in a
/// header): the context continues that trace as a child of that span, which is in another
/// process, or ended. Zero ids give a context outside any trace. Versions other than `00` are
/// read by their first four fields, as the W3C specification asks; version `ff` is invalid.
impl FromStr for TraceContext {
    type Err = ParseTraceContextError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let mut parts = s.split('-');
        let (Some(version), Some(trace), Some(span), Some(flags)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("expected version-traceid-spanid-flags"));
        };
        if version.len() != 2 || !is_lower_hex(version) || version == "ff" {
            return Err(invalid("bad version"));
        }
        if version == "00" && parts.next().is_some() {
            return Err(invalid("version 00 has four fields"));
        }
        let trace_id = parse_hex::<16>(trace).ok_or(invalid("bad trace id"))?;
        let span_id = parse_hex::<8>(span).ok_or(invalid("bad span id"))?;
        let flags = parse_hex::<1>(flags).ok_or(invalid("bad flags"))?;
        if trace_id == 0 && span_id == 0 {
            return Ok(TraceContext::default());
        }
        if trace_id == 0 || span_id == 0 {
            return Err(invalid("a zero trace id or span id"));
        }
        Ok(TraceContext::remote(
            TraceId(trace_id),
            SpanId(span_id as u64),
            flags & 1 == 1,
        ))
    }
}

/// Reads a trace id as [`Display`](fmt::Display) writes it: 32 lowercase hex digits, not all zero.
///
/// ```
/// use llmtrace_runtime as llmtrace;
///
/// let id: llmtrace::TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse().unwrap();
/// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!("4bf92f35".parse::<llmtrace::TraceId>().is_err());
/// ```
impl FromStr for TraceId {
    type Err = ParseTraceContextError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match parse_hex::<16>(s.trim()) {
            Some(0) => Err(invalid("a zero trace id")),
            Some(id) => Ok(TraceId(id)),
            None => Err(invalid("a trace id is 32 lowercase hex digits")),
        }
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Exactly `2 * BYTES` lowercase hex digits.
fn parse_hex<const BYTES: usize>(s: &str) -> Option<u128> {
    if s.len() != 2 * BYTES || !is_lower_hex(s) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips() {
        let ctx = TraceContext::remote(TraceId(0x4bf9_2f35), SpanId(0x00f0_67aa), true);
        let text = ctx.to_string();
        assert_eq!(
            text,
            "00-0000000000000000000000004bf92f35-0000000000f067aa-01"
        );
        let back: TraceContext = text.parse().unwrap();
        assert_eq!(back.trace_id(), Some(TraceId(0x4bf9_2f35)));
        assert_eq!(back.span_id(), Some(SpanId(0x00f0_67aa)));
        assert!(back.is_sampled());

        let unsampled = TraceContext::remote(TraceId(7), SpanId(9), false).to_string();
        assert!(unsampled.ends_with("-00"));
        assert!(!unsampled.parse::<TraceContext>().unwrap().is_sampled());
    }

    #[test]
    fn outside_a_trace_is_zero_ids_both_ways() {
        let text = TraceContext::default().to_string();
        assert_eq!(text, format!("00-{}-{}-00", "0".repeat(32), "0".repeat(16)));
        assert_eq!(text.parse::<TraceContext>().unwrap().trace_id(), None);
    }

    #[test]
    fn malformed_text_is_rejected() {
        let good_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
        for bad in [
            "",
            "00",
            &format!("00-{good_trace}-00f067aa0ba902b7"),
            &format!("00-{good_trace}-00f067aa0ba902b7-01-extra"),
            &format!("ff-{good_trace}-00f067aa0ba902b7-01"),
            &format!("00-{}-00f067aa0ba902b7-01", good_trace.to_uppercase()),
            &format!("00-{good_trace}-0000000000000000-01"),
            &format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32)),
            &format!("00-{good_trace}-00f067aa0ba902b-01"),
            &format!("00-{good_trace}-00f067aa0ba902b7-1"),
        ] {
            assert!(bad.parse::<TraceContext>().is_err(), "{bad:?} was accepted");
        }
        // A later version may add fields.
        let v1 = format!("01-{good_trace}-00f067aa0ba902b7-01-more");
        assert!(v1.parse::<TraceContext>().is_ok());
    }
}
