use llmtrace_runtime as llmtrace;

#[derive(Debug)]
struct ParseError;

#[derive(Debug)]
struct LookupError;

fn parse(id: &str) -> Result<u32, ParseError> {
    id.parse().map_err(|_| ParseError)
}

#[llmtrace::tool]
#[track_caller]
fn lookup(id: &str) -> Result<u32, LookupError> {
    let n = parse(id)?;
    Ok(n)
}

fn main() {
    let _ = lookup("42");
}
