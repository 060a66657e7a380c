//! Messages into a span record, as size-capped JSON.
//!
//! The values borrow from the call's parameters or return value, so they are serialized on the
//! caller's thread, only when content is captured.

use super::Message;
use crate::capture;
use crate::record::CAPTURE_FAILED;
use crate::record::{Field, Record, Value};

/// Records `messages` as `gen_ai.output.messages`; `false` when there were none.
pub(crate) fn record_output(rec: &mut Record, messages: &[Message<'_>]) -> bool {
    if messages.is_empty() {
        return false;
    }
    capture::record_json(rec, Field::OutputMessages, messages);
    true
}

pub(crate) fn failed(rec: &mut Record, field: Field) {
    rec.set(field, Value::Json(format!("\"{CAPTURE_FAILED}\"").into()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Part, Role};

    #[test]
    fn shapes_follow_the_conventions() {
        let history = vec![
            Message::system("Be brief."),
            Message::user("Weather in Paris?").with_name("ann"),
            Message::assistant_parts([Part::tool_call(
                Some("call_1"),
                "get_weather",
                r#"{"location":"Paris"}"#,
            )]),
            Message::tool_response(Some("call_1"), "rainy, 57°F"),
            Message::new(Role::Other("critic".into()), [Part::reasoning("hm")]),
        ];
        let json = serde_json::to_value(&history).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
                {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}], "name": "ann"},
                {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"location": "Paris"}}]},
                {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "rainy, 57°F"}]},
                {"role": "critic", "parts": [{"type": "reasoning", "content": "hm"}]},
            ])
        );
        let out = Message::assistant("It rains.").with_finish_reason("stop");
        assert_eq!(
            serde_json::to_value(&out).unwrap(),
            serde_json::json!({"role": "assistant", "parts": [{"type": "text", "content": "It rains."}], "finish_reason": "stop"})
        );
    }

    #[test]
    fn broken_tool_arguments_stay_a_string() {
        let part = Part::tool_call(None, "f", "{not json");
        assert_eq!(
            serde_json::to_value(&part).unwrap(),
            serde_json::json!({"type": "tool_call", "name": "f", "arguments": "{not json"})
        );
    }

    #[test]
    fn reborrow_is_equal() {
        let m = Message::user(String::from("owned")).with_finish_reason(String::from("stop"));
        assert_eq!(m.reborrow(), m);
    }
}
