//! `llmtrace`: answers "why slow, why wrong, why expensive, why looping" from the trace files an
//! app traced with llmtrace writes (`./llmtrace-traces.jsonl`, OTLP/JSON lines), or from any
//! OpenTelemetry Collector file output. No backend needed.
//!
//! ```text
//! llmtrace ls --errors                   traces, newest first
//! llmtrace show 4bf92f35 --span "chat gpt-4o"
//! llmtrace top --by cost --group-by model
//! llmtrace stats --since 1h
//! llmtrace loops                         the same tool call, over and over
//! llmtrace anomalies
//! llmtrace diff 4bf92f35 0af76519
//! llmtrace check                         instrumentation complete? (exit 1 if not)
//! llmtrace report -o report.html         the traces as one HTML page, for a browser
//! llmtrace serve                         a local OTLP collector and web UI
//! ```
//!
//! The first command that reads a file keeps what the commands need of its spans in
//! `.llmtrace/` next to it (see `cache`); the next ones read that, and parse only the lines
//! appended since. `--no-cache` reads the JSON alone.
//!
//! Every command prints the console's layout, or with `--json` one JSON object per line.
//! Exit codes: 0 all good; 1 `check` found gaps; 2 a usage error, no input, or no trace
//! matched; 3 some input could not be read (the output still uses every line that could).

mod cache;
mod commands;
mod hash;
mod otlp;
mod out;
#[cfg(feature = "serve")]
mod serve;
mod source;
mod span;
mod traces;
mod usd;
mod viewer;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Explore llmtrace's trace files: why slow, why wrong, why expensive, why looping.
///
/// Reads `./llmtrace-traces.jsonl` and its rotated files by default, or the files,
/// directories or `-` (stdin) given with --file.
#[derive(Debug, Parser)]
#[command(name = "llmtrace", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: Common,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// Trace files (OTLP/JSON lines), directories of them, or `-` for stdin; repeatable.
    /// Default: ./llmtrace-traces.jsonl and its rotated files.
    #[arg(short, long = "file", global = true, value_name = "PATH")]
    pub(crate) files: Vec<PathBuf>,
    /// One JSON object per line instead of the console layout.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Read every file's JSON, without using or updating the cache kept in `.llmtrace/` next
    /// to it.
    #[arg(long, global = true)]
    pub(crate) no_cache: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Traces, newest first: root, start, duration, spans, tokens, cost, errors, session/user.
    Ls(LsArgs),
    /// One trace as a tree; with --span, one span's details.
    Show(ShowArgs),
    /// The most expensive, longest or failing traces, or groups of calls.
    Top(TopArgs),
    /// Per span name and model: calls, error rate, latency percentiles, tokens, cost, ttft.
    Stats(StatsArgs),
    /// Agent loops: the same call repeated in one trace, and ping-pong between two tools.
    Loops(LoopsArgs),
    /// Low retrieval scores, missing usage or price, truncated content, slow spans, costly
    /// traces, swallowed errors.
    Anomalies(AnomaliesArgs),
    /// Two traces side by side, span by span.
    Diff(DiffArgs),
    /// Whether the instrumentation records everything; exits 1 on gaps (for CI).
    Check(CheckArgs),
    /// One self-contained HTML file to look at the traces in a browser (no network needed):
    /// the trace list, each trace's waterfall, every span's messages, documents, tool calls,
    /// usage and attributes.
    Report(ReportArgs),
    /// A local collector and web UI: receives OTLP/HTTP (protobuf or JSON, gzip) on
    /// 127.0.0.1:4318/v1/traces from any OpenTelemetry app, keeps the spans in SQLite
    /// (`.llmtrace/serve.sqlite`), and shows them at http://127.0.0.1:6006 as they arrive.
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
}

