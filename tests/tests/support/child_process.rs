//! Tests that need a process of their own (one installation of llmtrace, one global `tracing`
//! subscriber) run as ignored tests of their test binary, started in a child process by the
//! other tests, with the mode to run in.

use std::process::Command;

/// The variable that tells a child test its mode.
const MODE: &str = "LLMTRACE_TEST_MODE";

/// The mode the parent test asked this child for.
#[allow(dead_code)] // Not every test binary reads it.
pub(crate) fn mode() -> String {
    std::env::var(MODE).expect("run by the other tests")
}

/// Runs the ignored test `child` of this binary in a child process in mode `mode`, fails unless
/// it passed, and returns what it printed.
pub(crate) fn run_child(child: &str, mode: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            child,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{child} in mode {mode}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
