use llmtrace_runtime as llmtrace;

#[llmtrace::tool(attributes(gen_ai.conversation.compacted = turns))]
fn lookup(order_id: &str, turns: u32) -> String {
    format!("{order_id}{turns}")
}

fn main() {
    let _ = lookup("A-42", 3);
}
