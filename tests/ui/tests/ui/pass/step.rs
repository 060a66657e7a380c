//! Every `step!` argument, literal and expression, sync and async.
use llmtrace::testing::{Capture, SpanDataExt};
use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(name = "answer")]
fn answer(chunks: &[&str], previous: &llmtrace::TraceContext) -> Result<u32, String> {
    let joined = llmtrace::step!("build_context", attributes(app.chunks = chunks.len()), links = [previous], {
        chunks.join("\n")
    });
    let label = String::from("parse");
    let parsed: Result<u32, String> = llmtrace::step!(label.clone(), output = false, {
        joined.len().to_string().parse::<u32>().map_err(|e| e.to_string())
    });
    let _failed: Result<u32, std::num::ParseIntError> = llmtrace::step!("parse_bad", { "x".parse::<u32>() });
    parsed
}

async fn think(question: String) -> usize {
    llmtrace::step!("think", attributes(app.mode = "fast"), async move { question.len() }).await
}

fn main() {
    let cap = Capture::new();
    let previous = cap.context();
    cap.in_scope(|| assert_eq!(answer(&["a", "b"], &previous), Ok(3)));
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.block_on(cap.instrument(think("why?".into()))), 4);
    let spans = cap.spans();
    let root = spans.by_name("invoke_workflow answer");
    let b = spans.by_name("build_context");
    assert_eq!(spans.parent_of(b).map(|s| &*s.name), Some("invoke_workflow answer"));
    assert_eq!(b.str_attr("openinference.span.kind"), Some("CHAIN"));
    assert!(b.attr("gen_ai.operation.name").is_none());
    assert_eq!(b.i64_attr("app.chunks"), Some(2));
    assert_eq!(b.str_attr("output.value"), Some(r#""a\nb""#));
    let p = spans.by_name("parse");
    assert!(p.attr("output.value").is_none());
    let bad = spans.by_name("parse_bad");
    assert!(bad.is_error());
    assert_eq!(bad.str_attr("error.type"), Some("ParseIntError"));
    let t = spans.by_name("think");
    assert_eq!(t.str_attr("app.mode"), Some("fast"));
    assert_eq!(t.str_attr("output.value"), Some("4"));
    assert!(root.links.is_empty());
}
