use llmtrace_runtime as llmtrace;

#[llmtrace::tool(descripton = "Finds an order")]
fn lookup(order_id: &str) -> String {
    order_id.to_owned()
}

fn main() {
    let _ = lookup("A-42");
}
