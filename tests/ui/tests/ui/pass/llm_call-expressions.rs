//! Every `#[llm_call]` argument that takes an expression, given as one.
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;

struct Request {
    provider: String,
    model: String,
    temperature: Option<f64>,
    max_tokens: u32,
    top_p: f32,
    top_k: Option<u32>,
    frequency_penalty: f64,
    presence_penalty: f64,
    seed: i64,
    stop: Vec<String>,
    n: usize,
    effort: &'static str,
    prompt: (String, String),
    conversation: Option<String>,
    agent: String,
    host: String,
    port: u16,
    tier: &'static str,
}

#[llmtrace::llm_call(
    provider = req.provider.as_str(),
    model = &req.model,
    temperature = req.temperature,
    max_tokens = req.max_tokens,
    top_p = req.top_p,
    top_k = req.top_k,
    frequency_penalty = req.frequency_penalty,
    presence_penalty = req.presence_penalty,
    seed = req.seed,
    stop_sequences = req.stop,
    choice_count = req.n,
    reasoning_level = req.effort,
    prompt_name = req.prompt.0,
    prompt_version = req.prompt.1,
    conversation_id = req.conversation,
    agent = req.agent,
    server_address = req.host,
    server_port = req.port,
    skip(req),
    attributes(app.tier = req.tier, app.stop_count = req.stop.len(), gen_ai.request.previous_response.id = "resp_1")
)]
fn chat(req: Request) -> String {
    // The body moves the parameter the arguments read: they were evaluated before.
    let Request { model, .. } = req;
    model
}

fn main() {
    let cap = Capture::new();
    let req = Request {
        provider: "openai".into(),
        model: "gpt-4.1".into(),
        temperature: Some(0.25),
        max_tokens: 64,
        top_p: 0.5,
        top_k: None,
        frequency_penalty: 0.0,
        presence_penalty: 1.5,
        seed: -3,
        stop: vec!["\n\n".into()],
        n: 1,
        effort: "low",
        prompt: ("support".into(), "2".into()),
        conversation: Some("thread-9".into()),
        agent: "support_agent".into(),
        host: "api.openai.com".into(),
        port: 443,
        tier: "free",
    };
    assert_eq!(cap.in_scope(|| chat(req)), "gpt-4.1");
    let spans = cap.spans();
    let s = spans.by_name("chat gpt-4.1");
    assert_eq!(s.str_attr("gen_ai.provider.name"), Some("openai"));
    assert_eq!(s.str_attr("gen_ai.request.model"), Some("gpt-4.1"));
    assert_eq!(s.f64_attr("gen_ai.request.temperature"), Some(0.25));
    assert_eq!(s.i64_attr("gen_ai.request.max_tokens"), Some(64));
    assert_eq!(s.f64_attr("gen_ai.request.top_p"), Some(0.5));
    assert!(s.attr("gen_ai.request.top_k").is_none(), "None records nothing");
    assert_eq!(s.f64_attr("gen_ai.request.frequency_penalty"), Some(0.0));
    assert_eq!(s.f64_attr("gen_ai.request.presence_penalty"), Some(1.5));
    assert_eq!(s.i64_attr("gen_ai.request.seed"), Some(-3));
    assert_eq!(
        s.attr("gen_ai.request.stop_sequences").map(ToString::to_string).as_deref(),
        Some("[\"\n\n\"]")
    );
    assert_eq!(s.i64_attr("gen_ai.request.choice.count"), Some(1));
    assert_eq!(s.str_attr("gen_ai.request.reasoning.level"), Some("low"));
    assert_eq!(s.str_attr("gen_ai.prompt.name"), Some("support"));
    assert_eq!(s.str_attr("gen_ai.prompt.version"), Some("2"));
    assert_eq!(s.str_attr("gen_ai.conversation.id"), Some("thread-9"));
    assert_eq!(s.str_attr("gen_ai.agent.name"), Some("support_agent"));
    assert_eq!(s.str_attr("server.address"), Some("api.openai.com"));
    assert_eq!(s.i64_attr("server.port"), Some(443));
    assert_eq!(s.str_attr("app.tier"), Some("free"));
    assert_eq!(s.i64_attr("app.stop_count"), Some(1));
    assert_eq!(s.str_attr("gen_ai.request.previous_response.id"), Some("resp_1"));
    assert!(s.attr("input.value").is_none());
}
