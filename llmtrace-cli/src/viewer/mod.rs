//! The trace viewer: the page (plain HTML, CSS and JavaScript built into the binary, no network
//! at run time) and the data it shows, the same for every way of serving it. `llmtrace report`
//! writes the page with the data embedded, as one file to attach to a bug report.

pub(crate) mod data;
pub(crate) mod page;
