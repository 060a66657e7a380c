//! A loopback OTLP/HTTP receiver whose behaviour is switched at run time, to put collector faults
//! in front of the exporter: healthy, refusing connections, stalling, throttling (`503` or `429`
//! with `Retry-After: 1`) and closing the connection mid-request.
//!
//! Plain threads and blocking sockets with short read timeouts: every loop checks the stop flag
//! and the receiver's lifetime, so nothing outlives it and no wait is unbounded.
//!
//! What counts as received: the span ids of a request are recorded only when the whole request
//! was read and decoded and the receiver is about to answer it `200`, and they are recorded
//! before the answer is written. So a request the client saw acknowledged always has its ids
//! recorded; a request answered `200` whose answer the client never read (it gave up first, or
//! the connection broke) is recorded too, as received but not acknowledged. That is the property
//! the tests prove: acknowledged implies received, not the converse. Ids are kept as a set: a
//! batch the client retries after a lost answer arrives twice and counts once.

use std::collections::HashSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;

/// How the receiver treats connections and requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // each test binary uses some of the modes
pub(crate) enum Mode {
    /// Reads each request and answers `200`.
    Healthy,
    /// The collector is down: nothing listens on the port (connecting is refused), and the
    /// connections it had are closed.
    Refusing,
    /// Accepts and reads requests, never answers.
    Stalling,
    /// Answers `503 Service Unavailable` with `Retry-After: 1`.
    Unavailable,
    /// Answers `429 Too Many Requests` with `Retry-After: 1`.
    TooManyRequests,
    /// Reads the head and half the body of each request, then closes the connection.
    CloseMidRequest,
    /// Answers `200` with a partial success that rejects half the request's spans (rounded
    /// down), with the message [`REJECTION_MESSAGE`]. Every id is recorded as received.
    RejectHalf,
}

/// The collector's `error_message` in the `RejectHalf` mode.
#[allow(dead_code)] // used by the partial-success test only
pub(crate) const REJECTION_MESSAGE: &str = "span attributes over the collector's limit";

/// What the receiver did, by outcome.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tally {
    /// Connections accepted.
    pub(crate) connections: u64,
    /// Requests answered `200` (their span ids recorded).
    pub(crate) ok: u64,
    /// Requests answered `503`.
    pub(crate) unavailable: u64,
    /// Requests answered `429`.
    pub(crate) too_many: u64,
    /// Requests read and never answered.
    pub(crate) stalled: u64,
    /// Requests cut mid-body.
    pub(crate) cut: u64,
    /// Connections closed because the collector went down.
    pub(crate) closed_down: u64,
    /// Spans rejected in partial successes (`RejectHalf`).
    pub(crate) rejected: u64,
}

struct Shared {
    addr: SocketAddr,
    mode: Mutex<Mode>,
    stop: AtomicBool,
    /// The receiver's lifetime: everything stops by then, whatever happens.
    end: Instant,
    received: Mutex<HashSet<u64>>,
    /// Each request answered `200`: its body's length in bytes and its spans.
    requests: Mutex<Vec<(usize, usize)>>,
    tally: Mutex<Tally>,
    handlers: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn mode(&self) -> Mode {
        *lock(&self.mode)
    }

    fn over(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || Instant::now() >= self.end
    }

    fn count(&self, f: impl FnOnce(&mut Tally)) {
        f(&mut lock(&self.tally));
    }
}

/// The running receiver. Dropping it stops it and joins its threads.
pub(crate) struct FaultReceiver {
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl FaultReceiver {
    /// Starts in `mode` on a loopback port, for at most `lifetime`.
    pub(crate) fn start(mode: Mode, lifetime: Duration) -> FaultReceiver {
        let listener = bind_reusable_port();
        let shared = Arc::new(Shared {
            addr: listener.local_addr().expect("local address"),
            mode: Mutex::new(mode),
            stop: AtomicBool::new(false),
            end: Instant::now() + lifetime,
            received: Mutex::new(HashSet::new()),
            requests: Mutex::new(Vec::new()),
            tally: Mutex::new(Tally::default()),
            handlers: Mutex::new(Vec::new()),
        });
        let listener = (mode != Mode::Refusing).then_some(listener);
        let acceptor = {
            let shared = shared.clone();
            thread::spawn(move || accept_loop(listener, &shared))
        };
        FaultReceiver {
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The OTLP/HTTP traces URL.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://{}/v1/traces", self.shared.addr)
    }

    /// Switches the behaviour, for requests that arrive from now on.
    #[allow(dead_code)] // not every test binary switches
    pub(crate) fn set_mode(&self, mode: Mode) {
        *lock(&self.shared.mode) = mode;
    }

    /// The span ids of every request answered `200` so far.
    #[allow(dead_code)] // not every test binary reads them
    pub(crate) fn received_ids(&self) -> HashSet<u64> {
        lock(&self.shared.received).clone()
    }

    /// Each request answered `200` so far, in order: its body's length and its spans.
    #[allow(dead_code)] // not every test binary reads them
    pub(crate) fn requests(&self) -> Vec<(usize, usize)> {
        lock(&self.shared.requests).clone()
    }

    /// What the receiver did so far.
    #[allow(dead_code)] // not every test binary reads it
    pub(crate) fn tally(&self) -> Tally {
        *lock(&self.shared.tally)
    }
}

impl Drop for FaultReceiver {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for handler in std::mem::take(&mut *lock(&self.shared.handlers)) {
            let _ = handler.join();
        }
    }
}

/// Binds a loopback port that can be bound again after the receiver has closed it (the
/// `Refusing` mode closes the listener). The port is taken below the kernel's ephemeral range
/// where it is known: no outgoing connection is given that port meanwhile, so binding it again
/// succeeds.
fn bind_reusable_port() -> TcpListener {
    let ephemeral_low = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u16>().ok());
    if let Some(low) = ephemeral_low.filter(|&low| low > 12_000) {
        let span = u32::from(low - 10_000);
        let seed = std::process::id().wrapping_mul(2_654_435_761) % span;
        for i in 0..2_000 {
            let port = 10_000 + ((seed + i * 7) % span) as u16;
            if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
                return listener;
            }
        }
    }
    TcpListener::bind("127.0.0.1:0").expect("bind a loopback port")
}

