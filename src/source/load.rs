//! Loading a batch run's inputs: the threads. One reader opens every source
//! in turn and cuts it into blocks; one parse worker per core parses and
//! merges them; the merged conversations come back in key order. Shared by
//! `compute` and `backfill`. A panicked worker fails the load.

use super::batch::{self, BatchMerge, WorkerReport};
use super::blocks::{Block, Blocks};
use super::open::{self, OpenError};
use crate::conversation::Conversation;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why loading failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// An input could not be opened (a usage error: exit 2).
    #[error(transparent)]
    Open(#[from] OpenError),
    /// Reading failed part-way (exit 1).
    #[error(
        "reading {name}: {source}; the input is unreadable or truncated (an incomplete .gz file?)"
    )]
    Read {
        name: String,
        source: std::io::Error,
    },
    /// A parse worker panicked: its records are lost, so the run fails
    /// (exit 1) rather than compute from part of the input. A bug.
    #[error(
        "a parse worker stopped unexpectedly ({0}); nothing was written. This is a bug in convstats: please report it with the input that caused it"
    )]
    WorkerPanicked(String),
}

/// What one parse worker does with a block: the real one parses and merges
/// it ([`BatchMerge::ingest`]); tests inject others.
type Worker<'a> = dyn Fn(&BatchMerge, Block, &mut WorkerReport) -> Option<Vec<u8>> + Sync + 'a;

/// Progress callbacks while reading.
pub trait Progress: Sync {
    /// The total raw bytes of all inputs, when every input is a file.
    fn start(&self, total_bytes: Option<u64>);
    /// Raw bytes read so far.
    fn advance(&self, read_bytes: u64);
    fn finish(&self);
}

/// No progress display.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: Option<u64>) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// What was loaded.
#[derive(Debug)]
pub struct Loaded {
    /// The input names as given (`-` for stdin).
    pub names: Vec<String>,
    /// Merged conversations sorted by `(workspace_id, conversation_id)`.
    pub conversations: Vec<Conversation>,
    /// Counts and rejected lines (in input order).
    pub report: WorkerReport,
    /// Conversations removed by `conversation.deleted`.
    pub deleted: u64,
}

/// Reads `inputs` (empty means stdin) in order.
pub fn load(inputs: &[String], progress: &dyn Progress) -> Result<Loaded, LoadError> {
    load_with(inputs, progress, &|ingest, block, report| {
        ingest.ingest(block, report)
    })
}

fn load_with(
    inputs: &[String],
    progress: &dyn Progress,
    work: &Worker<'_>,
) -> Result<Loaded, LoadError> {
    let names: Vec<String> = if inputs.is_empty() {
        vec!["-".to_string()]
    } else {
        inputs.to_vec()
    };
    let read_bytes = Arc::new(AtomicU64::new(0));
    let mut sources = Vec::with_capacity(names.len());
    for name in &names {
        sources.push(open::open(name, read_bytes.clone())?);
    }
    let total = sources.iter().map(|s| s.len).sum::<Option<u64>>();
    progress.start(total);

    let ingest = BatchMerge::new();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (tx, rx) = crossbeam_channel::bounded::<Block>(workers * 2);
    let (recycle_tx, recycle_rx) = crossbeam_channel::bounded::<Vec<u8>>(workers * 2 + 2);
    let (reports, read_result, panicked) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let rx = rx.clone();
                let recycle = recycle_tx.clone();
                let ingest = &ingest;
                scope.spawn(move || {
                    let mut report = WorkerReport::default();
                    for block in rx {
                        if let Some(buffer) = work(ingest, block, &mut report) {
                            // Full pool: let this one go.
                            let _ = recycle.try_send(buffer);
                        }
                    }
                    report
                })
            })
            .collect();
        drop(rx);
        drop(recycle_tx);
        let mut read_result = Ok(());
        'sources: for (i, source) in sources.into_iter().enumerate() {
            let name = source.name.clone();
            let mut blocks = Blocks::with_recycling(i, source, Some(recycle_rx.clone()));
            loop {
                match blocks.next_block() {
                    Ok(Some(block)) => {
                        if tx.send(block).is_err() {
                            break 'sources;
                        }
                        progress.advance(read_bytes.load(Ordering::Relaxed));
                    }
                    Ok(None) => break,
                    Err(source) => {
                        read_result = Err(LoadError::Read { name, source });
                        break 'sources;
                    }
                }
            }
        }
        drop(tx);
        let mut panicked = None;
        let mut reports = Vec::with_capacity(handles.len());
        for h in handles {
            match h.join() {
                Ok(r) => reports.push(r),
                Err(payload) => {
                    let what = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic".to_string());
                    panicked = Some(what);
                }
            }
        }
        (reports, read_result, panicked)
    });
    progress.finish();
    if let Some(what) = panicked {
        return Err(LoadError::WorkerPanicked(what));
    }
    read_result?;
    let report = batch::combine(reports);
    tracing::debug!("inputs parsed and merged");
    let (conversations, deleted) = ingest.finish();
    tracing::debug!("conversations finished and sorted");
    Ok(Loaded {
        names,
        conversations,
        report,
        deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_parse_worker_fails_the_load_instead_of_losing_its_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.ndjson");
        std::fs::write(
            &path,
            "{\"type\":\"conversation\",\"id\":\"1\",\"created_at\":1}\n",
        )
        .unwrap();
        let inputs = vec![path.to_string_lossy().into_owned()];
        let err = load_with(&inputs, &Quiet, &|_, _, _| panic!("injected")).unwrap_err();
        assert!(
            matches!(&err, LoadError::WorkerPanicked(w) if w == "injected"),
            "{err}"
        );
        assert!(err.to_string().contains("nothing was written"), "{err}");
        // The real worker loads the same file.
        assert_eq!(load(&inputs, &Quiet).unwrap().conversations.len(), 1);
    }
}
