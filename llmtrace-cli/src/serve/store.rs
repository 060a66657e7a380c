//! The store `serve` keeps its spans in: one SQLite file (WAL mode), each received request as
//! one OTLP/JSON line (the interchange format, read back by the explorer's own parser) and one
//! row per span, indexed by what the views look things up by.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use crate::source::{self, Accumulator, Reads};
use crate::span::SpanFacts;
use crate::traces::{Filters, TraceSummary, Traces};
use crate::viewer::data::TraceSpans;

/// The store's file name, in its directory.
pub(crate) const FILE: &str = "serve.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, line TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT,
    start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, name TEXT NOT NULL,
    model TEXT, session TEXT, user TEXT, cost REAL, error INTEGER NOT NULL,
    batch INTEGER NOT NULL REFERENCES batches(id)
);
CREATE INDEX IF NOT EXISTS spans_trace ON spans(trace_id);
CREATE INDEX IF NOT EXISTS spans_start ON spans(start_ns);
CREATE INDEX IF NOT EXISTS spans_name ON spans(name);
CREATE INDEX IF NOT EXISTS spans_model ON spans(model);
CREATE INDEX IF NOT EXISTS spans_session ON spans(session);
CREATE INDEX IF NOT EXISTS spans_cost ON spans(cost);
-- One row per trace, for the list's paging: its earliest start, and when it last changed.
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY, start_ns INTEGER NOT NULL, changed INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_start ON traces(start_ns);
CREATE INDEX IF NOT EXISTS traces_changed ON traces(changed);
-- Files imported on start, by path, with their size and time: not imported twice.
CREATE TABLE IF NOT EXISTS imports (path TEXT PRIMARY KEY, stamp TEXT NOT NULL);
";

/// What goes into the store for one span.
#[derive(Debug)]
struct Row {
    trace_id: String,
    span_id: String,
    parent_id: Option<String>,
    start: i64,
    end: i64,
    name: String,
    model: Option<String>,
    session: Option<String>,
    user: Option<String>,
    cost: Option<f64>,
    error: bool,
}

/// The rows of the spans of a request, as the explorer reads them.
#[derive(Debug, Default)]
pub(crate) struct Rows(Vec<Row>);

impl Rows {
    /// How many spans.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

impl Accumulator for Rows {
    fn add(&mut self, s: &SpanFacts<'_>) {
        self.0.push(Row {
            trace_id: format!("{:032x}", s.trace_id),
            span_id: format!("{:016x}", s.span_id),
            parent_id: (s.parent_id != 0).then(|| format!("{:016x}", s.parent_id)),
            start: i64::try_from(s.start).unwrap_or(i64::MAX),
            end: i64::try_from(s.end).unwrap_or(i64::MAX),
            name: s.name.to_owned(),
            model: s.response_model.or(s.request_model).map(str::to_owned),
            session: s.session.map(str::to_owned),
            user: s.user.map(str::to_owned),
            cost: s.cost,
            error: s.error,
        });
    }

    fn merge(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}

/// The summaries and spans of some traces, read in one pass over their lines.
struct Both(Traces, TraceSpans);

impl Accumulator for Both {
    fn add(&mut self, span: &SpanFacts<'_>) {
        self.0.add(span);
        self.1.add(span);
    }

    fn merge(&mut self, other: Self) {
        self.0.merge(other.0);
        self.1.merge(other.1);
    }

