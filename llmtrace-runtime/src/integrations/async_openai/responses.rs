//! The Responses API: `Response`, `CreateResponse`, `ResponseStreamEvent`.

use ::async_openai::types::responses::{
    CreateResponse, CustomToolCallOutputOutput, EasyInputContent, FunctionCallOutput, InputContent,
    InputItem, InputParam, InputRole, Item, MessageItem, OutputItem, OutputMessage,
    OutputMessageContent, ReasoningItem, ReasoningItemContent, Response, ResponseStreamEvent,
    ResponseUsage, Role as InputMessageRole, Status, SummaryPart,
};

use super::{custom_tool_call, file_data, file_id, media_url, positive};
use crate::{LlmResponse, Message, Messages, Modality, Part, Role, StreamChunk, Usage};

/// Responses usage: input tokens count cached ones, output tokens count reasoning ones.
fn usage(u: &ResponseUsage) -> Usage {
    let mut usage = Usage::new(u.input_tokens.into(), u.output_tokens.into());
    if let Some(n) = positive(u.input_tokens_details.cached_tokens) {
        usage = usage.with_cache_read(n);
    }
    if let Some(n) = u.input_tokens_details.cache_write_tokens.and_then(positive) {
        usage = usage.with_cache_write(n);
    }
    if let Some(n) = positive(u.output_tokens_details.reasoning_tokens) {
        usage = usage.with_reasoning(n);
    }
    usage
}

/// Why the response ended, in the conventions' terms; `None` while it is still running.
fn finish_reason(response: &Response) -> Option<&str> {
    match response.status {
        Status::Completed => {
            let calls = response.output.iter().any(|item| {
                matches!(
                    item,
                    OutputItem::FunctionCall(_) | OutputItem::CustomToolCall(_)
                )
            });
            Some(if calls { "tool_call" } else { "stop" })
        }
        Status::Incomplete => Some(
            match response
                .incomplete_details
                .as_ref()
                .map(|d| d.reason.as_str())
            {
                Some("max_output_tokens") => "length",
                Some("content_filter") => "content_filter",
                Some(other) => other,
                None => "incomplete",
            },
        ),
        Status::Failed | Status::Cancelled => Some("error"),
        Status::InProgress | Status::Queued => None,
    }
}

fn reasoning(item: &ReasoningItem) -> impl Iterator<Item = Part<'_>> {
    let summaries = item
        .summary
        .iter()
        .map(|SummaryPart::SummaryText(s)| s.text.as_str());
    let contents = item
        .content
        .iter()
        .flatten()
        .map(|ReasoningItemContent::ReasoningText(t)| t.text.as_str());
    summaries
        .chain(contents)
        .filter(|t| !t.is_empty())
        .map(Part::reasoning)
}

fn output_message(message: &OutputMessage) -> impl Iterator<Item = Part<'_>> {
    message.content.iter().map(|content| match content {
        OutputMessageContent::OutputText(t) => Part::text(t.text.as_str()),
        OutputMessageContent::Refusal(r) => Part::text(r.refusal.as_str()),
    })
}

/// The parts of an item the model produced, in order; none for hosted tool calls and the like.
fn output_item(item: &OutputItem) -> Vec<Part<'_>> {
    match item {
        OutputItem::Reasoning(r) => reasoning(r).collect(),
        OutputItem::Message(m) => output_message(m).collect(),
        OutputItem::FunctionCall(call) => vec![Part::tool_call(
            Some(&call.call_id),
            call.name.as_str(),
            &call.arguments,
        )],
        OutputItem::CustomToolCall(call) => {
            vec![custom_tool_call(&call.call_id, &call.name, &call.input)]
        }
        _ => Vec::new(),
    }
}

// Hidden from errors like the runtime's own impls of `LlmResponse` and `Messages` (see
// their docs): an error names the user's type and lists none of them.
#[diagnostic::do_not_recommend]
impl LlmResponse for Response {
    fn usage(&self) -> Option<Usage> {
        self.usage.as_ref().map(usage)
    }

    fn response_model(&self) -> Option<&str> {
        (!self.model.is_empty()).then_some(self.model.as_str())
    }

