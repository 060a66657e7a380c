//! The parts of a message, with the `type` discriminator of the GenAI conventions.

use std::borrow::Cow;

use serde::Serialize;

/// What a media part holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Modality {
    /// A picture.
    Image,
    /// A video.
    Video,
    /// Sound.
    Audio,
    /// A document (PDF, ...).
    Document,
}

/// One part of a [`Message`](super::Message).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Part<'a> {
    /// Text.
    Text {
        /// The text.
        content: Cow<'a, str>,
    },
    /// The model's reasoning, when the API returns it.
    Reasoning {
        /// The reasoning text.
        content: Cow<'a, str>,
    },
    /// A call of a tool requested by the model.
    ToolCall {
        /// The call's id, linking it to its response.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<Cow<'a, str>>,
        /// The tool's name.
        name: Cow<'a, str>,
        /// The arguments, as a JSON object when they parse as one.
        #[serde(skip_serializing_if = "Option::is_none")]
        arguments: Option<serde_json::Value>,
    },
    /// The result of a tool call, sent back to the model.
    ToolCallResponse {
        /// The id of the call it answers.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<Cow<'a, str>>,
        /// The result.
        response: serde_json::Value,
    },
    /// Inline media, base64-encoded.
    Blob {
        /// What the media is.
        modality: Modality,
        /// Its MIME type.
        #[serde(skip_serializing_if = "Option::is_none")]
        mime_type: Option<Cow<'a, str>>,
        /// The base64 content.
        content: Cow<'a, str>,
    },
    /// Media uploaded to the provider, by id.
    File {
        /// What the media is.
        modality: Modality,
        /// Its MIME type.
        #[serde(skip_serializing_if = "Option::is_none")]
        mime_type: Option<Cow<'a, str>>,
        /// The provider's file id.
        file_id: Cow<'a, str>,
    },
    /// Media by URI (not a `data:` URL: use [`Part::Blob`] for inline content).
    Uri {
        /// What the media is.
        modality: Modality,
        /// Its MIME type.
        #[serde(skip_serializing_if = "Option::is_none")]
        mime_type: Option<Cow<'a, str>>,
        /// Where it is.
        uri: Cow<'a, str>,
    },
}

impl<'a> Part<'a> {
    /// A text part.
    pub fn text(content: impl Into<Cow<'a, str>>) -> Self {
        Part::Text {
            content: content.into(),
        }
    }

    /// A reasoning part.
    pub fn reasoning(content: impl Into<Cow<'a, str>>) -> Self {
        Part::Reasoning {
            content: content.into(),
        }
    }

    /// A tool call. `arguments` is the JSON the model produced: recorded as an object when it
    /// parses, as the original string otherwise (models do emit broken JSON).
    pub fn tool_call(id: Option<&'a str>, name: impl Into<Cow<'a, str>>, arguments: &str) -> Self {
        Part::ToolCall {
            id: id.map(Cow::Borrowed),
            name: name.into(),
            arguments: Some(parse_or_string(arguments)),
        }
    }

    /// A tool call's response. A string that holds JSON stays a string: it is what was sent.
    pub fn tool_call_response(id: Option<&'a str>, response: impl Into<serde_json::Value>) -> Self {
        Part::ToolCallResponse {
            id: id.map(Cow::Borrowed),
            response: response.into(),
        }
    }

    /// A copy that borrows from this one instead of cloning its text.
    pub fn reborrow(&self) -> Part<'_> {
        match self {
            Part::Text { content } => Part::Text {
                content: Cow::Borrowed(content),
            },
            Part::Reasoning { content } => Part::Reasoning {
                content: Cow::Borrowed(content),
            },
            Part::ToolCall {
                id,
                name,
                arguments,
            } => Part::ToolCall {
                id: id.as_deref().map(Cow::Borrowed),
                name: Cow::Borrowed(name),
                arguments: arguments.clone(),
            },
            Part::ToolCallResponse { id, response } => Part::ToolCallResponse {
                id: id.as_deref().map(Cow::Borrowed),
                response: response.clone(),
            },
            Part::Blob {
                modality,
                mime_type,
                content,
            } => Part::Blob {
                modality: *modality,
                mime_type: mime_type.as_deref().map(Cow::Borrowed),
                content: Cow::Borrowed(content),
            },
            Part::File {
                modality,
                mime_type,
                file_id,
            } => Part::File {
                modality: *modality,
                mime_type: mime_type.as_deref().map(Cow::Borrowed),
                file_id: Cow::Borrowed(file_id),
            },
            Part::Uri {
                modality,
                mime_type,
                uri,
            } => Part::Uri {
                modality: *modality,
                mime_type: mime_type.as_deref().map(Cow::Borrowed),
                uri: Cow::Borrowed(uri),
            },
        }
    }
}

/// `s` as JSON when it parses as a JSON object or array, else as a JSON string.
pub(crate) fn parse_or_string(s: &str) -> serde_json::Value {
    let trimmed = s.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(v) = serde_json::from_str(s) {
            return v;
        }
    }
    serde_json::Value::String(s.to_owned())
}
