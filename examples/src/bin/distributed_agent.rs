//! Two services, one trace, fully offline: an agent answers a question with a (mock) model, and
//! the tool the model asks for runs in a separate tool service, called over HTTP on 127.0.0.1.
//!
//! The tool service is this binary again, started as a child process
//! (`distributed_agent --serve-tools <port-file>`): it listens on an ephemeral port, serves the
//! agent's request and exits. The agent's `call_tool_service` span injects its trace context
//! (`traceparent`) and the scope's session and user ids (`baggage`, allow-listed keys only) into
//! the request headers; the tool service extracts them and runs `lookup_order` inside that
//! context. So the trace is one tree across both processes:
//!
//! ```text
//! agent-service  invoke_workflow order_assistant
//!                ├─ chat gpt-4o-mini
//!                ├─ execute_tool call_tool_service
//! tool-service   │  └─ execute_tool lookup_order      (remote parent: call_tool_service)
//!                └─ chat gpt-4o-mini
//! ```
//!
//! and the spans of both processes carry `session.id` and `user.id`.
//!
//! ```sh
//! cargo run -p llmtrace-examples --bin distributed_agent
//! ```
//!
//! With nothing configured, each process prints its own tree on stderr and writes its spans to
//! its own file (`./llmtrace-traces.jsonl` and `./llmtrace-traces.tool-service.jsonl`); with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, both export to that collector, as `agent-service` and
//! `tool-service`.

use std::convert::Infallible;
use std::error::Error;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use llmtrace::propagation::{self, BaggageKeys};
use llmtrace::{Message, Part, Role};
use llmtrace_runtime as llmtrace;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// Each network step (connect, request, response, start-up) is bounded by this.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// The tool service gives up when no request came within this time.
const SERVE_FOR: Duration = Duration::from_secs(10);

