//! `crate = path` and edition 2024.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use tracer::testing::{Capture, SpanDataExt};

#[tokio::test]
async fn renamed_runtime_crate() {
    let cap = Capture::new();
    assert_eq!(
        cap.in_scope(|| llmtrace_renamed_tests::bare::chat("hi")),
        Ok("hi".into())
    );
    assert!(
        cap.in_scope(|| llmtrace_renamed_tests::bare::chat(""))
            .is_err()
    );
    assert_eq!(
        cap.instrument(llmtrace_renamed_tests::bare::lookup(1))
            .await,
        Some(2)
    );
    assert_eq!(
        cap.in_scope(|| llmtrace_renamed_tests::bare::chat_found_by_name("yo")),
        "yo"
    );
    let spans = cap.spans();
    assert_eq!(spans.all("chat gpt-4o-mini").len(), 1);
    assert_eq!(spans.all("chat gpt-4o").len(), 2);
    assert!(spans.all("chat gpt-4o")[1].is_error());
    assert_eq!(
        spans
            .by_name("execute_tool lookup")
            .str_attr("output.value"),
        Some("2")
    );
}
