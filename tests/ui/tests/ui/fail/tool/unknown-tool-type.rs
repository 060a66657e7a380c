use llmtrace_runtime as llmtrace;

#[llmtrace::tool(tool_type = "plugin")]
fn lookup(order_id: &str) -> String {
    order_id.to_owned()
}

fn main() {
    let _ = lookup("A-42");
}
