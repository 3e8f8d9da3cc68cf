//! Loading a batch run's inputs: the threads. One reader opens every source
//! in turn and cuts it into blocks; one parse worker per core parses them
//! and either merges the records at once (the input fits the memory budget)
//! or spills them by partition ([`crate::spill`]) to be merged partition by
//! partition later. Shared by `compute` and `backfill`. A panicked worker
//! fails the load.

use super::batch::{self, BatchMerge, WorkerReport};
use super::blocks::{Block, Blocks};
use super::open::{self, OpenError, Source};
use crate::conversation::Conversation;
use crate::spill::{Partitions, SpillError, SpillPlan, Spilled};
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
    /// Spilling to disk failed (exit 1).
    #[error(transparent)]
    Spill(#[from] SpillError),
}

/// What one parse worker does with a block: the real one parses and merges
/// it ([`BatchMerge::ingest`]); tests inject others.
type Worker<'a> = dyn Fn(&BatchMerge, Block, &mut WorkerReport) -> Option<Vec<u8>> + Sync + 'a;

/// What one parse worker does with a block given its own state `S` (the
/// spill path's per-partition buffers): returns the block's buffer for reuse.
type StatefulWorker<'a, S> =
    dyn Fn(&mut S, Block, &mut WorkerReport) -> Option<Vec<u8>> + Sync + 'a;

/// How much memory a conversation merged in memory takes per byte of its
/// input JSON, measured on `convstats gen` data (1.7 KB per 4.4 KB line),
/// rounded up: the in-memory path is taken when the inputs' size times this
/// fits the budget.
const MEMORY_PER_INPUT_BYTE: f64 = 0.5;
/// Spilled frame bytes per byte of input JSON (measured on `gen` data:
/// 0.10, 430 bytes per conversation), rounded up: sizes the partitions
/// before the input is read.
const SPILL_PER_INPUT_BYTE: f64 = 0.15;
/// Uncompressed bytes per byte of a `.gz` input, for sizing partitions only
/// (`gen` data compresses about 8 times; JSON exports often more). Whether
/// a `.gz` input fits in memory is not guessed from it: see [`load`].
const GZIP_RATIO: u64 = 10;
/// Partitions when the input's size is unknown (stdin).
const UNKNOWN_SIZE_PARTITIONS: u32 = 256;
/// Partitions at most (each may hold an open file while records are read).
const MAX_PARTITIONS: u32 = 1024;
/// Share of the budget the spill buffers may hold while reading.
const BUFFER_SHARE: f64 = 0.25;
/// Share of the budget one group's frames may take when merged: merged,
/// the conversations take about four times their frames (1.7 KB against
/// 430 bytes), and the rendered chunks ride on top.
const GROUP_SHARE: f64 = 0.1;

