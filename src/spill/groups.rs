//! Reading spilled partitions back: consecutive partitions are grouped so
//! that each group's records fit the budget's share for merging; a group is
//! merged with [`BatchMerge`] (the merge every batch run uses, in parallel),
//! its spill files deleted as soon as it is read. `compute` writes each
//! group's sorted conversations as a run and merges the runs into key order
//! ([`RunMerge`]); `backfill` takes the groups as they come (its documents
//! need no order).

use super::partitions::{Finished, Sink};
use super::{SpillError, codec};
use crate::conversation::Conversation;
use crate::record::ConversationKey;
use crate::source::batch::BatchMerge;
use rayon::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;

/// Frames decoded and merged per parallel task.
const TASK_FRAMES: usize = 1024;
/// Conversations encoded per parallel task when writing a run.
const TASK_CONVERSATIONS: usize = 512;
/// Read buffer of each run while merging runs.
const RUN_READ_BYTES: usize = 256 << 10;

/// A run's records, spilled by partition, waiting to be merged.
#[derive(Debug)]
pub struct Spilled {
    dir: Option<tempfile::TempDir>,
    base: PathBuf,
    sinks: Vec<Sink>,
    groups: Vec<Vec<usize>>,
}

/// The conversations of a spilled run in key order.
#[derive(Debug)]
pub enum Sorted {
    /// One group: merged in memory, sorted.
    InMemory {
        conversations: Vec<Conversation>,
        deleted: u64,
    },
    /// Several groups: their runs, merged while read.
    Runs(RunMerge),
}

impl Spilled {
    /// Groups `finished`'s partitions into groups of at most `group_bytes`
    /// spilled bytes (a partition larger than that is a group of its own).
    pub fn new(finished: Finished, group_bytes: u64) -> Spilled {
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        let mut size = 0u64;
        let (mut oversized, mut largest) = (0u32, 0u64);
        for (p, sink) in finished.sinks.iter().enumerate() {
            let bytes = sink.mem.len() as u64 + sink.on_disk;
            if bytes == 0 {
                continue;
            }
            if !current.is_empty() && size + bytes > group_bytes {
                groups.push(std::mem::take(&mut current));
                size = 0;
            }
            if bytes > group_bytes {
                oversized += 1;
                largest = largest.max(bytes);
            }
            current.push(p);
            size += bytes;
        }
        if !current.is_empty() {
            groups.push(current);
        }
        if oversized > 0 {
            tracing::warn!(
                partitions = oversized,
                largest_bytes = largest,
                group_bytes,
                "some partitions are larger than the memory budget allows for one merge; each is merged whole (memory goes over the budget)"
            );
        }
        Spilled {
            dir: finished.dir,
            base: finished.base,
            sinks: finished.sinks,
            groups,
        }
    }

    /// Bytes of frames spilled to disk.
    pub fn on_disk(&self) -> u64 {
        self.sinks.iter().map(|s| s.on_disk).sum()
    }

    /// Bytes of frames, in memory and on disk.
    pub fn bytes(&self) -> u64 {
        self.sinks
            .iter()
            .map(|s| s.mem.len() as u64 + s.on_disk)
            .sum()
    }

    /// How many groups are merged one after the other.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Partition `p`'s frames; its spill file is deleted once read.
    fn take_partition(&mut self, p: usize) -> Result<Vec<u8>, SpillError> {
        let Some(sink) = self.sinks.get_mut(p) else {
            return Ok(Vec::new());
        };
        let mut bytes = std::mem::take(&mut sink.mem);
        if let Some((path, file)) = sink.file.take() {
            drop(file);
            let fail = |e| SpillError::Io {
                what: "reading the spill file",
                path: path.clone(),
                source: e,
            };
            let mut f = File::open(&path).map_err(fail)?;
            let mut on_disk = Vec::with_capacity(sink.on_disk as usize);
            f.read_to_end(&mut on_disk).map_err(fail)?;
            drop(f);
            std::fs::remove_file(&path).map_err(|e| SpillError::Io {
                what: "removing the spill file",
                path: path.clone(),
                source: e,
            })?;
            if bytes.is_empty() {
                bytes = on_disk;
            } else {
                bytes.extend_from_slice(&on_disk);
            }
            sink.on_disk = 0;
        }
        Ok(bytes)
    }

    /// Merges group `g`: its conversations sorted by key, and how many of
    /// its conversations were deleted.
    fn merge_group(&mut self, g: usize) -> Result<(Vec<Conversation>, u64), SpillError> {
        let parts = self.groups.get(g).cloned().unwrap_or_default();
        let mut buffers = Vec::with_capacity(parts.len());
        for p in parts {
            buffers.push(self.take_partition(p)?);
        }
        let mut bodies: Vec<&[u8]> = Vec::new();
        for b in &buffers {
            for frame in codec::frames(b) {
                bodies.push(frame?);
            }
        }
        let merge = BatchMerge::new();
        bodies
            .par_chunks(TASK_FRAMES)
            .try_for_each(|chunk| -> Result<(), SpillError> {
                for body in chunk {
                    let (seq, record) = codec::record(body)?;
                    merge.apply(record, seq);
                }
                Ok(())
            })?;
        drop(bodies);
        drop(buffers);
        Ok(merge.finish())
    }

