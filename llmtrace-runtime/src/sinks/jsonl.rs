//! JSONL file exporter: every export appends one line holding an OTLP/JSON
//! `ExportTraceServiceRequest`, the format the OpenTelemetry Collector's `file` exporter writes
//! and its `otlpjsonfile` receiver reads back.
//!
//! The encoding is not written here: spans become `opentelemetry-proto`'s messages (directly from
//! the mapped spans when the worker calls it, `sinks::otlp_proto`; through that crate's transform
//! of `SpanData` when it is used as a `SpanExporter`), written by its serde support (hex ids,
//! camelCase names, 64-bit integers as strings), so the lines follow the OTLP/JSON rules as that
//! crate implements them.
//!
//! The file is capped: when a line would push it past `max_file_bytes`, it is rotated
//! (`traces.jsonl` becomes `traces.1.jsonl`, `traces.1.jsonl` becomes `traces.2.jsonl`, ...) and
//! only `max_files` rotated files are kept, so the exporter never fills the disk on its own.
//!
//! A failing file never fails the application: the export returns an error naming the path and
//! the OS error (the pipeline counts the spans as dropped and reports the error once), and the
//! next export tries again.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use super::exporter::{Export, Sending};
use super::otlp_json::JsonEncoder;
use crate::mapper::MappedSpan;

/// Default cap on one file: 64 MiB.
const DEFAULT_MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Default number of rotated files kept next to the current one.
const DEFAULT_MAX_FILES: usize = 3;

/// Writes spans to a file as JSON lines, one OTLP/JSON `ExportTraceServiceRequest` per export, as
/// the OpenTelemetry Collector's `file` exporter does.
///
/// ```no_run
/// use llmtrace_runtime as llmtrace;
///
/// let exporter = llmtrace::export::JsonlExporter::builder("traces/app.jsonl")
///     .max_file_bytes(16 * 1024 * 1024)
///     .max_files(5)
///     .build();
/// let _guard = llmtrace::init().with_exporter(exporter).install();
/// ```
///
/// The file and its parent directories are created on the first export; the file is opened in
/// append mode, so a restarted application continues it. When a line would make the file larger
/// than [`max_file_bytes`](JsonlExporterBuilder::max_file_bytes), the file is rotated:
/// `app.jsonl` is renamed `app.1.jsonl`, `app.1.jsonl` becomes `app.2.jsonl`, and so on up to
/// [`max_files`](JsonlExporterBuilder::max_files) rotated files; the oldest is replaced. The
/// number goes before the extension so rotated files keep `.jsonl` last. Disk use is therefore
/// bounded by about `(max_files + 1) × max_file_bytes` (a single line larger than the cap is
/// still written, alone in its file).
///
/// Several processes can share a file (the default `./llmtrace-traces.jsonl` of every process
/// started in one directory): each append, and the rotation it may trigger, holds an exclusive
/// lock, and reads the file's size and identity under it. The lock is on the file's directory
/// on Unix (`flock`), and on a hidden `.{name}.lock` file beside it elsewhere (`LockFileEx`),
/// never on the file itself, which rotation replaces. A process that finds the file rotated by
/// another one reopens it, so no line goes into a rotated file after its rotation and no file
/// passes the cap.
///
/// When the file cannot be opened, written or rotated (read-only directory, full disk, ...),
/// `export` returns an error, so the spans are counted as dropped, and one warning naming the
/// path and the OS error goes to stderr; further failures are not reported until a write
/// succeeds. The next export opens the file again.
///
/// Writes are blocking file I/O, done on llmtrace's export thread, never on the application's.
pub struct JsonlExporter {
    path: PathBuf,
    max_file_bytes: u64,
    max_files: usize,
    resource: ResourceAttributesWithSchema,
    /// Writes the worker's spans without `SpanData`, each as it comes, into the line in progress
    /// (whose buffer is reused from batch to batch).
    encoder: Mutex<JsonEncoder>,
    /// The length of the line in progress so far: 0 before its first span.
    line_bytes: usize,
    state: Mutex<State>,
}

/// Configures a [`JsonlExporter`]; see [`JsonlExporter::builder`].
#[derive(Clone, Debug)]
#[must_use = "the exporter is created by `build`"]
pub struct JsonlExporterBuilder {
    path: PathBuf,
    max_file_bytes: u64,
    max_files: usize,
}

