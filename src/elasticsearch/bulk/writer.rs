//! [`BulkWriter`]: receives [`BulkOp`]s from a bounded channel, batches them
//! (flush at `max_bytes`, `max_ops` or `max_age`), and processes each batch in
//! its own task: at most `concurrency` batches exist at once (bounded memory;
//! when all are busy the batcher stops reading and producers wait), and every
//! HTTP attempt takes a permit from the AIMD limiter.
//!
//! A batch ends when every operation is done: 2xx, 409 (stale), delete 404,
//! or dead-lettered. Whole requests are retried on transport errors and
//! 429/502/503/504; inside a 200 exactly the items with 429/5xx are retried;
//! a 413 splits the batch in halves. All retries back off with full jitter.
//! With `give_up_after` set, the writer fails with [`EsError::GaveUp`] once no
//! request has succeeded for that long.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};
use tokio::task::{JoinHandle, JoinSet};

use super::batch::{self, BulkOp};
use super::concurrency::Aimd;
use super::counters::{BulkMetrics, MetricsSnapshot};
use super::dead_letter::{DeadLetter, DeadLetterFile};
use super::request::{self, Exchange};
use super::retry::Backoff;
use crate::elasticsearch::client::EsClient;
use crate::elasticsearch::config::BulkConfig;
use crate::elasticsearch::error::EsError;
use crate::elasticsearch::policy::{ItemDecision, OpOutcome, on_item};

/// What a finished writer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteSummary {
    pub metrics: MetricsSnapshot,
}

struct Shared {
    client: EsClient,
    cfg: BulkConfig,
    metrics: Arc<BulkMetrics>,
    aimd: Aimd,
    dead: DeadLetterFile,
    started: Instant,
    /// Nanoseconds since `started` of the last successful request.
    last_success: AtomicU64,
    last_problem: Mutex<String>,
    seeds: AtomicU64,
}

impl Shared {
    fn mark_success(&self) {
        let now = self.started.elapsed().as_nanos() as u64;
        self.last_success.fetch_max(now, Ordering::Relaxed);
    }

    fn since_success(&self) -> Duration {
        let last = Duration::from_nanos(self.last_success.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    fn note_problem(&self, reason: &str) {
        if let Ok(mut p) = self.last_problem.lock()
            && *p != reason
        {
            tracing::warn!("bulk request will be retried: {reason}");
            *p = reason.to_string();
        }
    }

    fn gave_up(&self) -> Option<EsError> {
        let limit = self.cfg.give_up_after?;
        let since = self.since_success();
        if since < limit {
            return None;
        }
        let last = self
            .last_problem
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default();
        Some(EsError::GaveUp {
            waited: format!("{:.1} s", since.as_secs_f64()),
            last,
        })
    }

    fn finish_op(&self, op: &BulkOp, outcome: OpOutcome) {
        let counter = match outcome {
            OpOutcome::Written if op.action == batch::Action::Index => &self.metrics.indexed,
            OpOutcome::Written | OpOutcome::AlreadyDeleted => &self.metrics.deleted,
            OpOutcome::StaleSkipped => &self.metrics.stale_skipped,
            OpOutcome::DeadLettered => &self.metrics.dead_lettered,
        };
        BulkMetrics::add(counter, 1);
        if let Some(hook) = &self.cfg.on_outcome {
            hook(op, outcome);
        }
    }

    fn dead_letter(&self, ops: &[(BulkOp, u16, String, String)]) -> Result<(), EsError> {
        let letters: Vec<DeadLetter> = ops
            .iter()
            .map(|(op, status, kind, reason)| DeadLetter::new(op, *status, kind, reason))
            .collect();
        self.dead.append(&letters)?;
        for (op, ..) in ops {
            self.finish_op(op, OpOutcome::DeadLettered);
        }
        Ok(())
    }
}

/// A running writer. Create it inside a Tokio runtime.
pub struct BulkWriter {
    tx: mpsc::Sender<BulkOp>,
    task: JoinHandle<Result<(), EsError>>,
    shared: Arc<Shared>,
}

impl BulkWriter {
    /// Starts the writer's tasks.
    pub fn spawn(client: EsClient, cfg: BulkConfig) -> Result<Self, EsError> {
        cfg.validate()?;
        let (tx, rx) = mpsc::channel(cfg.channel_capacity);
        let seed = cfg.jitter_seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        });
        let shared = Arc::new(Shared {
            client,
            aimd: Aimd::new(cfg.concurrency),
            dead: DeadLetterFile::new(cfg.dead_letter_path.clone()),
            metrics: Arc::new(BulkMetrics::default()),
            started: Instant::now(),
            last_success: AtomicU64::new(0),
            last_problem: Mutex::new(String::new()),
            seeds: AtomicU64::new(seed),
            cfg,
        });
        let task = tokio::spawn(run(shared.clone(), rx));
        Ok(BulkWriter { tx, task, shared })
    }

