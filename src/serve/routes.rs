//! The routes of `convstats serve` and their limits:
//!
//! - `POST /v1/records`: an NDJSON body of records (input.md). Every line is
//!   validated; the good ones are made durable in the state store (group
//!   commit) before the answer, `202 {"accepted", "ignored", "rejected":
//!   [{"line", "reason"}]}`. A bad line never rejects its neighbours.
//!   With a token configured, `Authorization: Bearer <token>` is required
//!   (compared in constant time), else 401. A body over the limit is 413; a
//!   full commit queue is 429 with `Retry-After: 1`; a failing store is 503.
//! - `POST /v1/webhooks/intercom` (cli.md): one Intercom notification (the
//!   raw body, any JSON layout), `200` once stored. With a webhook secret
//!   configured, `X-Hub-Signature: sha1=<hex>` must be the HMAC-SHA1 of the
//!   raw body (constant-time check), else 401; without one, signatures are
//!   not checked (`serve` warns at start). Never 429 (Intercom drops
//!   deliveries after throttling): it waits for room in the commit queue
//!   and answers 503 only when the store fails. `HEAD` answers 200 (Intercom
//!   validates the URL so), a `ping` delivery is an ignored topic (200). A
//!   delivery that is no valid record is answered 200 with its rejection
//!   (Intercom would only send it again) and logged.
//! - `GET /v1/conversations/{workspace_id}/{conversation_id}`: `{"new": doc,
//!   "legacy": doc}` computed from the store now (the documents `compute`
//!   writes for the same records); 404 when unknown or deleted.
//! - `GET /v1/export.csv?from=&to=&workspace_id=`: the CSV export of the
//!   store (`crate::export`), streamed; 400 with the reason for a bad bound.
//! - `GET /healthz`: 200 while the process runs. `GET /readyz`: 200, or 503
//!   with the reason (the store or Elasticsearch). `GET /metrics`:
//!   Prometheus text format ([`super::telemetry`]).
//!
//! With a bearer token configured, every `/v1` route but the webhook asks
//! for it. `POST /v1/records` also answers 429 (`Retry-After`) while the
//! backlog (dirty conversations) is above the backlog limit.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::commit::{Committer, SubmitError};
use super::ingest::{LineRejection, Parsed, parse_body};
use super::signature;
use super::status::Status;
use super::telemetry::Telemetry;
use crate::config::Settings;
use crate::document::{metrics_for, render_pair};
use crate::export;
use crate::record::ConversationKey;
use crate::secret::Secret;
use crate::store::{Accepted, Store};

/// The default limit of a request body.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// The default backlog limit: dirty conversations above which `POST
/// /v1/records` answers 429.
pub const DEFAULT_BACKLOG_LIMIT: u64 = 200_000;

/// What the routes share.
#[derive(Clone)]
pub struct App {
    pub committer: Committer,
    /// Required bearer token of the `/v1` routes but the webhook, when set.
    pub token: Option<Arc<Secret>>,
    /// The secret Intercom signs webhook deliveries with.
    pub webhook_secret: Option<Arc<Secret>>,
    /// A connection to the store for reads (the committer has its own).
    pub reader: Arc<Mutex<Store>>,
    pub settings: Arc<Settings>,
    pub status: Arc<Status>,
    pub telemetry: Arc<Telemetry>,
    pub backlog_limit: u64,
}

/// Requests whose bodies are read and stored at once; more wait for a turn
/// (their bodies unread), so memory stays bounded whatever clients send:
/// about `MAX_INGESTING` × 3 × the body limit at the most (the body, its
/// accepted lines, the commit).
pub const MAX_INGESTING: usize = 32;

/// The router, with bodies limited to `max_body` bytes.
pub fn router(state: App, max_body: usize) -> Router {
    let ingest = Router::new()
        .route("/v1/records", post(records))
        .route(
            "/v1/webhooks/intercom",
            post(webhook).head(|| async { StatusCode::OK }),
        )
        .route_layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            MAX_INGESTING,
        ));
    Router::new()
        .merge(ingest)
        .route(
            "/v1/conversations/{workspace_id}/{conversation_id}",
            get(conversation),
        )
        .route("/v1/export.csv", get(export_csv))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

fn problem(status: StatusCode, reason: &str) -> Response {
    (status, axum::Json(json!({ "error": reason }))).into_response()
}

fn authorized(state: &App, headers: &HeaderMap) -> bool {
    let Some(token) = &state.token else {
        return true;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))
}

fn unauthorized() -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        "missing or wrong bearer token (send Authorization: Bearer <token>)",
    )
}

