//! A full disk never breaks the application, and the failure is reported once.
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]
#![cfg(target_os = "linux")]

use std::time::Duration;

use llmtrace_runtime as llmtrace;

#[llmtrace::tool(name = "work")]
fn work(i: u32) -> u32 {
    i + 1
}

#[test]
fn a_full_disk_drops_counts_and_warns_once() {
    let _guard = llmtrace::init()
        .with_exporter(llmtrace::export::JsonlExporter::new("/dev/full"))
        .install();
    let mut warnings_after_first = None;
    for round in 0..3 {
        for i in 0..10 {
            assert_eq!(work(i), i + 1, "the application is unaffected");
        }
        // The flush tells its caller the spans could not be written.
        let err = llmtrace::force_flush(Duration::from_secs(10)).unwrap_err();
        assert!(err.to_string().contains("/dev/full"), "{err}");
        assert!(matches!(err, llmtrace::Error::Export(_)), "{err:?}");
        let stats = llmtrace::stats();
        assert_eq!(stats.produced, 10 * (round + 1));
        assert_eq!(stats.dropped_export_failed, stats.produced, "{stats:?}");
        assert_eq!(stats.exported, 0);
        match warnings_after_first {
            None => warnings_after_first = Some(stats.warnings),
            Some(w) => assert_eq!(stats.warnings, w, "the same failure is not reported again"),
        }
    }
    assert!(warnings_after_first.unwrap() >= 1);
}