type BoxError = Box<dyn Error + Send + Sync>;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => agent().await,
        [flag, port_file] if flag == "--serve-tools" => tool_service(Path::new(port_file)).await,
        _ => Err("usage: distributed_agent [--serve-tools <port-file>]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("distributed_agent: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Installs llmtrace for one of the two services. With nothing configured, each process writes
/// its own JSONL file (one writer per file) besides printing its tree.
fn install(service: &'static str, jsonl: &str) -> llmtrace::Guard {
    let init = llmtrace::init().service_name(service);
    let configured = [
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|var| std::env::var_os(var).is_some());
    if configured || jsonl == llmtrace::DEFAULT_JSONL_PATH {
        init.install()
    } else {
        init.console().jsonl(jsonl).install()
    }
}

// ---------------------------------------------------------------------------------------------
// The agent service.

async fn agent() -> Result<(), BoxError> {
    let _guard = install("agent-service", llmtrace::DEFAULT_JSONL_PATH);
    let tools = ToolService::start().await?;
    println!(
        "agent-service: tool-service is pid {} on {}",
        tools.child.id(),
        tools.addr
    );
    let question = "Where is my order A-42?";
    let answer = llmtrace::scope()
        .session_id("demo-session")
        .user_id("user-7")
        .instrument(order_assistant(&tools, question))
        .await;
    // Let the tool service flush its spans and exit before this process does.
    tools.finish().await;
    match answer {
        Ok(a) => println!("Q: {question}\nA: {a}"),
        Err(e) => println!("Q: {question}\nfailed: {e}"),
    }
    Ok(())
}

#[llmtrace::workflow(name = "order_assistant", skip(tools))]
async fn order_assistant(tools: &ToolService, question: &str) -> Result<String, AgentError> {
    let mut messages = vec![
        Turn::new(
            "system",
            "You answer questions about orders. Look orders up with lookup_order.",
        ),
        Turn::new("user", question),
    ];
    for _ in 0..4 {
        let completion = chat(&messages).await?;
        let (id, name, arguments) = match completion.reply {
            Reply::Text(answer) => return Ok(answer),
            Reply::ToolCall {
                id,
                name,
                arguments,
            } => (id, name, arguments),
        };
        // A failing tool is part of the conversation, not a failed answer.
        let result = match call_tool_service(tools, &name, &arguments).await {
            Ok(value) => value.to_string(),
            Err(e) => format!("error: {e}"),
        };
        messages.push(Turn {
            tool_call: Some((id.clone(), name, arguments)),
            ..Turn::new("assistant", "")
        });
        messages.push(Turn {
            tool_call_id: Some(id),
            ..Turn::new("tool", result)
        });
    }
    Err(AgentError::Model("no answer after 4 turns".into()))
}

/// Runs a tool in the tool service. This span is the client side of the call: its context goes
/// into the request headers, so the tool service's spans become its children.
#[llmtrace::tool(
    name = "call_tool_service",
    description = "Runs a tool in the tool service, over HTTP",
    skip(tools)
)]
async fn call_tool_service(
    tools: &ToolService,
    tool: &str,
    arguments: &serde_json::Value,
) -> Result<serde_json::Value, ToolError> {
    let path = format!("/tools/{tool}");
    let mut request = Request::post(path.as_str())
        .header(HOST, tools.addr.to_string())
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(arguments.to_string())))
        .map_err(|e| ToolError::Transport(e.to_string()))?;
    // `traceparent` of this span, and `baggage` with the session and user ids. A request to a
    // third party would use `inject_headers`, which never sends baggage.
    propagation::inject_headers_with_baggage(request.headers_mut(), &BaggageKeys::default());

    let span = llmtrace::current();
    span.set_attribute("http.request.method", "POST");
    span.set_attribute("server.address", tools.addr.ip().to_string());
    span.set_attribute("server.port", i64::from(tools.addr.port()));
    span.set_attribute("url.path", path);
    let (status, body) = timeout(IO_TIMEOUT, send(tools.addr, request))
        .await
        .map_err(|_| ToolError::Transport("the tool service did not answer in time".into()))?
        .map_err(|e| ToolError::Transport(e.to_string()))?;
    span.set_attribute("http.response.status_code", i64::from(status.as_u16()));
    let body: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ToolError::Transport(e.to_string()))?;
    if status.is_success() {
        Ok(body)
    } else {
        Err(ToolError::Failed(
            body["error"].as_str().unwrap_or("?").to_owned(),
        ))
    }
}

/// One HTTP/1.1 exchange on a new connection.
async fn send(
    addr: SocketAddr,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), BoxError> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // Drives the connection; it ends when the server closes it after the response.
    let connection = tokio::spawn(connection);
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    drop(sender);
    connection.abort();
    Ok((status, body))
}

/// The tool service, running as a child process.
#[derive(Debug)]
struct ToolService {
    child: Child,
    addr: SocketAddr,
}

