use llmtrace_runtime as llmtrace;

#[llmtrace::tool(name = "refund", redact(card_number))]
fn refund(card: &str, cents: u32) -> u32 {
    let _ = card;
    cents
}

fn main() {
    let _ = refund("4111111111111111", 5);
}