/// The mutable part of the exporter. `export` is never called concurrently, but it takes `&self`.
#[derive(Debug, Default)]
struct State {
    /// The current file; `None` before the first export and after a failure, so the next export
    /// opens it again (the directory may have been fixed or recreated meanwhile).
    file: Option<File>,
    shut_down: bool,
}

/// A failed file operation: what was attempted, on which path, and the OS error.
#[derive(Debug)]
struct Failure {
    action: String,
    error: io::Error,
}

impl Failure {
    fn new(action: impl Into<String>, error: io::Error) -> Self {
        Failure {
            action: action.into(),
            error,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot {}: {}", self.action, self.error)
    }
}

impl JsonlExporterBuilder {
    /// The largest a file may grow, in bytes: a line that would make it larger goes to a fresh
    /// file after rotation (a line larger than this is still written, alone). Defaults to 64 MiB.
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes;
        self
    }

    /// How many rotated files are kept besides the current one. Defaults to 3; with 0 the file
    /// is emptied instead of rotated.
    pub fn max_files(mut self, files: usize) -> Self {
        self.max_files = files;
        self
    }

    /// Creates the exporter. Nothing is touched on disk until the first export.
    pub fn build(self) -> JsonlExporter {
        JsonlExporter {
            path: self.path,
            max_file_bytes: self.max_file_bytes,
            max_files: self.max_files,
            resource: ResourceAttributesWithSchema::default(),
            encoder: Mutex::default(),
            line_bytes: 0,
            state: Mutex::new(State::default()),
        }
    }
}

impl JsonlExporter {
    /// An exporter writing to `path`, with the default cap (64 MiB, 3 rotated files).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self::builder(path).build()
    }

    /// Configures an exporter writing to `path`.
    pub fn builder(path: impl Into<PathBuf>) -> JsonlExporterBuilder {
        JsonlExporterBuilder {
            path: path.into(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_files: DEFAULT_MAX_FILES,
        }
    }

    /// The file the spans are written to (rotated files sit next to it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` inconsistent in a way that matters:
        // at worst the file is reopened.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends one encoded line (ending in a newline) with this exporter's file handling:
    /// opening, rotation, and cutting back a failed write. For the logs file written beside the
    /// traces.
    pub(crate) fn append_line(&self, line: &[u8]) -> Result<(), String> {
        let mut state = self.lock();
        if state.shut_down {
            return Err("the file was closed at shutdown".into());
        }
        self.append(&mut state, line).map_err(|f| f.to_string())
    }

    /// Writes the batch as one line; the body of `export`.
    fn export_batch(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if batch.is_empty() {
            // An empty request carries nothing; a line of it would only be noise.
            return Ok(());
        }
        let line = encode(&ExportTraceServiceRequest {
            resource_spans: group_spans_by_resource_and_scope(batch, &self.resource),
        })?;
        self.write(&line)
    }

    /// Writes the worker's batch, encoded as it came without `SpanData`, as one line.
    fn export_mapped(&mut self) -> OTelSdkResult {
        if self.line_bytes == 0 {
            return Ok(());
        }
        let result = {
            let mut encoder = self.encoder.lock().unwrap_or_else(PoisonError::into_inner);
            self.write(encoder.finish())
        };
        self.discard_line();
        result
    }

    fn discard_line(&mut self) {
        self.encoder
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.line_bytes = 0;
    }

    /// Appends an encoded line.
    fn write(&self, line: &[u8]) -> OTelSdkResult {
        let mut state = self.lock();
        if state.shut_down {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        // The pipeline reports a failure once (and again only if it changes), then that export
        // recovered; here it only has to say exactly what failed.
        self.append(&mut state, line)
            .map_err(|failure| OTelSdkError::InternalFailure(failure.to_string()))
    }

    fn close(&self) -> OTelSdkResult {
        let mut state = self.lock();
        if state.shut_down {
            return Err(OTelSdkError::AlreadyShutdown);
        }
        state.shut_down = true;
        state.file = None;
        Ok(())
    }

    /// Appends the line, opening and rotating the file as needed, under the lock every process
    /// writing this path takes (see [`Exclusive`]). The file is taken out of the state while it
    /// is used, so after any failure the next export starts by opening it again.
    fn append(&self, state: &mut State, line: &[u8]) -> Result<(), Failure> {
        let failed = |what: &str| {
            let what = format!("{what} {}", self.path.display());
            move |e| Failure::new(what, e)
        };
        self.create_dir()?;
        let mut exclusive = Exclusive::open(&self.path)?;
        let _held = exclusive.lock()?;
        // Another process may have rotated the file since this one last wrote: then the file
        // held is no longer the one at the path. Nobody can rotate it while the lock is held.
        let mut file = match state.file.take() {
            Some(file) if is_at(&file, &self.path).map_err(failed("inspect"))? => file,
            _ => self.open()?,
        };
        let mut len = file.metadata().map_err(failed("inspect"))?.len();
        if len > 0 && len.saturating_add(line.len() as u64) > self.max_file_bytes {
            // Windows refuses to rename an open file: it is closed first, as everywhere.
            drop(file);
            self.rotate()?;
            file = self.open()?;
            len = file.metadata().map_err(failed("inspect"))?.len();
        }
        write_line(&mut file, len, line).map_err(failed("write"))?;
        // Kept open for the next export where a rename does not need it closed; on Windows
        // another process could not rotate a file this one holds open.
        if cfg!(unix) {
            state.file = Some(file);
        }
        Ok(())
    }

    /// Creates the file's directories.
    fn create_dir(&self) -> Result<(), Failure> {
        match self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(dir) => fs::create_dir_all(dir)
                .map_err(|e| Failure::new(format!("create directory {}", dir.display()), e)),
            None => Ok(()),
        }
    }

    /// Opens the file for appending, creating it.
    fn open(&self) -> Result<File, Failure> {
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| Failure::new(format!("open {}", self.path.display()), e))
    }

    /// Shifts `name.N.ext` to `name.N+1.ext`, from the oldest kept down, then the current file
    /// to `name.1.ext`. Renaming onto the oldest replaces it, which is what bounds disk use.
    fn rotate(&self) -> Result<(), Failure> {
        if self.max_files == 0 {
            return remove_if_exists(&self.path);
        }
        for n in (1..self.max_files).rev() {
            rename_if_exists(
                &rotated_path(&self.path, n),
                &rotated_path(&self.path, n + 1),
            )?;
        }
        rename_if_exists(&self.path, &rotated_path(&self.path, 1))
    }
}

