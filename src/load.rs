//! Loading inputs: open every source, cut it into blocks, parse and merge
//! them on all cores, and return the merged conversations in key order.
//! Shared by `compute` and `backfill`.

use crate::conversation::Conversation;
use crate::ingest::{self, Ingest, WorkerReport};
use crate::input::{self, Blocks, OpenError};
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
}

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
    let names: Vec<String> = if inputs.is_empty() {
        vec!["-".to_string()]
    } else {
        inputs.to_vec()
    };
    let read_bytes = Arc::new(AtomicU64::new(0));
    let mut sources = Vec::with_capacity(names.len());
    for name in &names {
        sources.push(input::open(name, read_bytes.clone())?);
    }
    let total = sources.iter().map(|s| s.len).sum::<Option<u64>>();
    progress.start(total);

    let ingest = Ingest::new();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (tx, rx) = crossbeam_channel::bounded::<input::Block>(workers * 2);
    let (recycle_tx, recycle_rx) = crossbeam_channel::bounded::<Vec<u8>>(workers * 2 + 2);
    let (reports, read_result) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let rx = rx.clone();
                let recycle = recycle_tx.clone();
                let ingest = &ingest;
                scope.spawn(move || {
                    let mut report = WorkerReport::default();
                    for block in rx {
                        if let Some(buffer) = ingest.ingest(block, &mut report) {
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
        let reports: Vec<WorkerReport> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect();
        (reports, read_result)
    });
    progress.finish();
    read_result?;
    let report = ingest::combine(reports);
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
