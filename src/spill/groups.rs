//! Reading spilled partitions back: consecutive partitions are grouped so
//! that each group's records fit the budget's share for merging; a group is
//! merged with [`BatchMerge`] (the merge every batch run uses, in parallel),
//! its spill files deleted as soon as it is read. A partition too large for
//! its share (the input was larger than its size said, or came from stdin)
//! is split again by [`partition::split`] into parts that fit, streamed
//! frame by frame, and the parts are merged in its place. `compute` writes each
//! group's sorted conversations as a run and merges the runs into key order
//! ([`RunMerge`]); `backfill` takes the groups as they come (its documents
//! need no order).

use super::partitions::{Finished, Sink};
use super::{SpillError, codec};
use crate::conversation::Conversation;
use crate::partition;
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
/// Read buffer of each run while merging runs, at most and at least (the
/// runs' buffers together take about a group's share of the budget).
const RUN_READ_BYTES: usize = 256 << 10;
const MIN_RUN_READ_BYTES: usize = 4 << 10;
/// How many times a partition may be split again (a partition that is one
/// huge conversation cannot be split at all).
const MAX_SPLITS: u32 = 2;
/// Sinks at most, first pass and splits together: bounds the files and the
/// runs a tiny budget could otherwise multiply.
const MAX_SINKS: usize = 8192;
/// Parts of one split, at most.
const MAX_SPLIT_PARTS: u64 = 256;
/// A part's frames are written out in pieces of about this size.
const SPLIT_WRITE_BYTES: usize = 64 << 10;

