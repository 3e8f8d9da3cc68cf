//! The CSV export of cli.md (`convstats export csv`, `GET /v1/export.csv`):
//! the conversations whose `message_created_at` lies in `[from, to)`
//! (optionally one workspace), in document order, as the CSV of
//! `document::write_csv_row`. Two sources feed it:
//!
//! - the state store ([`store_csv`]): page by page in document order, each
//!   conversation merged and computed with the pure core, exactly as
//!   `compute` does;
//! - Elasticsearch ([`es_csv`]): the legacy documents under a point in time,
//!   `search_after`, a `range` filter on `message_created_at`, each
//!   document's fields written as the same row.
//!
//! Both stream: nothing but one page is held. The timeframe parsing and the
//! filter are pure; the two sources are edges.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::config::Settings;
use crate::document::{
    csv_cells_of_legacy, csv_writer, metrics_for, write_csv_header, write_csv_row,
};
use crate::elasticsearch::product::Product;
use crate::elasticsearch::scan::scan_matching;
use crate::elasticsearch::{EsClient, EsError};
use crate::record::ConversationKey;
use crate::record::timestamp::{days_from_civil, parse_rfc3339, to_rfc3339};
use crate::store::{Store, StoreError};

/// Conversations read from the store per page.
const PAGE: usize = 500;

/// `[from, to)` on `message_created_at` (Unix seconds), and a workspace.
/// Without either bound every conversation is kept (the CSV of `compute`);
/// with one, a conversation without a `message_created_at` is in no
/// timeframe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub workspace: Option<String>,
}

impl Filter {
    /// Whether a conversation with this workspace and `message_created_at`
    /// is exported.
    pub fn keeps(&self, workspace_id: &str, message_created_at: Option<i64>) -> bool {
        if self.workspace.as_deref().is_some_and(|w| w != workspace_id) {
            return false;
        }
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        message_created_at
            .is_some_and(|t| self.from.is_none_or(|f| f <= t) && self.to.is_none_or(|to| t < to))
    }
}

/// A bound of `--from`/`--to`: an input timestamp (Unix seconds or RFC 3339)
/// or a `YYYY-MM-DD` date (UTC midnight).
pub fn parse_bound(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if let Ok(seconds) = t.parse::<i64>() {
        return crate::record::timestamp::from_seconds(i128::from(seconds))
            .map_err(|e| format!("{t:?}: {e}"));
    }
    if let Some(day) = parse_date(t) {
        return Ok(day);
    }
    parse_rfc3339(t).map_err(|e| {
        format!("{t:?} is not a timestamp ({e}); give Unix seconds, an RFC 3339 time or a YYYY-MM-DD date")
    })
}

fn parse_date(t: &str) -> Option<i64> {
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i64 = t[0..4].parse().ok()?;
    let m: u32 = t[5..7].parse().ok()?;
    let d: u32 = t[8..10].parse().ok()?;
    let midnight = days_from_civil(y, m, d) * 86_400;
    // A day that does not exist (2026-02-30) does not round-trip.
    (to_rfc3339(midnight)[..10] == *t).then_some(midnight)
}

/// The filter of `--from`, `--to`, `--workspace` (or the route's query;
/// an empty value is no bound).
pub fn filter(
    from: Option<&str>,
    to: Option<&str>,
    workspace: Option<&str>,
) -> Result<Filter, String> {
    let bound = |name: &str, v: Option<&str>| -> Result<Option<i64>, String> {
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => parse_bound(v).map(Some).map_err(|e| format!("{name}: {e}")),
            None => Ok(None),
        }
    };
    let from_t = bound("from", from)?;
    let to_t = bound("to", to)?;
    if let (Some(f), Some(t)) = (from_t, to_t)
        && t < f
    {
        return Err(format!(
            "the timeframe ends ({}) before it starts ({}); give from <= to",
            to.unwrap_or_default(),
            from.unwrap_or_default()
        ));
    }
    Ok(Filter {
        from: from_t,
        to: to_t,
        workspace: workspace.filter(|w| !w.is_empty()).map(str::to_string),
    })
}

