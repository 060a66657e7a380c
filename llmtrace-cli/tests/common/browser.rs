//! The one headless Chromium of a test process, shared by its tests (each opens its own tab),
//! and reading values out of a page.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

/// The system's Chromium, if there is one.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROME") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The one browser of this test process; `None` (the test passes, saying why) when there is
/// no Chromium outside CI.
pub(crate) fn browser() -> Option<&'static Browser> {
    static BROWSER: OnceLock<Option<Browser>> = OnceLock::new();
    BROWSER
        .get_or_init(|| {
            let Some(path) = chromium() else {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "no Chromium found: install it (apt-get install -y chromium) or set CHROME"
                );
                eprintln!("no Chromium found: the browser tests check nothing here");
                return None;
            };
            let options = LaunchOptions::default_builder()
                .path(Some(path))
                .headless(true)
                // Root in a container has no user namespace for the sandbox.
                .sandbox(false)
                .window_size(Some((1400, 860)))
                .idle_browser_timeout(Duration::from_secs(300))
                .build()
                .unwrap();
            let browser = Browser::new(options).expect("Chromium starts");
            if let Some(pid) = browser.get_process_id() {
                kill_after_exit(pid);
            }
            Some(browser)
        })
        .as_ref()
}

/// The browser sits in a static, which is never dropped, so Chromium would outlive the test
/// process (and every later benchmark on the machine would share its cores with it): a shell
/// started now waits for this process to end, then kills Chromium. Chromium's helper
/// processes end with it.
fn kill_after_exit(chromium: u32) {
    let me = std::process::id();
    let watch = format!(
        "while kill -0 {me} 2>/dev/null; do sleep 0.2; done; kill -9 {chromium} 2>/dev/null"
    );
    let _ = std::process::Command::new("sh")
        .args(["-c", &watch])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// The value of a JavaScript expression, as JSON (the expression is stringified in the page).
pub(crate) fn js(tab: &Tab, expr: &str) -> Value {
    let wrapped = format!("JSON.stringify((() => {{ return {expr}; }})())");
    let r = tab.evaluate(&wrapped, false).unwrap();
    match r.value {
        Some(Value::String(s)) => serde_json::from_str(&s).unwrap(),
        other => panic!("{expr}: {other:?}"),
    }
}