    /// Queues one operation, waiting while the queue is full.
    pub async fn send(&self, op: BulkOp) -> Result<(), EsError> {
        self.tx.send(op).await.map_err(|_| EsError::WriterStopped)
    }

    /// A sender for other tasks or threads (`blocking_send` from sync code).
    pub fn sender(&self) -> mpsc::Sender<BulkOp> {
        self.tx.clone()
    }

    /// Live counters.
    pub fn metrics(&self) -> Arc<BulkMetrics> {
        self.shared.metrics.clone()
    }

    /// Calls `hook` with the counters every 250 ms until the returned task
    /// is aborted (a progress bar's feed).
    pub fn report_progress(
        &self,
        hook: Arc<dyn Fn(&super::counters::MetricsSnapshot) + Send + Sync>,
    ) -> tokio::task::JoinHandle<()> {
        let metrics = self.metrics();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(250));
            loop {
                tick.tick().await;
                hook(&metrics.snapshot());
            }
        })
    }

    /// Closes the queue, waits until every queued operation is finished, and
    /// returns the counters; fails when the writer gave up. Other senders
    /// from [`BulkWriter::sender`] must be dropped for this to return.
    pub async fn finish(self) -> Result<WriteSummary, EsError> {
        let BulkWriter { tx, task, shared } = self;
        drop(tx);
        match task.await {
            Ok(Ok(())) => Ok(WriteSummary {
                metrics: shared.metrics.snapshot(),
            }),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(EsError::Protocol {
                what: "bulk writer".into(),
                reason: format!("task failed: {e}"),
            }),
        }
    }
}

async fn run(shared: Arc<Shared>, mut rx: mpsc::Receiver<BulkOp>) -> Result<(), EsError> {
    let batches = Arc::new(Semaphore::new(shared.cfg.concurrency));
    let mut tasks: JoinSet<Result<(), EsError>> = JoinSet::new();
    let mut pending: Vec<BulkOp> = Vec::new();
    let mut pending_bytes = 0usize;
    let mut deadline: Option<tokio::time::Instant> = None;
    let max_age = shared.cfg.max_age;
    loop {
        let flush_now;
        tokio::select! {
            biased;
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                check_task(done)?;
                continue;
            }
            op = rx.recv() => {
                match op {
                    Some(op) => {
                        BulkMetrics::add(&shared.metrics.sent, 1);
                        pending_bytes += op.encoded_len();
                        if pending.is_empty() {
                            deadline = Some(tokio::time::Instant::now() + max_age);
                        }
                        pending.push(op);
                        flush_now = pending_bytes >= shared.cfg.max_bytes
                            || pending.len() >= shared.cfg.max_ops;
                    }
                    None => break,
                }
            }
            _ = sleep_until(deadline), if deadline.is_some() => {
                flush_now = true;
            }
        }
        if flush_now && !pending.is_empty() {
            let ops = std::mem::take(&mut pending);
            pending_bytes = 0;
            deadline = None;
            let permit = loop {
                // Wait for a free batch slot, but notice failed tasks meanwhile.
                tokio::select! {
                    permit = batches.clone().acquire_owned() => {
                        break permit.map_err(|_| EsError::WriterStopped)?;
                    }
                    Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                        check_task(done)?;
                    }
                }
            };
            let shared = shared.clone();
            tasks.spawn(async move {
                let result = process(&shared, ops).await;
                drop(permit);
                result
            });
        }
    }
    if !pending.is_empty() {
        let ops = std::mem::take(&mut pending);
        let shared = shared.clone();
        tasks.spawn(async move { process(&shared, ops).await });
    }
    while let Some(done) = tasks.join_next().await {
        check_task(done)?;
    }
    Ok(())
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => futures::future::pending().await,
    }
}

fn check_task(done: Result<Result<(), EsError>, tokio::task::JoinError>) -> Result<(), EsError> {
    match done {
        Ok(result) => result,
        Err(e) => Err(EsError::Protocol {
            what: "bulk writer".into(),
            reason: format!("a batch task failed: {e}"),
        }),
    }
}

