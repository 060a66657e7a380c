//! The support bot of the `rag_chatbot` and `evaluate_answers` examples: a help-center search,
//! a deterministic mock model (offline, no API key) and an order-lookup tool, each traced.

use std::fmt;
use std::time::Duration;

use llmtrace::{Message, Part, Role};
use llmtrace_runtime as llmtrace;
use serde::Serialize;

/// A message in the conversation sent to the model, in the mock API's own shape.
#[derive(Clone, Debug, Serialize)]
struct ChatMessage {
    role: &'static str,
    content: String,
    /// On an assistant message: the tool call it asks for (id, tool, order id).
    tool_call: Option<(String, String, String)>,
    /// On a tool message: the call it answers.
    tool_call_id: Option<String>,
}

impl ChatMessage {
    fn new(role: &'static str, content: impl Into<String>) -> Self {
        ChatMessage {
            role,
            content: content.into(),
            tool_call: None,
            tool_call_id: None,
        }
    }
}

/// How llmtrace records the conversation: `gen_ai.input.messages` in the GenAI conventions'
/// shape, which Phoenix and Langfuse show as a chat.
impl llmtrace::Messages for ChatMessage {
    fn messages(&self) -> Vec<Message<'_>> {
        let part = match (&self.tool_call, &self.tool_call_id) {
            (Some((id, name, order_id)), _) => Part::ToolCall {
                id: Some(id.as_str().into()),
                name: name.as_str().into(),
                arguments: Some(serde_json::json!({ "order_id": order_id })),
            },
            (None, Some(id)) => Part::tool_call_response(Some(id), self.content.as_str()),
            (None, None) => Part::text(self.content.as_str()),
        };
        vec![Message::new(Role::from_name(self.role), [part])]
    }
}

/// A help-center article.
#[derive(Clone, Debug, Serialize)]
struct Doc {
    id: String,
    score: f64,
    content: String,
}

/// What the model answered: text, or a request to call a tool.
#[derive(Debug, Serialize)]
enum Reply {
    Text(String),
    ToolCall {
        id: String,
        name: String,
        order_id: String,
    },
}

/// The mock API's response: the reply, its id and the tokens it took.
#[derive(Debug)]
struct Completion {
    id: String,
    reply: Reply,
    prompt_tokens: u64,
    cached_tokens: u64,
    completion_tokens: u64,
}

/// How llmtrace reads a response: usage (priced from the genai-prices database), the model
/// that answered, why it stopped, and the output message.
impl llmtrace::LlmResponse for Completion {
    fn usage(&self) -> Option<llmtrace::Usage> {
        Some(
            llmtrace::Usage::new(self.prompt_tokens, self.completion_tokens)
                .with_cache_read(self.cached_tokens),
        )
    }

    fn response_model(&self) -> Option<&str> {
        Some("gpt-4o-2024-08-06")
    }

    fn response_id(&self) -> Option<&str> {
        Some(&self.id)
    }

    fn finish_reasons(&self) -> Vec<&str> {
        vec![self.finish_reason()]
    }

    fn output_messages(&self) -> Vec<Message<'_>> {
        let part = match &self.reply {
            Reply::Text(t) => Part::text(t.as_str()),
            Reply::ToolCall { id, name, order_id } => Part::ToolCall {
                id: Some(id.as_str().into()),
                name: name.as_str().into(),
                arguments: Some(serde_json::json!({ "order_id": order_id })),
            },
        };
        vec![Message::assistant_parts([part]).with_finish_reason(self.finish_reason())]
    }
}

impl Completion {
    fn finish_reason(&self) -> &'static str {
        match self.reply {
            Reply::Text(_) => "stop",
            Reply::ToolCall { .. } => "tool_call",
        }
    }
}

#[derive(Debug, Serialize)]
struct Order {
    id: String,
    status: &'static str,
    eta_days: u32,
}

#[derive(Debug)]
pub(crate) enum BotError {
    Model(String),
}

impl fmt::Display for BotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BotError::Model(m) => write!(f, "model error: {m}"),
        }
    }
}

impl std::error::Error for BotError {}

#[derive(Debug)]
struct OrderNotFound(String);

impl fmt::Display for OrderNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no order {}", self.0)
    }
}

impl std::error::Error for OrderNotFound {}

/// The help center: a handful of articles searched by word overlap.
pub(crate) struct HelpCenter {
    articles: Vec<(&'static str, &'static str)>,
}

impl HelpCenter {
    pub(crate) fn new() -> Self {
        HelpCenter {
            articles: vec![
                (
                    "kb-12",
                    "Orders ship within 2 business days and arrive in 3 to 5 days.",
                ),
                (
                    "kb-31",
                    "You can track an order with its id, for example A-42, on the orders page.",
                ),
                (
                    "kb-07",
                    "Refunds are issued within 5 days after the return is received.",
                ),
                (
                    "kb-44",
                    "Contact support if an order id is not found after 24 hours.",
                ),
            ],
        }
    }
}

/// The mock model: deterministic, offline.
pub(crate) struct MockModel;

/// Tokens in a text, as a tokenizer would roughly count them.
fn tokens(text: &str) -> u64 {
    (text.split_whitespace().count() as u64 * 4).div_ceil(3)
}

