//! Every `#[agent]` argument, literal and expression; its totals count its own calls, not its
//! sub-agent's, and its name goes onto the calls that give none.
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;

#[llmtrace::agent(
    name = "researcher",
    id = "asst_123",
    description = "Finds sources",
    version = "2",
    provider = "openai",
    model = "gpt-4o",
    conversation_id = "thread-9",
    links = [handoff],
    attributes(app.team = "search")
)]
fn research(topic: &str, handoff: &llmtrace::TraceContext) -> String {
    let _ = handoff;
    let answer = chat(topic);
    let _ = lookup(topic);
    answer
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini")]
fn chat(prompt: &str) -> String {
    llmtrace::current().record_usage(llmtrace::Usage::new(100, 20));
    prompt.to_uppercase()
}

#[llmtrace::tool]
fn lookup(key: &str) -> usize {
    key.len()
}

struct Config {
    name: String,
    id: String,
    version: &'static str,
    provider: &'static str,
    thread: String,
}

#[llmtrace::agent(
    name = cfg.name.as_str(),
    id = cfg.id.as_str(),
    description = cfg.name.to_uppercase(),
    version = cfg.version,
    provider = cfg.provider,
    model = cfg.name.as_str(),
    conversation_id = &cfg.thread,
    links = previous,
    skip(cfg, previous)
)]
async fn planner(cfg: &Config, goal: &str, previous: Vec<llmtrace::TraceContext>) -> usize {
    let here = llmtrace::current().context();
    let found = research(goal, &here);
    chat(goal).len() + found.len()
}

#[llmtrace::agent(skip_all, output = false)]
fn helper(account: &str) -> usize {
    account.len()
}

#[llmtrace::agent(redact(account))]
fn redacting(account: &str) -> usize {
    account.len()
}

fn main() {
    let cap = Capture::new();
    let cfg = Config {
        name: "planner".into(),
        id: "agent-7".into(),
        version: "1.4",
        provider: "aws.bedrock",
        thread: "t-1".into(),
    };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(cap.instrument(planner(&cfg, "tides", Vec::new()))), 10);
    cap.in_scope(|| {
        helper("x");
        redacting("pin");
    });
    let spans = cap.spans();
    let p = spans.by_name("invoke_agent planner");
    assert_eq!(p.str_attr("gen_ai.operation.name"), Some("invoke_agent"));
    assert_eq!(p.str_attr("gen_ai.agent.name"), Some("planner"));
    assert_eq!(p.str_attr("gen_ai.agent.id"), Some("agent-7"));
    assert_eq!(p.str_attr("gen_ai.agent.description"), Some("PLANNER"));
    assert_eq!(p.str_attr("gen_ai.agent.version"), Some("1.4"));
    assert_eq!(p.str_attr("gen_ai.provider.name"), Some("aws.bedrock"));
    assert_eq!(p.str_attr("gen_ai.request.model"), Some("planner"));
    assert_eq!(p.str_attr("gen_ai.conversation.id"), Some("t-1"));
    assert_eq!(p.str_attr("openinference.span.kind"), Some("AGENT"));
    assert_eq!(p.span_kind, llmtrace::otel::opentelemetry::trace::SpanKind::Client);
    // Its own call: one model call, no tool (the researcher's are the researcher's).
    assert_eq!(p.i64_attr("llmtrace.agent.inference_calls"), Some(1));
    assert_eq!(p.i64_attr("llmtrace.agent.tool_calls"), Some(0));
    assert_eq!(p.i64_attr("gen_ai.usage.input_tokens"), Some(100));
    let r = spans.by_name("invoke_agent researcher");
    assert_eq!(spans.parent_of(r).map(|s| &*s.name), Some("invoke_agent planner"));
    assert_eq!(r.str_attr("gen_ai.agent.id"), Some("asst_123"));
    assert_eq!(r.str_attr("gen_ai.agent.description"), Some("Finds sources"));
    assert_eq!(r.str_attr("gen_ai.agent.version"), Some("2"));
    assert_eq!(r.str_attr("gen_ai.provider.name"), Some("openai"));
    assert_eq!(r.str_attr("gen_ai.request.model"), Some("gpt-4o"));
    assert_eq!(r.str_attr("gen_ai.conversation.id"), Some("thread-9"));
    assert_eq!(r.str_attr("app.team"), Some("search"));
    assert_eq!(r.i64_attr("llmtrace.agent.inference_calls"), Some(1));
    assert_eq!(r.i64_attr("llmtrace.agent.tool_calls"), Some(1));
    assert_eq!(r.i64_attr("gen_ai.usage.output_tokens"), Some(20));
    // The link to the planner's span.
    assert_eq!(r.links.len(), 1);
    assert_eq!(r.links[0].span_context.span_id(), p.span_context.span_id());
    // The calls carry the name of the agent they ran in.
    let calls = spans.all("chat gpt-4o-mini");
    let mut agents: Vec<&str> = calls.iter().filter_map(|c| c.str_attr("gen_ai.agent.name")).collect();
    agents.sort_unstable();
    assert_eq!(agents, ["planner", "researcher"]);
    let t = spans.by_name("execute_tool lookup");
    assert_eq!(t.str_attr("gen_ai.agent.name"), Some("researcher"));
    // Named after its function by default; INTERNAL without a provider.
    let h = spans.by_name("invoke_agent helper");
    assert_eq!(h.str_attr("gen_ai.agent.name"), Some("helper"));
    assert_eq!(h.span_kind, llmtrace::otel::opentelemetry::trace::SpanKind::Internal);
    assert!(h.attr("input.value").is_none() && h.attr("output.value").is_none());
    let s = spans.by_name("invoke_agent redacting");
    assert_eq!(s.str_attr("input.value"), Some(r#"{"account":"[REDACTED]"}"#));
}