/// Brings every operation of one batch to an end.
async fn process(shared: &Shared, ops: Vec<BulkOp>) -> Result<(), EsError> {
    let mut backoff = Backoff::new(
        shared.cfg.backoff_base,
        shared.cfg.backoff_cap,
        shared.seeds.fetch_add(0x1234_5678_9ABC, Ordering::Relaxed),
    );
    // A stack of sub-batches: a 413 pushes the two halves.
    let mut work = vec![ops];
    while let Some(mut ops) = work.pop() {
        let mut attempt = 0u32;
        loop {
            let body = batch::encode(&ops);
            let body = if shared.cfg.gzip {
                batch::gzip(&body).map_err(|e| EsError::Protocol {
                    what: "compressing a bulk body".into(),
                    reason: e.to_string(),
                })?
            } else {
                body
            };
            let exchange = {
                let _permit = shared.aimd.acquire().await;
                BulkMetrics::add(&shared.metrics.requests, 1);
                BulkMetrics::add(&shared.metrics.bytes, body.len() as u64);
                shared.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
                let sent_at = Instant::now();
                let ex = request::send(&shared.client, body, shared.cfg.gzip, ops.len()).await;
                shared.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
                if let Some(hook) = &shared.cfg.on_request {
                    hook(sent_at.elapsed());
                }
                ex
            };
            match exchange {
                Exchange::Retry {
                    reason,
                    backpressure,
                } => {
                    if backpressure {
                        shared.aimd.backpressure();
                    }
                    shared.note_problem(&reason);
                    BulkMetrics::add(&shared.metrics.retried, ops.len() as u64);
                    wait(shared, &mut backoff, &mut attempt).await?;
                }
                Exchange::TooLarge => {
                    shared.mark_success();
                    if ops.len() == 1 {
                        let reason = format!(
                            "the document alone ({} bytes) is larger than the cluster's http.max_content_length",
                            ops[0].encoded_len()
                        );
                        shared.dead_letter(&[(
                            ops.remove(0),
                            413,
                            "request_entity_too_large".to_string(),
                            reason,
                        )])?;
                    } else {
                        tracing::info!(
                            ops = ops.len(),
                            "bulk request too large (413): splitting it in halves"
                        );
                        let second = ops.split_off(ops.len() / 2);
                        work.push(second);
                        work.push(ops);
                    }
                    break;
                }
                Exchange::Fail {
                    status,
                    kind,
                    reason,
                } => {
                    shared.mark_success();
                    let letters: Vec<_> = ops
                        .into_iter()
                        .map(|op| (op, status, kind.clone(), reason.clone()))
                        .collect();
                    shared.dead_letter(&letters)?;
                    break;
                }
                Exchange::Items(items) => {
                    shared.mark_success();
                    let mut retry = Vec::new();
                    let mut letters = Vec::new();
                    let mut saw_backpressure = false;
                    for (op, item) in ops.into_iter().zip(items) {
                        match on_item(op.action, item.status) {
                            ItemDecision::Done(outcome) => shared.finish_op(&op, outcome),
                            ItemDecision::Retry { backpressure } => {
                                saw_backpressure |= backpressure;
                                retry.push(op);
                            }
                            ItemDecision::DeadLetter => {
                                let err = item.error.unwrap_or_default();
                                letters.push((op, item.status, err.kind, err.reason));
                            }
                        }
                    }
                    shared.dead_letter(&letters)?;
                    if saw_backpressure {
                        shared.aimd.backpressure();
                    } else {
                        shared.aimd.success();
                    }
                    if retry.is_empty() {
                        break;
                    }
                    shared.note_problem(&format!(
                        "{} items answered 429/5xx; retrying exactly those",
                        retry.len()
                    ));
                    BulkMetrics::add(&shared.metrics.retried, retry.len() as u64);
                    ops = retry;
                    wait(shared, &mut backoff, &mut attempt).await?;
                }
            }
        }
    }
    Ok(())
}

async fn wait(shared: &Shared, backoff: &mut Backoff, attempt: &mut u32) -> Result<(), EsError> {
    if let Some(e) = shared.gave_up() {
        return Err(e);
    }
    let delay = backoff.delay(*attempt);
    *attempt = attempt.saturating_add(1);
    tokio::time::sleep(delay).await;
    Ok(())
}