impl MockModel {
    async fn complete(&self, messages: &[ChatMessage]) -> Result<Completion, BotError> {
        let last = messages
            .last()
            .ok_or_else(|| BotError::Model("no messages".into()))?;
        let input: u64 = messages.iter().map(|m| tokens(&m.content) + 4).sum();
        // The system prompt and the question are the same prefix on every turn after the first:
        // the provider serves them from its prompt cache.
        let cached = if messages.len() > 2 {
            messages[..2].iter().map(|m| tokens(&m.content) + 4).sum()
        } else {
            0
        };
        let reply = match last.role {
            "user" => match order_id(&last.content) {
                Some(id) => Reply::ToolCall {
                    id: format!("call_{}", id.to_lowercase()),
                    name: "lookup_order".into(),
                    order_id: id,
                },
                None => Reply::Text("Orders ship within 2 business days.".into()),
            },
            "tool" if last.content.starts_with("error") => Reply::Text(
                "I could not find that order. Please check the id, or contact support if it was placed more than 24 hours ago.".into(),
            ),
            _ => Reply::Text(format!(
                "Your order is on its way: {}. It should arrive within the stated time.",
                last.content
            )),
        };
        let output = match &reply {
            Reply::Text(t) => tokens(t),
            Reply::ToolCall { .. } => 18,
        };
        // Latency grows with the tokens read and written, as with a real model.
        tokio::time::sleep(Duration::from_millis(20 + input / 4 + output * 2)).await;
        Ok(Completion {
            id: format!("chatcmpl-{:x}", input * 31 + output),
            reply,
            prompt_tokens: input,
            cached_tokens: cached,
            completion_tokens: output,
        })
    }
}

fn order_id(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| {
            w.len() >= 3
                && w.contains('-')
                && w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        })
        .map(str::to_owned)
}

#[llmtrace::retrieval(data_source = "help_center", top_k = 3, query = query, skip(kb))]
async fn search(kb: &HelpCenter, query: &str) -> Result<Vec<Doc>, BotError> {
    tokio::time::sleep(Duration::from_millis(15)).await;
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| w.len() > 2)
        .collect();
    let mut docs: Vec<Doc> = kb
        .articles
        .iter()
        .map(|(id, content)| {
            let text = content.to_lowercase();
            let hits = words.iter().filter(|w| text.contains(w.as_str())).count();
            Doc {
                id: (*id).into(),
                score: (hits as f64 / words.len().max(1) as f64 * 100.0).round() / 100.0,
                content: (*content).into(),
            }
        })
        .filter(|d| d.score > 0.0)
        .collect();
    docs.sort_by(|a, b| b.score.total_cmp(&a.score));
    docs.truncate(3);
    Ok(docs)
}

#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    temperature = 0.2,
    max_tokens = 512,
    messages = messages
)]
async fn chat(model: &MockModel, messages: &[ChatMessage]) -> Result<Completion, BotError> {
    model.complete(messages).await
}

#[llmtrace::tool(name = "lookup_order", description = "Find an order by id")]
fn lookup_order(order_id: &str) -> Result<Order, OrderNotFound> {
    std::thread::sleep(Duration::from_millis(3));
    match order_id {
        "A-42" => Ok(Order {
            id: order_id.into(),
            status: "shipped",
            eta_days: 2,
        }),
        _ => Err(OrderNotFound(order_id.into())),
    }
}

/// An answer, with the context of the trace that produced it: scores and user feedback are
/// recorded on it later. Recorded as its text alone: the span knows its own context.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct Answer {
    pub(crate) text: String,
    /// The `support_answer` span.
    #[serde(skip)]
    #[allow(
        dead_code,
        reason = "rag_chatbot shares this module but records no scores"
    )]
    pub(crate) trace: llmtrace::TraceContext,
}

#[llmtrace::workflow(name = "support_answer", skip(kb, model))]
pub(crate) async fn support_answer(
    kb: &HelpCenter,
    model: &MockModel,
    question: &str,
) -> Result<Answer, BotError> {
    let docs = search(kb, question).await?;
    let context: Vec<String> = docs.iter().map(|d| d.content.clone()).collect();
    let mut messages = vec![
        ChatMessage::new(
            "system",
            format!("Answer from these articles:\n{}", context.join("\n")),
        ),
        ChatMessage::new("user", question),
    ];
    loop {
        match chat(model, &messages).await?.reply {
            Reply::Text(text) => {
                return Ok(Answer {
                    text,
                    trace: llmtrace::current().context(),
                });
            }
            Reply::ToolCall { id, name, order_id } => {
                messages.push(ChatMessage {
                    tool_call: Some((id.clone(), name.clone(), order_id.clone())),
                    ..ChatMessage::new("assistant", format!("call {name}({order_id})"))
                });
                // A failing tool is part of the conversation, not a failed answer.
                let result = match lookup_order(&order_id) {
                    Ok(order) => format!(
                        "order {} is {}, arriving in {} days",
                        order.id, order.status, order.eta_days
                    ),
                    Err(e) => format!("error: {e}"),
                };
                messages.push(ChatMessage {
                    tool_call_id: Some(id),
                    ..ChatMessage::new("tool", result)
                });
            }
        }
    }
}