    /// Each group's merged conversations (sorted within the group) and
    /// deleted count, group after group; the spill directory goes with the
    /// iterator.
    pub fn into_groups(
        mut self,
    ) -> impl Iterator<Item = Result<(Vec<Conversation>, u64), SpillError>> + Send {
        let mut g = 0;
        std::iter::from_fn(move || {
            if g >= self.groups.len() {
                return None;
            }
            let merged = self.merge_group(g);
            g += 1;
            Some(merged)
        })
    }

    /// Every conversation in key order: one group is merged in memory;
    /// several are merged group by group, each written as a sorted run,
    /// and the runs are merged while they are read.
    pub fn sorted(mut self) -> Result<Sorted, SpillError> {
        if self.groups.len() <= 1 {
            let (conversations, deleted) = if self.groups.is_empty() {
                (Vec::new(), 0)
            } else {
                self.merge_group(0)?
            };
            return Ok(Sorted::InMemory {
                conversations,
                deleted,
            });
        }
        let dir = match self.dir.take() {
            Some(d) => d,
            None => super::create_dir(&self.base)?,
        };
        let mut runs = Vec::with_capacity(self.groups.len());
        let (mut conversations, mut deleted, mut written) = (0u64, 0u64, 0u64);
        for g in 0..self.groups.len() {
            let (convs, gone) = self.merge_group(g)?;
            conversations += convs.len() as u64;
            deleted += gone;
            let encoded: Vec<Vec<u8>> = convs
                .par_chunks(TASK_CONVERSATIONS)
                .map(|chunk| {
                    let mut b = Vec::new();
                    for c in chunk {
                        codec::put_conversation(&mut b, c);
                    }
                    b
                })
                .collect();
            drop(convs);
            let path = dir.path().join(format!("run-{g:04}.bin"));
            let io = |e, written| {
                SpillError::io(
                    "writing the run file",
                    path.clone(),
                    self.base.clone(),
                    written,
                    e,
                )
            };
            let mut f = File::create(&path).map_err(|e| io(e, written))?;
            for b in &encoded {
                f.write_all(b).map_err(|e| io(e, written))?;
                written += b.len() as u64;
            }
            drop(f);
            runs.push(path);
        }
        RunMerge::open(dir, runs, conversations, deleted).map(Sorted::Runs)
    }
}

/// Sorted runs of conversations merged into one key order while they are
/// read (a k-way merge; each conversation is in exactly one run).
#[derive(Debug)]
pub struct RunMerge {
    readers: Vec<BufReader<File>>,
    heads: Vec<Option<Conversation>>,
    heap: BinaryHeap<Reverse<(ConversationKey, usize)>>,
    body: Vec<u8>,
    failed: bool,
    /// How many conversations the runs hold.
    pub conversations: u64,
    /// How many conversations were deleted.
    pub deleted: u64,
    /// Removed (with the runs) when the merge is dropped.
    _dir: tempfile::TempDir,
}

impl RunMerge {
    fn open(
        dir: tempfile::TempDir,
        runs: Vec<PathBuf>,
        conversations: u64,
        deleted: u64,
    ) -> Result<RunMerge, SpillError> {
        let mut readers = Vec::with_capacity(runs.len());
        for path in &runs {
            let f = File::open(path).map_err(|e| SpillError::Io {
                what: "reading the run file",
                path: path.clone(),
                source: e,
            })?;
            readers.push(BufReader::with_capacity(RUN_READ_BYTES, f));
        }
        let mut merge = RunMerge {
            heads: (0..readers.len()).map(|_| None).collect(),
            readers,
            heap: BinaryHeap::new(),
            body: Vec::new(),
            failed: false,
            conversations,
            deleted,
            _dir: dir,
        };
        for i in 0..merge.readers.len() {
            merge.advance(i)?;
        }
        Ok(merge)
    }

    /// Reads run `i`'s next conversation into its head.
    fn advance(&mut self, i: usize) -> Result<(), SpillError> {
        let Some(reader) = self.readers.get_mut(i) else {
            return Ok(());
        };
        let more = codec::read_frame(reader, &mut self.body).map_err(|e| SpillError::Io {
            what: "reading a run file in",
            path: self._dir.path().to_path_buf(),
            source: e,
        })?;
        if more {
            let c = codec::conversation(&self.body)?;
            self.heap.push(Reverse((c.key.clone(), i)));
            if let Some(h) = self.heads.get_mut(i) {
                *h = Some(c);
            }
        }
        Ok(())
    }
}

impl Iterator for RunMerge {
    type Item = Result<Conversation, SpillError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let Reverse((_, i)) = self.heap.pop()?;
        let c = self.heads.get_mut(i).and_then(Option::take)?;
        if let Err(e) = self.advance(i) {
            self.failed = true;
            return Some(Err(e));
        }
        Some(Ok(c))
    }
}
