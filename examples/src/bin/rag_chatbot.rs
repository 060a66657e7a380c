//! A support bot traced with llmtrace, fully offline: a deterministic mock model stands in for
//! the LLM API, so it runs with no API key and no network.
//!
//! Each question is one trace: `support_answer` (workflow) > `retrieval help_center` >
//! `chat gpt-4o` (the model asks for a tool) > `execute_tool lookup_order` > `chat gpt-4o`
//! (the answer). The second question's order does not exist: the tool fails, the bot handles
//! the error and the model apologizes.
//!
//! ```sh
//! cargo run -p llmtrace-examples --bin rag_chatbot
//! ```
//!
//! With nothing configured, the trace tree is printed on stderr and the spans are written to
//! `./llmtrace-traces.jsonl`; with `OTEL_EXPORTER_OTLP_ENDPOINT` set they go to that collector.

#[path = "../support_bot.rs"]
mod support_bot;

use llmtrace_runtime as llmtrace;
use support_bot::{HelpCenter, MockModel, support_answer};

#[tokio::main]
async fn main() {
    let _guard = llmtrace::init().service_name("support-bot").install();
    let kb = HelpCenter::new();
    let model = MockModel;
    for question in ["Where is my order A-42?", "And what about my order B-7?"] {
        let answer = llmtrace::scope()
            .session_id("demo-session")
            .user_id("user-7")
            .instrument(support_answer(&kb, &model, question))
            .await;
        match answer {
            Ok(a) => println!("Q: {question}\nA: {}\n", a.text),
            Err(e) => println!("Q: {question}\nfailed: {e}\n"),
        }
    }
}
