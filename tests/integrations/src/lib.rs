//! A mock OpenAI-compatible server on 127.0.0.1 for the integration tests: canned JSON
//! responses, server-sent event streams, rate limits and malformed bodies, chosen by the
//! request's path and model. It records the requests it received.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// The model name that gets a 429.
pub const RATE_LIMITED: &str = "rate-limited-model";
/// The model name that gets a body that is not JSON.
pub const MALFORMED: &str = "malformed-model";
/// The model name that gets a 400 with an error code.
pub const TOO_LONG: &str = "too-long-model";

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Received {
    /// The path, `/v1/chat/completions` say.
    pub path: String,
    /// The JSON body (`null` when it was none).
    pub body: Value,
}

/// The server: running on its own thread until the process ends.
#[derive(Clone, Debug)]
pub struct MockServer {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl MockServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub fn start() -> MockServer {
        let received = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let log = received.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind 127.0.0.1");
                tx.send(listener.local_addr().expect("address"))
                    .expect("send address");
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let log = log.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            let log = log.clone();
                            async move { Ok::<_, Infallible>(handle(req, &log).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        let addr = rx.recv().expect("server address");
        MockServer { addr, received }
    }

    /// The API base URL: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn handle(req: Request<Incoming>, log: &Mutex<Vec<Received>>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let bytes = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    log.lock().unwrap().push(Received {
        path: path.clone(),
        body: body.clone(),
    });
    let model = body["model"].as_str().unwrap_or_default();
    let stream = body["stream"].as_bool().unwrap_or(false);
    match model {
        RATE_LIMITED => {
            return reply(
                StatusCode::TOO_MANY_REQUESTS,
                "application/json",
                json!({"error": {"message": "Rate limit reached for requests", "type": "requests",
                    "param": null, "code": "rate_limit_exceeded"}})
                .to_string(),
            );
        }
        TOO_LONG => {
            return reply(
                StatusCode::BAD_REQUEST,
                "application/json",
                json!({"error": {"message": "This model's maximum context length is 128000 tokens",
                    "type": "invalid_request_error", "param": "messages",
                    "code": "context_length_exceeded"}})
                .to_string(),
            );
        }
        MALFORMED => {
            return reply(
                StatusCode::OK,
                "application/json",
                "{\"id\": \"chatcmpl-1\", \"choi".into(),
            );
        }
        _ => {}
    }
    match (path.as_str(), stream) {
        ("/v1/chat/completions", false) => json_reply(chat_completion(model)),
        ("/v1/chat/completions", true) => sse(chat_chunks(model), true),
        ("/v1/responses", false) => json_reply(response(model)),
        ("/v1/responses", true) => sse(response_events(model), false),
        ("/v1/embeddings", _) => json_reply(embeddings(model)),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            format!("no route {path}"),
        ),
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("response")
}

fn json_reply(body: Value) -> Response<Full<Bytes>> {
    reply(StatusCode::OK, "application/json", body.to_string())
}

/// Server-sent events, one `data:` line each (Responses API events also name their type).
fn sse(events: Vec<Value>, done: bool) -> Response<Full<Bytes>> {
    let mut body = String::new();
    for e in events {
        if let Some(kind) = e["type"].as_str() {
            body.push_str(&format!("event: {kind}\n"));
        }
        body.push_str(&format!("data: {e}\n\n"));
    }
    if done {
        body.push_str("data: [DONE]\n\n");
    }
    reply(StatusCode::OK, "text/event-stream", body)
}

/// A chat completion: 42 input tokens (10 of them cached), 7 output tokens.
pub fn chat_completion(model: &str) -> Value {
    json!({
        "id": "chatcmpl-mock-1",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": format!("{model}-2024-07-18"),
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "Refunds take 5 days.", "refusal": null},
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49,
            "prompt_tokens_details": {"cached_tokens": 10, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        }
    })
}

/// A streamed chat completion: two text chunks, the finish reason, then the usage chunk.
pub fn chat_chunks(model: &str) -> Vec<Value> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-mock-2", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": format!("{model}-2024-07-18"),
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    };
    vec![
        chunk(json!({"role": "assistant", "content": ""}), Value::Null),
        chunk(json!({"content": "Refunds take "}), Value::Null),
        chunk(json!({"content": "5 days."}), Value::Null),
        chunk(json!({}), json!("stop")),
        json!({"id": "chatcmpl-mock-2", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": format!("{model}-2024-07-18"), "choices": [],
            "usage": {"prompt_tokens": 30, "completion_tokens": 5, "total_tokens": 35}}),
    ]
}

/// A Responses API response: 20 input tokens, 6 output tokens of which 2 reasoning.
pub fn response(model: &str) -> Value {
    json!({
        "id": "resp_mock_1",
        "object": "response",
        "created_at": 1_700_000_000,
        "status": "completed",
        "model": format!("{model}-2024-07-18"),
        "output": [{
            "type": "message", "id": "msg_1", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": "Refunds take 5 days.", "annotations": []}]
        }],
        "usage": {
            "input_tokens": 20, "output_tokens": 6, "total_tokens": 26,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 2}
        },
        "parallel_tool_calls": true,
        "tool_choice": "auto",
        "tools": []
    })
}

/// A streamed Responses API call: created, two text deltas, completed.
pub fn response_events(model: &str) -> Vec<Value> {
    let mut done = response(model);
    let mut created = done.clone();
    created["status"] = json!("in_progress");
    created["output"] = json!([]);
    created["usage"] = Value::Null;
    done["id"] = json!("resp_mock_1");
    vec![
        json!({"type": "response.created", "sequence_number": 0, "response": created}),
        json!({"type": "response.output_text.delta", "sequence_number": 1, "item_id": "msg_1",
            "output_index": 0, "content_index": 0, "delta": "Refunds take ", "logprobs": []}),
        json!({"type": "response.output_text.delta", "sequence_number": 2, "item_id": "msg_1",
            "output_index": 0, "content_index": 0, "delta": "5 days.", "logprobs": []}),
        json!({"type": "response.completed", "sequence_number": 3, "response": done}),
    ]
}

/// Embeddings of each input: 8 input tokens.
pub fn embeddings(model: &str) -> Value {
    json!({
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2, 0.3]}],
        "model": model,
        "usage": {"prompt_tokens": 8, "total_tokens": 8}
    })
}
