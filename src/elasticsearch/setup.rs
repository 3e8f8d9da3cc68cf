//! `convstats setup`: apply both index templates, and for each family create
//! the first concrete index `<alias>-<UTC yyyymmddhhmmss>` with the alias on
//! it (as write index) when the alias does not exist yet. Idempotent: a
//! second run re-applies the same templates and creates nothing.
//!
//! Also the alias helpers shared with backfill.

use serde_json::{Value, json};

use super::client::{EsClient, Method};
use super::config::Aliases;
use super::error::EsError;
use super::templates::{self, Family};

/// What setup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupReport {
    /// Templates applied (by name = alias).
    pub templates: Vec<String>,
    /// (alias, index) created now.
    pub created: Vec<(String, String)>,
    /// (alias, indices) that already existed and were left alone.
    pub existing: Vec<(String, Vec<String>)>,
}

/// Runs setup for both families.
pub async fn setup(client: &EsClient, aliases: &Aliases) -> Result<SetupReport, EsError> {
    templates::apply(client, aliases).await?;
    let mut report = SetupReport {
        templates: Family::ALL
            .iter()
            .map(|f| aliases.get(*f).to_string())
            .collect(),
        created: Vec::new(),
        existing: Vec::new(),
    };
    for family in Family::ALL {
        let alias = aliases.get(family);
        let targets = alias_targets(client, alias).await?;
        if !targets.is_empty() {
            report.existing.push((alias.to_string(), targets));
            continue;
        }
        let index = fresh_index_name(client, alias).await?;
        let body = json!({"aliases": {alias: {"is_write_index": true}}});
        client
            .json_ok(
                Method::Put,
                &format!("/{index}"),
                &[],
                Some(&body),
                &format!("creating index {index} with alias {alias}"),
            )
            .await?;
        tracing::info!(alias, index = %index, "created the first index of the family");
        report.created.push((alias.to_string(), index));
    }
    Ok(report)
}

/// Concrete indices `alias` points to (empty when it does not exist). Fails
/// when a concrete index carries the alias's name: the alias could never be
/// created; the message says what to do.
pub async fn alias_targets(client: &EsClient, alias: &str) -> Result<Vec<String>, EsError> {
    let what = format!("reading alias {alias}");
    let (status, body, raw) = client
        .json(Method::Get, &format!("/_alias/{alias}"), &[], None, &what)
        .await?;
    match status {
        200 => {
            let mut names: Vec<String> = body
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            names.sort();
            if names.iter().any(|n| n == alias) {
                return Err(index_named_like_alias(alias));
            }
            Ok(names)
        }
        404 => {
            let (status, _, _) = client
                .json(Method::Head, &format!("/{alias}"), &[], None, &what)
                .await?;
            if status == 200 {
                Err(index_named_like_alias(alias))
            } else {
                Ok(Vec::new())
            }
        }
        _ => Err(EsError::Status {
            what,
            status,
            reason: raw.error_reason(),
        }),
    }
}

fn index_named_like_alias(alias: &str) -> EsError {
    EsError::Config(format!(
        "a concrete index is named {alias}, so the alias {alias} cannot be created; reindex it into {alias}-<timestamp> and delete it, or choose another index prefix"
    ))
}

/// `<alias>-<UTC yyyymmddhhmmss>`, one second later while that name is taken.
pub async fn fresh_index_name(client: &EsClient, alias: &str) -> Result<String, EsError> {
    let mut at = chrono::Utc::now();
    for _ in 0..120 {
        let name = format!("{alias}-{}", at.format("%Y%m%d%H%M%S"));
        let (status, _, _) = client
            .json(
                Method::Head,
                &format!("/{name}"),
                &[],
                None,
                &format!("checking index {name}"),
            )
            .await?;
        if status == 404 {
            return Ok(name);
        }
        at += chrono::Duration::seconds(1);
    }
    Err(EsError::Conflict(format!(
        "no free index name {alias}-<timestamp> in the next 120 seconds; delete stale indices"
    )))
}

/// Creates `index` with `settings` (merged over the matching template's).
pub async fn create_index(client: &EsClient, index: &str, settings: Value) -> Result<(), EsError> {
    client
        .json_ok(
            Method::Put,
            &format!("/{index}"),
            &[],
            Some(&json!({ "settings": settings })),
            &format!("creating index {index}"),
        )
        .await
        .map(|_| ())
}

/// Deletes concrete indices (missing ones are fine).
pub async fn delete_indices(client: &EsClient, indices: &[String]) -> Result<(), EsError> {
    for index in indices {
        let what = format!("deleting index {index}");
        let (status, _, raw) = client
            .json(Method::Delete, &format!("/{index}"), &[], None, &what)
            .await?;
        if !(200..300).contains(&status) && status != 404 {
            return Err(EsError::Status {
                what,
                status,
                reason: raw.error_reason(),
            });
        }
    }
    Ok(())
}
