//! The store `serve` keeps its spans in: one SQLite file (WAL mode), each received request as
//! one OTLP/JSON line (the interchange format, read back by the explorer's own parser) and one
//! row per span, indexed by what the views look things up by.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use crate::source::{self, Accumulator, Reads};
use crate::span::SpanFacts;
use crate::traces::{Filters, TraceSummary, Traces};
use crate::viewer::data::TraceSpans;

/// The store's file name, in its directory.
pub(crate) const FILE: &str = "serve.sqlite";

/// The schema's version, in `PRAGMA user_version`: a store of another version is rebuilt from
/// its requests' lines on open.
const VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS batches (id INTEGER PRIMARY KEY, line TEXT NOT NULL);
-- Keyed by trace and span id: a span received or imported twice is stored once.
CREATE TABLE IF NOT EXISTS spans (
    trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT,
    start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL, name TEXT NOT NULL,
    model TEXT, session TEXT, user TEXT, cost REAL, error INTEGER NOT NULL,
    batch INTEGER NOT NULL REFERENCES batches(id),
    PRIMARY KEY (trace_id, span_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS spans_model ON spans(model, trace_id) WHERE model IS NOT NULL;
-- One row per trace, what the list shows, filters and pages by, kept up to date on insert:
-- the root's name (a span without a parent in the store ranks 0, else 1; then the earliest),
-- the first session and user seen, errors, the cost summed, and when it last changed.
CREATE TABLE IF NOT EXISTS traces (
    trace_id TEXT PRIMARY KEY, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
    changed INTEGER NOT NULL, root TEXT NOT NULL, root_rank INTEGER NOT NULL,
    root_start INTEGER NOT NULL, session TEXT, user TEXT, errors INTEGER NOT NULL,
    cost REAL, spans INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_start ON traces(start_ns, trace_id);
CREATE INDEX IF NOT EXISTS traces_changed ON traces(changed);
CREATE INDEX IF NOT EXISTS traces_root ON traces(root);
CREATE INDEX IF NOT EXISTS traces_session ON traces(session) WHERE session IS NOT NULL;
CREATE INDEX IF NOT EXISTS traces_user ON traces(user) WHERE user IS NOT NULL;
CREATE INDEX IF NOT EXISTS traces_cost ON traces(cost) WHERE cost IS NOT NULL;
CREATE INDEX IF NOT EXISTS traces_errors ON traces(start_ns) WHERE errors > 0;
-- Files imported on start, by path, with their size and time: not imported twice.
CREATE TABLE IF NOT EXISTS imports (path TEXT PRIMARY KEY, stamp TEXT NOT NULL);
";

/// What goes into the store for one span.
#[derive(Debug)]
struct Row {
    trace_id: String,
    span_id: String,
    parent_id: Option<String>,
    /// No parent in this process and tracing system: the trace's root.
    root: bool,
    /// The name the list shows for the trace when this span is its root.
    root_name: String,
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
            root: s.parent_id == 0 || s.parent_remote || s.parent_external,
            root_name: s.workflow.unwrap_or(s.name).to_owned(),
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

/// What a request adds to one trace's row: of its spans not stored before.
#[derive(Debug)]
struct TraceDelta<'a> {
    start: i64,
    end: i64,
    root: &'a str,
    root_rank: i64,
    root_start: i64,
    session: Option<&'a str>,
    user: Option<&'a str>,
    errors: i64,
    cost: Option<f64>,
    spans: i64,
}

impl<'a> TraceDelta<'a> {
    fn new(r: &'a Row) -> Self {
        TraceDelta {
            start: r.start,
            end: r.end,
            root: &r.root_name,
            root_rank: i64::from(!r.root),
            root_start: r.start,
            session: r.session.as_deref(),
            user: r.user.as_deref(),
            errors: i64::from(r.error),
            cost: r.cost,
            spans: 1,
        }
    }

    fn add(&mut self, r: &'a Row) {
        let other = TraceDelta::new(r);
        if (other.root_rank, other.root_start) < (self.root_rank, self.root_start) {
            self.root = other.root;
            self.root_rank = other.root_rank;
            self.root_start = other.root_start;
        }
        if other.start < self.start {
            // The earliest span's session and user, as the explorer's summary keeps them.
            self.session = other.session.or(self.session);
            self.user = other.user.or(self.user);
        } else {
            self.session = self.session.or(other.session);
            self.user = self.user.or(other.user);
        }
        self.start = self.start.min(other.start);
        self.end = self.end.max(other.end);
        self.errors += other.errors;
        self.cost = match (self.cost, other.cost) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.spans += 1;
    }
}

/// The list's filters, all optional; a trace is listed when it passes every one given.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub(crate) struct ListFilter {
    /// The root's name contains this (ASCII case ignored).
    pub(crate) name: Option<String>,
    pub(crate) session: Option<String>,
    pub(crate) user: Option<String>,
    /// Some span called this model.
    pub(crate) model: Option<String>,
    /// Only traces with a failed span.
    pub(crate) errors: bool,
    /// Cost bounds in US dollars, inclusive.
    pub(crate) min_cost: Option<f64>,
    pub(crate) max_cost: Option<f64>,
    /// Start bounds, milliseconds since the Unix epoch, inclusive.
    pub(crate) from: Option<i64>,
    pub(crate) to: Option<i64>,
    /// Some span's name or content contains this (ASCII case ignored).
    pub(crate) q: Option<String>,
}

impl ListFilter {
    /// The filter with empty texts taken as absent (a form's empty fields).
    fn normalized(&self) -> Self {
        let some = |v: &Option<String>| v.as_ref().filter(|s| !s.is_empty()).cloned();
        ListFilter {
            name: some(&self.name),
            session: some(&self.session),
            user: some(&self.user),
            model: some(&self.model),
            q: some(&self.q),
            ..self.clone()
        }
    }

    /// The SQL condition on `traces` (aliased `t`) and its parameters; `matching`, the traces
    /// the search (`q`) found.
    fn sql(&self, matching: Option<&str>) -> (String, Vec<rusqlite::types::Value>) {
        use rusqlite::types::Value;
        let f = self.normalized();
        let mut clauses = vec!["1".to_owned()];
        let mut values = Vec::new();
        let mut add = |clause: &str, v: Vec<Value>| {
            clauses.push(clause.to_owned());
            values.extend(v);
        };
        if let Some(n) = &f.name {
            add(
                "t.root LIKE ?  ESCAPE '\\'",
                vec![Value::Text(format!("%{}%", like_escape(n)))],
            );
        }
        if let Some(s) = f.session {
            add("t.session = ?", vec![Value::Text(s)]);
        }
        if let Some(u) = f.user {
            add("t.user = ?", vec![Value::Text(u)]);
        }
        if let Some(m) = f.model {
            add(
                "t.trace_id IN (SELECT trace_id FROM spans WHERE model = ?)",
                vec![Value::Text(m)],
            );
        }
        if f.errors {
            add("t.errors > 0", vec![]);
        }
        if let Some(c) = f.min_cost {
            add("t.cost >= ?", vec![Value::Real(c)]);
        }
        if let Some(c) = f.max_cost {
            add("t.cost <= ?", vec![Value::Real(c)]);
        }
        if let Some(ms) = f.from {
            add(
                "t.start_ns >= ?",
                vec![Value::Integer(ms.saturating_mul(1_000_000))],
            );
        }
        if let Some(ms) = f.to {
            add(
                "t.start_ns <= ?",
                vec![Value::Integer(ms.saturating_mul(1_000_000))],
            );
        }
        if let Some(ids) = matching {
            // The traces the search found, a JSON array of ids.
            add(
                "t.trace_id IN (SELECT value FROM json_each(?))",
                vec![Value::Text(ids.to_owned())],
            );
        }
        (clauses.join(" AND "), values)
    }
}

/// `text` with LIKE's wildcards and the escape character escaped.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Where a page of the list starts: after the trace of this start time and id (keyset paging:
/// the next page costs the same however deep it is), written `START_NS:TRACE_ID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    start: i64,
    trace_id: String,
}

impl std::str::FromStr for Cursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (start, id) = s.split_once(':').ok_or(())?;
        let ok = id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit());
        Ok(Cursor {
            start: start.parse().map_err(|_| ())?,
            trace_id: ok.then(|| id.to_ascii_lowercase()).ok_or(())?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.start, self.trace_id)
    }
}

