//! Parallel parse-and-merge: blocks of lines → merged conversation states.
//!
//! Worker threads parse blocks and apply the records to a sharded
//! [`Merger`]. Merging ranks by read position, so the order in which threads
//! apply records does not change the result.

use crate::conversation::{self, Conversation, Merger};
use crate::input::Block;
use crate::record::{self, ConversationKey, Record};
use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

const SHARDS: usize = 64;

/// A rejected input line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejection {
    pub source: usize,
    pub line: u64,
    pub reason: String,
}

/// Counts of what was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Non-blank lines.
    pub lines: u64,
    /// Lines accepted as records.
    pub records: u64,
    /// Accepted notifications on topics that are not about conversations.
    pub ignored_events: u64,
    pub rejected: u64,
}

impl Counts {
    fn add(&mut self, o: Counts) {
        self.lines += o.lines;
        self.records += o.records;
        self.ignored_events += o.ignored_events;
        self.rejected += o.rejected;
    }
}

/// Shared merge state for all workers.
pub struct Ingest {
    shards: Vec<Mutex<Merger>>,
}

impl Default for Ingest {
    fn default() -> Self {
        Ingest::new()
    }
}

fn shard_of(key: &ConversationKey) -> usize {
    let mut h = FxHasher::default();
    key.hash(&mut h);
    (h.finish() as usize) % SHARDS
}

/// What one worker saw.
#[derive(Debug, Default)]
pub struct WorkerReport {
    pub counts: Counts,
    pub rejections: Vec<Rejection>,
}

impl Ingest {
    pub fn new() -> Ingest {
        Ingest {
            shards: (0..SHARDS).map(|_| Mutex::new(Merger::new())).collect(),
        }
    }

    fn apply(&self, record: Record, seq: conversation::Seq) -> bool {
        let key = match &record {
            Record::Conversation(c) => &c.key,
            Record::Part { key, .. } | Record::Deleted(key) => key,
            Record::IgnoredEvent => return false,
        };
        let shard = shard_of(key);
        match self.shards.get(shard).map(|m| m.lock()) {
            Some(Ok(mut merger)) => merger.apply(record, seq),
            // A poisoned shard means a worker panicked: its data is suspect.
            Some(Err(poisoned)) => poisoned.into_inner().apply(record, seq),
            None => false,
        }
    }

    /// Parses and merges one block, adding to `report`.
    pub fn ingest(&self, block: Block, report: &mut WorkerReport) {
        match block {
            Block::Oversized {
                source,
                line,
                bytes,
            } => {
                report.counts.lines += 1;
                report.counts.rejected += 1;
                report.rejections.push(Rejection {
                    source,
                    line,
                    reason: format!(
                        "line is {bytes} bytes, over the 16 MiB limit; it was not parsed"
                    ),
                });
            }
            Block::Lines {
                source,
                first_line,
                data,
            } => {
                let mut start = 0;
                let ends = memchr::memchr_iter(b'\n', &data).chain(std::iter::once(data.len()));
                for (this, end) in (first_line..).zip(ends) {
                    let line = data.get(start..end).unwrap_or_default();
                    start = end + 1;
                    match record::parse_line(line) {
                        Ok(None) => {}
                        Ok(Some(rec)) => {
                            report.counts.lines += 1;
                            report.counts.records += 1;
                            if !self.apply(rec, conversation::seq(source, this)) {
                                report.counts.ignored_events += 1;
                            }
                        }
                        Err(reason) => {
                            report.counts.lines += 1;
                            report.counts.rejected += 1;
                            report.rejections.push(Rejection {
                                source,
                                line: this,
                                reason,
                            });
                        }
                    }
                }
            }
        }
    }

    /// The merged conversations, sorted by key, and how many were deleted.
    pub fn finish(self) -> (Vec<Conversation>, u64) {
        let mut deleted = 0u64;
        let mut out = Vec::new();
        for shard in self.shards {
            let merger = match shard.into_inner() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            for (key, state) in merger.into_states() {
                match state.finish(key) {
                    Some(c) => out.push(c),
                    None => deleted += 1,
                }
            }
        }
        out.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        (out, deleted)
    }
}

/// Merges worker reports: counts added, rejections in input order.
pub fn combine(reports: Vec<WorkerReport>) -> WorkerReport {
    let mut all = WorkerReport::default();
    for r in reports {
        all.counts.add(r.counts);
        all.rejections.extend(r.rejections);
    }
    all.rejections.sort();
    all
}
