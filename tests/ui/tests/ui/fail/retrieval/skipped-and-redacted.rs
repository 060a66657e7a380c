use llmtrace_runtime as llmtrace;

#[llmtrace::retrieval(data_source = "kb", skip(tenant), redact(tenant))]
fn search(query: &str, tenant: &str) -> Vec<String> {
    vec![format!("{query} for {tenant}")]
}

fn main() {
    let _ = search("refunds", "acme");
}
