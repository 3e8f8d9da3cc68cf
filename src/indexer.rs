//! The indexer of continuous ingestion: takes dirty conversations from the
//! state store partition by partition, recomputes each with the pure core
//! (the store's merge, then `document::metrics_for` and `render_pair`, the
//! render path `compute` and `backfill` use), writes both documents through
//! the aliases with the bulk writer (external version = the conversation's
//! revision; deleted conversations are versioned deletes), and clears a
//! conversation's dirty mark only once both of its operations are done
//! (written, 409-skipped, already deleted, or dead-lettered), and only at
//! the revision that was written: a conversation touched meanwhile stays
//! dirty for the next pass.
//!
//! An edge: it holds the store (behind a mutex, never across an await) and
//! talks to Elasticsearch.

use std::sync::{Arc, Mutex};

use crate::config::Settings;
use crate::document::{document_id, metrics_for, render_pair};
use crate::elasticsearch::bulk::MetricsSnapshot;
use crate::elasticsearch::{Aliases, BulkConfig, BulkOp, BulkWriter, EsClient, EsError};
use crate::record::ConversationKey;
use crate::store::{Store, StoreError};

/// Called after every bulk batch with the conversations written (each at
/// its revision) and the writer's counters for the batch (`serve` measures
/// the lag from a change to its write, and counts outcomes, with it).
pub type WrittenHook = Arc<dyn Fn(&[(ConversationKey, u64)], &MetricsSnapshot) + Send + Sync>;

/// What the indexer needs.
#[derive(Clone)]
pub struct IndexerConfig {
    pub aliases: Aliases,
    pub bulk: BulkConfig,
    /// Dirty conversations taken from one partition at a time.
    pub batch: usize,
    pub on_written: Option<WrittenHook>,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Conversations whose two documents were written (or skipped as stale,
    /// or dead-lettered).
    pub indexed: u64,
    /// Deleted conversations whose two documents were deleted.
    pub deleted: u64,
    /// Conversations touched again while being written: still dirty.
    pub touched_meanwhile: u64,
    /// The bulk writers' counters, summed over the pass (operations
    /// written, 409-skipped, retried, dead-lettered...).
    pub writes: MetricsSnapshot,
}

/// Why a pass stopped.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Elasticsearch(#[from] EsError),
    #[error("the state store lock was poisoned by a panic elsewhere: a bug; restart serve")]
    Poisoned,
}

fn lock(store: &Mutex<Store>) -> Result<std::sync::MutexGuard<'_, Store>, IndexError> {
    store.lock().map_err(|_| IndexError::Poisoned)
}

/// One bulk batch: dirty conversations of one or more partitions.
#[derive(Default)]
struct Batch {
    ops: Vec<BulkOp>,
    /// Each conversation with the revision its operations carry.
    done: Vec<(ConversationKey, u64)>,
    /// How many of them are deletes.
    deleted: u64,
}

/// Up to `limit` dirty conversations of one partition, added to `batch`:
/// the operations to send and what clears. Returns how many were taken.
fn prepare(
    store: &Store,
    partition: u32,
    limit: usize,
    cfg: &IndexerConfig,
    settings: &Settings,
    batch: &mut Batch,
) -> Result<usize, StoreError> {
    let dirty = store.dirty(partition, limit)?;
    let taken = dirty.len();
    let Batch { ops, done, deleted } = batch;
    for d in dirty {
        let conversation = if d.deleted {
            None
        } else {
            store.conversation(&d.key)?
        };
        match conversation {
            Some(c) => {
                let m = metrics_for(&c, settings);
                let (new, legacy) = render_pair(&c, &m);
                let id = document_id(&c);
                ops.push(BulkOp::index(&cfg.aliases.new, &id, d.revision, new));
                ops.push(BulkOp::index(&cfg.aliases.legacy, id, d.revision, legacy));
            }
            // Deleted, or known only from records that make no conversation.
            None => {
                let id = format!("{}:{}", d.key.workspace_id, d.key.id);
                ops.push(BulkOp::delete(&cfg.aliases.new, &id, d.revision));
                ops.push(BulkOp::delete(&cfg.aliases.legacy, id, d.revision));
                *deleted += 1;
            }
        }
        done.push((d.key, d.revision));
    }
    Ok(taken)
}

/// One pass over every partition, each until it has no dirty conversation
/// left that was dirty when the pass reached it. Dirty conversations are
/// read through `store`; the marks are cleared through `marks` (`serve`
/// passes the committer's connection, so that one connection writes and
/// SQLite never makes two writers wait on each other; a test may pass the
/// same store twice).
pub async fn index_once(
    store: &Mutex<Store>,
    marks: &Mutex<Store>,
    client: &EsClient,
    cfg: &IndexerConfig,
    settings: &Settings,
) -> Result<Pass, IndexError> {
    let partitions = lock(store)?.partitions();
    let batch_size = cfg.batch.max(1);
    let mut pass = Pass::default();
    // Partitions are taken in order; one batch holds up to `batch_size`
    // conversations of consecutive partitions (a few dirty conversations in
    // each of many partitions make one bulk request, not one each). A
    // partition is done for this pass once it gave fewer than asked.
    let mut first = 0u32;
    while first < partitions {
        let mut batch = Batch::default();
        {
            let guard = lock(store)?;
            while first < partitions && batch.done.len() < batch_size {
                let room = batch_size - batch.done.len();
                let taken = prepare(&guard, first, room, cfg, settings, &mut batch)?;
                if taken < room {
                    first += 1;
                }
            }
        }
        if batch.done.is_empty() {
            break;
        }
        let Batch { ops, done, deleted } = batch;
        let writer = BulkWriter::spawn(client.clone(), cfg.bulk.clone())?;
        for op in ops {
            writer.send(op).await?;
        }
        // Every operation has its outcome once the writer finished.
        let m = writer.finish().await?.metrics;
        pass.writes += m;
        let cleared = lock(marks)?.mark_clean_all(&done)?;
        if let Some(hook) = &cfg.on_written {
            hook(&done, &m);
        }
        let meanwhile = done.len() as u64 - cleared;
        pass.touched_meanwhile += meanwhile;
        pass.deleted += deleted.min(cleared);
        pass.indexed += cleared - deleted.min(cleared);
        if meanwhile > 0 {
            // Taken again by the next pass, so one busy conversation
            // cannot hold its partition.
            first += 1;
        }
    }
    Ok(pass)
}
