use llmtrace_runtime as llmtrace;

struct Reply {
    text: String,
    total_tokens: u64,
}

#[llmtrace::llm_call(provider = "openai", model = "gpt-4o", usage = |r: &Reply| r.total_tokens)]
fn chat(prompt: &str) -> Reply {
    Reply { text: prompt.to_owned(), total_tokens: 3 }
}

fn main() {
    let _ = chat("hi").text;
}