/// What went wrong while exporting.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Elasticsearch(#[from] EsError),
    #[error("writing the CSV: {0}")]
    Write(#[from] csv::Error),
    #[error("writing the CSV: {0}")]
    Io(#[from] std::io::Error),
    #[error("the state store lock was poisoned by a panic elsewhere: a bug; restart")]
    Poisoned,
    #[error("document {id} in Elasticsearch is no legacy-pipeline document: {reason}")]
    Document { id: String, reason: String },
}

/// Writes the export of `filter` from the store to `out`, page by page (the
/// store is locked for one page at a time). Returns the rows written.
pub fn store_csv(
    store: &Mutex<Store>,
    settings: &Settings,
    filter: &Filter,
    out: impl Write,
) -> Result<u64, ExportError> {
    let mut w = csv_writer(out);
    write_csv_header(&mut w)?;
    let mut after: Option<ConversationKey> = None;
    let mut rows = 0;
    loop {
        let page = {
            let s = store.lock().map_err(|_| ExportError::Poisoned)?;
            let keys = s.keys_after(after.as_ref(), PAGE)?;
            let mut convs = Vec::with_capacity(keys.len());
            for k in &keys {
                if filter
                    .workspace
                    .as_deref()
                    .is_some_and(|w| w != &*k.workspace_id)
                {
                    continue;
                }
                if let Some(c) = s.conversation(k)? {
                    convs.push(c);
                }
            }
            after = keys.last().cloned();
            (keys.len(), convs)
        };
        for c in &page.1 {
            let m = metrics_for(c, settings);
            if filter.keeps(&c.key.workspace_id, m.message_created_at) {
                write_csv_row(&mut w, c, &m)?;
                rows += 1;
            }
        }
        w.flush()?;
        if page.0 < PAGE {
            break;
        }
    }
    w.flush()?;
    Ok(rows)
}

/// The query of `filter` over the legacy documents.
pub fn es_query(filter: &Filter) -> Value {
    let mut must = Vec::new();
    if filter.from.is_some() || filter.to.is_some() {
        let mut range = serde_json::Map::new();
        if let Some(f) = filter.from {
            range.insert("gte".into(), to_rfc3339(f).into());
        }
        if let Some(t) = filter.to {
            range.insert("lt".into(), to_rfc3339(t).into());
        }
        must.push(json!({"range": {"message_created_at": range}}));
    }
    if let Some(w) = &filter.workspace {
        must.push(json!({"term": {"workspace_id": w}}));
    }
    json!({"bool": {"filter": must}})
}

/// Writes the export of `filter` from the legacy alias `index` (a point in
/// time, `search_after` pages) to `out`. Returns the rows written.
pub async fn es_csv(
    client: &EsClient,
    product: Product,
    index: &str,
    filter: &Filter,
    out: impl Write,
) -> Result<u64, ExportError> {
    let mut w = csv_writer(out);
    write_csv_header(&mut w)?;
    let mut failed: Option<ExportError> = None;
    let mut rows = 0;
    scan_matching(
        client,
        product,
        index,
        Some(es_query(filter)),
        1000,
        |doc| {
            if failed.is_some() {
                return;
            }
            let cells = doc
                .source
                .as_object()
                .ok_or_else(|| "its _source is not an object".to_string())
                .and_then(csv_cells_of_legacy);
            let written = match cells {
                Ok(cells) => w.write_record(&cells).map_err(ExportError::Write),
                Err(reason) => Err(ExportError::Document {
                    id: doc.id.clone(),
                    reason,
                }),
            };
            match written {
                Ok(()) => rows += 1,
                Err(e) => failed = Some(e),
            }
        },
    )
    .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    w.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_is_a_timestamp_or_a_utc_date() {
        assert_eq!(parse_bound("1700000000"), Ok(1_700_000_000));
        assert_eq!(parse_bound("2023-11-14T22:13:20Z"), Ok(1_700_000_000));
        assert_eq!(parse_bound("2024-01-01"), Ok(1_704_067_200));
        assert!(parse_bound("2024-02-30").is_err());
        assert!(parse_bound("yesterday").is_err());
        assert!(filter(Some("2024-01-02"), Some("2024-01-01"), None).is_err());
    }

    #[test]
    fn the_timeframe_is_from_inclusive_to_exclusive_on_message_created_at() {
        let f = filter(Some("100"), Some("200"), None).unwrap();
        assert!(f.keeps("w", Some(100)));
        assert!(f.keeps("w", Some(199)));
        assert!(!f.keeps("w", Some(200)));
        assert!(!f.keeps("w", Some(99)));
        assert!(!f.keeps("w", None));
        let f = filter(Some("100"), Some("200"), Some("w1")).unwrap();
        assert!(f.keeps("w1", Some(150)));
        assert!(!f.keeps("w2", Some(150)));
        let all = filter(None, Some(""), None).unwrap();
        assert!(
            all.keeps("w", None),
            "no bound: every conversation, as compute's CSV"
        );
    }
}
