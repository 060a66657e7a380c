//! The commands: each scans the inputs once with its own accumulator, then prints.

pub(crate) mod anomalies;
mod check;
mod groups;
pub(crate) mod loops;
mod ls;
mod report;
mod show;
mod top;

pub(crate) use ls::trace_json;

use crate::source::{Inputs, Problem, Report};
use crate::{Cmd, Common, Outcome};

/// Runs `command` over `inputs`; `problems` are those found before reading.
pub(crate) fn run(
    command: &Cmd,
    common: &Common,
    inputs: &Inputs,
    problems: Vec<Problem>,
) -> (Outcome, Report) {
    match command {
        Cmd::Ls(args) => ls::run(args, common.json, inputs, problems),
        Cmd::Top(args) => top::run(args, common.json, inputs, problems),
        Cmd::Stats(args) => groups::stats(args, common.json, inputs, problems),
        Cmd::Show(args) => show::show(args, common.json, inputs, problems),
        Cmd::Diff(args) => show::diff(args, common.json, inputs, problems),
        Cmd::Loops(args) => loops::run(args, common.json, inputs, problems),
        Cmd::Anomalies(args) => anomalies::run(args, common.json, inputs, problems),
        Cmd::Check(_) => check::run(common.json, inputs, problems),
        Cmd::Report(args) => report::run(args, inputs, problems),
        #[cfg(feature = "serve")]
        Cmd::Serve(_) => (
            Outcome::NotFound("`serve` does not scan inputs".to_owned()),
            Report::default(),
        ),
    }
}
