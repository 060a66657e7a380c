//! Every `#[tool]` argument, literal and expression.
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;

#[llmtrace::tool(
    name = "lookup_order",
    description = "Find an order by id",
    tool_type = "datastore",
    call_id = "call_1",
    agent = "support_agent",
    attributes(app.cache = "warm")
)]
fn lookup(order_id: &str) -> Result<u32, String> {
    order_id.len().try_into().map_err(|_| "too long".to_string())
}

struct Call {
    id: String,
    tool: &'static str,
    agent: Option<String>,
}

#[llmtrace::tool(name = call.tool, call_id = call.id.as_str(), agent = call.agent, description = call.tool.to_uppercase(), skip(call))]
fn dispatch(call: &Call, input: u32) -> u32 {
    input * 2
}

#[llmtrace::tool(name = "refund", redact(card))]
fn refund(card: &str, cents: u32) -> u32 {
    let _ = card;
    cents
}

#[llmtrace::tool(name = "charge_card", skip_all, output = false)]
fn charge(card_number: &str) -> String {
    format!("receipt for {}", &card_number[card_number.len() - 4..])
}

fn main() {
    let cap = Capture::new();
    let call = Call { id: "call_7".into(), tool: "double", agent: None };
    cap.in_scope(|| {
        lookup("A-42").unwrap();
        dispatch(&call, 21);
        assert_eq!(charge("4111111111111111"), "receipt for 1111");
        assert_eq!(refund("4111111111111111", 500), 500);
    });
    let spans = cap.spans();
    let t = spans.by_name("execute_tool lookup_order");
    assert_eq!(t.str_attr("gen_ai.tool.name"), Some("lookup_order"));
    assert_eq!(t.str_attr("gen_ai.tool.description"), Some("Find an order by id"));
    assert_eq!(t.str_attr("gen_ai.tool.type"), Some("datastore"));
    assert_eq!(t.str_attr("gen_ai.tool.call.id"), Some("call_1"));
    assert_eq!(t.str_attr("gen_ai.agent.name"), Some("support_agent"));
    assert_eq!(t.str_attr("gen_ai.tool.call.arguments"), Some(r#"{"order_id":"A-42"}"#));
    assert_eq!(t.str_attr("gen_ai.tool.call.result"), Some("4"));
    assert_eq!(t.str_attr("app.cache"), Some("warm"));
    let d = spans.by_name("execute_tool double");
    assert_eq!(d.str_attr("gen_ai.tool.call.id"), Some("call_7"));
    assert_eq!(d.str_attr("gen_ai.tool.description"), Some("DOUBLE"));
    assert_eq!(d.str_attr("gen_ai.tool.type"), Some("function"));
    assert!(d.attr("gen_ai.agent.name").is_none());
    assert_eq!(d.str_attr("gen_ai.tool.call.arguments"), Some(r#"{"input":21}"#));
    let r = spans.by_name("execute_tool refund");
    assert_eq!(r.str_attr("gen_ai.tool.call.arguments"), Some(r#"{"card":"[REDACTED]","cents":500}"#));
    let c = spans.by_name("execute_tool charge_card");
    assert!(c.attr("gen_ai.tool.call.arguments").is_none());
    assert!(c.attr("gen_ai.tool.call.result").is_none());
    assert!(c.attr("input.value").is_none());
    assert!(c.attr("output.value").is_none());
}
