//! The distributed example, its two processes exporting to one OTLP/HTTP receiver on 127.0.0.1:
//! one trace across both services, the tool service's root a child of the agent's client span,
//! and the session and user ids on the spans of both.

mod receiver;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::{Span, SpanFlags};

fn str_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match v.value.as_ref() {
            Some(Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

/// Runs the example with only `PATH` and the OTLP endpoint set; kills it after `limit`.
fn run_example(endpoint: &str, limit: Duration) -> (bool, String, String) {
    let workdir = std::env::temp_dir().join(format!("llmtrace-distributed-{}", std::process::id()));
    std::fs::create_dir_all(&workdir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_distributed_agent"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .current_dir(&workdir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the example");
    // The tool service inherits the pipes: read them on threads so neither side blocks.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let success = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the example did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // The agent waits (bounded) for the tool service, so both pipes close soon after.
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        !workdir.join("llmtrace-traces.jsonl").exists()
            && !workdir.join("llmtrace-traces.tool-service.jsonl").exists(),
        "with an endpoint set, only OTLP is used"
    );
    let _ = std::fs::remove_dir_all(&workdir);
    (success, out, err)
}

#[test]
fn one_trace_across_the_agent_and_the_tool_service() {
    let receiver = receiver::HttpReceiver::start(Duration::from_secs(30));
    let started = Instant::now();
    let (success, stdout, stderr) = run_example(
        &format!("http://{}", receiver.addr()),
        Duration::from_secs(20),
    );
    assert!(success, "example failed: {stdout}\n{stderr}");
    assert!(!stderr.contains("warning"), "unexpected warnings: {stderr}");
    assert!(
        stdout.contains("A: Your order A-42 is shipped"),
        "stdout: {stdout}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );

    // Every span, with the service that exported it.
    let mut spans: Vec<(String, Span)> = Vec::new();
    for r in receiver.requests() {
        assert_eq!(r.method, "POST");
        // The GenAI metrics go to the same collector.
        if r.path == "/v1/metrics" {
            continue;
        }
        assert_eq!(r.path, "/v1/traces");
        assert_eq!(r.header("content-type"), Some("application/x-protobuf"));
        for rs in r.decode_traces().resource_spans {
            let resource = rs.resource.expect("resource");
            let service = str_attr(&resource.attributes, "service.name")
                .expect("service.name")
                .to_owned();
            for ss in rs.scope_spans {
                spans.extend(ss.spans.into_iter().map(|s| (service.clone(), s)));
            }
        }
    }
    let services: HashSet<&str> = spans.iter().map(|(svc, _)| svc.as_str()).collect();
    assert_eq!(services, HashSet::from(["agent-service", "tool-service"]));

    let traces: HashSet<&[u8]> = spans.iter().map(|(_, s)| s.trace_id.as_slice()).collect();
    assert_eq!(traces.len(), 1, "one trace across both processes");

    let by_name: HashMap<(&str, &str), &Span> = spans
        .iter()
        .map(|(svc, s)| ((svc.as_str(), s.name.as_str()), s))
        .collect();
    let get = |svc: &str, name: &str| {
        *by_name.get(&(svc, name)).unwrap_or_else(|| {
            let names: Vec<_> = by_name.keys().collect();
            panic!("no span {name:?} from {svc}; spans: {names:?}")
        })
    };
    let root = get("agent-service", "invoke_workflow order_assistant");
    assert!(
        root.parent_span_id.is_empty(),
        "the agent's workflow is the root"
    );
    let client = get("agent-service", "execute_tool call_tool_service");
    assert_eq!(client.parent_span_id, root.span_id);

    // The tool service's spans: one local root, whose parent is the agent's client span.
    let tool_ids: HashSet<&[u8]> = spans
        .iter()
        .filter(|(svc, _)| svc == "tool-service")
        .map(|(_, s)| s.span_id.as_slice())
        .collect();
    let tool_roots: Vec<&Span> = spans
        .iter()
        .filter(|(svc, s)| svc == "tool-service" && !tool_ids.contains(s.parent_span_id.as_slice()))
        .map(|(_, s)| s)
        .collect();
    assert_eq!(tool_roots.len(), 1);
    let tool_root = tool_roots[0];
    assert_eq!(tool_root.name, "execute_tool lookup_order");
    assert_eq!(
        tool_root.parent_span_id, client.span_id,
        "the tool service's root is a child of the agent's call_tool_service span"
    );
    let remote = SpanFlags::ContextHasIsRemoteMask as u32 | SpanFlags::ContextIsRemoteMask as u32;
    assert_eq!(
        tool_root.flags & remote,
        remote,
        "its parent is marked remote"
    );
    assert_eq!(
        str_attr(&tool_root.attributes, "gen_ai.tool.name"),
        Some("lookup_order")
    );

    for (svc, s) in &spans {
        assert_eq!(
            str_attr(&s.attributes, "session.id"),
            Some("demo-session"),
            "{svc}: {}",
            s.name
        );
        assert_eq!(
            str_attr(&s.attributes, "user.id"),
            Some("user-7"),
            "{svc}: {}",
            s.name
        );
    }
}
