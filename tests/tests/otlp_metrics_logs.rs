//! With OTLP/HTTP trace export on, the metrics and the evaluations of ended spans go to the same
//! collector: a loopback receiver sees `/v1/traces`, `/v1/metrics` (the GenAI metric names) and
//! `/v1/logs` (the `gen_ai.evaluation.result` record with the judged span's ids).
#![deny(warnings, clippy::all)]
#![forbid(unsafe_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use llmtrace::OtlpProtocol;
use llmtrace_runtime as llmtrace;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;

#[path = "support/signals.rs"]
mod signals;

/// The requests received: (path, body).
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A loopback OTLP/HTTP receiver: answers `200` to every request and keeps (path, body).
struct Receiver {
    addr: std::net::SocketAddr,
    requests: Received,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (kept, stopping) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            // One thread per connection: each exporter (traces, metrics, logs) keeps its own.
            let mut connections = Vec::new();
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (kept, stopping) = (kept.clone(), stopping.clone());
                        connections
                            .push(std::thread::spawn(move || serve(stream, &kept, &stopping)));
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(_) => break,
                }
            }
            for c in connections {
                let _ = c.join();
            }
        });
        Receiver {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn bodies(&self, path: &str) -> Vec<Vec<u8>> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, b)| b.clone())
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads requests on one keep-alive connection until it closes, the receiver stops, or it
/// idles for 2 s.
fn serve(mut stream: TcpStream, kept: &Mutex<Vec<(String, Vec<u8>)>>, stop: &AtomicBool) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut buf = Vec::new();
    let mut idle_since = Instant::now();
    let mut chunk = [0u8; 16 * 1024];
    while !stop.load(Ordering::Relaxed) && idle_since.elapsed() < Duration::from_secs(2) {
        match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                idle_since = Instant::now();
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return,
        }
        // Every complete request in the buffer.
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if buf.len() < end + 4 + length {
                break;
            }
            let path = head
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            let body = buf[end + 4..end + 4 + length].to_vec();
            buf.drain(..end + 4 + length);
            kept.lock().unwrap().push((path, body));
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n");
        }
    }
}

#[test]
fn metrics_and_evaluation_logs_go_to_the_collector() {
    let receiver = Receiver::start();
    let guard = llmtrace::init()
        .service_name("otlp-signals")
        .otlp_endpoint(
            OtlpProtocol::HttpProtobuf,
            format!("http://{}/v1/traces", receiver.addr),
        )
        .install();

    let judged = signals::answer_and_judge();

    // Bounded wait for the three signals (the metrics reader exports on its own thread).
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && ["/v1/traces", "/v1/metrics", "/v1/logs"]
            .iter()
            .any(|p| receiver.bodies(p).is_empty())
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!receiver.bodies("/v1/traces").is_empty(), "no traces");
    let metrics: Vec<_> = receiver
        .bodies("/v1/metrics")
        .iter()
        .map(|b| ExportMetricsServiceRequest::decode(b.as_slice()).expect("a metrics request"))
        .collect();
    let logs: Vec<_> = receiver
        .bodies("/v1/logs")
        .iter()
        .map(|b| ExportLogsServiceRequest::decode(b.as_slice()).expect("a logs request"))
        .collect();
    signals::check(&metrics, &logs, &judged);
    drop(guard);
}