/// Trace filters shared by `ls` and `top`.
#[derive(Debug, Args, Clone, Default)]
pub(crate) struct FilterArgs {
    /// Only traces started within this long (`30m`, `2h`, `7d`) or since this time
    /// (`2026-05-01T12:00:00Z`).
    #[arg(long, value_parser = parse_since)]
    pub(crate) since: Option<u64>,
    /// Only traces whose root name contains this.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Only traces of this session (`session.id`).
    #[arg(long)]
    pub(crate) session: Option<String>,
    /// Only traces of this user (`user.id`).
    #[arg(long)]
    pub(crate) user: Option<String>,
    /// Only traces with an error.
    #[arg(long)]
    pub(crate) errors: bool,
    /// Only traces that cost at least this many US dollars.
    #[arg(long, value_name = "USD")]
    pub(crate) min_cost: Option<f64>,
    /// Only traces that took at least this long (`500ms`, `2s`).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub(crate) min_duration: Option<u64>,
    /// Only traces with a span whose attribute KEY has this value (`key=value`); repeatable,
    /// all must match.
    #[arg(long = "where", value_parser = parse_where, value_name = "KEY=VALUE")]
    pub(crate) wheres: Vec<(String, String)>,
}

impl FilterArgs {
    pub(crate) fn filters(&self) -> traces::Filters {
        traces::Filters {
            since: self.since,
            name: self.name.clone(),
            session: self.session.clone(),
            user: self.user.clone(),
            errors: self.errors,
            min_cost: self.min_cost,
            min_duration: self.min_duration,
            wheres: self.wheres.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    #[command(flatten)]
    pub(crate) filter: FilterArgs,
    /// At most this many traces (0: all).
    #[arg(long, default_value_t = 50)]
    pub(crate) limit: usize,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The trace id, or a prefix of it (at least 4 hex digits).
    pub(crate) trace: String,
    /// One span's details: its name, or its id (or a prefix of it).
    #[arg(long, value_name = "NAME|ID")]
    pub(crate) span: Option<String>,
}

/// What `top` ranks by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum By {
    Cost,
    Tokens,
    Duration,
    Errors,
}

/// What `top` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum GroupBy {
    Model,
    Provider,
    Prompt,
    User,
    Session,
    Name,
    Tool,
}

#[derive(Debug, Args)]
pub(crate) struct TopArgs {
    /// What to rank by.
    #[arg(long, value_enum, default_value = "cost")]
    pub(crate) by: By,
    /// Rank groups instead of traces: model calls by model, provider or prompt, tool calls by
    /// tool, traces by user, session or root name.
    #[arg(long, value_enum)]
    pub(crate) group_by: Option<GroupBy>,
    #[command(flatten)]
    pub(crate) filter: FilterArgs,
    /// How many to show.
    #[arg(long, short = 'n', default_value_t = 10)]
    pub(crate) limit: usize,
}

#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// Only spans started within this long (`30m`, `2h`) or since this time.
    #[arg(long, value_parser = parse_since)]
    pub(crate) since: Option<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct LoopsArgs {
    /// Repeats that make a loop.
    #[arg(long, short = 'n', default_value_t = 3)]
    pub(crate) min_repeats: usize,
}

#[derive(Debug, Args)]
pub(crate) struct AnomaliesArgs {
    /// A retrieval whose best score is below this is reported.
    #[arg(long, default_value_t = commands::anomalies::DEFAULT_MIN_SCORE)]
    pub(crate) min_score: f64,
    /// A span this many times slower than the p95 of the other spans of its name is reported.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) slow_factor: f64,
    /// A trace costing this many times the median of the other traces of its root name is
    /// reported.
    #[arg(long, default_value_t = 3.0)]
    pub(crate) cost_factor: f64,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The first trace (id or prefix).
    pub(crate) a: String,
    /// The second trace (id or prefix).
    pub(crate) b: String,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {}

/// The most spans a report holds by default: past this, the page would be slow to open.
pub(crate) const REPORT_MAX_SPANS: usize = 20_000;

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// Trace files, directories of them, or `-` (the same as --file).
    // Not named `files`: clap would take it for the global --file.
    #[arg(value_name = "FILES")]
    pub(crate) paths: Vec<PathBuf>,
    /// The HTML file to write.
    #[arg(
        short,
        long,
        value_name = "PATH",
        default_value = "llmtrace-report.html"
    )]
    pub(crate) output: PathBuf,
    #[command(flatten)]
    pub(crate) filter: FilterArgs,
    /// At most this many spans: the newest traces that fit are kept, and the page says what
    /// was left out.
    #[arg(long, default_value_t = REPORT_MAX_SPANS)]
    pub(crate) max_spans: usize,
}

