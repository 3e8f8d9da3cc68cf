//! One `_bulk` HTTP exchange and the classification of its whole-request
//! result: items to look at, retry, split (413), or dead-letter everything.

use bytes::Bytes;

use super::response::{self, Item};
use crate::elasticsearch::client::{BodyKind, EsClient, Method};
use crate::elasticsearch::error::EsError;

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
        Err(EsError::Transport { reason, .. }) => {
            return Exchange::Retry {
                reason: format!("transport error: {reason}"),
                backpressure: false,
            };
        }
        Err(other) => {
            return Exchange::Retry {
                reason: other.to_string(),
                backpressure: false,
            };
        }
    };
    match raw.status {
        200 => match response::parse(&raw.body, ops) {
            Ok((_, items)) => Exchange::Items(items),
            Err(reason) => Exchange::Retry {
                reason,
                backpressure: false,
            },
        },
        413 => Exchange::TooLarge,
        429 => Exchange::Retry {
            reason: "HTTP 429 Too Many Requests".into(),
            backpressure: true,
        },
        502..=504 => Exchange::Retry {
            reason: format!("HTTP {}: {}", raw.status, raw.error_reason()),
            backpressure: false,
        },
        // Credentials can be fixed (or a token refreshed) while we wait;
        // dead-lettering everything would be worse.
        401 | 403 => Exchange::Retry {
            reason: format!(
                "HTTP {}: Elasticsearch rejected the credentials; check them and the user's privileges",
                raw.status
            ),
            backpressure: false,
        },
        status => {
            let reason = raw.error_reason();
            let (kind, reason) = match reason.split_once(": ") {
                Some((k, r)) if !k.contains(' ') => (k.to_string(), r.to_string()),
                _ => (format!("http_{status}"), reason),
            };
            Exchange::Fail {
                status,
                kind,
                reason,
            }
        }
    }
}
