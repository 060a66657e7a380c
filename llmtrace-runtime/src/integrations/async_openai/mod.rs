//! llmtrace's traits for the types of the `async-openai` crate (feature `async-openai`: its types
//! only, no HTTP client), so a function that sends an `async-openai` request and returns its
//! response needs nothing more than `#[llm_call(provider = "openai", model = .., messages = req)]`.
//!
//! What each implementation records, following the GenAI conventions:
//!
//! * Chat Completions ([`chat`]):
//!   * [`LlmResponse`] for `CreateChatCompletionResponse`: usage (`prompt_tokens` as the input,
//!     cached tokens included; `completion_tokens` as the output, reasoning included; cached,
//!     cache-write and reasoning tokens when non-zero), the response's `model` and `id`, one
//!     finish reason per choice in order (`tool_calls` and `function_call` become `tool_call`),
//!     and one assistant output message per choice: its text, refusal, tool calls (arguments as
//!     JSON objects) and audio, with the choice's finish reason.
//!   * [`Messages`] for `CreateChatCompletionRequest` and `ChatCompletionRequestMessage` (so
//!     `Vec<ChatCompletionRequestMessage>` too): every message in order, `system` and `developer`
//!     as role `system`, tool results as `tool_call_response` parts, images as `uri` parts
//!     (`blob` for a `data:` URL), audio as `blob`, files as `file` or `blob`. System messages
//!     stay messages: chat has no separate instructions.
//!   * [`StreamChunk`] for `CreateChatCompletionStreamResponse`: the text of choice 0's delta,
//!     content when any choice's delta carries text, a refusal, tool calls or audio, usage from
//!     the chunk that has it (the last one, when the request sets
//!     `stream_options.include_usage`), model, id and choice 0's finish reason.
//! * Responses API ([`responses`]):
//!   * [`LlmResponse`] for `Response`: usage (`input_tokens` and `output_tokens` with their
//!     cached, cache-write and reasoning details), `model`, `id`, the finish reason from the status
//!     (`completed` is `stop`, or `tool_call` when the output calls a function; `incomplete` is
//!     `length` or `content_filter`; `failed` and `cancelled` are `error`) and one assistant
//!     output message with the reasoning summaries, output text, refusals and function calls in
//!     output order.
//!   * [`Messages`] for `CreateResponse`: `input` (a string is one user message; items map by
//!     role, consecutive assistant items, reasoning and function calls form one assistant
//!     message, function call outputs are tool messages) and `instructions` as the system
//!     instructions.
//!   * [`StreamChunk`] for `ResponseStreamEvent`: the text of `response.output_text.delta`;
//!     content for the text, refusal, reasoning and tool-argument deltas; model and id from the
//!     events that carry the response; usage and finish reason from the final
//!     `response.completed`, `response.incomplete` or `response.failed` event.
//!
//! Items the conventions have no part for (web search, file search, computer use, MCP and other
//! hosted tool calls, item references) are left out of the messages.
//!
//! [`LlmResponse`]: crate::LlmResponse
//! [`Messages`]: crate::Messages
//! [`StreamChunk`]: crate::StreamChunk

mod chat;
#[cfg(feature = "async-openai-client")]
pub(crate) mod client;
#[cfg(feature = "async-openai-client")]
mod error;
mod responses;

use std::borrow::Cow;

use crate::{Modality, Part};

/// The modality of a MIME type; anything that is not an image, audio or video is a document.
fn modality_of(mime: Option<&str>, default: Modality) -> Modality {
    let Some(mime) = mime else {
        return default;
    };
    let top = mime.split('/').next().unwrap_or_default();
    if top.eq_ignore_ascii_case("image") {
        Modality::Image
    } else if top.eq_ignore_ascii_case("audio") {
        Modality::Audio
    } else if top.eq_ignore_ascii_case("video") {
        Modality::Video
    } else {
        Modality::Document
    }
}

/// The MIME type and payload of a `data:` URL (`data:image/png;base64,iVBOR...`).
fn data_url(url: &str) -> Option<(Option<&str>, &str)> {
    let scheme = url.get(..5)?;
    if !scheme.eq_ignore_ascii_case("data:") {
        return None;
    }
    let (meta, payload) = url[5..].split_once(',')?;
    let mime = meta.split(';').next().filter(|m| !m.is_empty());
    Some((mime, payload))
}

/// Media given by URL: a `blob` part for a `data:` URL (its MIME type decides the modality when
/// it has one), a `uri` part otherwise.
fn media_url(url: &str, modality: Modality) -> Part<'_> {
    match data_url(url) {
        Some((mime, payload)) => Part::Blob {
            modality: modality_of(mime, modality),
            mime_type: mime.map(Cow::Borrowed),
            content: Cow::Borrowed(payload),
        },
        None => Part::Uri {
            modality,
            mime_type: None,
            uri: Cow::Borrowed(url),
        },
    }
}

/// Inline file content: a `data:` URL, or bare base64 of unknown type.
fn file_data(data: &str, modality: Modality) -> Part<'_> {
    match data_url(data) {
        Some(_) => media_url(data, modality),
        None => Part::Blob {
            modality,
            mime_type: None,
            content: Cow::Borrowed(data),
        },
    }
}

/// A file uploaded to the provider.
fn file_id(id: &str, modality: Modality) -> Part<'_> {
    Part::File {
        modality,
        mime_type: None,
        file_id: Cow::Borrowed(id),
    }
}

/// A tool call whose input is free text (custom tools), recorded as the string it is.
fn custom_tool_call<'a>(id: &'a str, name: &'a str, input: &str) -> Part<'a> {
    Part::ToolCall {
        id: Some(Cow::Borrowed(id)),
        name: Cow::Borrowed(name),
        arguments: Some(serde_json::Value::String(input.to_owned())),
    }
}

/// A token count the API reports as a signed or optional number, when it is above zero.
fn positive(n: impl TryInto<u64>) -> Option<u64> {
    n.try_into().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_split_into_mime_type_and_payload() {
        assert_eq!(
            data_url("data:image/png;base64,iVBORw0KGgo="),
            Some((Some("image/png"), "iVBORw0KGgo="))
        );
        assert_eq!(data_url("DATA:;base64,AAAA"), Some((None, "AAAA")));
        assert_eq!(data_url("https://example.com/cat.png"), None);
        assert_eq!(data_url("data:image/png;base64"), None);
        assert_eq!(data_url("dat"), None);
    }

    #[test]
    fn media_urls_become_blobs_or_uris() {
        let json = serde_json::to_value([
            media_url("data:application/pdf;base64,JVBERi0=", Modality::Image),
            media_url("https://example.com/cat.png", Modality::Image),
            file_data("JVBERi0=", Modality::Document),
        ])
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"type": "blob", "modality": "document", "mime_type": "application/pdf", "content": "JVBERi0="},
                {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
                {"type": "blob", "modality": "document", "content": "JVBERi0="},
            ])
        );
    }
}
