//! Chat messages, shaped as the OpenTelemetry GenAI conventions define `gen_ai.input.messages`,
//! `gen_ai.output.messages` and `gen_ai.system_instructions`.
//!
//! A model call's messages are recorded from values that *are* messages, never guessed from
//! arbitrary parameters: the `messages = ..` argument of `#[llm_call]` takes any value that
//! implements [`Messages`] (a prompt string, a list of [`Message`]s, a client's request type),
//! and the output messages come from a return value that implements
//! [`LlmResponse`](crate::LlmResponse).
//!
//! ```
//! use llmtrace_runtime::{Message, Part};
//!
//! let history = [
//!     Message::system("You answer in one sentence."),
//!     Message::user("Weather in Paris?"),
//!     Message::assistant_parts([Part::tool_call(Some("call_1"), "get_weather", r#"{"location":"Paris"}"#)]),
//!     Message::tool_response(Some("call_1"), "rainy, 57°F"),
//! ];
//! let json = serde_json::to_value(&history).unwrap();
//! assert_eq!(json[2]["parts"][0]["arguments"]["location"], "Paris");
//! assert_eq!(json[3]["parts"][0]["type"], "tool_call_response");
//! ```

mod messages;
mod part;
mod record;

use std::borrow::Cow;

use serde::Serialize;

pub use messages::Messages;
pub use part::{Modality, Part};
pub(crate) use record::{failed, record_output};

/// Who sent a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role<'a> {
    /// Instructions set by the application.
    System,
    /// The end user.
    User,
    /// The model.
    Assistant,
    /// The result of a tool call.
    Tool,
    /// Any other role, as the API names it.
    Other(Cow<'a, str>),
}

impl Role<'_> {
    /// The role's name in the conventions.
    pub fn as_str(&self) -> &str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Other(name) => name,
        }
    }

    /// The role named `name`: the well-known names map to their variant.
    pub fn from_name(name: &str) -> Role<'_> {
        match name {
            "system" | "developer" => Role::System,
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "tool" | "function" => Role::Tool,
            other => Role::Other(Cow::Borrowed(other)),
        }
    }
}

impl Serialize for Role<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One message: a role and its parts (text, tool calls, tool results, media...).
///
/// Serializes to the conventions' JSON shape:
/// `{"role": "user", "parts": [{"type": "text", "content": "..."}]}`, plus `name` when set and,
/// on output messages, `finish_reason`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Message<'a> {
    /// Who sent it.
    pub role: Role<'a>,
    /// What it holds, in order.
    pub parts: Vec<Part<'a>>,
    /// The participant's name, when the API carries one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Cow<'a, str>>,
    /// Why the model stopped (`stop`, `length`, `content_filter`, `tool_call`, `error`...):
    /// output messages only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<Cow<'a, str>>,
}

impl<'a> Message<'a> {
    /// A message of `role` with `parts`.
    pub fn new(role: Role<'a>, parts: impl IntoIterator<Item = Part<'a>>) -> Self {
        Message {
            role,
            parts: parts.into_iter().collect(),
            name: None,
            finish_reason: None,
        }
    }

    /// A system message with one text part.
    pub fn system(text: impl Into<Cow<'a, str>>) -> Self {
        Message::new(Role::System, [Part::text(text)])
    }

    /// A user message with one text part.
    pub fn user(text: impl Into<Cow<'a, str>>) -> Self {
        Message::new(Role::User, [Part::text(text)])
    }

    /// An assistant message with one text part.
    pub fn assistant(text: impl Into<Cow<'a, str>>) -> Self {
        Message::new(Role::Assistant, [Part::text(text)])
    }

    /// An assistant message with several parts (text, reasoning, tool calls).
    pub fn assistant_parts(parts: impl IntoIterator<Item = Part<'a>>) -> Self {
        Message::new(Role::Assistant, parts)
    }

    /// A tool message answering the call `id` with `response`.
    pub fn tool_response(id: Option<&'a str>, response: impl Into<serde_json::Value>) -> Self {
        Message::new(Role::Tool, [Part::tool_call_response(id, response)])
    }

    /// Sets the participant's name.
    pub fn with_name(mut self, name: impl Into<Cow<'a, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// A copy that borrows from this one instead of cloning its text.
    pub fn reborrow(&self) -> Message<'_> {
        Message {
            role: match &self.role {
                Role::Other(name) => Role::Other(Cow::Borrowed(name)),
                Role::System => Role::System,
                Role::User => Role::User,
                Role::Assistant => Role::Assistant,
                Role::Tool => Role::Tool,
            },
            parts: self.parts.iter().map(Part::reborrow).collect(),
            name: self.name.as_deref().map(Cow::Borrowed),
            finish_reason: self.finish_reason.as_deref().map(Cow::Borrowed),
        }
    }

    /// Sets why the model stopped (output messages).
    pub fn with_finish_reason(mut self, reason: impl Into<Cow<'a, str>>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }
}
