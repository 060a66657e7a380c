//! An agent that loops, traced with llmtrace, fully offline (a deterministic mock model): the
//! trace files it writes are what `llmtrace loops`, `anomalies`, `top` and `check` are for.
//!
//! Three requests to a shop assistant, each one trace `shop_agent`:
//! 1. "Is the blue kettle in stock?": the model asks for `check_inventory {"sku":"KT-BLUE"}`,
//!    the inventory service times out, and the agent hands the same call back to the model,
//!    which asks for it again, until the agent's step limit (6 calls): a loop that burns tokens.
//! 2. "Find me a gift under $30": the model queues at the provider (a slow call), and a local
//!    classifier reports no token usage.
//! 3. "How much is the red mug?": `search_catalog` and `get_price` called in turn, three round
//!    trips (ping-pong), before the answer.
//!
//! ```sh
//! cargo run -p llmtrace-examples --bin looping_agent
//! llmtrace loops
//! ```

use std::fmt;
use std::time::Duration;

use llmtrace::{Message, Part, Role};
use llmtrace_runtime as llmtrace;
use serde::Serialize;
use serde_json::json;

/// Calls the agent makes before giving up.
const MAX_STEPS: usize = 6;

/// A message of the conversation, in the mock API's shape.
#[derive(Clone, Debug, Serialize)]
struct Msg {
    role: &'static str,
    content: String,
    /// On an assistant message: the tool call it asks for (id, tool, arguments).
    tool_call: Option<(String, String, serde_json::Value)>,
}

impl Msg {
    fn new(role: &'static str, content: impl Into<String>) -> Self {
        Msg {
            role,
            content: content.into(),
            tool_call: None,
        }
    }
}

impl llmtrace::Messages for Msg {
    fn messages(&self) -> Vec<Message<'_>> {
        let part = match &self.tool_call {
            Some((id, name, args)) => Part::ToolCall {
                id: Some(id.as_str().into()),
                name: name.as_str().into(),
                arguments: Some(args.clone()),
            },
            None => Part::text(self.content.as_str()),
        };
        vec![Message::new(Role::from_name(self.role), [part])]
    }
}

/// What the model answered.
#[derive(Debug, Clone)]
enum Reply {
    Text(String),
    Tool(String, serde_json::Value),
}

/// The mock API's response.
#[derive(Debug)]
struct Completion {
    reply: Reply,
    input_tokens: u64,
    output_tokens: u64,
}

impl llmtrace::LlmResponse for Completion {
    fn usage(&self) -> Option<llmtrace::Usage> {
        Some(llmtrace::Usage::new(self.input_tokens, self.output_tokens))
    }

    fn finish_reasons(&self) -> Vec<&str> {
        vec![self.finish_reason()]
    }

    fn output_messages(&self) -> Vec<Message<'_>> {
        let part = match &self.reply {
            Reply::Text(t) => Part::text(t.as_str()),
            Reply::Tool(name, args) => Part::ToolCall {
                id: None,
                name: name.as_str().into(),
                arguments: Some(args.clone()),
            },
        };
        vec![Message::assistant_parts([part]).with_finish_reason(self.finish_reason())]
    }
}

impl Completion {
    fn finish_reason(&self) -> &'static str {
        match self.reply {
            Reply::Text(_) => "stop",
            Reply::Tool(..) => "tool_call",
        }
    }
}

#[derive(Debug)]
struct ToolError(&'static str, String);

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.1)
    }
}

impl std::error::Error for ToolError {}

impl llmtrace::ErrorType for ToolError {
    fn error_type(&self) -> std::borrow::Cow<'static, str> {
        self.0.into()
    }
}

fn tokens(text: &str) -> u64 {
    (text.split_whitespace().count() as u64 * 4).div_ceil(3)
}

