//! The routes of `convstats serve` and their limits:
//!
//! - `POST /v1/records`: an NDJSON body of records (input.md). Every line is
//!   validated; the good ones are made durable in the state store (group
//!   commit) before the answer, `202 {"accepted", "ignored", "rejected":
//!   [{"line", "reason"}]}`. A bad line never rejects its neighbours.
//!   With a token configured, `Authorization: Bearer <token>` is required
//!   (compared in constant time), else 401. A body over the limit is 413; a
//!   full commit queue is 429 with `Retry-After: 1`; a failing store is 503.
//! - `POST /v1/webhooks/intercom`: one Intercom notification (the raw body,
//!   any JSON layout). `X-Hub-Signature: sha1=<hex>` must be the HMAC-SHA1
//!   of the raw body with the configured webhook secret (constant-time
//!   check), else 401; without a configured secret every delivery is
//!   refused (401), never accepted unsigned. A valid delivery is stored
//!   before the answer, `202` as above; a delivery that is not a valid
//!   record is answered 202 with its rejection too (Intercom would only
//!   send it again), and logged.
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
pub const DEFAULT_MAX_BODY: usize = 16 * 1024 * 1024;

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
        .route("/v1/webhooks/intercom", post(webhook))
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
    store_and_answer(&state, parse_body(&body)).await
}

async fn webhook(State(state): State<Ingest>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &state.webhook_secret else {
        return problem(
            StatusCode::UNAUTHORIZED,
            "no webhook secret is configured, so no delivery can be verified",
        );
    };
    let header = headers.get("x-hub-signature").and_then(|v| v.to_str().ok());
    if !signature::valid(secret.expose().as_bytes(), &body, header) {
        return problem(
            StatusCode::UNAUTHORIZED,
            "missing or wrong X-Hub-Signature (sha1=HMAC-SHA1 of the body with the app's client secret)",
        );
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
    store_and_answer(&state, parsed).await
}

/// Stores what a request held and answers for it.
async fn store_and_answer(state: &Ingest, parsed: Parsed) -> Response {
    let accepted = parsed.accepted.len();
    if accepted > 0 {
        match state.committer.submit(parsed.accepted).await {
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
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({
            "accepted": accepted,
            "ignored": parsed.ignored,
            "rejected": parsed.rejected,
        })),
    )
        .into_response()
}
