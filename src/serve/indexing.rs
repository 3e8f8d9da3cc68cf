//! `serve`'s background tasks around the indexer (elasticsearch.md,
//! "Continuous ingestion"):
//!
//! - **the indexing loop**: at start, `setup` (templates, first indices and
//!   aliases when absent), retried until the cluster answers; then passes of
//!   [`crate::indexer::index_once`] whenever a commit wakes it (or every
//!   `idle` at the latest). A pass that fails (the cluster went away and the
//!   control calls gave up) is retried after a pause: indexing resumes by
//!   itself, and nothing is marked clean that was not written.
//! - **the alias watch**: the concrete indices behind both aliases, read at
//!   start and every `alias_check` (a minute by default) and compared with
//!   those the store last saw (kept in its `meta` table, so a move while
//!   `serve` was stopped counts too). When either moved (a backfill swapped
//!   it), every stored conversation gets a new revision and is indexed
//!   again, so that what `serve` knows wins over the backfill's files.
//! - **the watch of the cluster and the store**: every `probe` (1 s) the
//!   cluster's `GET /` (readiness, `convstats_elasticsearch_up`), the
//!   backlog, the lag of the oldest dirty conversation and the store's size.
//!
//! An edge: Elasticsearch, the store and the clock.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, watch};

use super::sleep_or_stop;
use super::status::Status;
use super::telemetry::Telemetry;
use crate::config::Settings;
use crate::elasticsearch::client::Method;
use crate::elasticsearch::setup::{alias_targets, setup};
use crate::elasticsearch::{Aliases, EsClient};
use crate::indexer::{IndexerConfig, index_once};
use crate::store::Store;

/// The `meta` key of the indices behind both aliases, as last seen.
const ALIAS_TARGETS: &str = "alias_targets";

/// How often each task looks.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    /// The longest the indexing loop sleeps without a commit waking it.
    pub idle: Duration,
    /// Between two reads of the aliases' indices.
    pub alias_check: Duration,
    /// Between two checks of the cluster and the backlog.
    pub probe: Duration,
    /// After a failed pass or setup, before the next attempt.
    pub retry: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            idle: Duration::from_millis(500),
            alias_check: Duration::from_secs(60),
            probe: Duration::from_secs(1),
            retry: Duration::from_secs(2),
        }
    }
}

/// What the tasks share.
pub struct Indexing {
    /// The indexer's own connection to the store, for reads.
    pub store: Mutex<Store>,
    /// The committer's connection: every write goes through it.
    pub writer: Arc<Mutex<Store>>,
    pub client: EsClient,
    pub cfg: IndexerConfig,
    pub settings: Arc<Settings>,
    pub status: Arc<Status>,
    pub telemetry: Arc<Telemetry>,
    pub intervals: Intervals,
}

fn micros_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// The concrete indices behind both aliases.
async fn targets(client: &EsClient, aliases: &Aliases) -> Option<Vec<String>> {
    let mut all = Vec::new();
    for alias in [&aliases.new, &aliases.legacy] {
        match alias_targets(client, alias).await {
            Ok(t) => all.extend(t),
            Err(e) => {
                tracing::warn!("checking where alias {alias} points: {e}");
                return None;
            }
        }
    }
    Some(all)
}

impl Indexing {
    /// Runs `setup` until it succeeds (or `stop`); returns the aliases'
    /// indices then, `None` when stopped first.
    async fn set_up(&self, stop: &mut watch::Receiver<bool>) -> Option<Vec<String>> {
        loop {
            match setup(&self.client, &self.cfg.aliases).await {
                Ok(report) => {
                    for (alias, index) in &report.created {
                        tracing::info!(alias, index, "created the first index behind the alias");
                    }
                    if let Some(t) = targets(&self.client, &self.cfg.aliases).await {
                        return Some(t);
                    }
                }
                Err(e) => {
                    self.status.set_elasticsearch(Some(e.to_string()));
                    tracing::warn!(
                        "setting up the indices: {e}; trying again in {:?} (ingest goes on)",
                        self.intervals.retry
                    );
                }
            }
            if sleep_or_stop(stop, self.intervals.retry).await {
                return None;
            }
        }
    }

