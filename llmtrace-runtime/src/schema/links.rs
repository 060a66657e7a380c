//! What `links = [..]` takes: the spans a span links to, as [`TraceContext`]s (captured with
//! `llmtrace::current().context()`, or extracted from a request), OpenTelemetry span contexts,
//! or an `Option` or list of either.

use opentelemetry::trace::SpanContext;

use crate::context::TraceContext;
use crate::record::{Link, Record};

/// A span to link to, or several: `links = [handoff, previous_attempt]`.
///
/// Every impl is `#[diagnostic::do_not_recommend]`, so an error names the expression's own type
/// with this message.
#[diagnostic::on_unimplemented(
    message = "`links` takes trace contexts to link to, not `{Self}`",
    label = "expected a `llmtrace::TraceContext`, an OpenTelemetry `SpanContext`, or an `Option` or list of them",
    note = "capture the span to link to with `llmtrace::current().context()` where it runs"
)]
pub trait LinkArg {
    /// Adds the links to the record.
    #[doc(hidden)]
    fn __llmtrace_links(&self, rec: &mut Record);
}

#[diagnostic::do_not_recommend]
impl LinkArg for TraceContext {
    fn __llmtrace_links(&self, rec: &mut Record) {
        if let Some(link) = self.link(Vec::new()) {
            rec.extra_mut().links.push(link);
        }
    }
}

#[diagnostic::do_not_recommend]
impl LinkArg for SpanContext {
    fn __llmtrace_links(&self, rec: &mut Record) {
        if self.is_valid() {
            rec.extra_mut().links.push(Link {
                trace_id: u128::from_be_bytes(self.trace_id().to_bytes()),
                span_id: u64::from_be_bytes(self.span_id().to_bytes()),
                sampled: self.is_sampled(),
                remote: self.is_remote(),
                attributes: Vec::new(),
            });
        }
    }
}

#[diagnostic::do_not_recommend]
impl<T: LinkArg + ?Sized> LinkArg for &T {
    fn __llmtrace_links(&self, rec: &mut Record) {
        (**self).__llmtrace_links(rec);
    }
}

#[diagnostic::do_not_recommend]
impl<T: LinkArg> LinkArg for Option<T> {
    fn __llmtrace_links(&self, rec: &mut Record) {
        if let Some(t) = self {
            t.__llmtrace_links(rec);
        }
    }
}

#[diagnostic::do_not_recommend]
impl<T: LinkArg> LinkArg for [T] {
    fn __llmtrace_links(&self, rec: &mut Record) {
        for t in self {
            t.__llmtrace_links(rec);
        }
    }
}

#[diagnostic::do_not_recommend]
impl<T: LinkArg, const N: usize> LinkArg for [T; N] {
    fn __llmtrace_links(&self, rec: &mut Record) {
        self.as_slice().__llmtrace_links(rec);
    }
}

#[diagnostic::do_not_recommend]
impl<T: LinkArg> LinkArg for Vec<T> {
    fn __llmtrace_links(&self, rec: &mut Record) {
        self.as_slice().__llmtrace_links(rec);
    }
}
