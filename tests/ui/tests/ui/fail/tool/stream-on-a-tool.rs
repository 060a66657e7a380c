use llmtrace_runtime as llmtrace;

#[llmtrace::tool(name = "lookup", stream)]
fn lookup(id: u32) -> u32 {
    id
}

fn main() {
    let _ = lookup(1);
}
