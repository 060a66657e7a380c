//! `error.type` for `async-openai`'s errors (feature `async-openai-client`, which brings its HTTP
//! client and so the error variants an API call returns).

use std::borrow::Cow;

use async_openai::error::{ApiErrorResponse, OpenAIError};

use crate::schema::ErrorType;

/// The `error.type` of an API error: `rate_limited` for HTTP 429, else `api_error.<code>` from
/// the error body's `code` (or its `type`), else `api_error.<HTTP status>`.
fn api_error(e: &ApiErrorResponse) -> Cow<'static, str> {
    if e.status_code.as_u16() == 429 {
        return Cow::Borrowed("rate_limited");
    }
    let body = &e.api_error;
    let code = [body.code.as_deref(), body.r#type.as_deref()]
        .into_iter()
        .flatten()
        .find(|c| !c.is_empty());
    match code {
        // `code` and `type` are OpenAI's own low-cardinality identifiers
        // (`context_length_exceeded`, `invalid_request_error`).
        Some(code) => Cow::Owned(format!("api_error.{code}")),
        None => Cow::Owned(format!("api_error.{}", e.status_code.as_u16())),
    }
}

/// `error.type` for every error an `async-openai` call returns, so that a hand-written
/// `#[llm_call]` function returning `Result<_, OpenAIError>` gets the same codes as the traced
/// [`Client`](crate::openai::Client):
///
/// | error | `error.type` |
/// |---|---|
/// | HTTP 429 (an API error, or a transport error with that status) | `rate_limited` |
/// | a request that timed out | `timeout` |
/// | an API error | `api_error.<code>` from the error body (`api_error.context_length_exceeded`), else its `type`, else the HTTP status |
/// | no connection | `connection_error` |
/// | another transport error | `http_error` |
/// | a response body that does not parse | `invalid_response` |
/// | a broken event stream | `stream_error` |
/// | a request the client rejected before sending it | `invalid_argument` |
///
/// ```
/// use async_openai::error::OpenAIError;
/// use llmtrace_runtime::ErrorType;
///
/// let e = OpenAIError::InvalidArgument("stream must be false".into());
/// assert_eq!(e.error_type(), "invalid_argument");
/// ```
impl ErrorType for OpenAIError {
    fn error_type(&self) -> Cow<'static, str> {
        // Some variants exist only with features of `async-openai` this crate does not turn on
        // (`middleware`): they take the last arm.
        #[allow(unreachable_patterns)]
        match self {
            OpenAIError::ApiError(e) => api_error(e),
            OpenAIError::Reqwest(e) if e.is_timeout() => Cow::Borrowed("timeout"),
            OpenAIError::Reqwest(e) if e.status().is_some_and(|s| s.as_u16() == 429) => {
                Cow::Borrowed("rate_limited")
            }
            OpenAIError::Reqwest(e) if e.is_connect() => Cow::Borrowed("connection_error"),
            OpenAIError::Reqwest(_) => Cow::Borrowed("http_error"),
            OpenAIError::JSONDeserialize(..) => Cow::Borrowed("invalid_response"),
            OpenAIError::StreamError(_) => Cow::Borrowed("stream_error"),
            OpenAIError::InvalidArgument(_) => Cow::Borrowed("invalid_argument"),
            OpenAIError::FileSaveError(_) | OpenAIError::FileReadError(_) => {
                Cow::Borrowed("file_error")
            }
            _ => Cow::Borrowed("OpenAIError"),
        }
    }
}

#[cfg(test)]
mod tests {
    use async_openai::error::ApiError;

    use super::*;

    fn api(status: u16, code: Option<&str>, kind: Option<&str>) -> OpenAIError {
        OpenAIError::ApiError(ApiErrorResponse {
            status_code: status.try_into().unwrap(),
            api_error: ApiError {
                message: "m".into(),
                r#type: kind.map(Into::into),
                param: None,
                code: code.map(Into::into),
                misalignment: None,
            },
        })
    }

    #[test]
    fn api_errors_map_to_rate_limited_or_their_code() {
        let rate = api(429, Some("rate_limit_exceeded"), Some("requests"));
        assert_eq!(rate.error_type(), "rate_limited");
        let ctx = api(
            400,
            Some("context_length_exceeded"),
            Some("invalid_request_error"),
        );
        assert_eq!(ctx.error_type(), "api_error.context_length_exceeded");
        let typed = api(400, None, Some("invalid_request_error"));
        assert_eq!(typed.error_type(), "api_error.invalid_request_error");
        assert_eq!(api(503, None, None).error_type(), "api_error.503");
        assert_eq!(api(500, Some(""), None).error_type(), "api_error.500");
    }

    #[test]
    fn client_side_errors_have_their_own_codes() {
        let json = serde_json::from_str::<u8>("x").unwrap_err();
        assert_eq!(
            OpenAIError::JSONDeserialize(json, "x".into()).error_type(),
            "invalid_response"
        );
        assert_eq!(
            OpenAIError::InvalidArgument("x".into()).error_type(),
            "invalid_argument"
        );
    }
}
