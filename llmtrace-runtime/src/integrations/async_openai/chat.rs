//! Chat Completions: `CreateChatCompletionResponse`, `CreateChatCompletionRequest` and its
//! messages, `CreateChatCompletionStreamResponse`.

use std::borrow::Cow;

use ::async_openai::types::chat::{
    ChatChoice, ChatChoiceStream, ChatCompletionMessageToolCalls,
    ChatCompletionRequestAssistantMessageContent, ChatCompletionRequestAssistantMessageContentPart,
    ChatCompletionRequestDeveloperMessageContent, ChatCompletionRequestDeveloperMessageContentPart,
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessageContent,
    ChatCompletionRequestSystemMessageContentPart, ChatCompletionRequestToolMessageContent,
    ChatCompletionRequestToolMessageContentPart, ChatCompletionRequestUserMessageContent,
    ChatCompletionRequestUserMessageContentPart, ChatCompletionStreamResponseDelta,
    CompletionUsage, CreateChatCompletionRequest, CreateChatCompletionResponse,
    CreateChatCompletionStreamResponse, FileObject, FinishReason, FunctionCall, InputAudioFormat,
};

use super::{custom_tool_call, file_data, file_id, media_url, positive};
use crate::{LlmResponse, Message, Messages, Modality, Part, Role, StreamChunk, Usage};

/// The conventions' name of a chat finish reason.
fn finish_reason(reason: FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::ToolCalls | FinishReason::FunctionCall => "tool_call",
    }
}

/// Chat usage: prompt tokens count cached ones, completion tokens count reasoning ones.
fn usage(u: &CompletionUsage) -> Usage {
    let mut usage = Usage::new(u.prompt_tokens.into(), u.completion_tokens.into());
    if let Some(details) = &u.prompt_tokens_details {
        if let Some(n) = details.cached_tokens.and_then(positive) {
            usage = usage.with_cache_read(n);
        }
        if let Some(n) = details.cache_write_tokens.and_then(positive) {
            usage = usage.with_cache_write(n);
        }
    }
    if let Some(n) = u
        .completion_tokens_details
        .as_ref()
        .and_then(|d| d.reasoning_tokens)
        .and_then(positive)
    {
        usage = usage.with_reasoning(n);
    }
    usage
}

/// A string field that some compatible servers send empty (Azure's first stream chunk).
fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn tool_call(call: &ChatCompletionMessageToolCalls) -> Part<'_> {
    match call {
        ChatCompletionMessageToolCalls::Function(call) => Part::tool_call(
            Some(&call.id),
            call.function.name.as_str(),
            &call.function.arguments,
        ),
        ChatCompletionMessageToolCalls::Custom(call) => {
            custom_tool_call(&call.id, &call.custom_tool.name, &call.custom_tool.input)
        }
    }
}

/// The deprecated `function_call`: a tool call without an id.
fn function_call(call: &FunctionCall) -> Part<'_> {
    Part::tool_call(None, call.name.as_str(), &call.arguments)
}

/// The assistant message of one choice, with its finish reason.
#[allow(deprecated)] // `function_call`: still sent by older models and servers
fn choice_message(choice: &ChatChoice) -> Message<'_> {
    let m = &choice.message;
    let mut parts = Vec::new();
    if let Some(text) = m.content.as_deref().and_then(non_empty) {
        parts.push(Part::text(text));
    }
    if let Some(refusal) = m.refusal.as_deref().and_then(non_empty) {
        parts.push(Part::text(refusal));
    }
    if let Some(audio) = m.audio.as_ref().filter(|a| !a.data.is_empty()) {
        parts.push(Part::Blob {
            modality: Modality::Audio,
            mime_type: None,
            content: Cow::Borrowed(&audio.data),
        });
    }
    parts.extend(m.tool_calls.iter().flatten().map(tool_call));
    parts.extend(m.function_call.as_ref().map(function_call));
    let mut message = Message::new(Role::Assistant, parts);
    if let Some(reason) = choice.finish_reason {
        message = message.with_finish_reason(finish_reason(reason));
    }
    message
}

