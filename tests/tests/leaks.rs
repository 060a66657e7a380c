//! Hostile input through the real pipeline: each way a secret used to get out (map keys,
//! credential-named fields, the error-message cut, JSON inside JSON strings, scope values and
//! run-time keys, formats not detected before), each way capture used to cost what it did not
//! keep (huge and deep values, huge panics), and parameters out of range.
//!
//! Every case is checked twice: in a test capture, for the exact marker, and in the JSONL file
//! the same spans are written to outside the capture, where the secret must be absent in every
//! form: raw, JSON-escaped, and either half of it.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use llmtrace::testing::{Capture, CapturedSpans, SpanDataExt};
use llmtrace::Redaction;
use llmtrace_runtime as llmtrace;
use serde::Deserialize as _;
use serde::Serialize;

const KEY: &str = "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z";
const EMAIL: &str = "ann.lee@example.com";
const EMAIL2: &str = "bob.stone@example.org";
const PASSWORD: &str = "hunter2-horse-battery";
const TOKEN: &str = "ya29.a0AfH6SMBxQ9zLm3";
const CARD: &str = "4111 1111 1111 1111";
const HF: &str = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345";
const XAPP: &str = "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef0123456789";
const DB_PASSWORD: &str = "Pg-pass-7788xyz";
const BASIC: &str = "YWxhZGRpbjpvcGVuc2VzYW1l"; // aladdin:opensesame
const PEM_BODY: &str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";

/// Every secret of the workload.
const SECRETS: &[&str] = &[
    KEY,
    EMAIL,
    EMAIL2,
    PASSWORD,
    TOKEN,
    CARD,
    "4111.1111.1111.1111",
    HF,
    XAPP,
    DB_PASSWORD,
    BASIC,
    PEM_BODY,
];

// ---- the workload ------------------------------------------------------------------------

#[llmtrace::tool(name = "tally")]
fn tally(by_user: &BTreeMap<String, u32>) -> usize {
    by_user.len()
}

#[derive(Serialize, Clone)]
struct Usage {
    tokens: u32,
    max_tokens: u32,
    input_tokens: u32,
    token_count: u32,
}

#[derive(Serialize, Clone)]
struct Login {
    user: String,
    password: String,
    access_token: String,
    usage: Usage,
    /// The same credentials deeper down.
    nested: Vec<BTreeMap<String, Login2>>,
}

#[derive(Serialize, Clone)]
struct Login2 {
    #[serde(rename = "clientSecret")]
    client_secret: String,
    ssn: u64,
    name: String,
}

fn login_value() -> Login {
    let mut deeper = BTreeMap::new();
    deeper.insert(
        "service".to_owned(),
        Login2 {
            client_secret: PASSWORD.to_owned(),
            ssn: 123_456_789,
            name: "svc".to_owned(),
        },
    );
    Login {
        user: "ann".to_owned(),
        password: PASSWORD.to_owned(),
        access_token: TOKEN.to_owned(),
        usage: Usage {
            tokens: 5,
            max_tokens: 9,
            input_tokens: 3,
            token_count: 7,
        },
        nested: vec![deeper],
    }
}

#[llmtrace::tool(name = "login")]
fn login(login: &Login) -> Login {
    login.clone()
}

#[derive(Serialize)]
struct Doc {
    id: u32,
    content: String,
    metadata: BTreeMap<String, String>,
}

#[llmtrace::retrieval(data_source = "kb")]
fn search(query: &str) -> Vec<Doc> {
    let mut metadata = BTreeMap::new();
    metadata.insert(EMAIL.to_owned(), "owner".to_owned());
    metadata.insert(EMAIL2.to_owned(), "reviewer".to_owned());
    vec![Doc {
        id: 1,
        content: format!("answer to {query}"),
        metadata,
    }]
}

/// Fails with `filler` bytes of text, then the secrets: they straddle the 4 KiB cut of status
/// descriptions.
#[llmtrace::tool(name = "fail")]
fn fail(filler: usize) -> Result<(), String> {
    Err(format!("{} {EMAIL} {KEY} {CARD} end", "x".repeat(filler)))
}

/// A tool call whose arguments are JSON in a string, with the secrets escaped inside it.
#[llmtrace::tool(name = "send")]
fn send(arguments: &str) -> usize {
    arguments.len()
}

#[llmtrace::tool(name = "echo")]
fn echo(text: &str) -> String {
    text.to_owned()
}

