//! The backfill protocol (spec `elasticsearch.md`, "Backfill"): rebuild both
//! index families from the caller's documents and swap the aliases at once.
//!
//! 1. Apply the templates.
//! 2. Create fresh concrete indices with `refresh_interval: -1` and
//!    `number_of_replicas: 0`.
//! 3. Bulk-load both families through one writer.
//! 4. Restore the template's refresh interval and replicas, refresh, and
//!    check `_count == sent − dead letters` per index.
//! 5. One `POST _aliases`: each alias moves to its new index (write index),
//!    and with `delete_old` the old indices are removed in the same call.
//!
//! Any failure before step 5 leaves the aliases untouched and returns
//! [`EsError::Step`] naming the half-built indices (deleted first when
//! `cleanup` is set).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde_json::json;

use super::bulk::{BulkOp, BulkWriter, MetricsSnapshot, OpOutcome};
use super::client::{EsClient, Method};
use super::config::{Aliases, BulkConfig};
use super::error::EsError;
use super::setup;
use super::templates::{self, Family};

/// One conversation's two documents.
#[derive(Debug, Clone)]
pub struct BackfillItem {
    /// `<workspace_id>:<conversation_id>`; unique within one backfill.
    pub id: String,
    /// The conversation's revision (external version).
    pub version: u64,
    /// Serialized new-pipeline document.
    pub new_doc: Bytes,
    /// Serialized legacy-pipeline document.
    pub legacy_doc: Bytes,
}

/// Called about every 250 ms while loading, with the writer's counters.
pub type ProgressHook = Arc<dyn Fn(&MetricsSnapshot) + Send + Sync>;

/// How to backfill.
#[derive(Clone)]
pub struct BackfillOptions {
    pub aliases: Aliases,
    pub bulk: BulkConfig,
    /// Remove the indices the aliases pointed to, in the swap call.
    pub delete_old: bool,
    /// On failure before the swap, delete the half-built indices.
    pub cleanup: bool,
    /// Fail (before the swap) when any document was dead-lettered.
    pub fail_on_dead_letters: bool,
    pub progress: Option<ProgressHook>,
}

impl BackfillOptions {
    pub fn new(aliases: Aliases, bulk: BulkConfig) -> Self {
        BackfillOptions {
            aliases,
            bulk,
            delete_old: false,
            cleanup: false,
            fail_on_dead_letters: false,
            progress: None,
        }
    }
}

/// Per-family result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyReport {
    pub alias: String,
    pub index: String,
    /// Indices the alias pointed to before.
    pub old_indices: Vec<String>,
    pub sent: u64,
    pub dead_lettered: u64,
    /// `_count` after the refresh.
    pub count: u64,
}

/// What a successful backfill did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillReport {
    pub new: FamilyReport,
    pub legacy: FamilyReport,
    /// Whether the old indices were deleted.
    pub deleted_old: bool,
    pub metrics: MetricsSnapshot,
}

