//! Continuous ingestion, `convstats serve` (cli.md; elasticsearch.md,
//! "Continuous ingestion"). [`run`] puts the pieces together for one
//! process:
//!
//! - `routes.rs`: the HTTP routes and their answers; `ingest.rs`: an NDJSON
//!   body into accepted lines and per-line rejections; `signature.rs`:
//!   Intercom's webhook signature;
//! - `commit.rs`: the group committer, the only writer of records (durable
//!   before any answer);
//! - `follow.rs`: `--follow FILE`;
//! - `indexing.rs`: setup, the indexing loop (`crate::indexer`), the alias
//!   watch, and the checks behind `/readyz` and `/metrics`;
//! - `http.rs`: the listener and its limits; `status.rs`: readiness and the
//!   cached backlog; `telemetry.rs`: the Prometheus metrics.
//!
//! The store is opened three times (one connection each for the committer,
//! the indexer's reads and the read routes): SQLite's WAL lets reads go on
//! while a commit is written. Every write (records, offsets, dirty marks,
//! raised revisions) goes through the committer's connection, behind one
//! mutex: two SQLite writers would wait on each other by sleeping and
//! polling, which starves both under load.

pub mod commit;
pub mod follow;
pub mod http;
pub mod indexing;
pub mod ingest;
pub mod routes;
pub mod signature;
pub mod status;
pub mod telemetry;

use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, watch};

use crate::config::Settings;
use crate::elasticsearch::{Aliases, BulkConfig, EsClient, EsConfig, EsError, Secret};
use crate::indexer::IndexerConfig;
use crate::store::{Store, StoreError};

/// Sleeps `d`, or less when `stop` turns true; returns whether to stop.
pub(crate) async fn sleep_or_stop(stop: &mut watch::Receiver<bool>, d: Duration) -> bool {
    tokio::select! {
        _ = stop.changed() => true,
        _ = tokio::time::sleep(d) => *stop.borrow(),
    }
}

/// Everything `serve` runs with (resolved from flags, environment and the
/// config file by the command).
pub struct ServeOptions {
    pub store: PathBuf,
    /// The partition count of a new store.
    pub partitions: Option<u32>,
    pub listen: String,
    pub bearer_token: Option<Secret>,
    pub webhook_secret: Option<Secret>,
    pub max_body: usize,
    pub backlog_limit: u64,
    pub follow: Vec<PathBuf>,
    pub es: EsConfig,
    pub aliases: Aliases,
    /// The bulk writer's settings; `serve` never gives up writing.
    pub bulk: BulkConfig,
    pub settings: Arc<Settings>,
    pub intervals: indexing::Intervals,
    pub limits: http::Limits,
    /// Dirty conversations taken from a partition per bulk batch.
    pub batch: usize,
    /// How long a stop may take to store what is in flight.
    pub drain: Duration,
}

/// Why `serve` could not start (after the start, it does not stop by
/// itself).
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}; pick another --listen address")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Elasticsearch(#[from] EsError),
}