#[llmtrace::workflow(name = "scoped")]
fn scoped() -> u32 {
    let span = llmtrace::current();
    span.set_attribute(format!("owner:{EMAIL}"), 1_i64);
    span.set_attribute(format!("reviewer:{EMAIL2}"), 2_i64);
    span.set_attribute("db_password", DB_PASSWORD);
    span.add_event(format!("mailed {EMAIL}"), [(format!("to:{EMAIL2}"), "x")]);
    1
}

fn nested_arguments() -> String {
    // `@` and the key's `s` escaped once more inside the JSON string of the arguments.
    let escaped_email = EMAIL.replace('@', "\\u0040");
    let escaped_key = format!("\\u0073{}", &KEY[1..]);
    format!(r#"{{"to":"{escaped_email}","key":"{escaped_key}","note":"hi"}}"#)
}

const SERVICE_ACCOUNT: &str = concat!(
    r#"{"type":"service_account","project_id":"acme","private_key":"-----BEGIN PRIVATE KEY-----\n"#,
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    r#"\n-----END PRIVATE KEY-----\n","client_email":"x@acme.iam.gserviceaccount.com"}"#
);

/// Runs every case once.
fn workload() {
    let mut by_user = BTreeMap::new();
    by_user.insert(KEY.to_owned(), 2);
    by_user.insert(EMAIL.to_owned(), 1);
    by_user.insert(EMAIL2.to_owned(), 3);
    by_user.insert("plain".to_owned(), 4);
    tally(&by_user);
    login(&login_value());
    search("refunds");
    // The secrets start 10 bytes before the 4 KiB cut.
    let _ = fail(4096 - 10);
    send(&nested_arguments());
    echo(&format!(
        "hf {HF} slack {XAPP} card 4111.1111.1111.1111 \
         postgres://app:{DB_PASSWORD}@db.internal:5432/orders \
         mysql://root:{DB_PASSWORD}@10.0.0.1/db \
         mongodb+srv://user:{DB_PASSWORD}@cluster0.mongodb.net/test \
         redis://:{DB_PASSWORD}@cache:6379/0 \
         Authorization: Basic {BASIC} and later Basic {BASIC}"
    ));
    send(SERVICE_ACCOUNT);
    llmtrace::scope()
        .user_id(EMAIL)
        .session_id(format!("s-{KEY}"))
        .tag(EMAIL2)
        .metadata("openai_key", KEY)
        .metadata(EMAIL, "a")
        .metadata(EMAIL2, "b")
        .in_scope(scoped);
}

// ---- checks ------------------------------------------------------------------------------

/// Every form a secret must not take in exported text: raw, JSON-escaped (once and twice, as
/// the JSONL file escapes attribute values that are JSON themselves), and either half.
fn forms(secret: &str) -> Vec<String> {
    let once = serde_json::to_string(secret).unwrap();
    let once = once[1..once.len() - 1].to_owned();
    let twice = serde_json::to_string(&once).unwrap();
    let twice = twice[1..twice.len() - 1].to_owned();
    let mid = secret.len() / 2;
    let mut forms = vec![secret.to_owned(), once, twice];
    forms.push(secret[..mid].to_owned());
    forms.push(secret[mid..].to_owned());
    forms
}

#[track_caller]
fn assert_absent(exported: &str) {
    for secret in SECRETS {
        for form in forms(secret) {
            assert!(
                !exported.contains(&form),
                "{form:?} (of {secret:?}) left the process"
            );
        }
    }
}

/// The JSONL file this process writes its spans to (outside captures).
fn jsonl_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path =
            std::env::temp_dir().join(format!("llmtrace-leaks-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let guard = llmtrace::init()
            .jsonl(&path)
            .redaction(Redaction::default())
            .export_interval(Duration::from_millis(20))
            .install();
        // Installed for the whole test process.
        std::mem::forget(guard);
        path
    })
}

fn captured() -> CapturedSpans {
    jsonl_path();
    let cap = Capture::new();
    cap.in_scope(workload);
    cap.spans()
}

#[test]
fn nothing_sensitive_reaches_the_jsonl_file() {
    let path = jsonl_path();
    workload();
    llmtrace::force_flush(Duration::from_secs(10)).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.contains("execute_tool tally"),
        "the spans were written"
    );
    assert!(text.contains("[REDACTED:email]#2"));
    assert_absent(&text);
}