    fn response_id(&self) -> Option<&str> {
        (!self.id.is_empty()).then_some(self.id.as_str())
    }

    fn finish_reasons(&self) -> Vec<&str> {
        finish_reason(self).into_iter().collect()
    }

    /// One assistant message: reasoning, text and tool calls in output order. A response that
    /// failed or is still running without output has none.
    fn output_messages(&self) -> Vec<Message<'_>> {
        let parts: Vec<Part<'_>> = self.output.iter().flat_map(output_item).collect();
        let ended = matches!(self.status, Status::Completed | Status::Incomplete);
        if parts.is_empty() && !ended {
            return Vec::new();
        }
        let message = Message::new(Role::Assistant, parts);
        match finish_reason(self) {
            Some(reason) => vec![message.with_finish_reason(reason)],
            None => vec![message],
        }
    }
}

/// An input content part: text, an image (URL, `data:` URL or file id) or a file.
fn input_content(content: &InputContent) -> Option<Part<'_>> {
    match content {
        InputContent::InputText(t) => Some(Part::text(t.text.as_str())),
        InputContent::InputImage(image) => match (&image.image_url, &image.file_id) {
            (Some(url), _) => Some(media_url(url, Modality::Image)),
            (None, Some(id)) => Some(file_id(id, Modality::Image)),
            (None, None) => None,
        },
        InputContent::InputFile(f) => {
            if let Some(id) = &f.file_id {
                Some(file_id(id, Modality::Document))
            } else if let Some(url) = &f.file_url {
                Some(media_url(url, Modality::Document))
            } else {
                f.file_data
                    .as_deref()
                    .map(|data| file_data(data, Modality::Document))
            }
        }
    }
}

fn input_contents(contents: &[InputContent]) -> Vec<Part<'_>> {
    contents.iter().filter_map(input_content).collect()
}

/// A function or custom tool's output sent back: its text, or its content parts as JSON.
fn tool_output<'a>(
    id: Option<&'a str>,
    text: Option<&'a str>,
    list: &[InputContent],
) -> Message<'a> {
    let response = match text {
        Some(text) => text.into(),
        None => serde_json::to_value(list).unwrap_or_default(),
    };
    Message::tool_response(id, response)
}

/// The role and parts of one input item; `None` for items without a part in the conventions.
fn input_item(item: &InputItem) -> Option<Message<'_>> {
    let (role, parts) = match item {
        InputItem::EasyMessage(m) => (
            match m.role {
                InputMessageRole::User => Role::User,
                InputMessageRole::Assistant => Role::Assistant,
                InputMessageRole::System | InputMessageRole::Developer => Role::System,
            },
            match &m.content {
                EasyInputContent::Text(text) => vec![Part::text(text.as_str())],
                EasyInputContent::ContentList(list) => input_contents(list),
            },
        ),
        InputItem::Item(Item::Message(MessageItem::Input(m))) => (
            match m.role {
                InputRole::User => Role::User,
                InputRole::System | InputRole::Developer => Role::System,
            },
            input_contents(&m.content),
        ),
        InputItem::Item(Item::Message(MessageItem::Output(m))) => {
            (Role::Assistant, output_message(m).collect())
        }
        InputItem::Item(Item::Reasoning(r)) => (Role::Assistant, reasoning(r).collect()),
        InputItem::Item(Item::FunctionCall(call)) => (
            Role::Assistant,
            vec![Part::tool_call(
                Some(&call.call_id),
                call.name.as_str(),
                &call.arguments,
            )],
        ),
        InputItem::Item(Item::CustomToolCall(call)) => (
            Role::Assistant,
            vec![custom_tool_call(&call.call_id, &call.name, &call.input)],
        ),
        InputItem::Item(Item::FunctionCallOutput(out)) => {
            return Some(match &out.output {
                FunctionCallOutput::Text(text) => {
                    tool_output(out.call_id.as_deref(), Some(text), &[])
                }
                FunctionCallOutput::Content(list) => {
                    tool_output(out.call_id.as_deref(), None, list)
                }
            });
        }
        InputItem::Item(Item::CustomToolCallOutput(out)) => {
            return Some(match &out.output {
                CustomToolCallOutputOutput::Text(text) => {
                    tool_output(Some(&out.call_id), Some(text), &[])
                }
                CustomToolCallOutputOutput::List(list) => {
                    tool_output(Some(&out.call_id), None, list)
                }
            });
        }
        _ => return None,
    };
    (!parts.is_empty()).then(|| Message::new(role, parts))
}