/// The conversations of a load.
#[derive(Debug)]
pub enum Conversations {
    /// Merged in memory, sorted by `(workspace_id, conversation_id)`, and
    /// how many were deleted.
    InMemory {
        sorted: Vec<Conversation>,
        deleted: u64,
    },
    /// Spilled by partition, to be merged group by group.
    Spilled(Spilled),
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

impl Conversations {
    /// Every conversation in key order, in memory, and how many were
    /// deleted (for inputs known to be small, e.g. in tests).
    pub fn into_sorted(self) -> Result<(Vec<Conversation>, u64), SpillError> {
        match self {
            Conversations::InMemory { sorted, deleted } => Ok((sorted, deleted)),
            Conversations::Spilled(spilled) => match spilled.sorted()? {
                crate::spill::Sorted::InMemory {
                    conversations,
                    deleted,
                } => Ok((conversations, deleted)),
                crate::spill::Sorted::Runs(runs) => {
                    let deleted = runs.deleted;
                    Ok((runs.collect::<Result<_, _>>()?, deleted))
                }
            },
        }
    }
}

/// What was loaded.
#[derive(Debug)]
pub struct Loaded {
    /// The input names as given (`-` for stdin).
    pub names: Vec<String>,
    /// The conversations, merged or spilled.
    pub conversations: Conversations,
    /// Counts and rejected lines (in input order).
    pub report: WorkerReport,
}

/// The inputs' JSON size, when every input is a plain file.
fn input_json_bytes(sources: &[Source]) -> Option<u64> {
    sources
        .iter()
        .map(|s| s.len.filter(|_| !s.name.ends_with(".gz")))
        .sum()
}

/// The inputs' JSON size, estimated: a `.gz` file counts [`GZIP_RATIO`]
/// times its size; unknown with stdin.
fn estimated_json_bytes(sources: &[Source]) -> Option<u64> {
    sources
        .iter()
        .map(|s| {
            s.len.map(|len| {
                if s.name.ends_with(".gz") {
                    len.saturating_mul(GZIP_RATIO)
                } else {
                    len
                }
            })
        })
        .sum()
}

/// Spill partitions for about `json` input bytes (unknown: `None`), so
/// that a group of partitions fits `group_bytes`.
fn partitions_for(json: Option<u64>, group_bytes: u64) -> u32 {
    let Some(json) = json else {
        return UNKNOWN_SIZE_PARTITIONS;
    };
    let spilled = json as f64 * SPILL_PER_INPUT_BYTE;
    // Twice as many as the groups need, so groups can even out.
    let wanted = (spilled / group_bytes.max(1) as f64 * 2.0).ceil();
    (wanted.min(f64::from(MAX_PARTITIONS)) as u32).clamp(1, MAX_PARTITIONS)
}

/// Reads `inputs` (empty means stdin) in order, merging in memory when the
/// inputs are plain files whose size fits `plan`'s budget, else spilling by
/// partition. Stdin and `.gz` inputs, whose JSON size is not known, always
/// take the spill path: their records stay in memory while they fit a share
/// of the budget, so a small one never touches the disk either.
pub fn load(
    inputs: &[String],
    progress: &dyn Progress,
    plan: &SpillPlan,
) -> Result<Loaded, LoadError> {
    load_with(inputs, progress, plan, &|ingest, block, report| {
        ingest.ingest(block, report)
    })
}

fn open_all(
    inputs: &[String],
    read_bytes: &Arc<AtomicU64>,
) -> Result<(Vec<String>, Vec<Source>), LoadError> {
    let names: Vec<String> = if inputs.is_empty() {
        vec!["-".to_string()]
    } else {
        inputs.to_vec()
    };
    let mut sources = Vec::with_capacity(names.len());
    for name in &names {
        sources.push(open::open(name, read_bytes.clone())?);
    }
    Ok((names, sources))
}

fn load_with(
    inputs: &[String],
    progress: &dyn Progress,
    plan: &SpillPlan,
    work: &Worker<'_>,
) -> Result<Loaded, LoadError> {
    let read_bytes = Arc::new(AtomicU64::new(0));
    let (names, sources) = open_all(inputs, &read_bytes)?;
    let budget = plan.budget.bytes();
    let json = input_json_bytes(&sources);
    let fits = json.is_some_and(|j| (j as f64 * MEMORY_PER_INPUT_BYTE) <= budget as f64);
    if !fits {
        let group_bytes = ((budget as f64 * GROUP_SHARE) as u64).max(1);
        let partitions = partitions_for(estimated_json_bytes(&sources), group_bytes);
        tracing::debug!(
            budget,
            partitions,
            input_bytes = json,
            "the inputs may not fit the memory budget: records are spilled by partition"
        );
        let parts = Partitions::new(partitions, (budget as f64 * BUFFER_SHARE) as u64, &plan.dir);
        let report = read_in_parallel(
            sources,
            &read_bytes,
            progress,
            &|| parts.failed(),
            &|| parts.local(),
            &|local, block, report| batch::parse_block(block, report, |r, seq| local.push(r, seq)),
        )?;
        let finished = parts.finish_writing()?;
        let spilled = Spilled::new(finished, group_bytes);
        tracing::debug!(
            bytes = spilled.bytes(),
            on_disk = spilled.on_disk(),
            groups = spilled.group_count(),
            "inputs parsed and spilled"
        );
        return Ok(Loaded {
            names,
            conversations: Conversations::Spilled(spilled),
            report,
        });
    }
    let ingest = BatchMerge::new();
    let report = read_in_parallel(
        sources,
        &read_bytes,
        progress,
        &|| false,
        &|| (),
        &|_, block, report| work(&ingest, block, report),
    )?;
    tracing::debug!("inputs parsed and merged");
    let (sorted, deleted) = ingest.finish();
    tracing::debug!("conversations finished and sorted");
    Ok(Loaded {
        names,
        conversations: Conversations::InMemory { sorted, deleted },
        report,
    })
}

/// Runs the threads of a load: this thread reads every source in turn into
/// blocks; one worker per core takes blocks, each with its own state from
/// `start`, and hands them to `work`, which returns a block's buffer for
/// reuse. Reading stops early when `stop` says so. Returns the workers'
/// combined counts and rejections.
fn read_in_parallel<S>(
    sources: Vec<Source>,
    read_bytes: &AtomicU64,
    progress: &dyn Progress,
    stop: &(dyn Fn() -> bool + Sync),
    start: &(dyn Fn() -> S + Sync),
    work: &StatefulWorker<'_, S>,
) -> Result<WorkerReport, LoadError> {
    let total = sources.iter().map(|s| s.len).sum::<Option<u64>>();
    progress.start(total);
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (tx, rx) = crossbeam_channel::bounded::<Block>(workers * 2);
    let (recycle_tx, recycle_rx) = crossbeam_channel::bounded::<Vec<u8>>(workers * 2 + 2);
    let (reports, read_result, panicked) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let rx = rx.clone();
                let recycle = recycle_tx.clone();
                scope.spawn(move || {
                    let mut report = WorkerReport::default();
                    let mut state = start();
                    for block in rx {
                        if let Some(buffer) = work(&mut state, block, &mut report) {
                            // Full pool: let this one go.
                            let _ = recycle.try_send(buffer);
                        }
                    }
                    drop(state);
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
                if stop() {
                    break 'sources;
                }
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
    Ok(batch::combine(reports))
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
        let plan = SpillPlan {
            budget: crate::spill::MemoryBudget(1 << 30),
            dir: dir.path().to_path_buf(),
        };
        let err = load_with(&inputs, &Quiet, &plan, &|_, _, _| panic!("injected")).unwrap_err();
        assert!(
            matches!(&err, LoadError::WorkerPanicked(w) if w == "injected"),
            "{err}"
        );
        assert!(err.to_string().contains("nothing was written"), "{err}");
        // The real worker loads the same file.
        let loaded = load(&inputs, &Quiet, &plan).unwrap();
        assert_eq!(loaded.conversations.into_sorted().unwrap().0.len(), 1);
    }
}
