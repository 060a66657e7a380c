//! `#[workflow]` with its name as a literal, as an expression, and by default.
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(name = "support_answer", attributes(app.channel = "email"))]
fn answer(question: &str) -> usize {
    question.len()
}

#[llmtrace::workflow(name = flow.as_str(), skip(flow), output = false)]
fn named(flow: String, step: u8) -> u8 {
    step + flow.len() as u8
}

/// Not serializable, and redacted: the marker takes its place.
struct Account {
    number: String,
}

#[llmtrace::workflow(name = "billing", redact(account))]
fn billing(account: &Account, month: u8) -> usize {
    account.number.len() + usize::from(month)
}

#[llmtrace::workflow(skip_all)]
async fn nightly_eval() -> Result<u32, String> {
    Ok(3)
}

fn main() {
    let cap = Capture::new();
    cap.in_scope(|| {
        answer("hi");
        named("triage".into(), 1);
        billing(&Account { number: "DE89370400440532013000".into() }, 3);
    });
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(cap.instrument(nightly_eval())), Ok(3));
    let spans = cap.spans();
    let a = spans.by_name("invoke_workflow support_answer");
    assert_eq!(a.str_attr("gen_ai.workflow.name"), Some("support_answer"));
    assert_eq!(a.str_attr("gen_ai.operation.name"), Some("invoke_workflow"));
    assert_eq!(a.str_attr("openinference.span.kind"), Some("CHAIN"));
    assert_eq!(a.str_attr("langfuse.observation.type"), Some("chain"));
    assert_eq!(a.str_attr("langfuse.trace.name"), Some("support_answer"));
    assert_eq!(a.str_attr("app.channel"), Some("email"));
    assert_eq!(a.str_attr("output.value"), Some("2"));
    let b = spans.by_name("invoke_workflow billing");
    assert_eq!(b.str_attr("input.value"), Some(r#"{"account":"[REDACTED]","month":3}"#));
    let n = spans.by_name("invoke_workflow triage");
    assert_eq!(n.str_attr("gen_ai.workflow.name"), Some("triage"));
    assert_eq!(n.str_attr("input.value"), Some(r#"{"step":1}"#));
    assert!(n.attr("output.value").is_none());
    let e = spans.by_name("invoke_workflow nightly_eval");
    assert_eq!(e.str_attr("gen_ai.workflow.name"), Some("nightly_eval"));
    assert_eq!(e.str_attr("output.value"), Some("3"));
}
