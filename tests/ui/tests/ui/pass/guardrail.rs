//! Every `#[guardrail]` argument, literal and expression, and the verdicts it reads: `bool`,
//! `llmtrace::Verdict`, a `GuardrailOutcome` of the application, a `Result` of one.
use std::borrow::Cow;

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::Verdict;
use llmtrace_runtime as llmtrace;

#[llmtrace::guardrail(name = "no_pii", links = [previous], attributes(app.policy = "v1"))]
fn no_pii(text: &str, previous: Option<&llmtrace::TraceContext>) -> bool {
    let _ = previous;
    !text.contains('@')
}

#[llmtrace::guardrail(name = policy.as_str(), skip(policy))]
fn check(policy: &String, text: &str) -> Result<Verdict, String> {
    match text {
        "" => Err("nothing to check".into()),
        t if t.len() > 10 => Ok(Verdict::fail("too long")),
        _ => Ok(Verdict::pass()),
    }
}

struct Moderation {
    flagged: bool,
}

impl llmtrace::GuardrailOutcome for Moderation {
    fn passed(&self) -> bool {
        !self.flagged
    }
    fn reason(&self) -> Option<Cow<'_, str>> {
        self.flagged.then_some(Cow::Borrowed("flagged: violence"))
    }
}

#[llmtrace::guardrail]
async fn moderation(text: &str) -> Moderation {
    Moderation { flagged: text.contains("fight") }
}

#[llmtrace::guardrail(redact(text), output = false)]
fn redacting(text: &str) -> bool {
    text.is_empty()
}

#[llmtrace::guardrail(skip_all)]
fn quiet(text: &str) -> bool {
    !text.is_empty()
}

fn main() {
    let cap = Capture::new();
    let policy = String::from("length");
    cap.in_scope(|| {
        assert!(!no_pii("me@example.com", None));
        assert!(check(&policy, "a very long answer").is_ok());
        assert!(check(&policy, "").is_err());
        redacting("secret");
        quiet("x");
    });
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(cap.instrument(moderation("a fight")));
    let spans = cap.spans();
    let p = spans.by_name("guardrail no_pii");
    assert_eq!(p.str_attr("gen_ai.operation.name"), Some("guardrail"));
    assert_eq!(p.str_attr("openinference.span.kind"), Some("GUARDRAIL"));
    assert_eq!(p.str_attr("langfuse.observation.type"), Some("guardrail"));
    assert_eq!(p.bool_attr("llmtrace.guardrail.passed"), Some(false));
    assert_eq!(p.str_attr("langfuse.observation.level"), Some("WARNING"));
    assert_eq!(p.str_attr("app.policy"), Some("v1"));
    // A failed guardrail is no failed span.
    assert!(!p.is_error());
    let [long, empty] = [0, 1].map(|i| spans.all("guardrail length")[i]);
    assert_eq!(long.bool_attr("llmtrace.guardrail.passed"), Some(false));
    assert_eq!(long.str_attr("llmtrace.guardrail.reason"), Some("too long"));
    assert_eq!(long.str_attr("langfuse.observation.status_message"), Some("too long"));
    assert!(!long.is_error());
    assert!(empty.is_error());
    assert!(empty.attr("llmtrace.guardrail.passed").is_none());
    let m = spans.by_name("guardrail moderation");
    assert_eq!(m.bool_attr("llmtrace.guardrail.passed"), Some(false));
    assert_eq!(m.str_attr("llmtrace.guardrail.reason"), Some("flagged: violence"));
    let r = spans.by_name("guardrail redacting");
    assert_eq!(r.bool_attr("llmtrace.guardrail.passed"), Some(false));
    assert_eq!(r.str_attr("input.value"), Some(r#"{"text":"[REDACTED]"}"#));
    assert!(r.attr("output.value").is_none());
    let q = spans.by_name("guardrail quiet");
    assert_eq!(q.bool_attr("llmtrace.guardrail.passed"), Some(true));
    assert!(q.attr("input.value").is_none());
    assert!(q.attr("langfuse.observation.level").is_none());
}
