//! One `_bulk` HTTP exchange and its whole-request result, as
//! [`crate::elasticsearch::policy`] decides: items to look at, retry, split
//! (413), or dead-letter everything.

use bytes::Bytes;

use super::response::{self, Item};
use crate::elasticsearch::client::{BodyKind, ErrorBody, EsClient, Method};
use crate::elasticsearch::error::EsError;
use crate::elasticsearch::policy::{self, RequestDecision};

/// Kept small, but never without `items.*.status`.
pub const FILTER_PATH: &str = "errors,items.*.status,items.*.error.type,items.*.error.reason";

/// The result of sending one bulk body.
#[derive(Debug)]
pub enum Exchange {
    /// HTTP 200: the items, in request order.
    Items(Vec<Item>),
    /// Send the whole request again later; `backpressure` for HTTP 429.
    Retry { reason: String, backpressure: bool },
    /// HTTP 413: split the request.
    TooLarge,
    /// Any other status: every operation is a dead letter.
    Fail {
        status: u16,
        kind: String,
        reason: String,
    },
}

/// Sends `body` (already gzipped when `gzip`) holding `ops` operations.
pub async fn send(client: &EsClient, body: Bytes, gzip: bool, ops: usize) -> Exchange {
    let kind = if gzip {
        BodyKind::NdjsonGzip
    } else {
        BodyKind::Ndjson
    };
    let raw = match client
        .send(
            Method::Post,
            "/_bulk",
            &[("filter_path", FILTER_PATH)],
            Some((body, kind)),
            "bulk request",
        )
        .await
    {
        Ok(raw) => raw,
        Err(e) => {
            let reason = match e {
                EsError::Transport { reason, .. } => format!("transport error: {reason}"),
                other => other.to_string(),
            };
            return retry(policy::BULK_NO_RESPONSE, reason);
        }
    };
    match policy::on_bulk_status(raw.status) {
        RequestDecision::ReadItems => match response::parse(&raw.body, ops) {
            Ok((_, items)) => Exchange::Items(items),
            Err(reason) => retry(policy::BULK_UNREADABLE, reason),
        },
        RequestDecision::Split => Exchange::TooLarge,
        decision @ RequestDecision::Retry { .. } => {
            let reason = match raw.status {
                429 => "HTTP 429 Too Many Requests".to_string(),
                401 | 403 => format!(
                    "HTTP {}: Elasticsearch rejected the credentials; check them and the user's privileges",
                    raw.status
                ),
                status => format!("HTTP {status}: {}", raw.error_reason()),
            };
            retry(decision, reason)
        }
        RequestDecision::DeadLetterAll => {
            let (kind, reason) = match raw.error_body() {
                Some(ErrorBody {
                    kind: Some(kind),
                    reason,
                }) => (kind, reason),
                Some(ErrorBody { kind: None, reason }) => (format!("http_{}", raw.status), reason),
                None => (format!("http_{}", raw.status), raw.error_reason()),
            };
            Exchange::Fail {
                status: raw.status,
                kind,
                reason,
            }
        }
    }
}

fn retry(decision: RequestDecision, reason: String) -> Exchange {
    Exchange::Retry {
        reason,
        backpressure: matches!(decision, RequestDecision::Retry { backpressure: true }),
    }
}
