//! Parallel parse-and-merge of a batch run: blocks of lines → merged
//! conversation states (sharded [`Merger`]s) → conversations in key order.
//!
//! Worker threads parse blocks and apply the records to a sharded
//! [`Merger`]. Merging ranks by read position, so the order in which threads
//! apply records does not change the result.

use super::blocks::Block;
use crate::conversation::{self, Conversation, Merger};
use crate::record::{self, ConversationKey, Counts, Record, Rejection};
use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

const SHARDS: usize = 64;

/// Shared merge state for all workers.
pub struct BatchMerge {
    shards: Vec<Mutex<Merger>>,
}

impl Default for BatchMerge {
    fn default() -> Self {
        BatchMerge::new()
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

impl BatchMerge {
    pub fn new() -> BatchMerge {
        BatchMerge {
            shards: (0..SHARDS).map(|_| Mutex::new(Merger::new())).collect(),
        }
    }

    /// Applies one record read at `seq` (false: it concerns no conversation).
    pub fn apply(&self, record: Record, seq: conversation::Seq) -> bool {
        let Some(key) = record.key() else {
            return false;
        };
        let shard = shard_of(key);
        match self.shards.get(shard).map(|m| m.lock()) {
            Some(Ok(mut merger)) => merger.apply(record, seq),
            // A poisoned shard means a worker panicked while merging into
            // it: the run fails (load reports the panicked worker), so
            // nothing more goes into a shard whose state is suspect.
            Some(Err(_)) => false,
            None => false,
        }
    }

    /// Parses and merges one block, adding to `report`; returns the block's
    /// buffer for reuse.
    pub fn ingest(&self, block: Block, report: &mut WorkerReport) -> Option<Vec<u8>> {
        parse_block(block, report, |rec, seq| self.apply(rec, seq))
    }

    /// The merged conversations, sorted by key, and how many were deleted.
    pub fn finish(self) -> (Vec<Conversation>, u64) {
        let mut deleted = 0u64;
        let mergers: Vec<Merger> = self
            .shards
            .into_iter()
            .map(|shard| match shard.into_inner() {
                Ok(m) => m,
                // `load` returns before finishing when a worker panicked.
                Err(_) => unreachable!("a merge shard was poisoned by a panicked worker"),
            })
            .collect();
        let mut out = Vec::with_capacity(mergers.iter().map(Merger::len).sum());
        let finished: Vec<(Vec<Conversation>, u64)> = {
            use rayon::prelude::*;
            mergers.into_par_iter().map(Merger::finish).collect()
        };
        tracing::trace!("shards finished");
        for (convs, gone) in finished {
            out.extend(convs);
            deleted += gone;
        }
        tracing::trace!("shards concatenated");
        sort_by_key_cheaply(&mut out);
        (out, deleted)
    }
}

/// Sorts conversations by key while moving each one about once: sorting the
/// (large) values directly would move each of them log n times.
fn sort_by_key_cheaply(convs: &mut [Conversation]) {
    use rayon::prelude::*;
    // Sort copies of the keys (short ids are inline: no allocation), so the
    // comparisons read contiguous memory instead of chasing every value.
    let mut keyed: Vec<(ConversationKey, usize)> = convs
        .iter()
        .enumerate()
        .map(|(i, c)| (c.key.clone(), i))
        .collect();
    keyed.par_sort_unstable();
    tracing::trace!("keys sorted");
    let mut order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    // Apply the permutation in place: position i receives the element that
    // was at order[i]; earlier positions were already filled, so follow the
    // chain of moves to where that element went.
    for i in 0..order.len() {
        let mut j = order.get(i).copied().unwrap_or(i);
        while j < i {
            j = order.get(j).copied().unwrap_or(i);
        }
        convs.swap(i, j);
        if let Some(slot) = order.get_mut(i) {
            *slot = j;
        }
    }
}

/// Parses one block line by line, adding counts and rejections to `report`
/// and handing every record with its read position to `each` (which returns
/// false for a record about no conversation: an ignored notification topic).
/// Returns the block's buffer for reuse. The one line loop of a batch run,
/// whether records are merged at once or spilled first.
pub fn parse_block(
    block: Block,
    report: &mut WorkerReport,
    mut each: impl FnMut(Record, conversation::Seq) -> bool,
) -> Option<Vec<u8>> {
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
                reason: format!("line is {bytes} bytes, over the 16 MiB limit; it was not parsed"),
            });
            None
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
                        if !each(rec, conversation::seq(source, this)) {
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
            Some(data)
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Id;

    fn conv(ws: &str, id: &str) -> Conversation {
        Conversation {
            key: ConversationKey {
                workspace_id: Id::from(ws),
                id: Id::from(id),
            },
            created_at: None,
            source: None,
            source_created_at: None,
            state: None,
            admin_assignee_id: None,
            team_assignee_id: None,
            message_type_extension: None,
            max_record_updated_at: None,
            parts: Vec::new(),
        }
    }

    #[test]
    fn sorting_by_permutation_equals_a_plain_sort() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for n in [0usize, 1, 2, 3, 5, 17, 100, 1000] {
            for _ in 0..20 {
                let mut v: Vec<Conversation> = (0..n)
                    .map(|_| {
                        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        conv(
                            &format!("w{}", seed >> 62),
                            &format!("{}", (seed >> 20) % 500),
                        )
                    })
                    .collect();
                let mut expected: Vec<ConversationKey> = v.iter().map(|c| c.key.clone()).collect();
                expected.sort();
                sort_by_key_cheaply(&mut v);
                let got: Vec<ConversationKey> = v.iter().map(|c| c.key.clone()).collect();
                assert_eq!(got, expected, "n = {n}");
            }
        }
    }
}