/// What every process appending to one path locks for the append and the rotation it may do.
///
/// Not the file itself: a process could open the file, then another rotate it before the first
/// one's lock is granted, and the first would write into the rotated file (or retry, and retry
/// again under contention). The lock is on something rotation never replaces: on Unix the
/// directory (`flock` takes any descriptor, so no extra file is needed), elsewhere a hidden
/// `.{name}.lock` file beside the traces.
struct Exclusive {
    lock: fd_lock::RwLock<File>,
    path: PathBuf,
}

impl Exclusive {
    /// Opens what locks `path`'s appends (its directory has been created).
    fn open(path: &Path) -> Result<Self, Failure> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        #[cfg(unix)]
        let (file, lock_path) = (File::open(dir), dir.to_owned());
        #[cfg(not(unix))]
        let (file, lock_path) = {
            let mut name = std::ffi::OsString::from(".");
            name.push(path.file_name().unwrap_or_default());
            name.push(".lock");
            let lock_path = dir.join(name);
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path);
            (file, lock_path)
        };
        let file = file.map_err(|e| Failure::new(format!("open {}", lock_path.display()), e))?;
        Ok(Exclusive {
            lock: fd_lock::RwLock::new(file),
            path: lock_path,
        })
    }

    /// Waits for the lock; it is released when the guard drops (or the process ends).
    fn lock(&mut self) -> Result<fd_lock::RwLockWriteGuard<'_, File>, Failure> {
        let path = &self.path;
        self.lock
            .write()
            .map_err(|e| Failure::new(format!("lock {}", path.display()), e))
    }
}

/// The request as one line of OTLP/JSON followed by a newline (serde_json escapes newlines
/// inside strings, so the line has none).
fn encode(request: &ExportTraceServiceRequest) -> Result<Vec<u8>, OTelSdkError> {
    let mut line = serde_json::to_vec(request).map_err(|e| {
        OTelSdkError::InternalFailure(format!("cannot encode spans as OTLP/JSON: {e}"))
    })?;
    line.push(b'\n');
    Ok(line)
}

