//! Errors, panics and cancellation: status, `error.type`, exception event; behaviour unchanged.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;
use llmtrace_tests::str_attr;
use opentelemetry::trace::Status;

#[derive(Debug, PartialEq)]
struct AppError(&'static str);

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "app failed: {}", self.0)
    }
}

#[llmtrace::tool(name = "fails")]
fn fails(reason: &'static str) -> Result<u32, AppError> {
    Err(AppError(reason))
}

#[llmtrace::tool(name = "question_mark")]
fn question_mark(input: &str) -> Result<u32, std::num::ParseIntError> {
    let n: u32 = input.parse()?;
    Ok(n * 2)
}

#[derive(Debug)]
enum ApiError {
    RateLimited,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("slow down")
    }
}

impl llmtrace::ErrorType for ApiError {
    fn error_type(&self) -> Cow<'static, str> {
        match self {
            ApiError::RateLimited => "rate_limited".into(),
        }
    }
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn rate_limited() -> Result<String, ApiError> {
    Err(ApiError::RateLimited)
}

#[derive(Debug)]
struct DebugOnly;

#[llmtrace::tool(name = "debug_only")]
fn debug_only() -> Result<(), DebugOnly> {
    Err(DebugOnly)
}

#[llmtrace::tool(name = "io")]
fn io() -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "no such file",
    ))
}

#[test]
fn err_sets_status_type_description_and_exception_event() {
    let cap = Capture::new();
    let r = cap.in_scope(|| fails("quota"));
    assert_eq!(r, Err(AppError("quota")), "the return value is unchanged");
    let spans = cap.spans();
    let s = spans.by_name("execute_tool fails");
    assert_eq!(s.status, Status::error("app failed: quota"));
    assert_eq!(str_attr(s, "error.type"), "AppError");
    assert!(s.attr("output.value").is_none(), "an error has no output");
    let event = s
        .events
        .iter()
        .find(|e| e.name == "exception")
        .expect("exception event");
    let attr = |k: &str| {
        event
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == k)
            .map(|kv| kv.value.to_string())
    };
    assert_eq!(attr("exception.type").as_deref(), Some("AppError"));
    assert_eq!(
        attr("exception.message").as_deref(),
        Some("app failed: quota")
    );
}

#[test]
fn question_mark_and_error_types() {
    let cap = Capture::new();
    cap.in_scope(|| {
        assert_eq!(question_mark("21"), Ok(42));
        assert!(question_mark("x").is_err());
        assert!(rate_limited().is_err());
        assert!(debug_only().is_err());
        assert!(io().is_err());
    });
    let spans = cap.spans();
    let q = spans.all("execute_tool question_mark");
    assert!(!q[0].is_error());
    assert_eq!(q[0].status, Status::Unset);
    assert_eq!(str_attr(q[1], "error.type"), "ParseIntError");
    assert_eq!(q[1].status, Status::error("invalid digit found in string"));
    let r = spans.by_name("chat gpt-4o");
    assert_eq!(str_attr(r, "error.type"), "rate_limited");
    assert_eq!(r.status, Status::error("slow down"));
    assert_eq!(
        str_attr(spans.by_name("execute_tool debug_only"), "error.type"),
        "DebugOnly"
    );
    assert_eq!(
        spans.by_name("execute_tool debug_only").status,
        Status::error("DebugOnly")
    );
    assert_eq!(
        str_attr(spans.by_name("execute_tool io"), "error.type"),
        "io::Error"
    );
}

#[llmtrace::tool(name = "panics")]
fn panics(n: u32) -> u32 {
    if n > 0 {
        panic!("kaboom {n}");
    }
    n
}

#[llmtrace::tool(name = "async_panics")]
async fn async_panics() -> u32 {
    tokio::task::yield_now().await;
    panic!("async kaboom")
}

#[test]
fn panic_is_recorded_and_keeps_unwinding() {
    let cap = Capture::new();
    let caught = cap.in_scope(|| std::panic::catch_unwind(|| panics(3)));
    let payload = caught.expect_err("the panic reaches the caller");
    assert_eq!(
        payload.downcast_ref::<String>().map(String::as_str),
        Some("kaboom 3")
    );
    let spans = cap.spans();
    let s = spans.by_name("execute_tool panics");
    assert_eq!(s.status, Status::error("kaboom 3"));
    assert_eq!(str_attr(s, "error.type"), "panic");
}

#[tokio::test]
async fn async_panic_is_recorded_and_propagates() {
    let cap = Capture::new();
    let task = tokio::spawn(cap.instrument(async_panics()));
    let err = task.await.expect_err("the task panicked");
    assert!(err.is_panic());
    let spans = cap.spans();
    let s = spans.by_name("execute_tool async_panics");
    assert_eq!(s.status, Status::error("async kaboom"));
}

#[llmtrace::llm_call(provider = "openai", model = "slow-model")]
async fn slow(ms: u64) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "done".into()
}

#[tokio::test]
async fn cancelled_futures_are_marked_cancelled_not_errored() {
    let cap = Capture::new();
    cap.instrument(async {
        let timed_out = tokio::time::timeout(Duration::from_millis(20), slow(10_000)).await;
        assert!(timed_out.is_err());
        tokio::select! {
            _ = slow(10_000) => unreachable!(),
            _ = tokio::time::sleep(Duration::from_millis(5)) => {}
        }
        assert_eq!(slow(1).await, "done");
    })
    .await;
    let spans = cap.spans();
    let all = spans.all("chat slow-model");
    assert_eq!(all.len(), 3);
    for s in &all[..2] {
        assert_eq!(s.bool_attr("llmtrace.cancelled"), Some(true));
        assert_eq!(s.status, Status::Unset);
        assert!(s.attr("error.type").is_none());
    }
    assert_eq!(all[2].bool_attr("llmtrace.cancelled"), None);
    assert_eq!(str_attr(all[2], "output.value"), r#""done""#);
}

#[test]
fn panicking_display_of_an_error_is_contained() {
    #[derive(Debug)]
    struct BadDisplay;
    impl fmt::Display for BadDisplay {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("display exploded")
        }
    }
    #[llmtrace::tool(name = "bad_display")]
    fn bad_display() -> Result<(), BadDisplay> {
        Err(BadDisplay)
    }
    let cap = Capture::new();
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = cap.in_scope(bad_display);
    std::panic::set_hook(prev);
    assert!(r.is_err(), "the function's own result is returned");
    let spans = cap.spans();
    let s = spans.by_name("execute_tool bad_display");
    assert_eq!(s.status, Status::error("<capture failed>"));
    assert_eq!(str_attr(s, "error.type"), "BadDisplay");
}