/// Runs the whole protocol over `items`.
pub async fn backfill<S>(
    client: &EsClient,
    options: BackfillOptions,
    items: S,
) -> Result<BackfillReport, EsError>
where
    S: Stream<Item = Result<BackfillItem, EsError>>,
{
    let aliases = options.aliases.clone();
    // 1. templates
    templates::apply(client, &aliases)
        .await
        .map_err(|e| step("applying the index templates", e, Vec::new()))?;
    // 2. fresh indices
    let mut old = HashMap::new();
    let mut fresh: Vec<String> = Vec::new();
    let loading = json!({"index": {"refresh_interval": "-1", "number_of_replicas": 0}});
    for family in Family::ALL {
        let alias = aliases.get(family);
        let targets = setup::alias_targets(client, alias)
            .await
            .map_err(|e| step("reading the aliases", e, fresh.clone()))?;
        old.insert(family, targets);
        let created = async {
            let index = setup::fresh_index_name(client, alias).await?;
            setup::create_index(client, &index, loading.clone()).await?;
            Ok::<_, EsError>(index)
        }
        .await;
        match created {
            Ok(index) => fresh.push(index),
            Err(e) => {
                return Err(fail(client, &options, "creating the new indices", e, fresh).await);
            }
        }
    }
    let (new_index, legacy_index) = (fresh[0].clone(), fresh[1].clone());
    tracing::info!(new = %new_index, legacy = %legacy_index, "backfill: loading into fresh indices");

    // 3. load
    let dead_by_index: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
    let mut bulk = options.bulk.clone();
    let user_hook = bulk.on_outcome.take();
    let dead_counter = dead_by_index.clone();
    bulk.on_outcome = Some(Arc::new(move |op: &BulkOp, outcome: OpOutcome| {
        if outcome == OpOutcome::DeadLettered
            && let Ok(mut m) = dead_counter.lock()
        {
            *m.entry(op.index.clone()).or_default() += 1;
        }
        if let Some(h) = &user_hook {
            h(op, outcome);
        }
    }));
    let writer = match BulkWriter::spawn(client.clone(), bulk) {
        Ok(w) => w,
        Err(e) => return Err(fail(client, &options, "starting the bulk writer", e, fresh).await),
    };
    let ticker = options
        .progress
        .clone()
        .map(|hook| writer.report_progress(hook));
    let mut sent = 0u64;
    let mut items = std::pin::pin!(items);
    let mut send_failed = false;
    let mut input_failed = None;
    while let Some(item) = items.next().await {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                // The input could not be read to its end: nothing is swapped.
                input_failed = Some(e);
                break;
            }
        };
        let a = BulkOp::index(&new_index, item.id.clone(), item.version, item.new_doc);
        let b = BulkOp::index(&legacy_index, item.id, item.version, item.legacy_doc);
        if writer.send(a).await.is_err() || writer.send(b).await.is_err() {
            send_failed = true;
            break;
        }
        sent += 1;
    }
    let finished = writer.finish().await;
    if let Some(t) = ticker {
        t.abort();
    }
    if let Some(e) = input_failed {
        return Err(fail(client, &options, "reading the input", e, fresh).await);
    }
    let summary = match finished {
        Ok(s) => s,
        Err(e) => return Err(fail(client, &options, "bulk loading", e, fresh).await),
    };
    if send_failed {
        let e = EsError::WriterStopped;
        return Err(fail(client, &options, "bulk loading", e, fresh).await);
    }
    if let Some(hook) = &options.progress {
        hook(&summary.metrics);
    }
    if sent == 0 {
        let e = EsError::NoDocuments;
        return Err(fail(client, &options, "bulk loading", e, fresh).await);
    }
    let dead = |index: &str| -> u64 {
        dead_by_index
            .lock()
            .map(|m| m.get(index).copied().unwrap_or(0))
            .unwrap_or(0)
    };
    let total_dead = dead(&new_index) + dead(&legacy_index);
    if options.fail_on_dead_letters && total_dead > 0 {
        let e = EsError::DeadLettersPresent {
            count: total_dead,
            path: options.bulk.dead_letter_path.clone(),
        };
        return Err(fail(client, &options, "checking dead letters", e, fresh).await);
    }

    // 4. restore settings, refresh, count
    let mut reports = Vec::new();
    for (family, index) in [(Family::New, &new_index), (Family::Legacy, &legacy_index)] {
        let checked = finalize(client, family, index, sent, dead(index)).await;
        match checked {
            Ok(count) => reports.push(FamilyReport {
                alias: aliases.get(family).to_string(),
                index: index.clone(),
                old_indices: old.get(&family).cloned().unwrap_or_default(),
                sent,
                dead_lettered: dead(index),
                count,
            }),
            Err(e) => {
                return Err(fail(client, &options, "checking the new indices", e, fresh).await);
            }
        }
    }

    // 5. one atomic swap
    let mut actions = Vec::new();
    for r in &reports {
        for o in &r.old_indices {
            if options.delete_old {
                actions.push(json!({"remove_index": {"index": o}}));
            } else {
                actions.push(json!({"remove": {"index": o, "alias": r.alias}}));
            }
        }
        actions.push(json!({"add": {"index": r.index, "alias": r.alias, "is_write_index": true}}));
    }
    if let Err(e) = client
        .json_ok(
            Method::Post,
            "/_aliases",
            &[],
            Some(&json!({ "actions": actions })),
            "swapping the aliases",
        )
        .await
    {
        return Err(fail(client, &options, "swapping the aliases", e, fresh).await);
    }
    tracing::info!(new = %new_index, legacy = %legacy_index, "backfill: aliases swapped");
    let mut reports = reports.into_iter();
    let (Some(new), Some(legacy)) = (reports.next(), reports.next()) else {
        return Err(EsError::Protocol {
            what: "backfill".into(),
            reason: "missing family report".into(),
        });
    };
    Ok(BackfillReport {
        new,
        legacy,
        deleted_old: options.delete_old,
        metrics: summary.metrics,
    })
}

fn settings_replicas(family: Family) -> Result<u64, EsError> {
    Ok(u64::from(
        templates::steady_settings(family)?.index.number_of_replicas,
    ))
}

/// `GET _cluster/health/<index>`, the fields read.
#[derive(Debug, serde::Deserialize)]
struct Health {
    status: String,
    #[serde(default)]
    number_of_data_nodes: u64,
    #[serde(default)]
    unassigned_shards: u64,
}

