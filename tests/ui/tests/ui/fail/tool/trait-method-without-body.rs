use llmtrace_runtime as llmtrace;

trait Tool {
    #[llmtrace::tool]
    fn run(&self, input: &str) -> String;
}

fn main() {}
