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
//! - `GET /healthz`: 200 while the process runs.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::commit::{Committer, SubmitError};
use super::ingest::{LineRejection, Parsed, parse_body};
use super::signature;
use crate::secret::Secret;
use crate::store::Accepted;

/// The default limit of a request body.
pub const DEFAULT_MAX_BODY: usize = 10 * 1024 * 1024;

/// What the routes share.
#[derive(Clone)]
pub struct Ingest {
    pub committer: Committer,
    /// Required bearer token of `/v1/records`, when set.
    pub token: Option<Arc<Secret>>,
    /// The secret Intercom signs webhook deliveries with.
    pub webhook_secret: Option<Arc<Secret>>,
}

/// The router, with bodies limited to `max_body` bytes.
pub fn router(state: Ingest, max_body: usize) -> Router {
    Router::new()
        .route("/v1/records", post(records))
        .route(
            "/v1/webhooks/intercom",
            post(webhook).head(|| async { StatusCode::OK }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

fn problem(status: StatusCode, reason: &str) -> Response {
    (status, axum::Json(json!({ "error": reason }))).into_response()
}

fn authorized(state: &Ingest, headers: &HeaderMap) -> bool {
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

async fn records(State(state): State<Ingest>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorized(&state, &headers) {
        return problem(
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token (send Authorization: Bearer <token>)",
        );
    }
    store_and_answer(&state, parse_body(&body), Delivery::Records).await
}

async fn webhook(State(state): State<Ingest>, headers: HeaderMap, body: Bytes) -> Response {
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

/// Stores what a request held and answers for it.
async fn store_and_answer(state: &Ingest, parsed: Parsed, from: Delivery) -> Response {
    let accepted = parsed.accepted.len();
    if accepted > 0 {
        let stored = match from {
            Delivery::Records => state.committer.submit(parsed.accepted).await,
            Delivery::Webhook => state.committer.submit_waiting(parsed.accepted).await,
        };
        match stored {
            Ok(_) => {}
            Err(SubmitError::Busy) => {
                let mut r = problem(
                    StatusCode::TOO_MANY_REQUESTS,
                    "the store's queue is full; retry after a second",
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                return r;
            }
            Err(e) => return problem(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        }
    }
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