/// Appends `line` to `file`, which holds `len` bytes. A failed write is cut back off, so a line
/// written later never continues a partial one and every line stays valid JSON.
fn write_line(file: &mut File, len: u64, line: &[u8]) -> io::Result<()> {
    file.write_all(line).inspect_err(|_| {
        // Best effort: on a device such as /dev/full there is nothing to cut.
        let _ = file.set_len(len);
    })
}

/// Whether `file` is still the file at `path` (not rotated away, or deleted, by another process).
#[cfg(unix)]
fn is_at(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let open = file.metadata()?;
    match fs::metadata(path) {
        Ok(at_path) => Ok(open.dev() == at_path.dev() && open.ino() == at_path.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether `file` is still the file at `path`: on Windows, a file another process holds open
/// cannot be renamed, so the file locked is the one at the path.
#[cfg(not(unix))]
fn is_at(_file: &File, _path: &Path) -> io::Result<bool> {
    Ok(true)
}

/// `traces.jsonl` → `traces.{n}.jsonl`; a path without an extension gets `.{n}` appended.
fn rotated_path(path: &Path, n: usize) -> PathBuf {
    let mut name = path.file_stem().unwrap_or_default().to_os_string();
    name.push(format!(".{n}"));
    if let Some(ext) = path.extension() {
        name.push(".");
        name.push(ext);
    }
    path.with_file_name(name)
}

/// Renames `from` to `to`, replacing `to`; a missing `from` (not rotated that far yet, or
/// deleted by someone else) is not an error.
fn rename_if_exists(from: &Path, to: &Path) -> Result<(), Failure> {
    match fs::rename(from, to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Failure::new(
            format!("rename {} to {}", from.display(), to.display()),
            e,
        )),
        _ => Ok(()),
    }
}

/// Deletes `path`; a missing file is not an error.
fn remove_if_exists(path: &Path) -> Result<(), Failure> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(Failure::new(format!("remove {}", path.display()), e))
        }
        _ => Ok(()),
    }
}

impl fmt::Debug for JsonlExporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlExporter")
            .field("path", &self.path)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("max_files", &self.max_files)
            .finish_non_exhaustive()
    }
}

impl SpanExporter for JsonlExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.export_batch(batch)
    }

    /// Nothing to do: each line is handed to the operating system by the export that made it.
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    /// Closes the file; later exports fail with `AlreadyShutdown`.
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.close()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = ResourceAttributesWithSchema::from(resource);
    }
}

/// The path the export worker takes: the same lines, encoded from the mapped spans.
impl Export for JsonlExporter {
    fn add(&mut self, span: MappedSpan) {
        let encoder = self
            .encoder
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        encoder.push(&span);
        self.line_bytes = encoder.line_len();
    }

    /// The line's bytes so far: a line stays within the worker's byte limit (plus one span), so
    /// that long captured prompts make neither a line longer than the file's cap nor lines that
    /// readers of the file (`llmtrace show`) must parse whole for one trace.
    fn batch_bytes(&self) -> usize {
        self.line_bytes
    }

    fn export(&mut self) -> Sending {
        let result = self.export_mapped();
        Box::pin(std::future::ready(result))
    }

    fn discard(&mut self) {
        self.discard_line();
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        self.close()
    }

    fn set_resource(&mut self, resource: &Resource, scope: &opentelemetry::InstrumentationScope) {
        self.resource = ResourceAttributesWithSchema::from(resource);
        self.encoder = Mutex::new(JsonEncoder::new(resource, scope));
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use opentelemetry::trace::{
        SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
    };
    use opentelemetry::{InstrumentationScope, KeyValue};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value;
    use opentelemetry_proto::tonic::trace::v1::Span;
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
    use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter, SpanLinks};

    use super::{JsonlExporter, rotated_path};

    const TRACE: u128 = 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c;
    const START_NANOS: u64 = 1_700_000_000_123_456_789;

    fn span(name: &'static str, id: u64, parent: u64) -> SpanData {
        let start = UNIX_EPOCH + Duration::from_nanos(START_NANOS);
        SpanData {
            span_context: SpanContext::new(
                TraceId::from(TRACE),
                SpanId::from(id),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            ),
            parent_span_id: SpanId::from(parent),
            parent_span_is_remote: false,
            span_kind: if parent == 0 {
                SpanKind::Internal
            } else {
                SpanKind::Client
            },
            name: name.into(),
            start_time: start,
            end_time: start + Duration::from_millis(250),
            attributes: vec![
                KeyValue::new("gen_ai.request.model", "gpt-4o"),
                KeyValue::new("gen_ai.usage.input_tokens", 412_i64),
                KeyValue::new("gen_ai.request.temperature", 0.5),
            ],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: if parent == 0 {
                Status::Unset
            } else {
                Status::error("rate limited")
            },
            instrumentation_scope: InstrumentationScope::builder("llmtrace").build(),
        }
    }

