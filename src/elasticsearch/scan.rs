//! Reading every document of an index or alias back, in a stable order that
//! later writes cannot disturb: a point in time (each product's own routes,
//! [`Product`]) and `search_after` pages sorted by `workspace_id`, then
//! `conversation_id` (unique per document in both families). Used to check
//! what a backfill wrote, and by exports.

use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{EsClient, Method};
use super::error::EsError;
use super::product::Product;

/// One document as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDoc {
    pub id: String,
    /// The external version (the conversation's revision).
    pub version: Option<u64>,
    pub source: Value,
}

#[derive(Debug, Deserialize)]
struct Page {
    #[serde(default)]
    pit_id: Option<String>,
    hits: Hits,
}

#[derive(Debug, Deserialize)]
struct Hits {
    hits: Vec<Hit>,
}

#[derive(Debug, Deserialize)]
struct Hit {
    #[serde(rename = "_id")]
    id: String,
    #[serde(rename = "_version", default)]
    version: Option<u64>,
    #[serde(rename = "_source", default)]
    source: Value,
    #[serde(default)]
    sort: Option<Value>,
}

const KEEP_ALIVE: &str = "2m";

/// Calls `each` for every document of `index` (an index, an alias or a
/// pattern), `page_size` at a time, in (`workspace_id`, `conversation_id`)
/// order. Returns how many there were. The point in time is closed at the
/// end, also after a failure.
pub async fn scan(
    client: &EsClient,
    product: Product,
    index: &str,
    page_size: usize,
    each: impl FnMut(StoredDoc),
) -> Result<u64, EsError> {
    scan_matching(client, product, index, None, page_size, each).await
}

/// [`scan`] of the documents that match `query` (all when `None`).
pub async fn scan_matching(
    client: &EsClient,
    product: Product,
    index: &str,
    query: Option<Value>,
    page_size: usize,
    mut each: impl FnMut(StoredDoc),
) -> Result<u64, EsError> {
    let what = format!("opening a point in time on {index}");
    let opened = client
        .json_ok(
            Method::Post,
            &product.open_pit_path(index),
            &[("keep_alive", KEEP_ALIVE)],
            None,
            &what,
        )
        .await?;
    let Some(mut pit) = product.opened_pit_id(&opened) else {
        return Err(EsError::Protocol {
            what,
            reason: format!("the answer of {} names no point in time", product.name()),
        });
    };
    let result = pages(
        client,
        &mut pit,
        index,
        query.as_ref(),
        page_size,
        &mut each,
    )
    .await;
    let (path, body) = product.close_pit(&pit);
    if let Err(e) = client
        .json_ok(
            Method::Delete,
            path,
            &[],
            Some(&body),
            "closing a point in time",
        )
        .await
    {
        // It expires by itself after the keep-alive.
        tracing::warn!("{e}");
    }
    result
}

async fn pages(
    client: &EsClient,
    pit: &mut String,
    index: &str,
    query: Option<&Value>,
    page_size: usize,
    each: &mut impl FnMut(StoredDoc),
) -> Result<u64, EsError> {
    let mut after: Option<Value> = None;
    let mut seen = 0u64;
    loop {
        let mut body = json!({
            "size": page_size.clamp(1, 10_000),
            "version": true,
            "track_total_hits": false,
            "pit": {"id": pit, "keep_alive": KEEP_ALIVE},
            "sort": [{"workspace_id": "asc"}, {"conversation_id": "asc"}],
        });
        if let Some(a) = after.take() {
            body["search_after"] = a;
        }
        if let Some(q) = query {
            body["query"] = q.clone();
        }
        let what = format!("reading {index} back (after {seen} documents)");
        let answer = client
            .json_ok(Method::Post, "/_search", &[], Some(&body), &what)
            .await?;
        let page: Page = serde_json::from_value(answer).map_err(|e| EsError::Protocol {
            what: what.clone(),
            reason: format!("unexpected search answer: {e}"),
        })?;
        if let Some(id) = page.pit_id {
            *pit = id;
        }
        let n = page.hits.hits.len();
        for hit in page.hits.hits {
            after = hit.sort;
            seen += 1;
            each(StoredDoc {
                id: hit.id,
                version: hit.version,
                source: hit.source,
            });
        }
        if n < page_size.clamp(1, 10_000) {
            return Ok(seen);
        }
        if after.is_none() {
            return Err(EsError::Protocol {
                what,
                reason: "a sorted hit carries no sort values".into(),
            });
        }
    }
}
