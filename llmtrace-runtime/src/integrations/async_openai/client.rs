//! A traced `async-openai` client: every chat completion, Responses API and embeddings call is a
//! model-call span, with no function to write (feature `async-openai-client`).

use std::future::Future;

use async_openai::config::{Config, OpenAIConfig};
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionResponseStream, CreateChatCompletionRequest, CreateChatCompletionResponse,
    ResponseFormat, StopConfiguration,
};
use async_openai::types::embeddings::{CreateEmbeddingRequest, CreateEmbeddingResponse};
use async_openai::types::responses::{
    CreateResponse, Response, ResponseStream, TextResponseFormatConfiguration,
};
use serde::Serialize;

use crate::__private::stream::InstrumentedStream;
use crate::capture::ret::{ErrorViaErrorType as _, Ret};
use crate::context::Instrumented;
use crate::record::{CAPTURE_OUTPUT, Callsite, Field, Kind, Record, Target, Value};
use crate::span::Span;
use crate::stream::StreamReturn;
use crate::usage::{self, LlmResponse};
use crate::{Messages, Usage};

/// The provider an `async-openai` client talks to unless told otherwise.
const OPENAI: &str = "openai";

// One callsite per operation: what the console tree, the stats and `tracing` mode name the
// spans by. Model, provider and parameters are the request's, set per call. The output (a
// stream's assembled text too) is recorded when content capture is on, as for an `#[llm_call]`.
static CHAT: Callsite = Callsite::new(
    Kind::LlmCall,
    "chat.create",
    "async_openai",
    &[(Field::Operation, Value::Str("chat"))],
    &[],
    CAPTURE_OUTPUT,
)
.with_tracing(crate::__llmtrace_tracing_callsite!(LlmCall, "chat.create"));
static RESPONSES: Callsite = Callsite::new(
    Kind::LlmCall,
    "responses.create",
    "async_openai",
    &[(Field::Operation, Value::Str("chat"))],
    &[],
    CAPTURE_OUTPUT,
)
.with_tracing(crate::__llmtrace_tracing_callsite!(
    LlmCall,
    "responses.create"
));
static EMBEDDINGS: Callsite = Callsite::new(
    Kind::Embeddings,
    "embeddings.create",
    "async_openai",
    &[(Field::Operation, Value::Str("embeddings"))],
    &[],
    CAPTURE_OUTPUT,
)
.with_tracing(crate::__llmtrace_tracing_callsite!(
    LlmCall,
    "embeddings.create"
));

/// An `async-openai` client whose calls are traced: each chat completion, Responses API call and
/// embeddings call is a span (`chat gpt-4o`, `embeddings text-embedding-3-small`) that nests under
/// the llmtrace span current where it is awaited.
///
/// The span records, from the request: the model, temperature, top_p, the maximum output tokens
/// (`max_completion_tokens`, else `max_tokens`; `max_output_tokens` for responses), seed, stop
/// sequences, presence and frequency penalties, `n`, the response format as `gen_ai.output.type`,
/// the reasoning effort, whether it streams, the server's address and port, and, when content
/// capture is on, the messages and the tools offered (`gen_ai.tool.definitions`). From the
/// response: usage (and so cost), the response's model and id, the finish reasons and the output
/// messages; for a stream, the time to the first chunk and what the chunks carry. An error sets
/// `error.type` as [`ErrorType`](crate::ErrorType) for `OpenAIError` says (`rate_limited`,
/// `timeout`, `api_error.<code>`).
///
/// ```no_run
/// # async fn run() -> Result<(), async_openai::error::OpenAIError> {
/// use async_openai::types::chat::CreateChatCompletionRequestArgs;
/// use llmtrace_runtime as llmtrace;
///
/// let client = llmtrace::openai::Client::new(async_openai::Client::new());
/// let request = CreateChatCompletionRequestArgs::default()
///     .model("gpt-4o-mini")
///     .temperature(0.2)
///     .messages([async_openai::types::chat::ChatCompletionRequestUserMessage::from("Hi").into()])
///     .build()?;
/// let reply = client.chat().create(request).await?; // a `chat gpt-4o-mini` span
/// # let _ = reply;
/// # Ok(())
/// # }
/// ```
///
/// OpenAI reports a stream's usage only when the request asks for it
/// (`stream_options.include_usage`): without it, a streamed call has no token counts, and its
/// span says so (`llmtrace.usage.missing`). The client leaves the request as it is.
#[derive(Debug, Clone)]
pub struct Client<C: Config = OpenAIConfig> {
    inner: async_openai::Client<C>,
    provider: &'static str,
    server: Option<(Box<str>, u16)>,
}