/// The mock model: the next step from the last message, deterministic and offline.
async fn complete(messages: &[Msg]) -> Completion {
    let input: u64 = messages.iter().map(|m| tokens(&m.content) + 6).sum::<u64>();
    let question = messages
        .iter()
        .find(|m| m.role == "user")
        .map_or("", |m| m.content.as_str());
    let last = messages.last().map_or("", |m| m.content.as_str());
    let tool_turns = messages.iter().filter(|m| m.role == "tool").count();
    let reply = if question.contains("kettle") {
        // The model keeps asking for the same lookup: the tool's error tells it nothing new.
        if last.starts_with("error") || tool_turns == 0 {
            Reply::Tool("check_inventory".into(), json!({ "sku": "KT-BLUE" }))
        } else {
            Reply::Text("The blue kettle is in stock.".into())
        }
    } else if question.contains("mug") {
        match tool_turns {
            n if n < 6 && n % 2 == 0 => {
                Reply::Tool("search_catalog".into(), json!({ "query": "red mug" }))
            }
            n if n < 6 => Reply::Tool("get_price".into(), json!({ "sku": "MG-RED" })),
            _ => Reply::Text("The red mug costs $12.".into()),
        }
    } else {
        Reply::Text("The bamboo tea set is $24 and ships tomorrow.".into())
    };
    let output = match &reply {
        Reply::Text(t) => tokens(t) + 2,
        Reply::Tool(..) => 24,
    };
    // Latency from the tokens; the gift question waits in the provider's queue.
    let queued = if question.contains("gift") { 400 } else { 0 };
    tokio::time::sleep(Duration::from_millis(15 + input / 8 + output + queued)).await;
    Completion {
        reply,
        input_tokens: input,
        output_tokens: output,
    }
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini", temperature = 0.0, messages = messages)]
async fn chat(messages: &[Msg]) -> Result<Completion, ToolError> {
    Ok(complete(messages).await)
}

/// A local intent classifier: its client reports no token usage (the span says so).
#[llmtrace::llm_call(provider = custom("ollama"), model = "llama-3.1-8b-local")]
async fn classify(question: &str) -> Result<String, ToolError> {
    tokio::time::sleep(Duration::from_millis(8)).await;
    Ok(if question.contains("gift") {
        "browse"
    } else {
        "lookup"
    }
    .to_owned())
}

#[llmtrace::tool(name = "check_inventory", description = "Stock level of a product")]
async fn check_inventory(sku: &str) -> Result<u32, ToolError> {
    tokio::time::sleep(Duration::from_millis(30)).await;
    Err(ToolError(
        "InventoryTimeout",
        format!("inventory service did not answer for {sku} within 30ms"),
    ))
}

#[llmtrace::tool(name = "search_catalog", description = "Products matching a query")]
async fn search_catalog(query: &str) -> Result<Vec<String>, ToolError> {
    tokio::time::sleep(Duration::from_millis(6)).await;
    Ok(vec![format!("MG-RED ({query})")])
}

#[llmtrace::tool(name = "get_price", description = "Price of a product")]
async fn get_price(sku: &str) -> Result<String, ToolError> {
    tokio::time::sleep(Duration::from_millis(4)).await;
    Ok(format!("{sku}: $12"))
}

async fn run_tool(name: &str, args: &serde_json::Value) -> Result<String, ToolError> {
    let arg = |k: &str| {
        args.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned()
    };
    match name {
        "check_inventory" => check_inventory(&arg("sku")).await.map(|n| n.to_string()),
        "search_catalog" => search_catalog(&arg("query")).await.map(|v| v.join(", ")),
        "get_price" => get_price(&arg("sku")).await,
        other => Err(ToolError("UnknownTool", format!("no tool {other}"))),
    }
}

#[llmtrace::workflow(name = "shop_agent")]
async fn shop_agent(question: &str) -> Result<String, ToolError> {
    let _intent = classify(question).await?;
    let mut messages = vec![
        Msg::new("system", "You are a shop assistant. Use the tools."),
        Msg::new("user", question),
    ];
    for _ in 0..MAX_STEPS {
        match chat(&messages).await?.reply {
            Reply::Text(answer) => return Ok(answer),
            Reply::Tool(name, args) => {
                messages.push(Msg {
                    tool_call: Some((
                        format!("call_{}", messages.len()),
                        name.clone(),
                        args.clone(),
                    )),
                    ..Msg::new("assistant", format!("call {name}"))
                });
                // The agent hands a failed call back to the model, which asks for it again.
                let result = match run_tool(&name, &args).await {
                    Ok(r) => r,
                    Err(e) => format!("error: {e}"),
                };
                messages.push(Msg::new("tool", result));
            }
        }
    }
    Ok("Sorry, I could not find out.".to_owned())
}

#[tokio::main]
async fn main() {
    let _guard = llmtrace::init().service_name("shop-agent").install();
    for (user, question) in [
        ("user-1", "Is the blue kettle in stock?"),
        ("user-2", "Find me a gift under $30"),
        ("user-3", "How much is the red mug?"),
    ] {
        let answer = llmtrace::scope()
            .session_id("shop-session")
            .user_id(user)
            .instrument(shop_agent(question))
            .await;
        match answer {
            Ok(a) => println!("Q: {question}\nA: {a}\n"),
            Err(e) => println!("Q: {question}\nfailed: {e}\n"),
        }
    }
}