    /// Gives every conversation a new revision when an alias moved since
    /// the store last saw it. The indices behind the aliases are kept in
    /// the store (`meta`), so a backfill that swapped them while `serve`
    /// was not running is noticed at the next start.
    fn on_targets(&self, now: Vec<String>) {
        let now_text = now.join(",");
        let result = self
            .writer
            .lock()
            .map_err(|_| "the store lock was poisoned".to_string())
            .and_then(|mut s| {
                let before = s.meta(ALIAS_TARGETS).map_err(|e| e.to_string())?;
                if before.as_deref() == Some(now_text.as_str()) {
                    return Ok(None);
                }
                // The first start on this store has nothing to compare with:
                // everything it holds is dirty anyway.
                let raised = match &before {
                    Some(_) => s
                        .raise_all_revisions(SystemTime::now())
                        .map_err(|e| e.to_string())?,
                    None => 0,
                };
                s.set_meta(ALIAS_TARGETS, &now_text)
                    .map_err(|e| e.to_string())?;
                Ok(before.map(|b| (b, raised)))
            });
        match result {
            Ok(None) => {}
            Ok(Some((before, raised))) => {
                tracing::warn!(
                    before = %before,
                    now = %now_text,
                    conversations = raised,
                    "an alias now points at another index (a backfill?); indexing every stored conversation again"
                );
                self.telemetry.alias_moves.inc();
            }
            // Nothing recorded: the next check tries again.
            Err(e) => tracing::error!("checking the aliases against the store: {e}"),
        }
    }

    /// The indexing loop and the alias watch, until `stop`. A pass in
    /// flight at `stop` is left: what it wrote stays dirty and is written
    /// again after the restart (versions make that harmless).
    pub async fn run(self: Arc<Self>, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        let Some(at_start) = self.set_up(&mut stop).await else {
            return;
        };
        self.on_targets(at_start);
        let mut next_alias_check = tokio::time::Instant::now() + self.intervals.alias_check;
        loop {
            if tokio::time::Instant::now() >= next_alias_check {
                if let Some(now) = targets(&self.client, &self.cfg.aliases).await {
                    self.on_targets(now);
                }
                next_alias_check = tokio::time::Instant::now() + self.intervals.alias_check;
            }
            let pass = tokio::select! {
                _ = stop.changed() => return,
                p = index_once(&self.store, &self.writer, &self.client, &self.cfg, &self.settings) => p,
            };
            let pause_for = match pass {
                Ok(p) if p.indexed + p.deleted + p.touched_meanwhile > 0 => {
                    let t = &self.telemetry;
                    t.written
                        .with_label_values(&["indexed"])
                        .inc_by(p.writes.indexed);
                    t.written
                        .with_label_values(&["deleted"])
                        .inc_by(p.writes.deleted);
                    t.written
                        .with_label_values(&["stale_skipped"])
                        .inc_by(p.writes.stale_skipped);
                    t.retries.inc_by(p.writes.retried);
                    t.dead_letters.inc_by(p.writes.dead_lettered);
                    tracing::debug!(
                        indexed = p.indexed,
                        deleted = p.deleted,
                        touched_meanwhile = p.touched_meanwhile,
                        "indexing pass"
                    );
                    continue;
                }
                Ok(_) => None,
                // Stopping: the pass was cut short on purpose.
                Err(_) if *stop.borrow() => return,
                Err(e) => {
                    tracing::warn!(
                        "indexing: {e}; trying again in {:?} (ingest goes on)",
                        self.intervals.retry
                    );
                    Some(self.intervals.retry)
                }
            };
            let wait = pause_for.unwrap_or(self.intervals.idle);
            tokio::select! {
                _ = stop.changed() => return,
                _ = wake.notified(), if pause_for.is_none() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The cluster, backlog, lag and size checks, until `stop`.
    pub async fn watch(
        self: Arc<Self>,
        reader: Arc<Mutex<Store>>,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            let answer = tokio::time::timeout(
                Duration::from_secs(3),
                self.client
                    .send(Method::Get, "/", &[], None, "checking the cluster"),
            )
            .await;
            let problem = match answer {
                Err(_) => Some("the cluster did not answer GET / within 3 s".to_string()),
                Ok(Err(e)) => Some(e.to_string()),
                Ok(Ok(r)) if r.is_success() => None,
                Ok(Ok(r)) => Some(format!(
                    "GET / answered HTTP {}: {}",
                    r.status,
                    r.error_reason()
                )),
            };
            self.telemetry.es_up.set(i64::from(problem.is_none()));
            self.status.set_elasticsearch(problem);
            let measured = reader
                .lock()
                .map_err(|_| "the store lock was poisoned".to_string())
                .and_then(|s| {
                    s.ping().map_err(|e| e.to_string())?;
                    let size = s.size_bytes();
                    s.backlog().map(|b| (b, size)).map_err(|e| e.to_string())
                });
            match measured {
                Ok(((dirty, oldest), size)) => {
                    self.status.set_store(None);
                    self.status.set_backlog(dirty);
                    self.telemetry.backlog.set(dirty as i64);
                    self.telemetry.store_bytes.set(size as i64);
                    let lag =
                        oldest.map_or(0.0, |rev| micros_now().saturating_sub(rev) as f64 / 1e6);
                    self.telemetry.lag.set(lag);
                }
                Err(e) => self.status.set_store(Some(e)),
            }
            if sleep_or_stop(&mut stop, self.intervals.probe).await {
                return;
            }
        }
    }
}