impl<C: Config> Client<C> {
    /// Traces the calls made through `client`.
    pub fn new(client: async_openai::Client<C>) -> Self {
        let server = server_of(client.config().api_base());
        Client {
            inner: client,
            provider: OPENAI,
            server,
        }
    }

    /// The `gen_ai.provider.name` of the spans (`openai` unless set): for an OpenAI-compatible
    /// server of another provider, its well-known name (`azure.ai.openai`, `groq`, `deepseek`,
    /// ...), which also picks its prices.
    pub fn with_provider(mut self, provider: &'static str) -> Self {
        self.provider = provider;
        self
    }

    /// The `async-openai` client, for the APIs this one does not trace.
    pub fn inner(&self) -> &async_openai::Client<C> {
        &self.inner
    }

    /// Chat completions, traced.
    pub fn chat(&self) -> Chat<'_, C> {
        Chat { client: self }
    }

    /// The Responses API, traced.
    pub fn responses(&self) -> Responses<'_, C> {
        Responses { client: self }
    }

    /// Embeddings, traced.
    pub fn embeddings(&self) -> Embeddings<'_, C> {
        Embeddings { client: self }
    }

    /// Starts a span of `callsite` for `model` and lets `request` record the rest of the
    /// request's side. The provider, server and model are what the metrics read: a call sampled
    /// out with metrics on keeps them in its tally too.
    fn start(
        &self,
        callsite: &'static Callsite,
        model: Option<&str>,
        request: impl FnOnce(&mut Record),
    ) -> Span {
        let mut span = Span::start(callsite);
        if let Some(mut target) = span.target() {
            target.set_opt(Field::Provider, Some(Value::Str(self.provider)));
            if let Some((host, port)) = &self.server {
                target.set_opt(Field::ServerAddress, Some(Value::String(host.clone())));
                target.set_opt(Field::ServerPort, Some(Value::I64(i64::from(*port))));
            }
            target.set_opt(Field::Model, model.map(usage::intern::name_value));
            if let Some(rec) = target.record() {
                request(rec);
            }
        }
        span
    }
}

/// Traces an `async-openai` client: `async_openai::Client::new().traced()`.
pub trait ClientExt<C: Config> {
    /// The client, traced (see [`Client`]).
    fn traced(self) -> Client<C>;
}

impl<C: Config> ClientExt<C> for async_openai::Client<C> {
    fn traced(self) -> Client<C> {
        Client::new(self)
    }
}

/// Traced chat completions: [`Client::chat`].
#[derive(Debug)]
pub struct Chat<'c, C: Config> {
    client: &'c Client<C>,
}

impl<C: Config> Chat<'_, C> {
    /// `async_openai::Chat::create`, in a span.
    pub async fn create(
        &self,
        request: CreateChatCompletionRequest,
    ) -> Result<CreateChatCompletionResponse, OpenAIError> {
        let span = self.client.start(&CHAT, Some(&request.model), |rec| {
            chat_request(rec, &request, false)
        });
        let call = async move { self.client.inner.chat().create(request).await };
        traced_call(span, call).await
    }

    /// `async_openai::Chat::create_stream`, in a span that stays open until the stream ends
    /// (or is dropped: then the span is marked cancelled).
    pub async fn create_stream(
        &self,
        request: CreateChatCompletionRequest,
    ) -> Result<ChatCompletionResponseStream, OpenAIError> {
        let span = self.client.start(&CHAT, Some(&request.model), |rec| {
            chat_request(rec, &request, true)
        });
        let call = async move { self.client.inner.chat().create_stream(request).await };
        traced_stream(span, call).await
    }
}

/// The traced Responses API: [`Client::responses`].
#[derive(Debug)]
pub struct Responses<'c, C: Config> {
    client: &'c Client<C>,
}

