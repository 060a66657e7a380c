//! An OTLP/HTTP receiver on 127.0.0.1 for the drain variants with a real exporter: it reads every
//! request body and discards it, answering `200` with an empty body (a full success).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::http::{StatusCode, header};

/// A running receiver: the traces endpoint to give the exporters, and the body bytes it read.
pub(crate) struct Receiver {
    pub(crate) endpoint: String,
    pub(crate) bytes: Arc<AtomicU64>,
}

/// Starts a receiver on its own thread (a current-thread runtime) for the rest of the process.
pub(crate) fn start() -> Receiver {
    let bytes = Arc::new(AtomicU64::new(0));
    let counted = bytes.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("receiver runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(SocketAddr::from((
            [127, 0, 0, 1],
            0,
        ))))
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("receiver address");
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let counted = counted.clone();
        async move {
            counted.fetch_add(body.len() as u64, Ordering::Relaxed);
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                Bytes::new(),
            )
        }
    });
    std::thread::Builder::new()
        .name("otlp-receiver".into())
        .spawn(move || {
            runtime
                .block_on(async { axum::serve(listener, app).await })
                .expect("receiver");
        })
        .expect("receiver thread");
    Receiver {
        endpoint: format!("http://{addr}/v1/traces"),
        bytes,
    }
}
