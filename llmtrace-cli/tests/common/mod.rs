//! What the tests of the binary share: running the examples to get the trace files they write.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The target directory this test was built in: `<target>/<profile>/llmtrace`.
pub(crate) fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_llmtrace"));
    bin.ancestors()
        .nth(2)
        .expect("<target>/<profile>/llmtrace")
        .to_owned()
}

/// Runs an example in `dir`, which then holds its `llmtrace-traces.jsonl`.
///
/// The example is built with its default features, which may not be the features of this test
/// run (`--all-features`). Its binary goes to a target directory of its own, so that it does not
/// replace the one the examples' own tests run; the compiled crates are shared (the build
/// directory stays this run's), so nothing is compiled twice.
pub(crate) fn run_example(bin: &str, dir: &Path) -> PathBuf {
    let status = example(bin, dir)
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .status()
        .expect("cargo runs");
    assert!(status.success(), "{bin} failed");
    let file = dir.join("llmtrace-traces.jsonl");
    assert!(file.exists(), "{bin} wrote no trace file");
    file
}

/// The command that runs an example in `dir` (see [`run_example`]), its output discarded and
/// no exporter chosen by the environment; the caller may add variables.
pub(crate) fn example(bin: &str, dir: &Path) -> Command {
    let target = target_dir();
    let mut command = Command::new(env!("CARGO"));
    command
        .current_dir(dir)
        .args(["run", "--quiet", "--manifest-path"])
        .arg(workspace().join("Cargo.toml"))
        .args(["-p", "llmtrace-examples", "--bin", bin])
        .env("CARGO_BUILD_BUILD_DIR", &target)
        .env("CARGO_TARGET_DIR", target.join("explorer-examples"))
        .env_remove("OTEL_TRACES_EXPORTER")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    command
}