fn accept_loop(mut listener: Option<TcpListener>, shared: &Arc<Shared>) {
    if let Some(l) = &listener {
        l.set_nonblocking(true).expect("nonblocking listener");
    }
    while !shared.over() {
        if shared.mode() == Mode::Refusing {
            // Closing the listener makes the kernel refuse new connections.
            listener = None;
            thread::sleep(Duration::from_millis(2));
            continue;
        }
        let Some(l) = &listener else {
            // Back up: listen on the same port again.
            match TcpListener::bind(shared.addr) {
                Ok(l) => {
                    l.set_nonblocking(true).expect("nonblocking listener");
                    listener = Some(l);
                }
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
            continue;
        };
        match l.accept() {
            Ok((stream, _)) => {
                shared.count(|t| t.connections += 1);
                let handler = {
                    let shared = shared.clone();
                    thread::spawn(move || serve(stream, &shared))
                };
                let mut handlers = lock(&shared.handlers);
                handlers.retain(|h| !h.is_finished());
                handlers.push(handler);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(1)),
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Where a request's head ends (after the blank line), and its `content-length`.
fn parse_head(buf: &[u8]) -> Option<(usize, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let len = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    Some((end, len))
}

/// Serves one connection, request by request, each as the mode at its arrival says.
fn serve(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(20)));
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let Some((head_end, body_len)) = parse_head(&buf) else {
            if !read_more(&mut stream, &mut buf, &mut chunk, shared) {
                return;
            }
            continue;
        };
        let answer: Vec<u8> = match shared.mode() {
            Mode::Refusing => {
                shared.count(|t| t.closed_down += 1);
                return;
            }
            Mode::Stalling => {
                shared.count(|t| t.stalled += 1);
                // Reads and drops whatever comes, without keeping it, until the client gives up.
                while !shared.over() {
                    match stream.read(&mut chunk) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(e) if is_timeout(&e) => {}
                        Err(_) => return,
                    }
                }
                return;
            }
            Mode::CloseMidRequest => {
                while buf.len() < head_end + body_len / 2 {
                    if !read_more(&mut stream, &mut buf, &mut chunk, shared) {
                        return;
                    }
                }
                shared.count(|t| t.cut += 1);
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            mode => {
                while buf.len() < head_end + body_len {
                    if !read_more(&mut stream, &mut buf, &mut chunk, shared) {
                        return;
                    }
                }
                match mode {
                    Mode::Unavailable => {
                        shared.count(|t| t.unavailable += 1);
                        b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n".to_vec()
                    }
                    Mode::TooManyRequests => {
                        shared.count(|t| t.too_many += 1);
                        b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 0\r\n\r\n".to_vec()
                    }
                    _ => {
                        let body = &buf[head_end..head_end + body_len];
                        let Ok(request) = ExportTraceServiceRequest::decode(body) else {
                            return;
                        };
                        let ids: Vec<u64> = request
                            .resource_spans
                            .iter()
                            .flat_map(|rs| &rs.scope_spans)
                            .flat_map(|ss| &ss.spans)
                            .filter_map(|s| <[u8; 8]>::try_from(s.span_id.as_slice()).ok())
                            .map(u64::from_be_bytes)
                            .collect();
                        let rejected = if mode == Mode::RejectHalf {
                            ids.len() as u64 / 2
                        } else {
                            0
                        };
                        // Recorded before the answer leaves: acknowledged implies recorded.
                        lock(&shared.requests).push((body_len, ids.len()));
                        lock(&shared.received).extend(ids);
                        shared.count(|t| {
                            t.ok += 1;
                            t.rejected += rejected;
                        });
                        let body = if rejected > 0 {
                            ExportTraceServiceResponse {
                                partial_success: Some(ExportTracePartialSuccess {
                                    rejected_spans: rejected as i64,
                                    error_message: REJECTION_MESSAGE.to_owned(),
                                }),
                            }
                            .encode_to_vec()
                        } else {
                            Vec::new()
                        };
                        let mut answer = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\n\
                             content-length: {}\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        answer.extend_from_slice(&body);
                        answer
                    }
                }
            }
        };
        if stream.write_all(&answer).is_err() {
            return;
        }
        buf.drain(..head_end + body_len);
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Reads what has arrived into `buf`; false when the connection is over (closed, broken, the
/// collector went down, or the receiver stops).
fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>, chunk: &mut [u8], shared: &Shared) -> bool {
    loop {
        if shared.over() {
            return false;
        }
        if shared.mode() == Mode::Refusing {
            // A collector that goes down takes its connections with it.
            shared.count(|t| t.closed_down += 1);
            return false;
        }
        match stream.read(chunk) {
            Ok(0) => return false,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return true;
            }
            Err(e) if is_timeout(&e) => {}
            Err(_) => return false,
        }
    }
}