#[test]
fn captured_spans_carry_the_exact_markers() {
    let spans = captured();
    assert_absent(&format!("{:?}", spans.0));

    // 1. Map keys.
    let tally = spans.by_name("execute_tool tally");
    let args = tally.json_attr("gen_ai.tool.call.arguments").unwrap();
    assert_eq!(
        args,
        serde_json::json!({"by_user": {
            "[REDACTED:email]": 1,
            "[REDACTED:email]#2": 3,
            "plain": 4,
            "[REDACTED:api_key]": 2,
        }})
    );
    let search = spans.by_name("retrieval kb");
    let docs = search.json_attr("gen_ai.retrieval.documents").unwrap();
    assert_eq!(
        docs[0]["metadata"],
        serde_json::json!({"[REDACTED:email]": "owner", "[REDACTED:email]#2": "reviewer"})
    );

    // 2. Credential-named fields, at any depth, argument and result alike.
    let login = spans.by_name("execute_tool login");
    for attr in ["gen_ai.tool.call.arguments", "gen_ai.tool.call.result"] {
        let v = login.json_attr(attr).unwrap();
        let l = if attr.ends_with("arguments") {
            &v["login"]
        } else {
            &v
        };
        assert_eq!(l["user"], "ann");
        assert_eq!(l["password"], "[REDACTED:secret]");
        assert_eq!(l["access_token"], "[REDACTED:secret]");
        assert_eq!(
            l["usage"],
            serde_json::json!({"tokens": 5, "max_tokens": 9, "input_tokens": 3, "token_count": 7})
        );
        let deep = &l["nested"][0]["service"];
        assert_eq!(deep["clientSecret"], "[REDACTED:secret]");
        assert_eq!(deep["ssn"], "[REDACTED:secret]");
        assert_eq!(deep["name"], "svc");
    }

    // 3. The error-message cut: redacted before the cut, nothing of the secrets left.
    let fail = spans.by_name("execute_tool fail");
    let opentelemetry::trace::Status::Error { description } = &fail.status else {
        panic!("{:?}", fail.status);
    };
    assert!(description.len() <= 4096 + 3, "{}", description.len());
    assert!(description.ends_with('…'), "{}", &description[4000..]);
    // The e-mail address started 9 bytes before the cut: redacted whole, then cut.
    assert!(
        description.ends_with("x [REDAC…"),
        "{}",
        &description[4000..]
    );

    // 4. JSON inside a JSON string, escapes and all.
    let send = &spans.all("execute_tool send")[0];
    let args = send.json_attr("gen_ai.tool.call.arguments").unwrap();
    let inner: serde_json::Value =
        serde_json::from_str(args["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(
        inner,
        serde_json::json!({"to": "[REDACTED:email]", "key": "[REDACTED:api_key]", "note": "hi"})
    );

    // 5. Scope values, run-time attribute keys and event names.
    let scoped = spans.by_name("invoke_workflow scoped");
    assert_eq!(scoped.str_attr("user.id"), Some("[REDACTED:email]"));
    assert_eq!(scoped.str_attr("session.id"), Some("s-[REDACTED:api_key]"));
    assert_eq!(
        scoped.attr("tag.tags").unwrap().to_string(),
        r#"["[REDACTED:email]"]"#
    );
    assert_eq!(
        scoped.json_attr("metadata").unwrap(),
        serde_json::json!({
            "openai_key": "[REDACTED:api_key]",
            "[REDACTED:email]": "a",
            "[REDACTED:email]#2": "b",
        })
    );
    assert_eq!(scoped.i64_attr("owner:[REDACTED:email]"), Some(1));
    assert_eq!(scoped.i64_attr("reviewer:[REDACTED:email]"), Some(2));
    assert_eq!(scoped.str_attr("db_password"), Some("[REDACTED:secret]"));
    let event = &scoped.events.events[0];
    assert_eq!(event.name, "mailed [REDACTED:email]");
    assert_eq!(event.attributes[0].key.as_str(), "to:[REDACTED:email]");

    // 6. Formats.
    let echo = spans.by_name("execute_tool echo");
    assert_eq!(
        echo.json_attr("gen_ai.tool.call.result").unwrap(),
        "hf [REDACTED:api_key] slack [REDACTED:api_key] card [REDACTED:card] \
         postgres://app:[REDACTED:password]@db.internal:5432/orders \
         mysql://root:[REDACTED:password]@[REDACTED:ip]/db \
         mongodb+srv://user:[REDACTED:password]@cluster0.mongodb.net/test \
         redis://:[REDACTED:password]@cache:6379/0 \
         Authorization: Basic [REDACTED:bearer] and later Basic [REDACTED:bearer]"
    );
    let account = &spans.all("execute_tool send")[1];
    let args = account.json_attr("gen_ai.tool.call.arguments").unwrap();
    let inner: serde_json::Value =
        serde_json::from_str(args["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(inner["private_key"], "[REDACTED:private_key]");
    assert_eq!(inner["client_email"], "[REDACTED:email]");
    assert_eq!(inner["project_id"], "acme");
}

// ---- capture and limits ------------------------------------------------------------------

#[llmtrace::tool(name = "explode")]
fn explode(size: usize) {
    panic!("{}", "y".repeat(size));
}

#[test]
fn a_huge_panic_message_is_bounded() {
    jsonl_path();
    let cap = Capture::new();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let caught = cap.in_scope(|| std::panic::catch_unwind(|| explode(50 * 1024 * 1024)));
    std::panic::set_hook(hook);
    assert!(caught.is_err(), "the panic goes on");
    let spans = cap.spans();
    let s = spans.by_name("execute_tool explode");
    let opentelemetry::trace::Status::Error { description } = &s.status else {
        panic!("{:?}", s.status);
    };
    assert_eq!(description.len(), 4096 - 3 + "…".len());
    let exception = s.events.iter().find(|e| e.name == "exception").unwrap();
    let message = exception
        .attributes
        .iter()
        .find(|kv| kv.key.as_str() == "exception.message")
        .unwrap();
    assert_eq!(message.value.as_str().len(), description.len());
}

#[llmtrace::tool(name = "ingest")]
fn ingest(text: &str) -> usize {
    text.len()
}

#[test]
fn capturing_a_huge_or_deep_value_keeps_what_fits_and_stays_valid_json() {
    jsonl_path();
    let cap = Capture::new();
    let big = "z".repeat(50 * 1024 * 1024);
    let mut deep = String::new();
    for _ in 0..300 {
        deep.push('[');
    }
    deep.push_str(&format!("\"{}\"", "w".repeat(40 * 1024)));
    for _ in 0..300 {
        deep.push(']');
    }
    cap.in_scope(|| {
        ingest(&big);
        deep::workflow_with_json(&deep);
    });
    let spans = cap.spans();
    let s = spans.by_name("execute_tool ingest");
    let args = s.str_attr("gen_ai.tool.call.arguments").unwrap();
    assert!(args.len() <= 32 * 1024, "{}", args.len());
    let v: serde_json::Value = serde_json::from_str(args).unwrap();
    assert!(v["text"].as_str().unwrap().ends_with('…'));
    assert_eq!(s.bool_attr("llmtrace.content.truncated"), Some(true));

    // A JSON value nested deeper than parsers' usual limit, longer than the content limit:
    // still JSON once cut.
    let w = spans.by_name("invoke_workflow deep_json");
    let cut = w.str_attr("app.tree").unwrap();
    assert!(cut.len() <= 32 * 1024, "{}", cut.len());
    let mut de = serde_json::Deserializer::from_str(cut);
    de.disable_recursion_limit();
    serde::de::IgnoredAny::deserialize(&mut de).unwrap();
    de.end().unwrap();
    assert!(cut.starts_with(&"[".repeat(300)));
}

// ---- parameters out of range -------------------------------------------------------------

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", temperature = t, top_p = p)]
fn chat(t: f32, p: f32) -> String {
    llmtrace::current().record_cost_usd(f64::NAN);
    "ok".to_owned()
}

#[test]
fn parameters_out_of_range_are_left_out_and_counted() {
    jsonl_path();
    let cap = Capture::new();
    let before = llmtrace::stats().invalid_values;
    cap.in_scope(|| {
        chat(f32::NAN, 7.5);
        chat(0.2, 0.9);
    });
    let spans = cap.spans();
    let bad = spans.all("chat gpt-4o")[0];
    for key in [
        "gen_ai.request.temperature",
        "gen_ai.request.top_p",
        "llm.cost.total",
    ] {
        assert!(bad.attr(key).is_none(), "{key} exported");
    }
    let good = spans.all("chat gpt-4o")[1];
    assert!(good.f64_attr("gen_ai.request.top_p").is_some());
    assert!(llmtrace::stats().invalid_values >= before + 4);
}

mod deep {
    use llmtrace_runtime as llmtrace;

    /// Sets a custom attribute holding `json`, as JSON.
    #[llmtrace::workflow(name = "deep_json", skip(json))]
    pub(crate) fn workflow_with_json(json: &str) {
        llmtrace::current().set_attribute("app.tree", llmtrace::Value::Json(json.into()));
    }
}
