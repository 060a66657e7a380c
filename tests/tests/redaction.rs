//! Redaction through the real pipeline: every captured value is scrubbed before export, with
//! markers that never echo the secret, and JSON stays valid.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace::{Message, Sensitive};
use llmtrace_runtime as llmtrace;

const CARD: &str = "4111 1111 1111 1111";
const KEY: &str = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
const EMAIL: &str = "ann.lee@example.com";

#[llmtrace::tool(name = "charge", attributes(app.customer = customer))]
fn charge(card: &str, cents: u32, customer: &str) -> Result<String, String> {
    if cents == 0 {
        return Err(format!("card {card} declined for {customer}"));
    }
    Ok(format!("charged {cents} to {card}"))
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", messages = [Message::user(prompt)])]
fn chat(prompt: &str) -> String {
    format!("I will email {EMAIL}")
}

#[llmtrace::workflow(name = "login")]
fn login(user: &str, pin: Sensitive<String>) -> usize {
    user.len() + pin.len()
}

#[test]
fn secrets_never_leave_the_process() {
    let cap = Capture::new();
    cap.in_scope(|| {
        charge(CARD, 500, EMAIL).unwrap();
        charge(CARD, 0, EMAIL).unwrap_err();
        chat(&format!("my key is {KEY}, mail me at {EMAIL}"));
        login("ann", Sensitive::new("hunter2".to_owned()));
        llmtrace::current().add_event("note", [("contact", EMAIL)]);
    });
    let spans = cap.spans();
    let exported = format!("{:?}", spans.0);
    for secret in [CARD, "4111111111111111", KEY, EMAIL, "hunter2"] {
        assert!(!exported.contains(secret), "{secret} leaked");
    }

    let ok = spans.all("execute_tool charge")[0];
    let args = ok.json_attr("gen_ai.tool.call.arguments").unwrap();
    assert_eq!(args["card"], "[REDACTED:card]");
    assert_eq!(args["cents"], 500);
    assert_eq!(ok.str_attr("app.customer"), Some("[REDACTED:email]"));
    assert_eq!(
        ok.json_attr("gen_ai.tool.call.result").unwrap(),
        "charged 500 to [REDACTED:card]"
    );
    let failed = spans.all("execute_tool charge")[1];
    assert!(matches!(
        &failed.status,
        opentelemetry::trace::Status::Error { description }
            if description == "card [REDACTED:card] declined for [REDACTED:email]"
    ));

    let c = spans.by_name("chat gpt-4o");
    let messages = c.json_attr("gen_ai.input.messages").unwrap();
    assert_eq!(
        messages[0]["parts"][0]["content"],
        "my key is [REDACTED:api_key], mail me at [REDACTED:email]"
    );
    assert_eq!(
        c.json_attr("output.value").unwrap(),
        "I will email [REDACTED:email]"
    );

    let l = spans.by_name("invoke_workflow login");
    assert_eq!(
        l.json_attr("input.value").unwrap(),
        serde_json::json!({"user": "ann", "pin": "[REDACTED]"})
    );
    assert!(llmtrace::stats().redactions >= 8, "{:?}", llmtrace::stats());
}