impl ToolService {
    /// Starts this binary in tool-service mode and waits until it listens.
    async fn start() -> Result<ToolService, BoxError> {
        let port_file = std::env::temp_dir().join(format!(
            "llmtrace-distributed-agent-{}.port",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&port_file);
        let child = Command::new(std::env::current_exe()?)
            .arg("--serve-tools")
            .arg(&port_file)
            .spawn()?;
        let mut service = ToolService {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let deadline = Instant::now() + IO_TIMEOUT;
        loop {
            if let Some(port) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|s| s.trim().parse::<u16>().ok())
            {
                let _ = std::fs::remove_file(&port_file);
                service.addr.set_port(port);
                return Ok(service);
            }
            if let Some(status) = service.child.try_wait()? {
                return Err(format!("the tool service exited at start-up ({status})").into());
            }
            if Instant::now() > deadline {
                return Err("the tool service did not start in time".into());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits (bounded) for the tool service to flush its spans and exit.
    async fn finish(mut self) {
        let deadline = Instant::now() + IO_TIMEOUT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(None) => tokio::time::sleep(Duration::from_millis(10)).await,
                _ => return,
            }
        }
        eprintln!("agent-service: the tool service did not exit in time; stopping it");
    }
}

impl Drop for ToolService {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The tool service.

async fn tool_service(port_file: &Path) -> Result<(), BoxError> {
    let _guard = install("tool-service", "llmtrace-traces.tool-service.jsonl");
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    write_port(port_file, listener.local_addr()?.port())?;
    // One request, the agent's tool call; then this process exits (and flushes its spans).
    let (stream, _) = timeout(SERVE_FOR, listener.accept())
        .await
        .map_err(|_| "tool-service: no request came")??;
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(false)
        .serve_connection(
            TokioIo::new(stream),
            hyper::service::service_fn(handle_tool_request),
        );
    timeout(IO_TIMEOUT, connection)
        .await
        .map_err(|_| "tool-service: the request took too long")??;
    Ok(())
}

/// Writes the port where the agent looks for it (whole, through a rename).
fn write_port(port_file: &Path, port: u16) -> std::io::Result<()> {
    let tmp = PathBuf::from(format!("{}.tmp", port_file.display()));
    std::fs::write(&tmp, port.to_string())?;
    std::fs::rename(&tmp, port_file)
}

async fn handle_tool_request(
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    // The caller's trace position, with its session and user ids (allowed baggage keys only).
    let ctx = propagation::extract_headers_with_baggage(request.headers(), &BaggageKeys::default());
    let path = request.uri().path().to_owned();
    let body = match timeout(IO_TIMEOUT, request.into_body().collect()).await {
        Ok(Ok(body)) => body.to_bytes(),
        _ => return Ok(reply(StatusCode::BAD_REQUEST, json!({"error": "no body"}))),
    };
    let (status, value) = match path.as_str() {
        "/tools/lookup_order" => match serde_json::from_slice::<LookupArgs>(&body) {
            Ok(args) => match ctx.instrument(lookup_order(&args.order_id)).await {
                Ok(order) => (StatusCode::OK, json!(order)),
                Err(e) => (StatusCode::NOT_FOUND, json!({"error": e.to_string()})),
            },
            Err(e) => (StatusCode::BAD_REQUEST, json!({"error": e.to_string()})),
        },
        _ => (
            StatusCode::NOT_FOUND,
            json!({"error": format!("no tool at {path}")}),
        ),
    };
    Ok(reply(status, value))
}

fn reply(status: StatusCode, value: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        "application/json".parse().expect("a valid header"),
    );
    response
}

#[derive(Debug, Deserialize)]
struct LookupArgs {
    order_id: String,
}

#[derive(Debug, Serialize)]
struct Order {
    id: String,
    status: &'static str,
    eta_days: u32,
}

#[derive(Debug)]
struct OrderNotFound(String);

impl fmt::Display for OrderNotFound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no order {}", self.0)
    }
}

impl Error for OrderNotFound {}

/// The tool itself, in the tool service: a child of the agent's `call_tool_service` span.
#[llmtrace::tool(name = "lookup_order", description = "Find an order by id")]
async fn lookup_order(order_id: &str) -> Result<Order, OrderNotFound> {
    // The order database.
    tokio::time::sleep(Duration::from_millis(4)).await;
    match order_id {
        "A-42" => Ok(Order {
            id: order_id.into(),
            status: "shipped",
            eta_days: 2,
        }),
        _ => Err(OrderNotFound(order_id.into())),
    }
}

// ---------------------------------------------------------------------------------------------
// The mock model (deterministic, offline).

/// A message of the conversation, in the mock API's shape.
#[derive(Clone, Debug, Serialize)]
struct Turn {
    role: &'static str,
    content: String,
    /// On an assistant message: the tool call it asks for (id, tool, arguments).
    tool_call: Option<(String, String, serde_json::Value)>,
    /// On a tool message: the call it answers.
    tool_call_id: Option<String>,
}

impl Turn {
    fn new(role: &'static str, content: impl Into<String>) -> Self {
        Turn {
            role,
            content: content.into(),
            tool_call: None,
            tool_call_id: None,
        }
    }
}