    fn exporter(builder: super::JsonlExporterBuilder) -> JsonlExporter {
        let mut exporter = builder.build();
        exporter.set_resource(
            &Resource::builder_empty()
                .with_service_name("jsonl-unit")
                .build(),
        );
        exporter
    }

    fn export(exporter: &JsonlExporter, batch: Vec<SpanData>) -> OTelSdkResult {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(SpanExporter::export(exporter, batch))
    }

    /// Every line of the file, parsed; panics on a line that is not a request.
    fn requests(path: &std::path::Path) -> Vec<ExportTraceServiceRequest> {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.ends_with('\n'), "every line is terminated");
        text.lines()
            .map(|line| {
                serde_json::from_str::<ExportTraceServiceRequest>(line)
                    .unwrap_or_else(|e| panic!("not an OTLP/JSON request ({e}): {line}"))
            })
            .collect()
    }

    fn spans(request: &ExportTraceServiceRequest) -> Vec<&Span> {
        request
            .resource_spans
            .iter()
            .flat_map(|r| &r.scope_spans)
            .flat_map(|s| &s.spans)
            .collect()
    }

    fn str_value(value: &Option<any_value::Value>) -> Option<&str> {
        match value {
            Some(any_value::Value::StringValue(s)) => Some(s),
            _ => None,
        }
    }

    fn attr<'a>(span: &'a Span, key: &str) -> &'a Option<any_value::Value> {
        &span
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| kv.value.as_ref())
            .unwrap_or_else(|| panic!("{} has no attribute {key}", span.name))
            .value
    }

    fn names(path: &std::path::Path) -> Vec<String> {
        requests(path)
            .iter()
            .flat_map(|r| spans(r).into_iter().map(|s| s.name.clone()))
            .collect()
    }

    #[test]
    fn each_export_appends_one_request_line_that_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.jsonl");
        let exporter = exporter(JsonlExporter::builder(&path));
        export(&exporter, vec![span("chat gpt-4o", 2, 1)]).unwrap();
        export(&exporter, vec![span("invoke_workflow answer", 1, 0)]).unwrap();
        export(&exporter, vec![span("a", 3, 1), span("b", 4, 1)]).unwrap();

        let requests = requests(&path);
        assert_eq!(requests.len(), 3, "one line per export");
        for request in &requests {
            assert_eq!(request.resource_spans.len(), 1);
            let resource = request.resource_spans[0].resource.as_ref().unwrap();
            let service = resource
                .attributes
                .iter()
                .find(|kv| kv.key == "service.name")
                .unwrap();
            assert_eq!(
                str_value(&service.value.as_ref().unwrap().value),
                Some("jsonl-unit")
            );
            let scope = request.resource_spans[0].scope_spans[0].scope.as_ref();
            assert_eq!(scope.unwrap().name, "llmtrace");
        }
        let chat = spans(&requests[0])[0];
        assert_eq!(chat.name, "chat gpt-4o");
        assert_eq!(chat.trace_id, TRACE.to_be_bytes());
        assert_eq!(chat.span_id, 2_u64.to_be_bytes());
        assert_eq!(chat.parent_span_id, 1_u64.to_be_bytes());
        assert_eq!(chat.start_time_unix_nano, START_NANOS);
        assert_eq!(chat.kind, 3, "CLIENT");
        assert_eq!(chat.status.as_ref().unwrap().code, 2, "ERROR");
        assert_eq!(chat.status.as_ref().unwrap().message, "rate limited");
        assert_eq!(
            str_value(attr(chat, "gen_ai.request.model")),
            Some("gpt-4o")
        );
        assert_eq!(
            attr(chat, "gen_ai.usage.input_tokens"),
            &Some(any_value::Value::IntValue(412))
        );
        assert_eq!(
            attr(chat, "gen_ai.request.temperature"),
            &Some(any_value::Value::DoubleValue(0.5))
        );
        let root = spans(&requests[1])[0];
        assert!(root.parent_span_id.is_empty(), "a root has no parent");
        assert_eq!(root.kind, 1, "INTERNAL");
        let batch: Vec<&str> = spans(&requests[2])
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(batch, ["a", "b"], "one scope, spans in order");
    }

    /// The encoding rules of OTLP/JSON, checked on the raw JSON rather than through the same
    /// serde code that wrote it.
    #[test]
    fn lines_follow_the_otlp_json_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.jsonl");
        let exporter = exporter(JsonlExporter::builder(&path));
        export(
            &exporter,
            vec![span("chat gpt-4o", 0xb7ad_6b71_6920_3331, 1)],
        )
        .unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let json: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        let resource = &json["resourceSpans"][0]["resource"];
        assert_eq!(resource["attributes"][0]["key"], "service.name");
        assert_eq!(
            resource["attributes"][0]["value"]["stringValue"],
            "jsonl-unit"
        );
        let scope_spans = &json["resourceSpans"][0]["scopeSpans"][0];
        assert_eq!(scope_spans["scope"]["name"], "llmtrace");
        let s = &scope_spans["spans"][0];
        // Ids are lowercase hex, not base64 as in the generic protobuf JSON mapping.
        assert_eq!(s["traceId"], "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(s["spanId"], "b7ad6b7169203331");
        assert_eq!(s["parentSpanId"], "0000000000000001");
        // 64-bit integers are strings; enums are their integer values.
        assert_eq!(s["startTimeUnixNano"], "1700000000123456789");
        assert_eq!(s["endTimeUnixNano"], "1700000000373456789");
        assert_eq!(s["kind"], 3);
        assert_eq!(s["status"]["code"], 2);
        assert_eq!(s["flags"], 0x101, "sampled, parent known not to be remote");
        let attrs = s["attributes"].as_array().unwrap();
        let value = |key: &str| &attrs.iter().find(|kv| kv["key"] == key).unwrap()["value"];
        assert_eq!(value("gen_ai.usage.input_tokens")["intValue"], "412");
        assert_eq!(value("gen_ai.request.temperature")["doubleValue"], 0.5);
        assert_eq!(text.lines().count(), 1);
    }

    #[test]
    fn the_file_and_its_directories_are_created_on_the_first_export() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/traces.jsonl");
        let exporter = exporter(JsonlExporter::builder(&path));
        assert_eq!(exporter.path(), path);
        assert!(!dir.path().join("a").exists(), "nothing created before");
        export(&exporter, Vec::new()).unwrap();
        assert!(!path.exists(), "an empty batch writes nothing");
        export(&exporter, vec![span("s", 1, 0)]).unwrap();
        assert_eq!(names(&path), ["s"]);
    }

    #[test]
    fn an_existing_file_is_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.jsonl");
        export(
            &exporter(JsonlExporter::builder(&path)),
            vec![span("first", 1, 0)],
        )
        .unwrap();
        export(
            &exporter(JsonlExporter::builder(&path)),
            vec![span("second", 2, 0)],
        )
        .unwrap();
        assert_eq!(names(&path), ["first", "second"]);
    }

    /// Files in `dir`, sorted.
    fn files(dir: &std::path::Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn rotation_keeps_at_most_max_files_rotated_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.jsonl");
        // Lines of equal length: names of equal length, same times and attributes.
        let probe = exporter(JsonlExporter::builder(dir.path().join("probe.jsonl")));
        export(&probe, vec![span("span-0", 1, 0)]).unwrap();
        let line = std::fs::metadata(probe.path()).unwrap().len();
        std::fs::remove_file(probe.path()).unwrap();

        // Room for two lines and a half: two lines per file.
        let cap = 2 * line + line / 2;
        let exporter = exporter(
            JsonlExporter::builder(&path)
                .max_file_bytes(cap)
                .max_files(2),
        );
        for name in [
            "span-0", "span-1", "span-2", "span-3", "span-4", "span-5", "span-6",
        ] {
            export(&exporter, vec![span(name, 1, 0)]).unwrap();
        }
        assert_eq!(
            files(dir.path()),
            ["traces.1.jsonl", "traces.2.jsonl", "traces.jsonl"]
        );
        assert_eq!(names(&rotated_path(&path, 2)), ["span-2", "span-3"]);
        assert_eq!(names(&rotated_path(&path, 1)), ["span-4", "span-5"]);
        assert_eq!(names(&path), ["span-6"]);
        for file in files(dir.path()) {
            assert!(std::fs::metadata(dir.path().join(file)).unwrap().len() <= cap);
        }
    }

    #[test]
    fn a_line_larger_than_the_cap_is_written_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.jsonl");
        let exporter = exporter(
            JsonlExporter::builder(&path)
                .max_file_bytes(10)
                .max_files(3),
        );
        for name in ["one", "two", "six"] {
            export(&exporter, vec![span(name, 1, 0)]).unwrap();
        }
        assert_eq!(names(&rotated_path(&path, 2)), ["one"]);
        assert_eq!(names(&rotated_path(&path, 1)), ["two"]);
        assert_eq!(names(&path), ["six"]);
    }

    #[test]
    fn with_no_rotated_files_the_file_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("traces.jsonl");
        let exporter = exporter(
            JsonlExporter::builder(&path)
                .max_file_bytes(10)
                .max_files(0),
        );
        for name in ["one", "two"] {
            export(&exporter, vec![span(name, 1, 0)]).unwrap();
        }
        assert_eq!(files(dir.path()), ["traces.jsonl"]);
        assert_eq!(names(&path), ["two"]);
    }

    #[test]
    fn rotated_names_keep_the_extension_last() {
        let p = |s: &str, n| rotated_path(std::path::Path::new(s), n);
        assert_eq!(
            p("/var/log/traces.jsonl", 1),
            std::path::Path::new("/var/log/traces.1.jsonl")
        );
        assert_eq!(p("app.v2.jsonl", 3), std::path::Path::new("app.v2.3.jsonl"));
        assert_eq!(p("traces", 2), std::path::Path::new("traces.2"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_fails_every_export_with_the_same_error() {
        let exporter = exporter(JsonlExporter::builder("/dev/full"));
        let mut messages = Vec::new();
        for _ in 0..3 {
            match export(&exporter, vec![span("s", 1, 0)]) {
                Err(OTelSdkError::InternalFailure(message)) => {
                    assert!(message.contains("/dev/full"), "{message}");
                    assert!(message.contains("os error 28"), "{message}");
                    messages.push(message);
                }
                other => panic!("expected a failure, got {other:?}"),
            }
        }
        // The same text each time: the pipeline reports it once.
        messages.dedup();
        assert_eq!(messages.len(), 1);
    }

    /// Works as root too: a regular file where a directory should be, then a directory where a
    /// rotated file should go, cannot be overridden by permissions.
    #[test]
    fn the_exporter_recovers_once_the_cause_is_fixed() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("logs");
        let path = blocker.join("traces.jsonl");
        std::fs::write(&blocker, "not a directory").unwrap();
        let exporter = exporter(JsonlExporter::builder(&path).max_file_bytes(1).max_files(1));

        // The directory cannot be created: fails.
        for _ in 0..2 {
            let err = export(&exporter, vec![span("lost", 1, 0)]).unwrap_err();
            assert!(err.to_string().contains("logs"), "{err}");
        }

        // Fixed: the same exporter opens the file and writes.
        std::fs::remove_file(&blocker).unwrap();
        export(&exporter, vec![span("kept", 1, 0)]).unwrap();
        assert_eq!(names(&path), ["kept"]);

        // Rotation cannot rename onto a non-empty directory: fails.
        let rotated = rotated_path(&path, 1);
        std::fs::create_dir(&rotated).unwrap();
        std::fs::write(rotated.join("x"), "x").unwrap();
        for _ in 0..2 {
            let err = export(&exporter, vec![span("lost", 1, 0)]).unwrap_err();
            assert!(err.to_string().contains("rename"), "{err}");
        }

        // Fixed again: rotation goes through and nothing lost was written.
        std::fs::remove_dir_all(&rotated).unwrap();
        export(&exporter, vec![span("after", 1, 0)]).unwrap();
        assert_eq!(names(&rotated), ["kept"]);
        assert_eq!(names(&path), ["after"]);
    }

    #[test]
    fn export_after_shutdown_fails() {
        let dir = tempfile::tempdir().unwrap();
        let exporter = exporter(JsonlExporter::builder(dir.path().join("traces.jsonl")));
        exporter.force_flush().unwrap();
        exporter.shutdown().unwrap();
        assert!(matches!(
            export(&exporter, vec![span("s", 1, 0)]),
            Err(OTelSdkError::AlreadyShutdown)
        ));
        assert!(matches!(
            exporter.shutdown(),
            Err(OTelSdkError::AlreadyShutdown)
        ));
    }
}