// Hidden from errors like the runtime's own impls of `LlmResponse` and `Messages` (see
// their docs): an error names the user's type and lists none of them.
#[diagnostic::do_not_recommend]
impl LlmResponse for CreateChatCompletionResponse {
    fn usage(&self) -> Option<Usage> {
        self.usage.as_ref().map(usage)
    }

    fn response_model(&self) -> Option<&str> {
        non_empty(&self.model)
    }

    fn response_id(&self) -> Option<&str> {
        non_empty(&self.id)
    }

    fn finish_reasons(&self) -> Vec<&str> {
        self.choices
            .iter()
            .filter_map(|c| c.finish_reason.map(finish_reason))
            .collect()
    }

    fn output_messages(&self) -> Vec<Message<'_>> {
        self.choices.iter().map(choice_message).collect()
    }
}

/// Text-only content: one text part per text.
fn texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Part<'a>> {
    texts.into_iter().map(Part::text).collect()
}

fn system_parts(content: &ChatCompletionRequestSystemMessageContent) -> Vec<Part<'_>> {
    match content {
        ChatCompletionRequestSystemMessageContent::Text(text) => vec![Part::text(text.as_str())],
        ChatCompletionRequestSystemMessageContent::Array(parts) => texts(
            parts
                .iter()
                .map(|ChatCompletionRequestSystemMessageContentPart::Text(t)| t.text.as_str()),
        ),
    }
}

fn developer_parts(content: &ChatCompletionRequestDeveloperMessageContent) -> Vec<Part<'_>> {
    match content {
        ChatCompletionRequestDeveloperMessageContent::Text(text) => vec![Part::text(text.as_str())],
        ChatCompletionRequestDeveloperMessageContent::Array(parts) => texts(
            parts
                .iter()
                .map(|ChatCompletionRequestDeveloperMessageContentPart::Text(t)| t.text.as_str()),
        ),
    }
}

/// A chat `file` part: by id when uploaded, else its inline data.
fn file(file: &FileObject) -> Option<Part<'_>> {
    if let Some(id) = &file.file_id {
        Some(file_id(id, Modality::Document))
    } else {
        file.file_data
            .as_deref()
            .map(|data| file_data(data, Modality::Document))
    }
}

fn user_parts(content: &ChatCompletionRequestUserMessageContent) -> Vec<Part<'_>> {
    match content {
        ChatCompletionRequestUserMessageContent::Text(text) => vec![Part::text(text.as_str())],
        ChatCompletionRequestUserMessageContent::Array(parts) => parts
            .iter()
            .filter_map(|part| match part {
                ChatCompletionRequestUserMessageContentPart::Text(t) => {
                    Some(Part::text(t.text.as_str()))
                }
                ChatCompletionRequestUserMessageContentPart::ImageUrl(image) => {
                    Some(media_url(&image.image_url.url, Modality::Image))
                }
                ChatCompletionRequestUserMessageContentPart::InputAudio(audio) => {
                    Some(Part::Blob {
                        modality: Modality::Audio,
                        mime_type: Some(Cow::Borrowed(match audio.input_audio.format {
                            InputAudioFormat::Wav => "audio/wav",
                            InputAudioFormat::Mp3 => "audio/mpeg",
                        })),
                        content: Cow::Borrowed(&audio.input_audio.data),
                    })
                }
                ChatCompletionRequestUserMessageContentPart::File(f) => file(&f.file),
            })
            .collect(),
    }
}

fn assistant_content(content: &ChatCompletionRequestAssistantMessageContent) -> Vec<Part<'_>> {
    match content {
        ChatCompletionRequestAssistantMessageContent::Text(text) => {
            non_empty(text).map(Part::text).into_iter().collect()
        }
        ChatCompletionRequestAssistantMessageContent::Array(parts) => {
            texts(parts.iter().map(|part| match part {
                ChatCompletionRequestAssistantMessageContentPart::Text(t) => t.text.as_str(),
                ChatCompletionRequestAssistantMessageContentPart::Refusal(r) => r.refusal.as_str(),
            }))
        }
    }
}

/// A tool message's content, as the tool call's response: the text, its parts joined.
fn tool_response(content: &ChatCompletionRequestToolMessageContent) -> serde_json::Value {
    match content {
        ChatCompletionRequestToolMessageContent::Text(text) => text.as_str().into(),
        ChatCompletionRequestToolMessageContent::Array(parts) => parts
            .iter()
            .map(|ChatCompletionRequestToolMessageContentPart::Text(t)| t.text.as_str())
            .collect::<String>()
            .into(),
    }
}