impl<C: Config> Responses<'_, C> {
    /// `async_openai::Responses::create`, in a span.
    pub async fn create(&self, request: CreateResponse) -> Result<Response, OpenAIError> {
        let span = self
            .client
            .start(&RESPONSES, request.model.as_deref(), |rec| {
                responses_request(rec, &request, false)
            });
        let call = async move { self.client.inner.responses().create(request).await };
        traced_call(span, call).await
    }

    /// `async_openai::Responses::create_stream`, in a span that stays open until the stream
    /// ends.
    pub async fn create_stream(
        &self,
        request: CreateResponse,
    ) -> Result<ResponseStream, OpenAIError> {
        let span = self
            .client
            .start(&RESPONSES, request.model.as_deref(), |rec| {
                responses_request(rec, &request, true)
            });
        let call = async move { self.client.inner.responses().create_stream(request).await };
        traced_stream(span, call).await
    }
}

/// Traced embeddings: [`Client::embeddings`].
#[derive(Debug)]
pub struct Embeddings<'c, C: Config> {
    client: &'c Client<C>,
}

impl<C: Config> Embeddings<'_, C> {
    /// `async_openai::Embeddings::create`, in an `embeddings {model}` span.
    pub async fn create(
        &self,
        request: CreateEmbeddingRequest,
    ) -> Result<CreateEmbeddingResponse, OpenAIError> {
        let span = self.client.start(&EMBEDDINGS, Some(&request.model), |rec| {
            if crate::state::content().captures() {
                crate::capture::record_json(rec, Field::Input, &request.input);
            }
        });
        let call = async move { self.client.inner.embeddings().create(request).await };
        traced_call(span, call).await
    }
}

/// Embeddings report input tokens only.
impl LlmResponse for CreateEmbeddingResponse {
    fn usage(&self) -> Option<Usage> {
        Some(Usage::new(u64::from(self.usage.prompt_tokens), 0))
    }

    fn response_model(&self) -> Option<&str> {
        Some(&self.model)
            .filter(|m| !m.is_empty())
            .map(String::as_str)
    }
}

/// Runs `call` in `span` and records its response or error.
fn traced_call<T: LlmResponse, F>(
    span: Span,
    call: F,
) -> impl Future<Output = Result<T, OpenAIError>>
where
    F: Future<Output = Result<T, OpenAIError>>,
{
    // Into the span's record, or, for a call sampled out with metrics on, its tally.
    Instrumented::tallying(
        span,
        call,
        |mut target: Target<'_>, out: &Result<T, OpenAIError>| match out {
            Ok(response) => {
                usage::respond(&mut target, response, crate::state::content().captures());
            }
            Err(_) => (&&&Ret(out)).__llmtrace_error(&mut target),
        },
    )
}

/// Runs `call` in `span`, then moves the span into the stream it returns (or ends it with the
/// error).
fn traced_stream<S: StreamReturn, F>(
    span: Span,
    call: F,
) -> impl Future<Output = Result<S, OpenAIError>>
where
    F: Future<Output = Result<S, OpenAIError>>,
{
    InstrumentedStream::new(span, call, |out, mut span: Span| match out {
        Ok(stream) => Ok(stream.attach_span(span)),
        Err(e) => {
            let out: Result<(), OpenAIError> = Err(e);
            span.finish_with(|rec| (&&&Ret(&out)).__llmtrace_error(&mut Target::Record(rec)));
            out.map(|()| unreachable!("an error"))
        }
    })
}

/// An `f32` parameter, as the decimal the user wrote.
fn set_f32(rec: &mut Record, field: Field, value: Option<f32>) {
    rec.set_opt(field, value.map(Value::from));
}

/// A value whose serde form is a string (an enum of OpenAI's names): that string.
fn serde_name<T: Serialize>(value: &T) -> Option<Value> {
    match serde_json::to_value(value).ok()? {
        serde_json::Value::String(s) => Some(Value::String(s.into())),
        _ => None,
    }
}

/// `gen_ai.tool.definitions` from a request's tools, in the conventions' shape: a chat tool's
/// `{"type": "function", "function": {..}}` is flattened to `{"type": "function", "name", ...}`;
/// the Responses API's tools already have that shape. Recorded only with content capture on.
fn tool_definitions<T: Serialize>(rec: &mut Record, tools: Option<&[T]>) {
    let Some(tools) = tools.filter(|t| !t.is_empty()) else {
        return;
    };
    if !crate::state::content().captures() {
        return;
    }
    let Ok(serde_json::Value::Array(mut items)) = serde_json::to_value(tools) else {
        return;
    };
    for item in &mut items {
        if let serde_json::Value::Object(obj) = item {
            if let Some(serde_json::Value::Object(function)) = obj.remove("function") {
                obj.extend(function);
            }
            // `strict` is a request option, not part of the definition.
            obj.remove("strict");
        }
    }
    crate::capture::record_json(rec, Field::ToolDefinitions, &items);
}