fn micros_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Runs `serve` until `shutdown` resolves, then stops accepting, stores
/// what is in flight (within `opts.drain`) and returns.
pub async fn run(opts: ServeOptions, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
    let writer = Store::open(&opts.store, opts.partitions)?;
    let partitions = writer.partitions();
    let writer = Arc::new(Mutex::new(writer));
    let reader = Arc::new(Mutex::new(Store::open(&opts.store, None)?));
    let indexer_store = Store::open(&opts.store, None)?;
    let listener = tokio::net::TcpListener::bind(&opts.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: opts.listen.clone(),
            source,
        })?;
    let local = listener
        .local_addr()
        .map_or_else(|_| opts.listen.clone(), |a| a.to_string());

    let client = EsClient::new(&opts.es)?;
    match tokio::time::timeout(Duration::from_secs(5), client.check()).await {
        Ok(Ok(info)) => tracing::info!(version = %info.version, "cluster check passed"),
        Ok(Err(e @ EsError::Auth { .. })) => return Err(e.into()),
        Ok(Err(e)) => tracing::warn!(
            "{e}; accepting into the store meanwhile, indexing starts when the cluster answers"
        ),
        Err(_) => tracing::warn!(
            "the cluster at {} did not answer within 5 s; accepting into the store meanwhile, indexing starts when it answers",
            client.urls()
        ),
    }
    if opts.webhook_secret.is_none() {
        tracing::warn!(
            "no webhook secret is set (--webhook-secret or --webhook-secret-file): Intercom webhook signatures are NOT checked, so anyone who can reach {local} can post conversations"
        );
    }

    let telemetry = Arc::new(telemetry::Telemetry::new());
    let status = Arc::new(status::Status::default());
    let committed = Arc::new(Notify::new());
    let (committer, commit_task) =
        commit::Committer::spawn(writer.clone(), 1024, committed.clone());
    let (stop_tx, stop_rx) = watch::channel(false);

    let mut bulk = opts.bulk.clone();
    bulk.give_up_after = None;
    let latency = telemetry.clone();
    bulk.on_request = Some(Arc::new(move |d| {
        latency.bulk_latency.observe(d.as_secs_f64())
    }));
    let lag = telemetry.clone();
    let indexing = Arc::new(indexing::Indexing {
        store: Mutex::new(indexer_store),
        writer,
        client,
        cfg: IndexerConfig {
            aliases: opts.aliases.clone(),
            bulk,
            batch: opts.batch,
            on_written: Some(Arc::new(move |done, m| {
                let now = micros_now();
                for (_, revision) in done {
                    let seconds = now.saturating_sub(*revision) as f64 / 1e6;
                    lag.indexed_lag.observe(seconds);
                }
                lag.written
                    .with_label_values(&["indexed"])
                    .inc_by(m.indexed);
                lag.written
                    .with_label_values(&["deleted"])
                    .inc_by(m.deleted);
                lag.written
                    .with_label_values(&["stale_skipped"])
                    .inc_by(m.stale_skipped);
                lag.retries.inc_by(m.retried);
                lag.dead_letters.inc_by(m.dead_lettered);
            })),
        },
        settings: opts.settings.clone(),
        status: status.clone(),
        telemetry: telemetry.clone(),
        intervals: opts.intervals,
    });
    let index_task = tokio::spawn(indexing.clone().run(committed, stop_rx.clone()));
    let watch_task = tokio::spawn(indexing.watch(reader.clone(), stop_rx.clone()));
    let follow_tasks: Vec<_> = opts
        .follow
        .iter()
        .map(|path| {
            tokio::spawn(follow::follow(
                follow::FollowConfig {
                    path: path.clone(),
                    poll: Duration::from_millis(200),
                    max_line: opts.max_body,
                },
                committer.clone(),
                reader.clone(),
                telemetry.clone(),
                stop_rx.clone(),
            ))
        })
        .collect();
    let app = routes::App {
        committer,
        token: opts.bearer_token.map(Arc::new),
        webhook_secret: opts.webhook_secret.map(Arc::new),
        reader,
        settings: opts.settings.clone(),
        status,
        telemetry,
        backlog_limit: opts.backlog_limit,
    };
    let router = routes::router(app, opts.max_body);
    let server = tokio::spawn(http::serve(listener, router, opts.limits, stop_rx));
    tracing::info!(
        listen = %local,
        store = %opts.store.display(),
        partitions,
        "serving"
    );

    shutdown.await;
    tracing::info!("stopping: no new connections; storing what is in flight");
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(opts.drain, async {
        let _ = server.await;
        for t in follow_tasks {
            let _ = t.await;
        }
        // Every committer handle is gone with the router and the
        // followers: the commit task ends once its queue is empty.
        let _ = commit_task.await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "not everything in flight finished within {:?}; what was not answered was not acknowledged and is not lost for the client",
            opts.drain
        );
    }
    index_task.abort();
    watch_task.abort();
    tracing::info!("stopped");
    Ok(())
}