/// Waits until every copy of `index` is active (green), or until as many
/// are as the cluster has data nodes for: a replica that no node may hold
/// (one node and one replica) leaves the index yellow, and that is accepted,
/// as the cluster's own configuration. Gives up after the connection's
/// give-up time with [`EsError::NotReplicated`].
async fn wait_for_copies(client: &EsClient, index: &str, replicas: u64) -> Result<(), EsError> {
    let started = std::time::Instant::now();
    let give_up = client
        .give_up_after()
        .unwrap_or(std::time::Duration::from_secs(600));
    let what = format!("waiting for the copies of {index}");
    // The first question does not wait: a cluster without the nodes for
    // every replica (one node) answers yellow at once, and that is final.
    let mut wait = false;
    loop {
        let query: &[(&str, &str)] = if wait {
            &[("wait_for_status", "green"), ("timeout", "5s")]
        } else {
            &[]
        };
        let (status, body, raw) = client
            .json(
                Method::Get,
                &format!("/_cluster/health/{index}"),
                query,
                None,
                &what,
            )
            .await?;
        // 408: the wait timed out; the body is the health all the same.
        if status != 200 && status != 408 {
            return Err(EsError::Status {
                what,
                status,
                reason: raw.error_reason(),
            });
        }
        let health: Health = serde_json::from_value(body).map_err(|e| EsError::Protocol {
            what: what.clone(),
            reason: format!("unexpected health answer: {e}"),
        })?;
        let enough_nodes_for_all = health.number_of_data_nodes > replicas;
        match health.status.as_str() {
            "green" => return Ok(()),
            "yellow" if !enough_nodes_for_all => {
                tracing::info!(
                    index,
                    data_nodes = health.number_of_data_nodes,
                    replicas,
                    "some replicas cannot be placed on this cluster; the index stays yellow"
                );
                return Ok(());
            }
            _ => {}
        }
        if started.elapsed() >= give_up {
            return Err(EsError::NotReplicated {
                index: index.to_string(),
                status: health.status,
                waited: format!("{:.0?}", started.elapsed()),
                unassigned: health.unassigned_shards,
                data_nodes: health.number_of_data_nodes,
            });
        }
        // From now on the engine waits up to 5 s per question; one that
        // answers at once anyway is not asked again in a tight loop.
        if wait {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        wait = true;
    }
}

async fn finalize(
    client: &EsClient,
    family: Family,
    index: &str,
    sent: u64,
    dead: u64,
) -> Result<u64, EsError> {
    let settings = serde_json::to_value(templates::steady_settings(family)?)
        .map_err(|e| EsError::Internal(format!("encoding the settings of {index}: {e}")))?;
    client
        .json_ok(
            Method::Put,
            &format!("/{index}/_settings"),
            &[],
            Some(&settings),
            &format!("restoring the settings of {index}"),
        )
        .await?;
    wait_for_copies(client, index, settings_replicas(family)?).await?;
    client
        .json_ok(
            Method::Post,
            &format!("/{index}/_refresh"),
            &[],
            None,
            &format!("refreshing {index}"),
        )
        .await?;
    let body = client
        .json_ok(
            Method::Get,
            &format!("/{index}/_count"),
            &[],
            None,
            &format!("counting {index}"),
        )
        .await?;
    #[derive(serde::Deserialize)]
    struct Count {
        count: u64,
    }
    let count = serde_json::from_value::<Count>(body)
        .map_err(|e| EsError::Protocol {
            what: format!("counting {index}"),
            reason: format!("no count in the response ({e})"),
        })?
        .count;
    let expected = sent.saturating_sub(dead);
    if count != expected {
        return Err(EsError::CountMismatch {
            index: index.to_string(),
            count,
            expected,
            sent,
            dead,
        });
    }
    Ok(count)
}

fn step(name: &str, e: EsError, half_built: Vec<String>) -> EsError {
    EsError::Step {
        step: format!("backfill: {name}"),
        cause: Box::new(e),
        half_built,
        deleted: Vec::new(),
    }
}

async fn fail(
    client: &EsClient,
    options: &BackfillOptions,
    name: &str,
    e: EsError,
    half_built: Vec<String>,
) -> EsError {
    if options.cleanup && !half_built.is_empty() {
        match setup::delete_indices(client, &half_built).await {
            Ok(()) => {
                tracing::warn!(indices = ?half_built, "backfill failed: half-built indices deleted (--cleanup)");
                return EsError::Step {
                    step: format!("backfill: {name}"),
                    cause: Box::new(e),
                    half_built: Vec::new(),
                    deleted: half_built,
                };
            }
            Err(del) => {
                tracing::error!("could not delete the half-built indices: {del}");
            }
        }
    }
    step(name, e, half_built)
}