fn busy(reason: &str) -> Response {
    let mut r = problem(StatusCode::TOO_MANY_REQUESTS, reason);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

async fn records(State(state): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let backlog = state.status.backlog();
    if backlog > state.backlog_limit {
        return busy(&format!(
            "{backlog} conversations are waiting to be indexed (limit {}); retry after a second",
            state.backlog_limit
        ));
    }
    store_and_answer(&state, parse_body(&body), Delivery::Records).await
}

async fn webhook(State(state): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(secret) = &state.webhook_secret {
        let header = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
        if !signature::valid(secret.expose().as_bytes(), &body, header) {
            return problem(
                StatusCode::UNAUTHORIZED,
                "missing or wrong X-Hub-Signature (sha1=HMAC-SHA1 of the body with the app's client secret)",
            );
        }
    }
    let mut parsed = Parsed::default();
    match Accepted::parse(&body) {
        Ok(Some(a)) => parsed.accepted.push(a),
        Ok(None) => parsed.ignored += 1,
        Err(reason) => {
            tracing::warn!(reason = %reason, "webhook delivery rejected");
            parsed.rejected.push(LineRejection { line: 1, reason });
        }
    }
    store_and_answer(&state, parsed, Delivery::Webhook).await
}

/// Who sent a request: a webhook is never told to back off.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Records,
    Webhook,
}

impl Delivery {
    fn label(self) -> &'static str {
        match self {
            Delivery::Records => "records",
            Delivery::Webhook => "webhook",
        }
    }
}

/// Stores what a request held and answers for it.
async fn store_and_answer(state: &App, parsed: Parsed, from: Delivery) -> Response {
    let accepted = parsed.accepted.len();
    let t = &state.telemetry;
    t.rejected
        .with_label_values(&[from.label()])
        .inc_by(parsed.rejected.len() as u64);
    if accepted > 0 {
        let stored = match from {
            Delivery::Records => state.committer.submit(parsed.accepted).await,
            Delivery::Webhook => state.committer.submit_waiting(parsed.accepted).await,
        };
        match stored {
            Ok(_) => {}
            Err(SubmitError::Busy) => {
                return busy("the store's queue is full; retry after a second");
            }
            Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        }
    }
    t.accepted
        .with_label_values(&[from.label()])
        .inc_by(accepted as u64);
    t.ignored
        .with_label_values(&[from.label()])
        .inc_by(parsed.ignored);
    let status = match from {
        Delivery::Records => StatusCode::ACCEPTED,
        Delivery::Webhook => StatusCode::OK,
    };
    (
        status,
        axum::Json(json!({
            "accepted": accepted,
            "ignored": parsed.ignored,
            "rejected": parsed.rejected,
        })),
    )
        .into_response()
}

/// Runs `f` on the reader connection on a blocking thread.
async fn with_reader<T: Send + 'static>(
    state: &App,
    f: impl FnOnce(&Store) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let reader = state.reader.clone();
    tokio::task::spawn_blocking(move || {
        let s = reader
            .lock()
            .map_err(|_| "the store lock was poisoned".to_string())?;
        f(&s)
    })
    .await
    .map_err(|e| format!("the read task failed: {e}"))?
}

async fn conversation(
    State(state): State<App>,
    headers: HeaderMap,
    Path((workspace_id, conversation_id)): Path<(String, String)>,
) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let key = ConversationKey {
        workspace_id: workspace_id.into(),
        id: conversation_id.into(),
    };
    let settings = state.settings.clone();
    let read = with_reader(&state, move |s| {
        let Some(c) = s.conversation(&key).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let m = metrics_for(&c, &settings);
        let (new, legacy) = render_pair(&c, &m);
        let mut body = Vec::with_capacity(new.len() + legacy.len() + 20);
        body.extend_from_slice(b"{\"new\":");
        body.extend_from_slice(&new);
        body.extend_from_slice(b",\"legacy\":");
        body.extend_from_slice(&legacy);
        body.extend_from_slice(b"}\n");
        Ok(Some(body))
    })
    .await;
    match read {
        Ok(Some(body)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, "no such conversation in the store"),
        Err(e) => problem(StatusCode::SERVICE_UNAVAILABLE, &e),
    }
}

#[derive(serde::Deserialize)]
struct ExportQuery {
    from: Option<String>,
    to: Option<String>,
    workspace_id: Option<String>,
}

/// An `io::Write` that hands chunks to a bounded channel (the response
/// body): the export waits while the client reads slowly, and stops when
/// it went away.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

async fn export_csv(
    State(state): State<App>,
    headers: HeaderMap,
    Query(q): Query<ExportQuery>,
) -> Response {
    if !authorized(&state, &headers) {
        return unauthorized();
    }
    let filter = match export::filter(
        q.from.as_deref(),
        q.to.as_deref(),
        q.workspace_id.as_deref(),
    ) {
        Ok(f) => f,
        Err(e) => return problem(StatusCode::BAD_REQUEST, &e),
    };
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let reader = state.reader.clone();
    let settings = state.settings.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::new(),
        };
        let result = export::store_csv(&reader, &settings, &filter, &mut out)
            .and_then(|_| out.flush().map_err(export::ExportError::Io));
        if let Err(e) = result {
            tracing::warn!("export: {e}");
            // The client sees a cut-off body, never a complete-looking one.
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body = Body::from_stream(tokio_stream_of(rx));
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        body,
    )
        .into_response()
}

fn tokio_stream_of(
    mut rx: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn readyz(State(state): State<App>) -> Response {
    match state.status.not_ready() {
        None => (StatusCode::OK, axum::Json(json!({"ready": true}))).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"ready": false, "reason": reason})),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<App>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.telemetry.render(),
    )
        .into_response()
}
