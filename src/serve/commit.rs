//! Group commit: requests hand their accepted lines to one committer task,
//! which appends everything queued at that moment to the state store in
//! one transaction (one fsync for many requests) and answers each request
//! only after that transaction is durable. The queue is bounded: when it is
//! full the request is refused at once (the route answers 429 with
//! `Retry-After`), so memory stays bounded whatever clients do.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::store::{Accepted, Store};

/// Lines appended in one transaction at the most.
const MAX_LINES_PER_COMMIT: usize = 50_000;

struct Job {
    lines: Vec<Accepted>,
    /// Followed files' offsets advanced in the same transaction.
    offsets: Vec<(String, u64)>,
    reply: oneshot::Sender<Result<u64, String>>,
}

/// The handle requests submit through.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Job>,
}

/// Why a submission was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("the store's queue is full; retry shortly")]
    Busy,
    #[error("the state store failed: {0}")]
    Store(String),
    #[error("the committer stopped")]
    Stopped,
}

impl Committer {
    /// Starts the committer task over `store`, with room for `backlog`
    /// queued requests.
    /// `committed` is notified after every commit (the indexer wakes).
    /// The task ends once every handle is dropped and the queue is empty.
    pub fn spawn(
        store: Arc<Mutex<Store>>,
        backlog: usize,
        committed: Arc<Notify>,
    ) -> (Committer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(backlog.max(1));
        (Committer { tx }, tokio::spawn(run(store, rx, committed)))
    }

    /// Stores `lines`; returns, once they are durable, how many there were.
    /// A full queue is [`SubmitError::Busy`] at once.
    pub async fn submit(&self, lines: Vec<Accepted>) -> Result<u64, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .try_send(Job {
                lines,
                offsets: Vec::new(),
                reply,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => SubmitError::Busy,
                mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
            })?;
        Self::answer(answer).await
    }

    /// The same, waiting for room in the queue instead of refusing (for
    /// senders that must never be told to back off, such as Intercom's
    /// webhooks).
    pub async fn submit_waiting(&self, lines: Vec<Accepted>) -> Result<u64, SubmitError> {
        self.submit_with_offsets(lines, Vec::new()).await
    }

    /// Stores `lines` and advances `offsets` (a followed file's position)
    /// in one transaction, waiting for room in the queue.
    pub async fn submit_with_offsets(
        &self,
        lines: Vec<Accepted>,
        offsets: Vec<(String, u64)>,
    ) -> Result<u64, SubmitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job {
                lines,
                offsets,
                reply,
            })
            .await
            .map_err(|_| SubmitError::Stopped)?;
        Self::answer(answer).await
    }

    async fn answer(answer: oneshot::Receiver<Result<u64, String>>) -> Result<u64, SubmitError> {
        answer
            .await
            .map_err(|_| SubmitError::Stopped)?
            .map_err(SubmitError::Store)
    }
}

async fn run(store: Arc<Mutex<Store>>, mut rx: mpsc::Receiver<Job>, wake: Arc<Notify>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut n = jobs[0].lines.len();
        while n < MAX_LINES_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => {
                    n += job.lines.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let store = store.clone();
        let lines: Vec<Vec<Accepted>> = jobs
            .iter_mut()
            .map(|j| std::mem::take(&mut j.lines))
            .collect();
        let offsets: Vec<(String, u64)> = jobs
            .iter_mut()
            .flat_map(|j| std::mem::take(&mut j.offsets))
            .collect();
        let committed = tokio::task::spawn_blocking(move || {
            let counts: Vec<usize> = lines.iter().map(Vec::len).collect();
            let all: Vec<Accepted> = lines.into_iter().flatten().collect();
            let mut store = store
                .lock()
                .map_err(|_| "the store lock was poisoned".to_string())?;
            let offsets: Vec<(&str, u64)> = offsets.iter().map(|(s, o)| (s.as_str(), *o)).collect();
            store
                .append(&all, &offsets, SystemTime::now())
                .map(|total| (total, counts))
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| format!("the commit task failed: {e}"))
        .and_then(|r| r);
        match committed {
            Ok((total, counts)) => {
                tracing::debug!(
                    requests = jobs.len(),
                    lines = total.kept + total.after_delete,
                    "committed"
                );
                wake.notify_one();
                for (job, count) in jobs.into_iter().zip(counts) {
                    let _ = job.reply.send(Ok(count as u64));
                }
            }
            Err(e) => {
                tracing::error!("{e}");
                for job in jobs {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}