/// Traces counted at most for a filtered list: past this the count says "more than".
pub(crate) const COUNT_CAP: i64 = 10_000;

/// The summaries and spans of some traces, read in one pass over their lines; a span met in
/// two lines (sent twice, in requests that also held new spans) is taken once.
struct Both(Traces, TraceSpans, HashSet<(u128, u64)>);

impl Accumulator for Both {
    fn add(&mut self, span: &SpanFacts<'_>) {
        if self.2.insert((span.trace_id, span.span_id)) {
            self.0.add(span);
            self.1.add(span);
        }
    }

    fn merge(&mut self, other: Self) {
        self.0.merge(other.0);
        self.1.merge(other.1);
        self.2.extend(other.2);
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
    /// Traces in the store that pass the filter; at most [`COUNT_CAP`] when filtered (then
    /// `capped`).
    pub(crate) total: u64,
    /// `total` stopped counting at [`COUNT_CAP`].
    pub(crate) capped: bool,
    /// The newest change in the store, for "anything new since?".
    pub(crate) changed: i64,
    /// Where the next page starts, when there may be one.
    pub(crate) next: Option<Cursor>,
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

    /// A store on an open connection, for tests of an existing database.
    #[cfg(test)]
    pub(crate) fn on(db: Connection) -> rusqlite::Result<Self> {
        Self::init(db)
    }

    fn init(db: Connection) -> rusqlite::Result<Self> {
        // WAL: the UI's reads never wait for the receiver's writes; NORMAL sync is what WAL
        // makes safe against corruption (a power cut may lose the last transactions only).
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        // The indexes of a large store stay in memory: 64 MiB of page cache.
        db.pragma_update(None, "cache_size", -65536)?;
        let version: i64 = db.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let old_lines = if version != VERSION {
            Self::take_old_lines(&db)?
        } else {
            Vec::new()
        };
        db.execute_batch(SCHEMA)?;
        db.pragma_update(None, "user_version", VERSION)?;
        let changed = db
            .query_row("SELECT MAX(changed) FROM traces", [], |r| {
                r.get::<_, Option<i64>>(0)
            })?
            .unwrap_or(0);
        let mut store = Store { db, changed };
        // A store of an earlier schema: its requests are received again into this one.
        for line in old_lines {
            if let Ok((line, rows)) =
                super::receiver::decode(line.as_bytes(), super::receiver::Format::Json)
            {
                store.insert(&line, &rows)?;
            }
        }
        Ok(store)
    }

    /// The requests' lines of a store of another schema version, its tables dropped.
    fn take_old_lines(db: &Connection) -> rusqlite::Result<Vec<String>> {
        let exists: bool = db.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'batches')",
            [],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(Vec::new());
        }
        let lines = db
            .prepare("SELECT line FROM batches ORDER BY id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        db.execute_batch(
            "DROP TABLE IF EXISTS spans; DROP TABLE IF EXISTS traces; DROP TABLE IF EXISTS batches;",
        )?;
        Ok(lines)
    }

    /// Adds one OTLP/JSON line and its spans `rows`, in one transaction; spans already stored
    /// (same trace and span id) are left as they are, and a line with no new span is not kept.
    /// Returns how many spans were new.
    pub(crate) fn insert(&mut self, line: &str, rows: &Rows) -> rusqlite::Result<usize> {
        if rows.0.is_empty() {
            return Ok(0);
        }
        let changed = self.changed + 1;
        let tx = self.db.transaction()?;
        tx.prepare_cached("INSERT INTO batches (line) VALUES (?1)")?
            .execute(params![line])?;
        let batch = tx.last_insert_rowid();
        let mut traces: HashMap<&str, TraceDelta<'_>> = HashMap::new();
        {
            let mut span = tx.prepare_cached(
                "INSERT OR IGNORE INTO spans (trace_id, span_id, parent_id, start_ns, end_ns, \
                 name, model, session, user, cost, error, batch) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
            )?;
            for r in &rows.0 {
                let new = span.execute(params![
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
                if new == 0 {
                    continue;
                }
                match traces.get_mut(r.trace_id.as_str()) {
                    Some(t) => t.add(r),
                    None => {
                        traces.insert(&r.trace_id, TraceDelta::new(r));
                    }
                }
            }
        }
        let added = traces.values().map(|t| t.spans as usize).sum();
        if added == 0 {
            // Everything was stored already: the transaction is dropped, nothing changed.
            return Ok(0);
        }
        {
            // One statement per trace, not per span: a request's spans are mostly of a few
            // traces. In an upsert every expression reads the row as it was.
            let mut trace = tx.prepare_cached(
                "INSERT INTO traces (trace_id, start_ns, end_ns, changed, root, root_rank, \
                 root_start, session, user, errors, cost, spans) \
                 VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12) \
                 ON CONFLICT(trace_id) DO UPDATE SET \
                 start_ns = MIN(start_ns, excluded.start_ns), \
                 end_ns = MAX(end_ns, excluded.end_ns), \
                 changed = excluded.changed, \
                 root = CASE WHEN (excluded.root_rank, excluded.root_start) < (root_rank, root_start) \
                   THEN excluded.root ELSE root END, \
                 root_rank = MIN(root_rank, excluded.root_rank), \
                 root_start = CASE WHEN (excluded.root_rank, excluded.root_start) < (root_rank, root_start) \
                   THEN excluded.root_start ELSE root_start END, \
                 session = CASE WHEN excluded.start_ns < start_ns \
                   THEN COALESCE(excluded.session, session) ELSE COALESCE(session, excluded.session) END, \
                 user = CASE WHEN excluded.start_ns < start_ns \
                   THEN COALESCE(excluded.user, user) ELSE COALESCE(user, excluded.user) END, \
                 errors = errors + excluded.errors, \
                 cost = CASE WHEN cost IS NULL THEN excluded.cost \
                   WHEN excluded.cost IS NULL THEN cost ELSE cost + excluded.cost END, \
                 spans = spans + excluded.spans",
            )?;
            for (id, t) in &traces {
                trace.execute(params![
                    id,
                    t.start,
                    t.end,
                    changed,
                    t.root,
                    t.root_rank,
                    t.root_start,
                    t.session,
                    t.user,
                    t.errors,
                    t.cost,
                    t.spans
                ])?;
            }
        }
        drop(traces);
        tx.commit()?;
        self.changed = changed;
        Ok(added)
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
    /// file is read again next time, and its spans already stored are skipped).
    pub(crate) fn mark_imported(&self, path: &str, stamp: &str) {
        let _ = self.db.execute(
            "INSERT INTO imports (path, stamp) VALUES (?1, ?2) \
             ON CONFLICT(path) DO UPDATE SET stamp = excluded.stamp",
            [path, stamp],
        );
    }

    /// A page of at most `limit` traces of the list that pass `filter`, newest first: after
    /// `after` when given, else from `offset`.
    pub(crate) fn page(
        &self,
        filter: &ListFilter,
        after: Option<&Cursor>,
        offset: u64,
        limit: u64,
    ) -> rusqlite::Result<Page> {
        use rusqlite::types::Value;
        let matching = match filter.normalized().q {
            Some(q) => Some(self.search(&q)?),
            None => None,
        };
        let (cond, values) = filter.sql(matching.as_deref());
        let filtered = cond != "1";
        let (total, capped) = if filtered {
            // Counting every match of a broad filter over a large store would cost more than
            // the page itself: the count stops at the cap.
            let mut stmt = self.db.prepare_cached(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 FROM traces t WHERE {cond} LIMIT {})",
                COUNT_CAP + 1
            ))?;
            let n: i64 = stmt.query_row(rusqlite::params_from_iter(&values), |r| r.get(0))?;
            (n.min(COUNT_CAP), n > COUNT_CAP)
        } else {
            let n: i64 = self
                .db
                .query_row("SELECT COUNT(*) FROM traces", [], |r| r.get(0))?;
            (n, false)
        };
        let mut all = values;
        let keyset = match after {
            Some(c) => {
                all.push(Value::Integer(c.start));
                all.push(Value::Integer(c.start));
                all.push(Value::Text(c.trace_id.clone()));
                "AND (t.start_ns < ? OR (t.start_ns = ? AND t.trace_id < ?))"
            }
            None => "",
        };
        all.push(Value::Integer(limit as i64));
        all.push(Value::Integer(if after.is_some() {
            0
        } else {
            offset as i64
        }));
        let mut stmt = self.db.prepare_cached(&format!(
            "SELECT t.trace_id, t.start_ns FROM traces t \
             WHERE {cond} {keyset} ORDER BY t.start_ns DESC, t.trace_id DESC LIMIT ? OFFSET ?"
        ))?;
        let rows: Vec<(String, i64)> = stmt
            .query_map(rusqlite::params_from_iter(&all), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let next = (rows.len() as u64 == limit)
            .then(|| rows.last())
            .flatten()
            .map(|(id, start)| Cursor {
                start: *start,
                trace_id: id.clone(),
            });
        let ids: Vec<String> = rows.into_iter().map(|r| r.0).collect();
        let traces = self.traces_json(&ids)?;
        Ok(Page {
            total: total as u64,
            capped,
            changed: self.changed,
            next,
            traces,
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
            capped: false,
            changed,
            next: None,
            traces: self.traces_json(&ids)?,
        })
    }

    /// The distinct sessions, users and models in the store, for the list's pickers; at most
    /// `limit` of each.
    pub(crate) fn choices(&self, limit: u64) -> rusqlite::Result<serde_json::Value> {
        let mut out = serde_json::Map::new();
        for (key, sql) in [
            (
                "sessions",
                "SELECT DISTINCT session FROM traces WHERE session IS NOT NULL ORDER BY session LIMIT ?1",
            ),
            (
                "users",
                "SELECT DISTINCT user FROM traces WHERE user IS NOT NULL ORDER BY user LIMIT ?1",
            ),
            (
                "models",
                "SELECT DISTINCT model FROM spans WHERE model IS NOT NULL ORDER BY model LIMIT ?1",
            ),
        ] {
            let values = self
                .db
                .prepare_cached(sql)?
                .query_map([limit as i64], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            out.insert(key.to_owned(), values.into());
        }
        Ok(out.into())
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

    /// The ids of the traces with a span whose name or content contains `q`, as a JSON array:
    /// the requests' lines that contain it (SQLite's LIKE, ASCII case ignored) are read, and
    /// their spans checked one by one (a line holds other traces too).
    fn search(&self, q: &str) -> rusqlite::Result<String> {
        let pattern = format!("%{}%", like_escape(q));
        let lower = q.to_ascii_lowercase();
        let mut found = HashSet::new();
        let mut stmt = self
            .db
            .prepare_cached("SELECT line FROM batches WHERE line LIKE ?1 ESCAPE '\\'")?;
        let mut rows = stmt.query([pattern])?;
        while let Some(row) = rows.next()? {
            search_line(row.get_ref(0)?.as_str()?, &lower, &mut found);
        }
        Ok(serde_json::Value::from(found.into_iter().collect::<Vec<_>>()).to_string())
    }

    /// The viewer's JSON of traces `ids`, newest first, read back from their lines.
    fn traces_json(&self, ids: &[String]) -> rusqlite::Result<serde_json::Value> {
        let wanted: HashSet<u128> = ids
            .iter()
            .filter_map(|id| u128::from_str_radix(id, 16).ok())
            .collect();
        let mut text = Vec::new();
        {
            let mut stmt = self.db.prepare_cached(
                "SELECT id, line FROM batches WHERE id IN \
                 (SELECT DISTINCT batch FROM spans WHERE trace_id = ?1)",
            )?;
            let mut seen = HashSet::new();
            for id in ids {
                let mut rows = stmt.query([id])?;
                while let Some(row) = rows.next()? {
                    // A request with spans of several traces of the page is read once.
                    if seen.insert(row.get::<_, i64>(0)?) {
                        let line: String = row.get(1)?;
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
            HashSet::new(),
        );
        // The lines were checked when they were received: nothing to report here.
        let _ = source::parse_text("store", text, &mut both);
        let mut list: Vec<TraceSummary> = both
            .0
            .filtered()
            .into_iter()
            .filter(|t| wanted.contains(&t.trace_id))
            .collect();
        list.sort_by(|a, b| b.start.cmp(&a.start).then(b.trace_id.cmp(&a.trace_id)));
        Ok(crate::viewer::data::traces_json(&list, both.1))
    }
}

/// Adds to `found` the ids of the traces of OTLP/JSON `line` with a span whose name, or a
/// string value of an attribute or event, contains `q` (lower case), ASCII case ignored: what
/// the page's own search box matches.
fn search_line(line: &str, q: &str, found: &mut HashSet<String>) {
    fn contains(v: &serde_json::Value, q: &str) -> bool {
        match v {
            serde_json::Value::String(s) => s.to_ascii_lowercase().contains(q),
            serde_json::Value::Array(a) => a.iter().any(|x| contains(x, q)),
            serde_json::Value::Object(o) => o.values().any(|x| contains(x, q)),
            _ => false,
        }
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
        return;
    };
    fn items<'a>(v: &'a serde_json::Value, key: &str) -> &'a [serde_json::Value] {
        v.get(key)
            .and_then(serde_json::Value::as_array)
            .map_or(&[], Vec::as_slice)
    }
    for rs in items(&v, "resourceSpans") {
        for ss in items(rs, "scopeSpans") {
            for span in items(ss, "spans") {
                let hit = contains(&span["name"], q)
                    || contains(&span["attributes"], q)
                    || contains(&span["events"], q);
                if let (true, Some(id)) = (hit, span["traceId"].as_str()) {
                    found.insert(id.to_ascii_lowercase());
                }
            }
        }
    }
}