/// `llmtrace serve`'s options.
#[cfg(feature = "serve")]
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Trace files (OTLP/JSON lines) or directories of them to import on start.
    #[arg(value_name = "FILES")]
    pub(crate) paths: Vec<PathBuf>,
    /// Where the OTLP/HTTP receiver listens.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4318")]
    pub(crate) otlp: std::net::SocketAddr,
    /// Where the web UI listens.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:6006")]
    pub(crate) ui: std::net::SocketAddr,
    /// The directory of the store (SQLite).
    #[arg(long, value_name = "DIR", default_value = ".llmtrace")]
    pub(crate) store: PathBuf,
    /// A bearer token every request to the receiver and the UI must carry
    /// (`Authorization: Bearer TOKEN`, or `?token=TOKEN` in the UI's address); required to
    /// listen on an address other than loopback.
    #[arg(long, value_name = "TOKEN", env = "LLMTRACE_SERVE_TOKEN")]
    pub(crate) token: Option<String>,
    /// The largest request body accepted, in bytes, after decompression; larger ones get 413.
    #[arg(long, value_name = "BYTES", default_value_t = serve::DEFAULT_LIMIT)]
    pub(crate) max_body: usize,
}

/// `30m`, `2h` (that long ago) or an RFC 3339 time, as ns since the epoch.
fn parse_since(text: &str) -> Result<u64, String> {
    if let Ok(d) = humantime::parse_duration(text) {
        let t = SystemTime::now().checked_sub(d).unwrap_or(UNIX_EPOCH);
        return Ok(out::unix_ns(t));
    }
    humantime::parse_rfc3339_weak(text)
        .map(out::unix_ns)
        .map_err(|_| {
            format!(
                "{text:?} is neither a duration (30m, 2h, 7d) nor a time (2026-05-01T12:00:00Z)"
            )
        })
}

/// `500ms`, `2s`, as ns.
fn parse_duration(text: &str) -> Result<u64, String> {
    humantime::parse_duration(text)
        .map(|d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .map_err(|e| format!("{text:?}: {e} (write 500ms, 2s, 1m)"))
}

/// `key=value`.
fn parse_where(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!(
            "{text:?}: write KEY=VALUE, e.g. gen_ai.request.model=gpt-4o"
        )),
    }
}

/// How a command ended, before input problems are taken into account.
pub(crate) enum Outcome {
    /// Done.
    Ok,
    /// `check` found gaps.
    Gaps,
    /// Nothing to show: a message for stderr.
    NotFound(String),
}

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    #[cfg(feature = "serve")]
    if let Command::Serve(args) = &cli.command {
        return match serve::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("llmtrace: {message}");
                ExitCode::from(2)
            }
        };
    }
    if let Command::Report(args) = &mut cli.command {
        cli.common.files.append(&mut args.paths);
    }
    let (list, problems) = source::resolve(&cli.common.files);
    let no_input = list.is_empty();
    let inputs = source::Inputs {
        list,
        cache: !cli.common.no_cache,
    };
    let (outcome, report) = if no_input {
        let report = source::Report {
            problems,
            ..Default::default()
        };
        (Outcome::Ok, report)
    } else {
        commands::run(&cli.command, &cli.common, &inputs, problems)
    };
    report.print_problems();
    if no_input {
        return ExitCode::from(2);
    }
    match outcome {
        Outcome::NotFound(message) => {
            eprintln!("llmtrace: {message}");
            ExitCode::from(2)
        }
        _ if !report.problems.is_empty() => ExitCode::from(3),
        Outcome::Gaps => ExitCode::from(1),
        Outcome::Ok => ExitCode::SUCCESS,
    }
}

pub(crate) use Command as Cmd;
