//! `llmtrace serve`: a local collector and web UI. An OTLP/HTTP receiver (`POST /v1/traces`,
//! protobuf or JSON, gzip) stores spans in SQLite ([`store`]); the UI serves the viewer's page
//! from the store, with the trace list paged on the server and new traces polled for.

mod http;
mod receiver;
mod store;
#[cfg(test)]
mod tests;

use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::ServeArgs;
use crate::source::{self, Input};

pub(crate) use receiver::DEFAULT_LIMIT;
use store::Store;

/// Runs the server until it is stopped; `Err` is a message for stderr (bad flags, a port in
/// use, a store that cannot be opened).
pub(crate) fn run(args: &ServeArgs) -> Result<(), String> {
    let exposed = [args.otlp, args.ui]
        .into_iter()
        .filter(|a| !a.ip().is_loopback())
        .collect::<Vec<_>>();
    if !exposed.is_empty() {
        if args.token.is_none() {
            return Err(format!(
                "{} is not a loopback address: anyone who can reach it could read and send \
                 traces. Add --token SECRET (clients send `Authorization: Bearer SECRET`), or \
                 bind 127.0.0.1",
                exposed[0]
            ));
        }
        eprintln!(
            "llmtrace: warning: listening on {} beyond this machine; every request must carry \
             the bearer token",
            exposed
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" and ")
        );
    }
    if args.token.as_deref() == Some("") {
        return Err("--token must not be empty".to_owned());
    }
    let mut store = Store::open(&args.store)?;
    import(&mut store, args);
    let shared = http::Shared {
        store: Arc::new(Mutex::new(store)),
        token: args.token.as_deref().map(Arc::from),
        limit: args.max_body,
        source: args.store.join(store::FILE).display().to_string(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    runtime.block_on(async {
        let otlp = bind(args.otlp).await?;
        let ui = bind(args.ui).await?;
        let (otlp_addr, ui_addr) = (local(&otlp)?, local(&ui)?);
        // On stdout, one line each: scripts and tests that bind port 0 read the ports here.
        // Written, not `println!`: a closed stdout must not stop the server.
        let mut stdout = std::io::stdout();
        let _ = writeln!(
            stdout,
            "llmtrace: receiving OTLP/HTTP on http://{otlp_addr}/v1/traces"
        );
        let _ = writeln!(stdout, "llmtrace: UI on http://{ui_addr}/");
        let _ = stdout.flush();
        let receiver = axum::serve(otlp, http::receiver(shared.clone()));
        let page = axum::serve(ui, http::ui(shared));
        tokio::try_join!(async { receiver.await }, async { page.await })
            .map(|_| ())
            .map_err(|e| format!("server stopped: {e}"))
    })
}

async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, String> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

fn local(l: &tokio::net::TcpListener) -> Result<SocketAddr, String> {
    l.local_addr().map_err(|e| format!("no local address: {e}"))
}

/// Imports the JSONL files given on the command line, line by line, as if each line had been
/// received; a file already imported with the same size and time is skipped. Lines that
/// cannot be used are named on stderr.
fn import(store: &mut Store, args: &ServeArgs) {
    if args.paths.is_empty() {
        return;
    }
    let (inputs, problems) = source::resolve(&args.paths);
    for p in problems {
        eprintln!("llmtrace: {p}");
    }
    for input in inputs {
        let Input::File(path) = input else {
            eprintln!("llmtrace: serve does not read stdin; pass files");
            continue;
        };
        let stamp = std::fs::metadata(&path)
            .ok()
            .map(|m| format!("{}:{:?}", m.len(), m.modified().ok()));
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let key = key.display().to_string();
        if stamp.as_deref().is_some_and(|s| store.imported(&key, s)) {
            eprintln!("llmtrace: {} already imported", path.display());
            continue;
        }
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("llmtrace: {}: {e}", path.display());
                continue;
            }
        };
        let (mut spans, mut known, mut bad) = (0usize, 0usize, 0usize);
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = match line {
                Ok(l) if l.trim().is_empty() => continue,
                Ok(l) => l,
                Err(e) => {
                    eprintln!("llmtrace: {}:{}: {e}", path.display(), n + 1);
                    break;
                }
            };
            match receiver::decode(line.as_bytes(), receiver::Format::Json) {
                Ok((text, rows)) => match store.insert(&text, &rows) {
                    Ok(new) => {
                        spans += new;
                        known += rows.len() - new;
                    }
                    Err(e) => {
                        eprintln!("llmtrace: {}:{}: cannot store: {e}", path.display(), n + 1);
                        bad += 1;
                    }
                },
                Err(r) => {
                    if bad < 5 {
                        eprintln!("llmtrace: {}:{}: {}", path.display(), n + 1, r.message);
                    }
                    bad += 1;
                }
            }
        }
        if let Some(s) = stamp {
            store.mark_imported(&key, &s);
        }
        eprintln!(
            "llmtrace: imported {spans} spans from {}{}{}",
            path.display(),
            if known > 0 {
                format!(" ({known} already stored)")
            } else {
                String::new()
            },
            if bad > 0 {
                format!(" ({bad} lines skipped)")
            } else {
                String::new()
            }
        );
    }
}
