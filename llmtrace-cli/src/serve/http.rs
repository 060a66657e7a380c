//! The two HTTP services: the OTLP receiver (`POST /v1/traces`) and the web UI (the viewer's
//! page and its JSON endpoints), each behind the bearer token when one is set.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::receiver::{self, Format, Refused};
use super::store::{Cursor, ListFilter, Store};
use crate::viewer::page;

/// What the handlers share.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    pub(crate) store: Arc<Mutex<Store>>,
    /// The bearer token both services require, if any.
    pub(crate) token: Option<Arc<str>>,
    /// The largest body accepted, decompressed.
    pub(crate) limit: usize,
    /// Where the store is, for the page's header.
    pub(crate) source: String,
}

/// The receiver's routes.
pub(crate) fn receiver(shared: Shared) -> Router {
    Router::new()
        .route("/v1/traces", post(receive))
        .layer(middleware::from_fn_with_state(shared.clone(), authorize))
        .with_state(shared)
}

/// The UI's routes.
pub(crate) fn ui(shared: Shared) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/api/traces", get(list))
        .route("/api/traces/{id}", get(one))
        .layer(middleware::from_fn_with_state(shared.clone(), authorize))
        .with_state(shared)
}

/// Lets a request through when no token is set, or when it carries it as
/// `Authorization: Bearer TOKEN` (or, for a browser's address bar, `?token=TOKEN`).
async fn authorize(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let Some(token) = &shared.token else {
        return next.run(request).await;
    };
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let query = request
        .uri()
        .query()
        .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("token=")));
    if bearer == Some(&**token) || query == Some(&**token) {
        return next.run(request).await;
    }
    let mut response = (
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token: send Authorization: Bearer TOKEN\n",
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// `POST /v1/traces`: reads the body within the limit, then decodes and stores it.
async fn receive(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    // The raw body may not exceed the limit either: gzip never makes OTLP larger.
    let bytes = match axum::body::to_bytes(body, shared.limit).await {
        Ok(b) => b,
        Err(_) => return refused(receiver::too_large(shared.limit)),
    };
    let store = shared.store.clone();
    let limit = shared.limit;
    let work = tokio::task::spawn_blocking(move || accept(&parts.headers, &bytes, limit, &store));
    match work.await {
        Ok(response) => response,
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request could not be handled\n",
        )
            .into_response(),
    }
}

/// A body, whole and in memory, to a response: the handler's work without the HTTP plumbing.
pub(crate) fn accept(
    headers: &HeaderMap,
    body: &Bytes,
    limit: usize,
    store: &Mutex<Store>,
) -> Response {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let format = match Format::from_content_type(text(header::CONTENT_TYPE)) {
        Ok(f) => f,
        Err(r) => return refused(r),
    };
    if body.len() > limit {
        return refused(receiver::too_large(limit));
    }
    let decoded = receiver::inflate(body, text(header::CONTENT_ENCODING), limit)
        .and_then(|plain| receiver::decode(&plain, format));
    let (line, rows) = match decoded {
        Ok(d) => d,
        Err(r) => return refused(r),
    };
    let stored = match store.lock() {
        Ok(mut s) => s.insert(&line, &rows),
        Err(_) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "store unavailable\n").into_response();
        }
    };
    if let Err(e) = stored {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot store the spans: {e}\n"),
        )
            .into_response();
    }
    // An empty ExportTraceServiceResponse, in the request's encoding.
    match format {
        Format::Protobuf => (
            [(header::CONTENT_TYPE, "application/x-protobuf")],
            Body::empty(),
        )
            .into_response(),
        Format::Json => ([(header::CONTENT_TYPE, "application/json")], "{}").into_response(),
    }
}

fn refused(r: Refused) -> Response {
    (r.status, format!("{}\n", r.message)).into_response()
}

/// Paging and filters of the trace list.
#[derive(Debug, Deserialize)]
struct PageQuery {
    #[serde(default)]
    offset: u64,
    #[serde(default = "default_limit")]
    limit: u64,
    /// The page after this cursor (the `next` of the previous page); `offset` is then ignored.
    after: Option<String>,
    /// Only the traces that changed after this (the `changed` of an earlier answer).
    since: Option<i64>,
}

fn default_limit() -> u64 {
    PAGE
}

/// Traces on one page of the list.
const PAGE: u64 = 100;
/// The most a client may ask for at once.
const MAX_PAGE: u64 = 1000;
/// Values offered in each of the list's pickers (sessions, users, models).
const CHOICES: u64 = 500;

/// `GET /`: the viewer's page with the newest page of traces, set to poll for more.
async fn index(State(shared): State<Shared>) -> Response {
    let source = shared.source.clone();
    let page = read(shared, move |s| {
        Ok((
            s.page(&ListFilter::default(), None, 0, PAGE)?,
            s.choices(CHOICES)?,
        ))
    })
    .await;
    match page {
        Ok((p, choices)) => {
            let payload = json!({
                "title": "llmtrace serve",
                "sources": [source],
                "live": {
                    "changed": p.changed,
                    "total": p.total,
                    "page": PAGE,
                    "next": p.next.map(|c| c.to_string()),
                    "choices": choices,
                },
                "traces": p.traces,
            });
            (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                page::report(&payload),
            )
                .into_response()
        }
        Err(r) => r,
    }
}

/// `GET /api/traces?offset=&limit=&after=` and the filters (`name`, `session`, `user`,
/// `model`, `errors`, `min_cost`, `max_cost`, `from`, `to`, `q`): a page of the list, newest
/// first; with `since=`, the traces that changed after it instead (the page's live updates).
async fn list(
    State(shared): State<Shared>,
    Query(q): Query<PageQuery>,
    Query(filter): Query<ListFilter>,
) -> Response {
    let limit = q.limit.clamp(1, MAX_PAGE);
    // An empty `after` (a form's empty field) is the first page.
    let after = match q
        .after
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(str::parse::<Cursor>)
    {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(())) => {
            return (
                StatusCode::BAD_REQUEST,
                "after is START_NS:TRACE_ID, the `next` of a page\n",
            )
                .into_response();
        }
    };
    let offset = q.offset;
    let page = match q.since {
        Some(since) => read(shared, move |s| s.changed_since(since, limit)).await,
        None => {
            read(shared, move |s| {
                s.page(&filter, after.as_ref(), offset, limit)
            })
            .await
        }
    };
    match page {
        Ok(p) => axum::Json(json!({
            "total": p.total,
            "capped": p.capped,
            "changed": p.changed,
            "offset": q.offset,
            "next": p.next.map(|c| c.to_string()),
            "traces": p.traces,
        }))
        .into_response(),
        Err(r) => r,
    }
}

/// `GET /api/traces/{id}`: one trace with its spans.
async fn one(State(shared): State<Shared>, Path(id): Path<String>) -> Response {
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (StatusCode::BAD_REQUEST, "a trace id is 32 hex digits\n").into_response();
    }
    match read(shared, move |s| s.trace(&id)).await {
        Ok(Some(t)) => axum::Json(t).into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such trace\n").into_response(),
        Err(r) => r,
    }
}

/// Runs a read of the store off the async threads.
async fn read<T: Send + 'static>(
    shared: Shared,
    f: impl FnOnce(&Store) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, Response> {
    let store = shared.store.clone();
    let result = tokio::task::spawn_blocking(move || match store.lock() {
        Ok(s) => f(&s).map_err(|e| e.to_string()),
        Err(_) => Err("store unavailable".to_owned()),
    })
    .await;
    match result {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err((StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response()),
        Err(_) => Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            "the request could not be handled\n",
        )
            .into_response()),
    }
}