/// One request message in the conventions' shape.
#[allow(deprecated)] // `function_call`: older clients still send it back
fn request_message(message: &ChatCompletionRequestMessage) -> Message<'_> {
    let (message, name) = match message {
        ChatCompletionRequestMessage::System(m) => (
            Message::new(Role::System, system_parts(&m.content)),
            m.name.as_deref(),
        ),
        ChatCompletionRequestMessage::Developer(m) => (
            Message::new(Role::System, developer_parts(&m.content)),
            m.name.as_deref(),
        ),
        ChatCompletionRequestMessage::User(m) => (
            Message::new(Role::User, user_parts(&m.content)),
            m.name.as_deref(),
        ),
        ChatCompletionRequestMessage::Assistant(m) => {
            let mut parts = m
                .content
                .as_ref()
                .map(assistant_content)
                .unwrap_or_default();
            parts.extend(m.refusal.as_deref().and_then(non_empty).map(Part::text));
            parts.extend(m.tool_calls.iter().flatten().map(tool_call));
            parts.extend(m.function_call.as_ref().map(function_call));
            (Message::new(Role::Assistant, parts), m.name.as_deref())
        }
        ChatCompletionRequestMessage::Tool(m) => (
            Message::tool_response(Some(&m.tool_call_id), tool_response(&m.content)),
            None,
        ),
        ChatCompletionRequestMessage::Function(m) => (
            Message::tool_response(
                None,
                m.content
                    .as_deref()
                    .map_or(serde_json::Value::Null, Into::into),
            ),
            Some(m.name.as_str()),
        ),
    };
    match name {
        Some(name) => message.with_name(name),
        None => message,
    }
}

#[diagnostic::do_not_recommend]
impl Messages for ChatCompletionRequestMessage {
    fn messages(&self) -> Vec<Message<'_>> {
        vec![request_message(self)]
    }
}

#[diagnostic::do_not_recommend]
impl Messages for CreateChatCompletionRequest {
    fn messages(&self) -> Vec<Message<'_>> {
        self.messages.iter().map(request_message).collect()
    }
}

/// Whether a delta carries anything of the answer (not just a role or an empty string).
#[allow(deprecated)] // `function_call`
fn delta_has_content(delta: &ChatCompletionStreamResponseDelta) -> bool {
    let filled = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    filled(&delta.content)
        || filled(&delta.refusal)
        || delta.tool_calls.as_ref().is_some_and(|t| !t.is_empty())
        || delta.function_call.is_some()
        || delta
            .audio
            .as_ref()
            .is_some_and(|a| filled(&a.data) || filled(&a.transcript))
}

/// The chunk's part of the first choice (`index` 0: with `n` > 1, chunks of other choices are
/// interleaved).
fn first_choice(chunk: &CreateChatCompletionStreamResponse) -> Option<&ChatChoiceStream> {
    chunk.choices.iter().find(|c| c.index == 0)
}

impl StreamChunk for CreateChatCompletionStreamResponse {
    fn text(&self) -> Option<&str> {
        first_choice(self)?.delta.content.as_deref()
    }

    fn has_content(&self) -> bool {
        self.choices.iter().any(|c| delta_has_content(&c.delta))
    }

    fn usage(&self) -> Option<Usage> {
        self.usage.as_ref().map(usage)
    }

    fn response_model(&self) -> Option<&str> {
        non_empty(&self.model)
    }

    fn response_id(&self) -> Option<&str> {
        non_empty(&self.id)
    }

    fn finish_reason(&self) -> Option<&str> {
        first_choice(self)?.finish_reason.map(finish_reason)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn from<T: serde::de::DeserializeOwned>(value: Value) -> T {
        serde_json::from_value(value).expect("realistic JSON deserializes")
    }

    fn json_of<T: serde::Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap()
    }

    /// A non-streamed chat completion, as the API returns it.
    fn completion(choices: Value, usage: Value) -> CreateChatCompletionResponse {
        from(json!({
            "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
            "object": "chat.completion",
            "created": 1741570283,
            "model": "gpt-4o-2024-08-06",
            "choices": choices,
            "usage": usage,
            "service_tier": "default",
            "system_fingerprint": "fp_fc9f1d7035"
        }))
    }

