//! Without `install()`, instrumented functions behave as if they were not instrumented.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use llmtrace_runtime as llmtrace;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
fn chat(prompt: &str) -> Result<String, String> {
    assert!(!llmtrace::current().is_recording());
    assert!(llmtrace::current().trace_id().is_none());
    llmtrace::current().record_usage(llmtrace::Usage::new(1, 1));
    if prompt.is_empty() {
        return Err("empty".into());
    }
    Ok(prompt.to_uppercase())
}

#[llmtrace::workflow]
async fn flow() -> Result<String, String> {
    chat("a")
}

#[tokio::test]
async fn nothing_is_recorded_and_results_are_unchanged() {
    assert_eq!(chat("hi"), Ok("HI".into()));
    assert_eq!(chat(""), Err("empty".into()));
    assert_eq!(flow().await, Ok("A".into()));
    assert_eq!(llmtrace::stats(), llmtrace::Stats::default());
    assert_eq!(
        llmtrace::force_flush(std::time::Duration::from_secs(1)),
        Err(llmtrace::Error::NotInstalled)
    );
}
