use llmtrace_runtime as llmtrace;

#[llmtrace::workflow(name = "billing", skip_all, redact(account))]
fn billing(account: &str) -> usize {
    account.len()
}

fn main() {
    let _ = billing("DE89");
}
