//! Every function shape users write, instrumented, with the spans it produces.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::fmt::Debug;
use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;
use llmtrace_tests::{assert_parent, duration, str_attr};
use opentelemetry::trace::SpanKind;
use serde::Serialize;

fn assert_send<T: Send>(_: &T) {}

#[llmtrace::llm_call(
    provider = "openai",
    model = "gpt-4o",
    temperature = 0.3,
    max_tokens = 256
)]
fn free_sync(prompt: &str) -> String {
    format!("echo {prompt}")
}

#[llmtrace::llm_call(provider = "anthropic", model = "claude-sonnet-4", top_k = 40)]
async fn free_async(prompt: String) -> Result<String, std::io::Error> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    Ok(prompt.to_uppercase())
}

#[test]
fn free_sync_fn() {
    let cap = Capture::new();
    let out = cap.in_scope(|| free_sync("hi"));
    assert_eq!(out, "echo hi");
    let spans = cap.spans();
    let s = spans.by_name("chat gpt-4o");
    assert_eq!(s.span_kind, SpanKind::Client);
    assert_eq!(str_attr(s, "gen_ai.operation.name"), "chat");
    assert_eq!(str_attr(s, "gen_ai.provider.name"), "openai");
    assert_eq!(str_attr(s, "gen_ai.request.model"), "gpt-4o");
    assert_eq!(s.f64_attr("gen_ai.request.temperature"), Some(0.3));
    assert_eq!(s.i64_attr("gen_ai.request.max_tokens"), Some(256));
    assert_eq!(str_attr(s, "openinference.span.kind"), "LLM");
    // Langfuse types model calls from the GenAI operation itself.
    assert!(s.attr("langfuse.observation.type").is_none());
    assert_eq!(str_attr(s, "input.value"), r#"{"prompt":"hi"}"#);
    assert_eq!(str_attr(s, "output.value"), r#""echo hi""#);
    assert_eq!(s.bool_attr("llmtrace.usage.missing"), Some(true));
    assert!(!s.is_error());
}

#[tokio::test]
async fn free_async_fn() {
    let cap = Capture::new();
    let fut = cap.instrument(free_async("hi".into()));
    assert_send(&fut);
    assert_eq!(fut.await.unwrap(), "HI");
    let spans = cap.spans();
    let s = spans.by_name("chat claude-sonnet-4");
    assert_eq!(s.i64_attr("gen_ai.request.top_k"), Some(40));
    assert_eq!(str_attr(s, "output.value"), r#""HI""#);
    assert!(duration(s) >= Duration::from_millis(1));
}

#[derive(Debug, Default)]
struct Agent {
    name: String,
    calls: u32,
}

impl Agent {
    #[llmtrace::tool(name = "by_ref")]
    fn by_ref(&self, x: u32) -> u32 {
        x + self.calls
    }

    /// Returns a reference into `self`: the body must run as `FnOnce`.
    #[llmtrace::tool(name = "by_mut")]
    fn by_mut(&mut self) -> &mut u32 {
        self.calls += 1;
        &mut self.calls
    }

    #[llmtrace::workflow(name = "by_value")]
    fn by_value(self) -> String {
        self.name
    }

    #[llmtrace::tool(name = "async_ref")]
    async fn async_ref(&self, x: u32) -> u32 {
        tokio::task::yield_now().await;
        x * 2
    }

    #[llmtrace::tool(name = "async_mut")]
    async fn async_mut(&mut self) -> u32 {
        tokio::task::yield_now().await;
        self.calls += 10;
        self.calls
    }

    #[llmtrace::workflow(name = "async_value")]
    async fn async_value(self) -> String {
        tokio::task::yield_now().await;
        self.name
    }
}

#[tokio::test]
async fn methods() {
    let cap = Capture::new();
    cap.instrument(async {
        let mut a = Agent {
            name: "bot".into(),
            calls: 0,
        };
        assert_eq!(a.by_ref(1), 1);
        *a.by_mut() += 5;
        assert_eq!(a.calls, 6);
        let f = a.async_ref(2);
        assert_send(&f);
        assert_eq!(f.await, 4);
        let f = a.async_mut();
        assert_send(&f);
        assert_eq!(f.await, 16);
        assert_eq!(a.by_value(), "bot");
        let b = Agent::default();
        let f = b.async_value();
        assert_send(&f);
        assert_eq!(f.await, "");
    })
    .await;
    let spans = cap.spans();
    assert_eq!(
        spans.names(),
        [
            "execute_tool by_ref",
            "execute_tool by_mut",
            "execute_tool async_ref",
            "execute_tool async_mut",
            "invoke_workflow by_value",
            "invoke_workflow async_value"
        ]
    );
    assert_eq!(
        str_attr(spans.by_name("execute_tool by_ref"), "input.value"),
        r#"{"x":1}"#
    );
    // Recorded when the function returned, before the caller wrote through the reference.
    assert_eq!(
        str_attr(spans.by_name("execute_tool by_mut"), "output.value"),
        "1"
    );
    assert_eq!(
        str_attr(
            spans.by_name("invoke_workflow by_value"),
            "gen_ai.workflow.name"
        ),
        "by_value"
    );
}

#[llmtrace::tool]
fn generic<T, U>(x: T, y: U) -> (T, U)
where
    T: Serialize + Clone + Debug,
    U: Serialize,
{
    (x, y)
}

#[llmtrace::tool(skip(n))]
fn impl_trait_return(n: u32) -> impl Iterator<Item = u32> {
    (0..n).map(|i| i * 2)
}

#[llmtrace::tool(skip(x))]
fn impl_trait_arg(x: impl std::fmt::Display) -> String {
    x.to_string()
}

#[llmtrace::tool]
async fn async_generic<T: Serialize + Send + Sync>(items: Vec<T>) -> usize {
    tokio::task::yield_now().await;
    items.len()
}

#[allow(clippy::manual_async_fn)]
#[llmtrace::tool]
fn returns_future(n: u32) -> impl Future<Output = u32> + Send {
    async move { n + 1 }
}

#[tokio::test]
async fn generics_and_impl_trait() {
    let cap = Capture::new();
    cap.instrument(async {
        assert_eq!(generic(1u8, "a"), (1, "a"));
        assert_eq!(impl_trait_return(3).sum::<u32>(), 6);
        assert_eq!(impl_trait_arg(5), "5");
        let f = async_generic(vec!["a", "b"]);
        assert_send(&f);
        assert_eq!(f.await, 2);
        assert_eq!(returns_future(1).await, 2);
    })
    .await;
    let spans = cap.spans();
    let g = spans.by_name("execute_tool generic");
    assert_eq!(str_attr(g, "input.value"), r#"{"x":1,"y":"a"}"#);
    assert_eq!(str_attr(g, "output.value"), r#"[1,"a"]"#);
    // `impl Iterator` is not serializable: no output, and no error either.
    let it = spans.by_name("execute_tool impl_trait_return");
    assert!(it.attr("output.value").is_none());
    assert!(it.attr("input.value").is_none());
    assert_eq!(
        str_attr(spans.by_name("execute_tool impl_trait_arg"), "output.value"),
        r#""5""#
    );
    assert_eq!(
        str_attr(spans.by_name("execute_tool async_generic"), "output.value"),
        "2"
    );
    assert!(spans.find("execute_tool returns_future").is_some());
}

trait Chat {
    fn reply(&self, q: &str) -> impl Future<Output = String> + Send;
    async fn summary(&self) -> String;
}

struct Bot;

impl Chat for Bot {
    #[llmtrace::llm_call(provider = "openai", model = "gpt-4o-mini")]
    async fn reply(&self, q: &str) -> String {
        tokio::task::yield_now().await;
        format!("re: {q}")
    }

    #[llmtrace::workflow(name = "summary")]
    async fn summary(&self) -> String {
        self.reply("sum").await
    }
}

#[tokio::test]
async fn async_fn_in_trait() {
    let cap = Capture::new();
    let bot = Bot;
    let f = cap.instrument(bot.summary());
    assert_eq!(f.await, "re: sum");
    let spans = cap.spans();
    assert_parent(&spans, "chat gpt-4o-mini", "invoke_workflow summary");
    assert_eq!(
        str_attr(spans.by_name("chat gpt-4o-mini"), "input.value"),
        r#"{"q":"sum"}"#
    );
}

#[async_trait::async_trait]
trait Tool {
    async fn run(&self, arg: &str) -> Result<String, String>;
}

struct Sleeper {
    ms: u64,
}

#[async_trait::async_trait]
impl Tool for Sleeper {
    #[llmtrace::tool(name = "sleeper", description = "sleeps")]
    async fn run(&self, arg: &str) -> Result<String, String> {
        tokio::time::sleep(Duration::from_millis(self.ms)).await;
        if arg.is_empty() {
            return Err("empty".into());
        }
        Ok(arg.to_owned())
    }
}

#[tokio::test]
async fn async_trait_methods_span_the_awaited_body() {
    let cap = Capture::new();
    let tool: Box<dyn Tool + Send + Sync> = Box::new(Sleeper { ms: 60 });
    let f = cap.instrument(tool.run("x"));
    assert_send(&f);
    assert_eq!(f.await.unwrap(), "x");
    assert_eq!(cap.instrument(tool.run("")).await.unwrap_err(), "empty");
    let spans = cap.spans();
    let all = spans.all("execute_tool sleeper");
    assert_eq!(all.len(), 2);
    assert!(
        duration(all[0]) >= Duration::from_millis(60),
        "span must last as long as the awaited sleep: {:?}",
        duration(all[0])
    );
    assert_eq!(str_attr(all[0], "gen_ai.tool.description"), "sleeps");
    assert_eq!(
        str_attr(all[0], "gen_ai.tool.call.arguments"),
        r#"{"arg":"x"}"#
    );
    assert_eq!(str_attr(all[0], "gen_ai.tool.call.result"), r#""x""#);
    assert!(all[1].is_error());
    assert_eq!(str_attr(all[1], "error.type"), "String");
}

#[track_caller]
#[llmtrace::tool]
fn where_called() -> &'static Location<'static> {
    Location::caller()
}

#[track_caller]
#[llmtrace::tool(name = "tc_question")]
fn tc_question(x: Option<u32>) -> Result<u32, String> {
    let v = x.ok_or("none")?;
    if v == 0 {
        return Err("zero".into());
    }
    Ok(v)
}

#[track_caller]
#[llmtrace::tool(name = "tc_panics")]
fn tc_panics() -> u32 {
    panic!("at the caller")
}

#[test]
fn track_caller_sees_the_caller() {
    let cap = Capture::new();
    let (loc, line) = cap.in_scope(|| (where_called(), line!()));
    assert_eq!(loc.line(), line, "Location::caller() must be the call site");
    assert_eq!(loc.file(), file!());
    cap.in_scope(|| {
        assert_eq!(tc_question(Some(3)), Ok(3));
        assert_eq!(tc_question(None), Err("none".into()));
        assert_eq!(tc_question(Some(0)), Err("zero".into()));
    });
    let caught = cap.in_scope(|| std::panic::catch_unwind(|| tc_panics()));
    assert!(caught.is_err());
    let spans = cap.spans();
    let p = spans.by_name("execute_tool tc_panics");
    assert!(p.is_error());
    assert_eq!(str_attr(p, "error.type"), "panic");
    let q = spans.all("execute_tool tc_question");
    assert_eq!(q.len(), 3);
    assert!(!q[0].is_error());
    assert_eq!(str_attr(q[0], "output.value"), "3");
    assert!(q[1].is_error(), "`?` must be recorded as an error");
    assert!(q[2].is_error(), "`return Err` must be recorded as an error");
    assert_eq!(
        format!("{:?}", q[2].status),
        format!("{:?}", opentelemetry::trace::Status::error("zero"))
    );
}

#[test]
fn unit_functions_and_nested_items() {
    #[llmtrace::workflow(name = "nested")]
    fn with_items(n: u32) {
        fn helper(x: u32) -> u32 {
            x * 2
        }
        struct Local(u32);
        let l = Local(helper(n));
        assert_eq!(l.0, n * 2);
    }
    let cap = Capture::new();
    cap.in_scope(|| with_items(2));
    let spans = cap.spans();
    let s = spans.by_name("invoke_workflow nested");
    assert!(s.attr("output.value").is_none());
    assert_eq!(str_attr(s, "input.value"), r#"{"n":2}"#);
}

#[test]
fn patterns_in_parameters_are_captured_per_binding() {
    #[llmtrace::tool(name = "pat")]
    fn pat((a, b): (u8, u8), [c, _]: [u8; 2], mut d: u8, _unused: u8) -> u8 {
        d += 1;
        a + b + c + d
    }
    let cap = Capture::new();
    assert_eq!(cap.in_scope(|| pat((1, 2), [3, 4], 5, 6)), 12);
    let spans = cap.spans();
    assert_eq!(
        str_attr(spans.by_name("execute_tool pat"), "input.value"),
        r#"{"a":1,"b":2,"c":3,"d":5,"_unused":6}"#
    );
}

#[test]
fn returned_values_are_coerced_to_the_declared_type() {
    #[llmtrace::tool(name = "parse")]
    fn parse(s: &str) -> Result<u32, Box<dyn std::error::Error + Send + Sync>> {
        // `?` converts the error into the boxed trait object, as without the macro.
        Ok(s.parse::<u32>()?)
    }
    #[llmtrace::tool(name = "adder")]
    fn adder(n: u32) -> Box<dyn Fn(u32) -> u32 + Send> {
        Box::new(move |x| x + n)
    }
    #[llmtrace::tool(name = "first_word")]
    fn first_word(s: &str) -> &str {
        s.split(' ').next().unwrap_or(s)
    }
    let cap = Capture::new();
    cap.in_scope(|| {
        assert_eq!(parse("7").unwrap(), 7);
        assert!(parse("x").is_err());
        assert_eq!(adder(2)(3), 5);
        assert_eq!(first_word("hello world"), "hello");
    });
    let spans = cap.spans();
    let parsed = spans.all("execute_tool parse");
    assert_eq!(parsed.len(), 2);
    assert!(parsed[1].is_error());
    assert_eq!(str_attr(parsed[1], "error.type"), "Box<dyn Error>");
    assert!(spans.find("execute_tool adder").is_some());
    assert_eq!(
        str_attr(spans.by_name("execute_tool first_word"), "output.value"),
        "\"hello\""
    );
}