/// Input items as messages. Consecutive assistant items (an earlier response's reasoning,
/// message and function calls, sent back) form one assistant message, as in the output.
fn input_items(items: &[InputItem]) -> Vec<Message<'_>> {
    let mut messages: Vec<Message<'_>> = Vec::new();
    for message in items.iter().filter_map(input_item) {
        match messages.last_mut() {
            Some(last) if last.role == Role::Assistant && message.role == Role::Assistant => {
                last.parts.extend(message.parts);
            }
            _ => messages.push(message),
        }
    }
    messages
}

#[diagnostic::do_not_recommend]
impl Messages for CreateResponse {
    fn messages(&self) -> Vec<Message<'_>> {
        match &self.input {
            InputParam::Text(text) => vec![Message::user(text.as_str())],
            InputParam::Items(items) => input_items(items),
        }
    }

    fn system_instructions(&self) -> Vec<Part<'_>> {
        self.instructions
            .as_deref()
            .filter(|i| !i.is_empty())
            .map(Part::text)
            .into_iter()
            .collect()
    }
}

/// The response an event carries (`response.created`, `.in_progress`, `.queued` and the
/// final events).
fn event_response(event: &ResponseStreamEvent) -> Option<&Response> {
    match event {
        ResponseStreamEvent::ResponseCreated(e) => Some(&e.response),
        ResponseStreamEvent::ResponseInProgress(e) => Some(&e.response),
        ResponseStreamEvent::ResponseQueued(e) => Some(&e.response),
        _ => final_response(event),
    }
}

/// The response of a final event: completed, incomplete or failed.
fn final_response(event: &ResponseStreamEvent) -> Option<&Response> {
    match event {
        ResponseStreamEvent::ResponseCompleted(e) => Some(&e.response),
        ResponseStreamEvent::ResponseIncomplete(e) => Some(&e.response),
        ResponseStreamEvent::ResponseFailed(e) => Some(&e.response),
        _ => None,
    }
}

impl StreamChunk for ResponseStreamEvent {
    fn text(&self) -> Option<&str> {
        match self {
            ResponseStreamEvent::ResponseOutputTextDelta(e) => Some(&e.delta),
            _ => None,
        }
    }

    /// Deltas of the answer: text, refusal, reasoning, and tool call arguments. Lifecycle
    /// events (`response.created`, `.output_item.added`, ...) are not content.
    fn has_content(&self) -> bool {
        let delta = match self {
            ResponseStreamEvent::ResponseOutputTextDelta(e) => &e.delta,
            ResponseStreamEvent::ResponseRefusalDelta(e) => &e.delta,
            ResponseStreamEvent::ResponseReasoningSummaryTextDelta(e) => &e.delta,
            ResponseStreamEvent::ResponseReasoningTextDelta(e) => &e.delta,
            ResponseStreamEvent::ResponseFunctionCallArgumentsDelta(e) => &e.delta,
            ResponseStreamEvent::ResponseCustomToolCallInputDelta(e) => &e.delta,
            _ => return false,
        };
        !delta.is_empty()
    }

    fn usage(&self) -> Option<Usage> {
        final_response(self)?.usage()
    }

    fn response_model(&self) -> Option<&str> {
        event_response(self)?.response_model()
    }

    fn response_id(&self) -> Option<&str> {
        event_response(self)?.response_id()
    }