    fn tool_call_choice() -> Value {
        json!([{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}
                }],
                "refusal": null,
                "annotations": []
            },
            "logprobs": null,
            "finish_reason": "tool_calls"
        }])
    }

    #[test]
    fn usage_counts_cached_and_reasoning_tokens_within_the_totals() {
        let response = completion(
            tool_call_choice(),
            json!({
                "prompt_tokens": 2006,
                "completion_tokens": 300,
                "total_tokens": 2306,
                "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": 192,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0
                }
            }),
        );
        assert_eq!(
            response.usage(),
            Some(
                Usage::new(2006, 300)
                    .with_cache_read(1920)
                    .with_reasoning(192)
            )
        );
        assert_eq!(response.response_model(), Some("gpt-4o-2024-08-06"));
        assert_eq!(
            response.response_id(),
            Some("chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG")
        );
    }

    #[test]
    fn zero_token_details_are_left_out_and_missing_usage_is_none() {
        let response = completion(
            tool_call_choice(),
            json!({
                "prompt_tokens": 19,
                "completion_tokens": 10,
                "total_tokens": 29,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}
            }),
        );
        let usage = response.usage().unwrap();
        assert_eq!(usage, Usage::new(19, 10));
        assert_eq!(usage.cache_read_tokens, None);
        assert_eq!(usage.reasoning_tokens, None);

        let response = completion(tool_call_choice(), Value::Null);
        assert_eq!(response.usage(), None);
    }

    #[test]
    fn a_tool_call_is_the_output_message() {
        let response = completion(tool_call_choice(), Value::Null);
        assert_eq!(response.finish_reasons(), ["tool_call"]);
        assert_eq!(
            json_of(&response.output_messages()),
            json!([{
                "role": "assistant",
                "parts": [{
                    "type": "tool_call",
                    "id": "call_1",
                    "name": "get_weather",
                    "arguments": {"location": "Paris"}
                }],
                "finish_reason": "tool_call"
            }])
        );
    }

    #[test]
    fn one_finish_reason_and_message_per_choice_in_order() {
        let response = completion(
            json!([
                {"index": 0, "finish_reason": "stop", "logprobs": null,
                 "message": {"role": "assistant", "content": "It is rainy.", "refusal": null}},
                {"index": 1, "finish_reason": "length", "logprobs": null,
                 "message": {"role": "assistant", "content": "It is rai", "refusal": null}},
                {"index": 2, "finish_reason": "content_filter", "logprobs": null,
                 "message": {"role": "assistant", "content": null,
                             "refusal": "I can't help with that."}},
                {"index": 3, "finish_reason": "function_call", "logprobs": null,
                 "message": {"role": "assistant", "content": null,
                             "function_call": {"name": "get_weather", "arguments": "not json"}}}
            ]),
            json!({"prompt_tokens": 12, "completion_tokens": 20, "total_tokens": 32}),
        );
        assert_eq!(
            response.finish_reasons(),
            ["stop", "length", "content_filter", "tool_call"]
        );
        assert_eq!(
            json_of(&response.output_messages()),
            json!([
                {"role": "assistant", "parts": [{"type": "text", "content": "It is rainy."}],
                 "finish_reason": "stop"},
                {"role": "assistant", "parts": [{"type": "text", "content": "It is rai"}],
                 "finish_reason": "length"},
                {"role": "assistant",
                 "parts": [{"type": "text", "content": "I can't help with that."}],
                 "finish_reason": "content_filter"},
                {"role": "assistant",
                 "parts": [{"type": "tool_call", "name": "get_weather", "arguments": "not json"}],
                 "finish_reason": "tool_call"}
            ])
        );
    }

    #[test]
    fn request_messages_of_every_role() {
        let request: CreateChatCompletionRequest = from(json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You answer in one sentence."},
                {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
                {"role": "user", "content": "Weather in Paris?", "name": "ann"},
                {"role": "assistant", "content": null, "tool_calls": [{
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}
                }]},
                {"role": "tool", "tool_call_id": "call_1", "content": "rainy, 14°C"},
                {"role": "assistant", "content": [{"type": "text", "text": "It is rainy."}],
                 "refusal": "No more."},
                {"role": "function", "name": "get_time", "content": "12:00"}
            ]
        }));
        assert_eq!(
            json_of(&request.messages()),
            json!([
                {"role": "system", "parts": [{"type": "text", "content": "You answer in one sentence."}]},
                {"role": "system", "parts": [{"type": "text", "content": "Use metric units."}]},
                {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}],
                 "name": "ann"},
                {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1",
                    "name": "get_weather", "arguments": {"location": "Paris"}}]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1",
                    "response": "rainy, 14°C"}]},
                {"role": "assistant", "parts": [
                    {"type": "text", "content": "It is rainy."},
                    {"type": "text", "content": "No more."}
                ]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "response": "12:00"}],
                 "name": "get_time"}
            ])
        );
        assert!(request.system_instructions().is_empty());
    }

    #[test]
    fn request_media_parts() {
        let request: CreateChatCompletionRequest = from(json!({
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQSkZJRg=="}},
                {"type": "input_audio", "input_audio": {"data": "UklGRiQAAABXQVZF", "format": "wav"}},
                {"type": "file", "file": {"file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"}},
                {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,JVBERi0xLjQ="}}
            ]}]
        }));
        assert_eq!(
            json_of(&request.messages()),
            json!([{"role": "user", "parts": [
                {"type": "text", "content": "What is in these?"},
                {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
                {"type": "blob", "modality": "image", "mime_type": "image/jpeg",
                 "content": "/9j/4AAQSkZJRg=="},
                {"type": "blob", "modality": "audio", "mime_type": "audio/wav",
                 "content": "UklGRiQAAABXQVZF"},
                {"type": "file", "modality": "document", "file_id": "file-6F2ksmvXxt4VdoqmHRw6kL"},
                {"type": "blob", "modality": "document", "mime_type": "application/pdf",
                 "content": "JVBERi0xLjQ="}
            ]}])
        );
    }

    #[test]
    fn message_lists_work_through_the_blanket_impls() {
        let request: CreateChatCompletionRequest = from(json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"}
            ]
        }));
        let list: Vec<ChatCompletionRequestMessage> = request.messages.clone();
        assert_eq!(list.messages(), request.messages());
        assert_eq!(list[1..].messages(), [Message::user("Hi")]);
        assert_eq!(list[0].messages(), [Message::system("Be brief.")]);
        assert!(list.system_instructions().is_empty());
    }

    /// A streamed answer with `stream_options.include_usage`: role, two text deltas, the finish
    /// reason, then usage on a chunk without choices.
    fn stream() -> Vec<CreateChatCompletionStreamResponse> {
        let chunk = |choices: Value, usage: Value| {
            from::<CreateChatCompletionStreamResponse>(json!({
                "id": "chatcmpl-123",
                "object": "chat.completion.chunk",
                "created": 1694268190,
                "model": "gpt-4o-mini-2024-07-18",
                "system_fingerprint": "fp_44709d6fcb",
                "choices": choices,
                "usage": usage,
                "obfuscation": "x1"
            }))
        };
        let delta = |delta: Value, finish: Value| json!([{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]);
        vec![
            chunk(
                delta(
                    json!({"role": "assistant", "content": "", "refusal": null}),
                    Value::Null,
                ),
                Value::Null,
            ),
            chunk(delta(json!({"content": "Hel"}), Value::Null), Value::Null),
            chunk(delta(json!({"content": "lo"}), Value::Null), Value::Null),
            chunk(delta(json!({}), json!("stop")), Value::Null),
            chunk(
                json!([]),
                json!({
                    "prompt_tokens": 1200,
                    "completion_tokens": 2,
                    "total_tokens": 1202,
                    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
                    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}
                }),
            ),
        ]
    }

    #[test]
    fn stream_chunks_report_text_finish_reason_and_final_usage() {
        let chunks = stream();
        let texts: Vec<Option<&str>> = chunks.iter().map(StreamChunk::text).collect();
        assert_eq!(texts, [Some(""), Some("Hel"), Some("lo"), None, None]);
        let content: Vec<bool> = chunks.iter().map(StreamChunk::has_content).collect();
        assert_eq!(content, [false, true, true, false, false]);
        let reasons: Vec<Option<&str>> = chunks.iter().map(StreamChunk::finish_reason).collect();
        assert_eq!(reasons, [None, None, None, Some("stop"), None]);
        let usage: Vec<Option<Usage>> = chunks.iter().map(StreamChunk::usage).collect();
        assert_eq!(
            usage,
            [
                None,
                None,
                None,
                None,
                Some(Usage::new(1200, 2).with_cache_read(1024))
            ]
        );
        for chunk in &chunks {
            assert_eq!(chunk.response_model(), Some("gpt-4o-mini-2024-07-18"));
            assert_eq!(chunk.response_id(), Some("chatcmpl-123"));
        }
    }

    #[test]
    fn stream_tool_call_deltas_and_refusals_are_content() {
        let chunk: CreateChatCompletionStreamResponse = from(json!({
            "id": "chatcmpl-9",
            "object": "chat.completion.chunk",
            "created": 1694268190,
            "model": "gpt-4o",
            "choices": [{"index": 0, "logprobs": null, "finish_reason": null, "delta": {
                "role": "assistant",
                "content": null,
                "tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                "function": {"name": "get_weather", "arguments": ""}}]
            }}]
        }));
        assert!(chunk.has_content());
        assert_eq!(chunk.text(), None);

        let refusal: CreateChatCompletionStreamResponse = from(json!({
            "id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1694268190,
            "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": null, "delta": {"refusal": "I can't"}}]
        }));
        assert!(refusal.has_content());

        let done: CreateChatCompletionStreamResponse = from(json!({
            "id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1694268190,
            "model": "gpt-4o",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "delta": {}}]
        }));
        assert!(!done.has_content());
        assert_eq!(done.finish_reason(), Some("tool_call"));
    }

    #[test]
    fn stream_reads_the_first_choice_and_skips_empty_ids() {
        // Azure's first chunk: prompt filter results, no choices, empty id and model.
        let azure: CreateChatCompletionStreamResponse = from(json!({
            "id": "", "object": "", "created": 0, "model": "", "choices": [],
            "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]
        }));
        assert_eq!(azure.response_model(), None);
        assert_eq!(azure.response_id(), None);
        assert!(!azure.has_content());

        // With `n` = 2, a chunk of the second choice is content but not the first's text.
        let second: CreateChatCompletionStreamResponse = from(json!({
            "id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 1, "finish_reason": "length", "delta": {"content": "Bonjour"}}]
        }));
        assert!(second.has_content());
        assert_eq!(second.text(), None);
        assert_eq!(second.finish_reason(), None);
    }

    #[test]
    fn a_response_is_recorded_on_the_span() {
        use crate::record::{Callsite, Field, Kind, Record, Value as V};
        static CALL: Callsite = Callsite::new(Kind::LlmCall, "chat", "m", &[], &[], 0);

        let response = completion(
            tool_call_choice(),
            json!({
                "prompt_tokens": 2006, "completion_tokens": 300, "total_tokens": 2306,
                "prompt_tokens_details": {"cached_tokens": 1920},
                "completion_tokens_details": {"reasoning_tokens": 0}
            }),
        );
        let mut rec = Record::new(&CALL, 1, 1, 0, None, 0);
        assert!(crate::usage::record_response(&mut rec, &response, true));
        assert_eq!(rec.token(Field::InputTokens), Some(2006));
        assert_eq!(rec.token(Field::OutputTokens), Some(300));
        assert_eq!(rec.token(Field::CacheReadTokens), Some(1920));
        assert_eq!(rec.token(Field::ReasoningTokens), None);
        assert_eq!(
            rec.get(Field::ResponseModel).and_then(V::as_str),
            Some("gpt-4o-2024-08-06")
        );
        // A single well-known reason is stored without allocating.
        assert_eq!(
            rec.get(Field::FinishReasons),
            Some(&V::StrList(&["tool_call"]))
        );
        let output: Value =
            serde_json::from_str(rec.get(Field::OutputMessages).and_then(V::as_str).unwrap())
                .unwrap();
        assert_eq!(
            output[0]["parts"][0]["arguments"],
            json!({"location": "Paris"})
        );
    }
}
