use llmtrace_runtime as llmtrace;

struct Region;

#[llmtrace::tool(skip(region), attributes(app.region = region))]
fn lookup(region: Region) -> u32 {
    let _ = region;
    1
}

fn main() {
    let _ = lookup(Region);
}