impl llmtrace::Messages for Turn {
    fn messages(&self) -> Vec<Message<'_>> {
        let part = match (&self.tool_call, &self.tool_call_id) {
            (Some((id, name, arguments)), _) => Part::ToolCall {
                id: Some(id.as_str().into()),
                name: name.as_str().into(),
                arguments: Some(arguments.clone()),
            },
            (None, Some(id)) => Part::tool_call_response(Some(id), self.content.as_str()),
            (None, None) => Part::text(self.content.as_str()),
        };
        vec![Message::new(Role::from_name(self.role), [part])]
    }
}

#[derive(Debug)]
enum Reply {
    Text(String),
    ToolCall {
        id: String,
        name: String,
        arguments: serde_json::Value,
    },
}

#[derive(Debug)]
struct Completion {
    reply: Reply,
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl llmtrace::LlmResponse for Completion {
    fn usage(&self) -> Option<llmtrace::Usage> {
        Some(llmtrace::Usage::new(
            self.prompt_tokens,
            self.completion_tokens,
        ))
    }

    fn response_model(&self) -> Option<&str> {
        Some("gpt-4o-mini-2024-07-18")
    }

    fn finish_reasons(&self) -> Vec<&str> {
        vec![self.finish_reason()]
    }

    fn output_messages(&self) -> Vec<Message<'_>> {
        let part = match &self.reply {
            Reply::Text(t) => Part::text(t.as_str()),
            Reply::ToolCall {
                id,
                name,
                arguments,
            } => Part::ToolCall {
                id: Some(id.as_str().into()),
                name: name.as_str().into(),
                arguments: Some(arguments.clone()),
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

/// Tokens in a text, as a tokenizer would roughly count them.
fn tokens(text: &str) -> u64 {
    (text.split_whitespace().count() as u64 * 4).div_ceil(3)
}

/// The mock model: asks for `lookup_order` when the question names an order, then answers from
/// the tool's result.
#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o-mini",
    temperature = 0.2,
    messages = messages
)]
async fn chat(messages: &[Turn]) -> Result<Completion, AgentError> {
    let last = messages
        .last()
        .ok_or_else(|| AgentError::Model("no messages".into()))?;
    let reply = match last.role {
        "user" => match order_id(&last.content) {
            Some(id) => Reply::ToolCall {
                id: format!("call_{}", id.to_lowercase()),
                name: "lookup_order".into(),
                arguments: json!({ "order_id": id }),
            },
            None => Reply::Text("Which order? Please give its id.".into()),
        },
        "tool" if last.content.starts_with("error") => {
            Reply::Text("I could not find that order; please check its id.".into())
        }
        _ => {
            let order: serde_json::Value = serde_json::from_str(&last.content).unwrap_or_default();
            Reply::Text(format!(
                "Your order {} is {} and should arrive within {} days.",
                order["id"].as_str().unwrap_or("?"),
                order["status"].as_str().unwrap_or("on its way"),
                order["eta_days"]
            ))
        }
    };
    let prompt_tokens: u64 = messages.iter().map(|m| tokens(&m.content) + 4).sum();
    let completion_tokens = match &reply {
        Reply::Text(t) => tokens(t),
        Reply::ToolCall { .. } => 16,
    };
    tokio::time::sleep(Duration::from_millis(20 + completion_tokens * 2)).await;
    Ok(Completion {
        reply,
        prompt_tokens,
        completion_tokens,
    })
}

fn order_id(text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| {
            w.len() >= 3 && w.contains('-') && w.starts_with(|c: char| c.is_ascii_uppercase())
        })
        .map(str::to_owned)
}

#[derive(Debug)]
enum AgentError {
    Model(String),
}

impl fmt::Display for AgentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentError::Model(m) => write!(f, "model error: {m}"),
        }
    }
}

impl Error for AgentError {}

#[derive(Debug)]
enum ToolError {
    /// The tool service could not be reached, or answered garbage.
    Transport(String),
    /// The tool ran and failed.
    Failed(String),
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::Transport(m) => write!(f, "tool service: {m}"),
            ToolError::Failed(m) => write!(f, "{m}"),
        }
    }
}

impl Error for ToolError {}