    fn reads(&self) -> Reads {
        Reads::Raw
    }
}

/// An open store.
#[derive(Debug)]
pub(crate) struct Store {
    db: Connection,
    /// Bumped on every insert: the list's live updates ask what changed after a value.
    changed: i64,
}

/// One page of the trace list, newest first.
#[derive(Debug)]
pub(crate) struct Page {
    /// Traces in the store.
    pub(crate) total: u64,
    /// The newest change in the store, for "anything new since?".
    pub(crate) changed: i64,
    /// The page's traces, with their spans (the viewer's JSON).
    pub(crate) traces: serde_json::Value,
}

impl Store {
    /// Opens (creating) the store in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(FILE);
        let db =
            Connection::open(&path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        Self::init(db).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// A store in memory, for tests and benchmarks of the receiver.
    #[cfg(test)]
    pub(crate) fn in_memory() -> Self {
        Self::init(Connection::open_in_memory().expect("in-memory SQLite")).expect("schema")
    }

    fn init(db: Connection) -> rusqlite::Result<Self> {
        // WAL: the UI's reads never wait for the receiver's writes; NORMAL sync is what WAL
        // makes safe against corruption (a power cut may lose the last transactions only).
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        db.execute_batch(SCHEMA)?;
        let changed = db
            .query_row("SELECT MAX(changed) FROM traces", [], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .unwrap_or(0);
        Ok(Store { db, changed })
    }

    /// Adds one OTLP/JSON line and its spans `rows`, in one transaction.
    pub(crate) fn insert(&mut self, line: &str, rows: &Rows) -> rusqlite::Result<()> {
        if rows.0.is_empty() {
            return Ok(());
        }
        self.changed += 1;
        let changed = self.changed;
        let tx = self.db.transaction()?;
        tx.execute("INSERT INTO batches (line) VALUES (?1)", params![line])?;
        let batch = tx.last_insert_rowid();
        {
            let mut span = tx.prepare_cached(
                "INSERT INTO spans (trace_id, span_id, parent_id, start_ns, end_ns, name, model, \
                 session, user, cost, error, batch) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
            )?;
            let mut trace = tx.prepare_cached(
                "INSERT INTO traces (trace_id, start_ns, changed) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(trace_id) DO UPDATE SET start_ns = MIN(start_ns, excluded.start_ns), \
                 changed = excluded.changed",
            )?;
            for r in &rows.0 {
                span.execute(params![
                    r.trace_id,
                    r.span_id,
                    r.parent_id,
                    r.start,
                    r.end,
                    r.name,
                    r.model,
                    r.session,
                    r.user,
                    r.cost,
                    r.error,
                    batch
                ])?;
                trace.execute(params![r.trace_id, r.start, changed])?;
            }
        }
        tx.commit()
    }

    /// Whether the file at `path` was imported when it had `stamp` (its size and time).
    pub(crate) fn imported(&self, path: &str, stamp: &str) -> bool {
        self.db
            .query_row(
                "SELECT 1 FROM imports WHERE path = ?1 AND stamp = ?2",
                [path, stamp],
                |_| Ok(()),
            )
            .optional()
            .ok()
            .flatten()
            .is_some()
    }

    /// Notes that the file at `path` was imported with `stamp`; best effort (at worst the
    /// file is imported again next time).
    pub(crate) fn mark_imported(&self, path: &str, stamp: &str) {
        let _ = self.db.execute(
            "INSERT INTO imports (path, stamp) VALUES (?1, ?2) \
             ON CONFLICT(path) DO UPDATE SET stamp = excluded.stamp",
            [path, stamp],
        );
    }

    /// Traces `offset..offset + limit` of the list, newest first.
    pub(crate) fn page(&self, offset: u64, limit: u64) -> rusqlite::Result<Page> {
        let total: i64 = self
            .db
            .query_row("SELECT COUNT(*) FROM traces", [], |r| r.get(0))?;
        let mut stmt = self.db.prepare_cached(
            "SELECT trace_id FROM traces ORDER BY start_ns DESC, trace_id LIMIT ?1 OFFSET ?2",
        )?;
        let ids: Vec<String> = stmt
            .query_map(params![limit as i64, offset as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Page {
            total: total as u64,
            changed: self.changed,
            traces: self.traces_json(&ids)?,
        })
    }

    /// The traces that changed after `since` (a [`Page::changed`] the client has), oldest
    /// change first, at most `limit`; the page's `changed` is the newest of those returned, to
    /// ask from next.
    pub(crate) fn changed_since(&self, since: i64, limit: u64) -> rusqlite::Result<Page> {
        let total: i64 = self
            .db
            .query_row("SELECT COUNT(*) FROM traces", [], |r| r.get(0))?;
        let mut stmt = self.db.prepare_cached(
            "SELECT trace_id, changed FROM traces WHERE changed > ?1 ORDER BY changed LIMIT ?2",
        )?;
        let rows: Vec<(String, i64)> = stmt
            .query_map(params![since, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let changed = rows.iter().map(|r| r.1).max().unwrap_or(since);
        let ids: Vec<String> = rows.into_iter().map(|r| r.0).collect();
        Ok(Page {
            total: total as u64,
            changed,
            traces: self.traces_json(&ids)?,
        })
    }

    /// One trace, with its spans, as the viewer reads it; `None` when it is not stored.
    pub(crate) fn trace(&self, trace_id: &str) -> rusqlite::Result<Option<serde_json::Value>> {
        let id = trace_id.to_ascii_lowercase();
        let known: Option<String> = self
            .db
            .query_row(
                "SELECT trace_id FROM traces WHERE trace_id = ?1",
                [&id],
                |r| r.get(0),
            )
            .optional()?;
        match known {
            None => Ok(None),
            Some(id) => {
                let mut list = self.traces_json(&[id])?;
                Ok(list.as_array_mut().and_then(|a| a.pop()))
            }
        }
    }

    /// The viewer's JSON of traces `ids`, in that order, read back from their lines.
    fn traces_json(&self, ids: &[String]) -> rusqlite::Result<serde_json::Value> {
        let wanted: HashSet<u128> = ids
            .iter()
            .filter_map(|id| u128::from_str_radix(id, 16).ok())
            .collect();
        let mut text = Vec::new();
        {
            let mut stmt = self.db.prepare_cached(
                "SELECT line FROM batches WHERE id IN (SELECT batch FROM spans WHERE trace_id = ?1)",
            )?;
            let mut seen = HashSet::new();
            for id in ids {
                let mut rows = stmt.query([id])?;
                while let Some(row) = rows.next()? {
                    let line: String = row.get(0)?;
                    // A request with spans of several traces of the page is read once.
                    if seen.insert(line.clone()) {
                        text.extend_from_slice(line.as_bytes());
                        text.push(b'\n');
                    }
                }
            }
        }
        let wanted = Arc::new(wanted);
        let mut both = Both(
            Traces::new(Arc::new(Filters::default())),
            TraceSpans::new(Some(wanted.clone())),
        );
        // The lines were checked when they were received: nothing to report here.
        let _ = source::parse_text("store", text, &mut both);
        let mut list: Vec<TraceSummary> = both
            .0
            .filtered()
            .into_iter()
            .filter(|t| wanted.contains(&t.trace_id))
            .collect();
        list.sort_by(|a, b| b.start.cmp(&a.start).then(a.trace_id.cmp(&b.trace_id)));
        Ok(crate::viewer::data::traces_json(&list, both.1))
    }
}