/// A run's records, spilled by partition, waiting to be merged.
#[derive(Debug)]
pub struct Spilled {
    dir: Option<tempfile::TempDir>,
    base: PathBuf,
    sinks: Vec<Sink>,
    /// How many splits made each sink (0: a partition of the first pass).
    splits: Vec<u32>,
    groups: Vec<Vec<usize>>,
    group_bytes: u64,
    warned: bool,
    /// The number in the next split part's file name (never reused).
    next_name: usize,
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
        for (p, sink) in finished.sinks.iter().enumerate() {
            let bytes = sink.mem.len() as u64 + sink.on_disk;
            if bytes == 0 {
                continue;
            }
            if !current.is_empty() && size + bytes > group_bytes {
                groups.push(std::mem::take(&mut current));
                size = 0;
            }
            current.push(p);
            size += bytes;
        }
        if !current.is_empty() {
            groups.push(current);
        }
        Spilled {
            dir: finished.dir,
            base: finished.base,
            splits: vec![0; finished.sinks.len()],
            next_name: finished.sinks.len(),
            sinks: finished.sinks,
            groups,
            group_bytes,
            warned: false,
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

    fn size(&self, p: usize) -> u64 {
        self.sinks
            .get(p)
            .map_or(0, |s| s.mem.len() as u64 + s.on_disk)
    }

    /// The spill directory, created when first needed.
    fn dir(&mut self) -> Result<PathBuf, SpillError> {
        if self.dir.is_none() {
            self.dir = Some(super::create_dir(&self.base)?);
        }
        Ok(self
            .dir
            .as_ref()
            .map(|d| d.path().to_path_buf())
            .unwrap_or_default())
    }

    /// Splits sink `p` into parts of about a group's size, each a new sink
    /// (on disk when `p` was, else in memory) and a new group; `p` is left
    /// empty and its file deleted. The frames are streamed, not loaded.
    fn split(&mut self, p: usize) -> Result<(), SpillError> {
        let level = self.splits.get(p).copied().unwrap_or(0) + 1;
        let parts = (self.size(p) / self.group_bytes.max(1) + 1).clamp(2, MAX_SPLIT_PARTS) as usize;
        let first = self.next_name;
        self.next_name += parts;
        let Some(sink) = self.sinks.get_mut(p) else {
            return Ok(());
        };
        let mem = std::mem::take(&mut sink.mem);
        let file = sink.take_path();
        sink.on_disk = 0;
        let dir = if file.is_some() {
            Some(self.dir()?)
        } else {
            None
        };
        let mut out: Vec<Sink> = (0..parts).map(|_| Sink::default()).collect();
        let mut pending: Vec<Vec<u8>> = vec![Vec::new(); parts];
        let mut written = 0u64;
        let mut route = |body: &[u8], out: &mut Vec<Sink>| -> Result<(), SpillError> {
            let (_, record) = codec::record(body)?;
            let Some(key) = record.key() else {
                return Ok(());
            };
            let i = partition::split(key, level, parts as u32) as usize;
            let (Some(buf), Some(sink)) = (pending.get_mut(i), out.get_mut(i)) else {
                return Ok(());
            };
            codec::put_body(buf, body);
            match &dir {
                None => {
                    sink.mem.append(buf);
                }
                Some(dir) if buf.len() >= SPLIT_WRITE_BYTES => {
                    sink.append_to_file(dir, first + i, buf, &self.base, written)?;
                    written += buf.len() as u64;
                    buf.clear();
                }
                Some(_) => {}
            }
            Ok(())
        };
        for body in codec::frames(&mem) {
            route(body?, &mut out)?;
        }
        drop(mem);
        if let Some(path) = file {
            let fail = |e| SpillError::read("reading the spill file", path.clone(), e);
            let mut r = BufReader::with_capacity(RUN_READ_BYTES, File::open(&path).map_err(fail)?);
            let mut body = Vec::new();
            while codec::read_frame(&mut r, &mut body).map_err(fail)? {
                route(&body, &mut out)?;
            }
            drop(r);
            std::fs::remove_file(&path).map_err(|e| SpillError::Io {
                what: "removing the spill file",
                path: path.clone(),
                source: e,
            })?;
        }
        if let Some(dir) = &dir {
            for (i, (sink, buf)) in out.iter_mut().zip(&pending).enumerate() {
                sink.append_to_file(dir, first + i, buf, &self.base, written)?;
                written += buf.len() as u64;
            }
        }
        for mut sink in out {
            if sink.mem.is_empty() && sink.on_disk == 0 {
                continue;
            }
            sink.close();
            self.groups.push(vec![self.sinks.len()]);
            self.sinks.push(sink);
            self.splits.push(level);
        }
        Ok(())
    }

    /// Partition `p`'s frames; its spill file is deleted once read.
    fn take_partition(&mut self, p: usize) -> Result<Vec<u8>, SpillError> {
        let Some(sink) = self.sinks.get_mut(p) else {
            return Ok(Vec::new());
        };
        let mut bytes = std::mem::take(&mut sink.mem);
        if let Some(path) = sink.take_path() {
            let fail = |e| SpillError::read("reading the spill file", path.clone(), e);
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
        if let [p] = parts[..]
            && self.size(p) > self.group_bytes.saturating_mul(2)
        {
            if self.splits.get(p).copied().unwrap_or(MAX_SPLITS) < MAX_SPLITS
                && self.next_name < MAX_SINKS
            {
                // Its parts become groups of their own, merged later.
                self.split(p)?;
                return Ok((Vec::new(), 0));
            }
            if !self.warned {
                self.warned = true;
                tracing::warn!(
                    bytes = self.size(p),
                    group_bytes = self.group_bytes,
                    "a partition stays larger than the memory budget allows after splitting (a few very large conversations, or a budget too small for this input); it is merged whole and memory goes over the budget"
                );
            }
        }
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
        let split_first = self.groups.first().is_some_and(|g| match g[..] {
            [p] => self.size(p) > self.group_bytes.saturating_mul(2),
            _ => false,
        });
        if self.groups.len() <= 1 && !split_first {
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
        let dir = self.dir()?;
        let mut runs = Vec::with_capacity(self.groups.len());
        let (mut conversations, mut deleted, mut written) = (0u64, 0u64, 0u64);
        // Splitting adds groups while this goes.
        let mut g = 0;
        while g < self.groups.len() {
            let (convs, gone) = self.merge_group(g)?;
            g += 1;
            conversations += convs.len() as u64;
            deleted += gone;
            if convs.is_empty() {
                continue;
            }
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
            let path = dir.join(format!("run-{g:04}.bin"));
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
        let Some(dir) = self.dir.take() else {
            return Err(SpillError::Io {
                what: "merging the runs in",
                path: self.base.clone(),
                source: std::io::Error::other("the spill directory is gone"),
            });
        };
        let read_bytes = (self.group_bytes as usize / runs.len().max(1))
            .clamp(MIN_RUN_READ_BYTES, RUN_READ_BYTES);
        RunMerge::open(dir, runs, read_bytes, conversations, deleted).map(Sorted::Runs)
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
        read_bytes: usize,
        conversations: u64,
        deleted: u64,
    ) -> Result<RunMerge, SpillError> {
        let mut readers = Vec::with_capacity(runs.len());
        for path in &runs {
            let f = File::open(path)
                .map_err(|e| SpillError::read("reading the run file", path.clone(), e))?;
            readers.push(BufReader::with_capacity(read_bytes, f));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spill::Partitions;

    /// Every conversation of `n` generated ones, merged directly.
    fn records(n: u64) -> Vec<(crate::conversation::Seq, crate::record::Record)> {
        let mut out = Vec::new();
        crate::synth::write_all(
            &crate::synth::GenParams {
                conversations: n,
                seed: 3,
                ..Default::default()
            },
            &mut out,
        )
        .unwrap();
        out.split(|&b| b == b'\n')
            .enumerate()
            .filter_map(|(i, l)| {
                crate::record::parse_line(l)
                    .unwrap()
                    .map(|r| (crate::conversation::seq(0, i as u64 + 1), r))
            })
            .collect()
    }

    fn sorted_through(in_memory: u64, group_bytes: u64) -> (Vec<Conversation>, usize) {
        let dir = tempfile::tempdir().unwrap();
        // One partition: it can only fit by being split.
        let parts = Partitions::new(1, in_memory, dir.path());
        {
            let mut local = parts.local();
            for (seq, r) in records(300) {
                local.push(r, seq);
            }
        }
        let spilled = Spilled::new(parts.finish_writing().unwrap(), group_bytes);
        assert_eq!(spilled.group_count(), 1);
        let got: Vec<Conversation> = match spilled.sorted().unwrap() {
            Sorted::InMemory { .. } => panic!("one partition over its share was not split"),
            Sorted::Runs(runs) => runs.collect::<Result<_, _>>().unwrap(),
        };
        let left = std::fs::read_dir(dir.path()).unwrap().count();
        (got, left)
    }

    #[test]
    fn a_partition_too_large_for_its_share_is_split_and_merges_to_the_same_conversations() {
        let mut merger = crate::conversation::Merger::new();
        for (seq, r) in records(300) {
            merger.apply(r, seq);
        }
        let (mut want, _) = merger.finish();
        want.sort_by(|a, b| a.key.cmp(&b.key));
        // In memory, then on disk; groups far smaller than the partition.
        for in_memory in [u64::MAX, 0] {
            let (got, left) = sorted_through(in_memory, 2_000);
            assert_eq!(got.len(), want.len(), "in_memory {in_memory}");
            assert!(got == want, "in_memory {in_memory}: conversations differ");
            assert_eq!(left, 0, "spill files left");
        }
    }
}
