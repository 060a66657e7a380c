use llmtrace_runtime as llmtrace;

struct Bot;

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o")]
impl Bot {
    fn chat(&self) -> u32 {
        42
    }
}

fn main() {
    let _ = Bot.chat();
}