    fn finish_reason(&self) -> Option<&str> {
        finish_reason(final_response(self)?)
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

    /// A Responses API object, as the API returns it, with `status`, `output` and `usage`
    /// (and anything in `extra`) replaced.
    fn response_json(status: &str, output: Value, usage: Value, extra: Value) -> Value {
        let mut response = json!({
            "id": "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41",
            "object": "response",
            "created_at": 1741476777,
            "status": status,
            "background": false,
            "error": null,
            "incomplete_details": null,
            "instructions": "You are a weather bot.",
            "max_output_tokens": null,
            "model": "o4-mini-2025-04-16",
            "output": output,
            "parallel_tool_calls": true,
            "previous_response_id": null,
            "reasoning": {"effort": "medium", "summary": "auto"},
            "service_tier": "default",
            "store": true,
            "temperature": 1.0,
            "text": {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": "auto",
            "tools": [{
                "type": "function",
                "name": "get_weather",
                "description": "Current weather of a city.",
                "parameters": {
                    "type": "object",
                    "properties": {"location": {"type": "string"}},
                    "required": ["location"],
                    "additionalProperties": false
                },
                "strict": true
            }],
            "top_p": 1.0,
            "truncation": "disabled",
            "usage": usage,
            "user": null,
            "metadata": {}
        });
        if let (Some(response), Value::Object(extra)) = (response.as_object_mut(), extra) {
            response.extend(extra);
        }
        response
    }

    fn response(status: &str, output: Value, usage: Value, extra: Value) -> Response {
        from(response_json(status, output, usage, extra))
    }

    fn reasoning_message_and_call() -> Value {
        json!([
            {"type": "reasoning", "id": "rs_1", "summary": [
                {"type": "summary_text", "text": "The user wants the weather in Paris."},
                {"type": "summary_text", "text": "Call get_weather."}
            ]},
            {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "text": "Let me check.", "annotations": [],
                          "logprobs": []}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather",
             "arguments": "{\"location\":\"Paris\"}", "status": "completed"}
        ])
    }

    fn usage_json() -> Value {
        json!({
            "input_tokens": 1832,
            "input_tokens_details": {"cached_tokens": 1536},
            "output_tokens": 274,
            "output_tokens_details": {"reasoning_tokens": 128},
            "total_tokens": 2106
        })
    }

    #[test]
    fn reasoning_text_and_function_call_form_one_output_message() {
        let response = response(
            "completed",
            reasoning_message_and_call(),
            usage_json(),
            json!({}),
        );
        assert_eq!(
            response.usage(),
            Some(
                Usage::new(1832, 274)
                    .with_cache_read(1536)
                    .with_reasoning(128)
            )
        );
        assert_eq!(response.response_model(), Some("o4-mini-2025-04-16"));
        assert_eq!(
            response.response_id(),
            Some("resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41")
        );
        assert_eq!(response.finish_reasons(), ["tool_call"]);
        assert_eq!(
            json_of(&response.output_messages()),
            json!([{
                "role": "assistant",
                "parts": [
                    {"type": "reasoning", "content": "The user wants the weather in Paris."},
                    {"type": "reasoning", "content": "Call get_weather."},
                    {"type": "text", "content": "Let me check."},
                    {"type": "tool_call", "id": "call_1", "name": "get_weather",
                     "arguments": {"location": "Paris"}}
                ],
                "finish_reason": "tool_call"
            }])
        );
    }

    #[test]
    fn a_text_answer_stops_and_zero_details_are_left_out() {
        let response = response(
            "completed",
            json!([{"type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": "Rainy, 14°C.", "annotations": []}]}]),
            json!({
                "input_tokens": 36, "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 87, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 123
            }),
            json!({}),
        );
        assert_eq!(response.usage(), Some(Usage::new(36, 87)));
        assert_eq!(response.finish_reasons(), ["stop"]);
        assert_eq!(
            json_of(&response.output_messages()),
            json!([{"role": "assistant", "parts": [{"type": "text", "content": "Rainy, 14°C."}],
                    "finish_reason": "stop"}])
        );
    }

    #[test]
    fn incomplete_failed_and_running_responses() {
        let incomplete = |reason: &str| {
            response(
                "incomplete",
                json!([{"type": "reasoning", "id": "rs_1", "summary": []}]),
                usage_json(),
                json!({"incomplete_details": {"reason": reason}}),
            )
        };
        let length = incomplete("max_output_tokens");
        assert_eq!(length.finish_reasons(), ["length"]);
        // Reasoning spent every output token: the message says why, with no parts.
        assert_eq!(
            json_of(&length.output_messages()),
            json!([{"role": "assistant", "parts": [], "finish_reason": "length"}])
        );
        assert_eq!(
            incomplete("content_filter").finish_reasons(),
            ["content_filter"]
        );

        let failed = response(
            "failed",
            json!([]),
            Value::Null,
            json!({"error": {"code": "server_error", "message": "The model failed."}}),
        );
        assert_eq!(failed.finish_reasons(), ["error"]);
        assert_eq!(failed.output_messages(), []);
        assert_eq!(failed.usage(), None);

        let running = response("in_progress", json!([]), Value::Null, json!({}));
        assert!(running.finish_reasons().is_empty());
        assert_eq!(running.output_messages(), []);
    }

    #[test]
    fn string_input_and_instructions() {
        let request: CreateResponse = from(json!({
            "model": "gpt-4.1",
            "instructions": "Talk like a pirate.",
            "input": "Are semicolons optional in JavaScript?"
        }));
        assert_eq!(
            json_of(&request.messages()),
            json!([{"role": "user", "parts": [
                {"type": "text", "content": "Are semicolons optional in JavaScript?"}
            ]}])
        );
        assert_eq!(
            json_of(&request.system_instructions()),
            json!([{"type": "text", "content": "Talk like a pirate."}])
        );

        let request: CreateResponse = from(json!({"model": "gpt-4.1", "input": "Hi"}));
        assert!(request.system_instructions().is_empty());
    }

    #[test]
    fn input_items_map_by_role_and_tool_outputs_are_tool_messages() {
        let mut items = vec![
            json!({"role": "developer", "content": "Use metric units."}),
            json!({"type": "message", "role": "user", "content": [
                {"type": "input_text", "text": "Weather where this was taken?"},
                {"type": "input_image", "detail": "auto",
                 "image_url": "data:image/png;base64,iVBORw0KGgo="},
                {"type": "input_image", "file_id": "file-img"},
                {"type": "input_file", "file_id": "file-doc"},
                {"type": "input_file", "file_url": "https://example.com/trip.pdf"}
            ]}),
        ];
        // The previous response's output, sent back, then the function's result.
        items.extend(
            reasoning_message_and_call()
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        items.push(json!({"type": "function_call_output", "call_id": "call_1",
                          "output": "{\"temperature\":14}"}));
        items.push(json!({"type": "item_reference", "id": "msg_0"}));
        let request: CreateResponse = from(json!({"model": "o4-mini", "input": items}));
        assert_eq!(
            json_of(&request.messages()),
            json!([
                {"role": "system", "parts": [{"type": "text", "content": "Use metric units."}]},
                {"role": "user", "parts": [
                    {"type": "text", "content": "Weather where this was taken?"},
                    {"type": "blob", "modality": "image", "mime_type": "image/png",
                     "content": "iVBORw0KGgo="},
                    {"type": "file", "modality": "image", "file_id": "file-img"},
                    {"type": "file", "modality": "document", "file_id": "file-doc"},
                    {"type": "uri", "modality": "document", "uri": "https://example.com/trip.pdf"}
                ]},
                {"role": "assistant", "parts": [
                    {"type": "reasoning", "content": "The user wants the weather in Paris."},
                    {"type": "reasoning", "content": "Call get_weather."},
                    {"type": "text", "content": "Let me check."},
                    {"type": "tool_call", "id": "call_1", "name": "get_weather",
                     "arguments": {"location": "Paris"}}
                ]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1",
                                            "response": "{\"temperature\":14}"}]}
            ])
        );
    }

    /// Events of a streamed response, as the API sends them.
    fn events() -> Vec<ResponseStreamEvent> {
        let created = response_json("in_progress", json!([]), Value::Null, json!({}));
        let completed = response_json(
            "completed",
            reasoning_message_and_call(),
            usage_json(),
            json!({}),
        );
        [
            json!({"type": "response.created", "sequence_number": 0, "response": created}),
            json!({"type": "response.in_progress", "sequence_number": 1, "response": created}),
            json!({"type": "response.output_item.added", "sequence_number": 2, "output_index": 0,
                   "item": {"type": "reasoning", "id": "rs_1", "summary": []}}),
            json!({"type": "response.reasoning_summary_text.delta", "sequence_number": 3,
                   "item_id": "rs_1", "output_index": 0, "summary_index": 0,
                   "delta": "The user wants"}),
            json!({"type": "response.output_text.delta", "sequence_number": 4, "item_id": "msg_1",
                   "output_index": 1, "content_index": 0, "delta": "Let me", "logprobs": []}),
            json!({"type": "response.output_text.delta", "sequence_number": 5, "item_id": "msg_1",
                   "output_index": 1, "content_index": 0, "delta": " check.", "logprobs": []}),
            json!({"type": "response.output_text.done", "sequence_number": 6, "item_id": "msg_1",
                   "output_index": 1, "content_index": 0, "text": "Let me check.",
                   "logprobs": []}),
            json!({"type": "response.function_call_arguments.delta", "sequence_number": 7,
                   "item_id": "fc_1", "output_index": 2, "delta": "{\"location\":"}),
            json!({"type": "response.completed", "sequence_number": 8, "response": completed}),
        ]
        .into_iter()
        .map(from)
        .collect()
    }

    #[test]
    fn stream_events_report_text_content_and_the_final_response() {
        let events = events();
        let texts: Vec<Option<&str>> = events.iter().map(StreamChunk::text).collect();
        assert_eq!(
            texts,
            [
                None,
                None,
                None,
                None,
                Some("Let me"),
                Some(" check."),
                None,
                None,
                None
            ]
        );
        let content: Vec<bool> = events.iter().map(StreamChunk::has_content).collect();
        assert_eq!(
            content,
            [false, false, false, true, true, true, false, true, false]
        );
        let reasons: Vec<Option<&str>> = events.iter().map(StreamChunk::finish_reason).collect();
        assert_eq!(
            reasons,
            [
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                Some("tool_call")
            ]
        );
        let usage: Vec<Option<Usage>> = events.iter().map(StreamChunk::usage).collect();
        assert_eq!(usage[..8], [None; 8]);
        assert_eq!(
            usage[8],
            Some(
                Usage::new(1832, 274)
                    .with_cache_read(1536)
                    .with_reasoning(128)
            )
        );
        let models: Vec<Option<&str>> = events.iter().map(StreamChunk::response_model).collect();
        let model = Some("o4-mini-2025-04-16");
        assert_eq!(
            models,
            [model, model, None, None, None, None, None, None, model]
        );
        assert_eq!(
            events[8].response_id(),
            Some("resp_67ccd3a9da748190baa7f1570fe91ac604becb25c45c1d41")
        );
        assert_eq!(events[0].response_id(), events[8].response_id());
    }

    #[test]
    fn stream_ends_incomplete_or_failed() {
        let incomplete: ResponseStreamEvent = from(json!({
            "type": "response.incomplete",
            "sequence_number": 12,
            "response": response_json(
                "incomplete",
                json!([]),
                usage_json(),
                json!({"incomplete_details": {"reason": "max_output_tokens"}}),
            )
        }));
        assert_eq!(incomplete.finish_reason(), Some("length"));
        assert_eq!(incomplete.usage().map(|u| u.output_tokens), Some(Some(274)));
        assert!(!incomplete.has_content());

        let failed: ResponseStreamEvent = from(json!({
            "type": "response.failed",
            "sequence_number": 3,
            "response": response_json(
                "failed",
                json!([]),
                Value::Null,
                json!({"error": {"code": "server_error", "message": "The model failed."}}),
            )
        }));
        assert_eq!(failed.finish_reason(), Some("error"));
        assert_eq!(failed.usage(), None);

        let error: ResponseStreamEvent = from(json!({
            "type": "error", "sequence_number": 4, "code": "ERR_SOMETHING",
            "message": "Something went wrong", "param": null
        }));
        assert_eq!(error.finish_reason(), None);
        assert_eq!(error.text(), None);
    }
}