// `max_tokens` and `seed` are deprecated by OpenAI but still sent, and honoured, by many callers.
#[allow(deprecated)]
fn chat_request(rec: &mut Record, req: &CreateChatCompletionRequest, stream: bool) {
    set_f32(rec, Field::Temperature, req.temperature);
    set_f32(rec, Field::TopP, req.top_p);
    set_f32(rec, Field::PresencePenalty, req.presence_penalty);
    set_f32(rec, Field::FrequencyPenalty, req.frequency_penalty);
    // `max_tokens` is deprecated in favour of `max_completion_tokens`; either is the limit.
    let max_tokens = req.max_completion_tokens.or(req.max_tokens);
    rec.set_opt(Field::MaxTokens, max_tokens.map(Value::from));
    rec.set_opt(Field::Seed, req.seed.map(Value::from));
    rec.set_opt(
        Field::ChoiceCount,
        req.n.filter(|&n| n != 1).map(Value::from),
    );
    let stop = match &req.stop {
        Some(StopConfiguration::String(s)) => Some(vec![s.clone()]),
        Some(StopConfiguration::StringArray(v)) => Some(v.clone()),
        None => None,
    };
    rec.set_opt(Field::StopSequences, stop.map(Value::from));
    let output_type = req.response_format.as_ref().map(|f| match f {
        ResponseFormat::Text => "text",
        ResponseFormat::JsonObject | ResponseFormat::JsonSchema { .. } => "json",
    });
    rec.set_opt(Field::OutputType, output_type.map(Value::Str));
    rec.set_opt(
        Field::ReasoningLevel,
        req.reasoning_effort.as_ref().and_then(serde_name),
    );
    if stream {
        rec.set(Field::Stream, Value::Bool(true));
    }
    tool_definitions(rec, req.tools.as_deref());
    req.__llmtrace_record_input(rec);
}

fn responses_request(rec: &mut Record, req: &CreateResponse, stream: bool) {
    set_f32(rec, Field::Temperature, req.temperature);
    set_f32(rec, Field::TopP, req.top_p);
    rec.set_opt(Field::MaxTokens, req.max_output_tokens.map(Value::from));
    let output_type = req.text.as_ref().map(|t| match t.format {
        TextResponseFormatConfiguration::Text => "text",
        TextResponseFormatConfiguration::JsonObject
        | TextResponseFormatConfiguration::JsonSchema(_) => "json",
    });
    rec.set_opt(Field::OutputType, output_type.map(Value::Str));
    let effort = req.reasoning.as_ref().and_then(|r| r.effort.as_ref());
    rec.set_opt(Field::ReasoningLevel, effort.and_then(serde_name));
    if stream {
        rec.set(Field::Stream, Value::Bool(true));
    }
    tool_definitions(rec, req.tools.as_deref());
    req.__llmtrace_record_input(rec);
}

/// Host and port of an API base URL (`https://api.openai.com/v1` is `api.openai.com`, 443).
fn server_of(base: &str) -> Option<(Box<str>, u16)> {
    let (scheme, rest) = base.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let (host, port) = match authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]:8080`.
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None if scheme.eq_ignore_ascii_case("http") => 80,
        None => 443,
    };
    Some((host.into(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_address_and_port_come_from_the_api_base() {
        let server = |s| server_of(s).map(|(h, p)| (h.to_string(), p));
        assert_eq!(
            server("https://api.openai.com/v1"),
            Some(("api.openai.com".into(), 443))
        );
        assert_eq!(
            server("http://127.0.0.1:8080/v1"),
            Some(("127.0.0.1".into(), 8080))
        );
        assert_eq!(server("http://[::1]:9/v1"), Some(("::1".into(), 9)));
        assert_eq!(
            server("http://localhost/v1"),
            Some(("localhost".into(), 80))
        );
        assert_eq!(server("not a url"), None);
    }
}
