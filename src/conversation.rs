//! Merging records into conversations (input.md, "Merging records into a
//! conversation").
//!
//! Every value remembers the rank of the record it came from: the record's
//! `updated_at` (absent ranks lowest) and then its read position `seq`, so a
//! tie on `updated_at` goes to the record read last. Because the rank carries
//! the read position, applying the same records in any order, from any number
//! of threads, gives the same result.
//!
//! Pure: no I/O.

use crate::record::id::cmp_part_ids;
use crate::record::{ConversationKey, ConversationRecord, Id, MessageType, Part, Record, Source};
use compact_str::CompactString;
use rustc_hash::FxHashMap;

/// Read position of a record: an opaque number whose order is the order the
/// records were read in; nothing else about it counts (a property test in
/// `tests/merge.rs` holds the merge to that). A batch run numbers lines with
/// [`seq`] (`(source index << 40) | line number`); a state store numbers the
/// lines it accepts with its own increasing sequence, and merges with this
/// same code.
pub type Seq = u64;

/// Builds the read position of line `line` (1-based) of source `source`.
pub fn seq(source: usize, line: u64) -> Seq {
    ((source as u64) << 40) | (line & ((1 << 40) - 1))
}

/// Rank of a conversation-level value: `updated_at` (absent is `i64::MIN`,
/// below every valid timestamp), then read position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    updated_at: i64,
    seq: Seq,
}

/// Rank of a part version: `updated_at`, else `created_at`; then where it
/// was read.
fn part_rank(p: &Part) -> (i64, Seq, u16) {
    (
        p.updated_at().unwrap_or(p.created_at),
        p.read_seq,
        p.read_sub,
    )
}

type Slot<T> = Option<(Rank, T)>;

fn offer<T>(slot: &mut Slot<T>, rank: Rank, value: Option<T>) {
    if let Some(v) = value
        && slot.as_ref().is_none_or(|(r, _)| rank > *r)
    {
        *slot = Some((rank, v));
    }
}

fn value<T>(slot: Slot<T>) -> Option<T> {
    slot.map(|(_, v)| v)
}

/// What is known of one conversation while records are still arriving.
#[derive(Debug, Default, Clone)]
pub struct ConversationState {
    created_at: Slot<i64>,
    source: Slot<Option<Source>>,
    source_created_at: Slot<Option<i64>>,
    state: Slot<Option<CompactString>>,
    admin_assignee_id: Slot<Option<Id>>,
    team_assignee_id: Slot<Option<Id>>,
    message_type: Slot<Option<MessageType>>,
    max_record_updated_at: Option<i64>,
    parts: Vec<Part>,
    compacted_len: usize,
    deleted: bool,
}

/// A merged conversation: one value per field, one version per part.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Conversation {
    pub key: ConversationKey,
    /// Null until a conversation record arrives.
    pub created_at: Option<i64>,
    pub source: Option<Source>,
    pub source_created_at: Option<i64>,
    pub state: Option<CompactString>,
    pub admin_assignee_id: Option<Id>,
    pub team_assignee_id: Option<Id>,
    /// The `message_type` extension, when carried with one of the four values.
    pub message_type_extension: Option<MessageType>,
    /// The greatest `updated_at` of any conversation record.
    pub max_record_updated_at: Option<i64>,
    /// The held version of every part, in no particular order.
    pub parts: Vec<Part>,
}

impl ConversationState {
    /// Applies a conversation record read at `seq`.
    pub fn apply_conversation(&mut self, rec: ConversationRecord, seq: Seq) {
        if self.deleted {
            return;
        }
        let rank = Rank {
            updated_at: rec.updated_at.unwrap_or(i64::MIN),
            seq,
        };
        if let Some(u) = rec.updated_at {
            self.max_record_updated_at = Some(self.max_record_updated_at.map_or(u, |m| m.max(u)));
        }
        offer(&mut self.created_at, rank, Some(rec.created_at));
        offer(&mut self.source, rank, rec.source);
        offer(&mut self.source_created_at, rank, rec.source_created_at);
        offer(&mut self.state, rank, rec.state);
        offer(&mut self.admin_assignee_id, rank, rec.admin_assignee_id);
        offer(&mut self.team_assignee_id, rank, rec.team_assignee_id);
        offer(&mut self.message_type, rank, rec.message_type);
        let mut parts = rec.parts;
        for p in &mut parts {
            p.read_seq = seq;
        }
        if self.parts.is_empty() {
            self.parts = parts;
            // Checked now, while the parts are in cache: the usual
            // conversation, one record with its parts in order, then needs
            // no work when it is finished.
            self.compact();
        } else {
            self.parts.append(&mut parts);
            self.maybe_compact();
        }
    }

    /// Applies a stand-alone `conversation_part` record read at `seq`.
    pub fn apply_part(&mut self, mut part: Part, seq: Seq) {
        if !self.deleted {
            part.read_seq = seq;
            part.read_sub = 0;
            self.parts.push(part);
            self.maybe_compact();
        }
    }

    /// `conversation.deleted`: final; everything known is dropped and every
    /// later record ignored.
    pub fn delete(&mut self) {
        *self = ConversationState {
            deleted: true,
            ..ConversationState::default()
        };
    }

    /// Repeated records must not grow memory without bound.
    fn maybe_compact(&mut self) {
        if self.parts.len() > 2 * self.compacted_len + 16 {
            self.compact();
        }
    }

    /// Keeps only the winning version of each part id.
    fn compact(&mut self) {
        // Nothing arrived since the last compaction, which left no duplicates.
        if self.compacted_len == self.parts.len() {
            return;
        }
        // The usual case, one record listing its parts in id order, has no
        // duplicates to remove. `cmp_part_ids` is a strict total order (equal
        // only for the same id), so strictly increasing ids are distinct.
        if self
            .parts
            .windows(2)
            .all(|w| cmp_part_ids(&w[0].id, &w[1].id) == std::cmp::Ordering::Less)
        {
            self.compacted_len = self.parts.len();
            return;
        }
        self.parts.sort_unstable_by(|a, b| {
            a.id.as_bytes()
                .cmp(b.id.as_bytes())
                .then_with(|| part_rank(b).cmp(&part_rank(a)))
        });
        self.parts.dedup_by(|later, earlier| later.id == earlier.id);
        self.compacted_len = self.parts.len();
    }

    /// The merged conversation, or `None` when it was deleted.
    pub fn finish(mut self: Box<Self>, key: ConversationKey) -> Option<Conversation> {
        if self.deleted {
            return None;
        }
        self.compact();
        // Fields are taken from the box one by one: moving the whole state
        // out first would copy it.
        let s = &mut *self;
        Some(Conversation {
            key,
            created_at: value(s.created_at.take()),
            source: value(s.source.take()).flatten(),
            source_created_at: value(s.source_created_at.take()).flatten(),
            state: value(s.state.take()).flatten(),
            admin_assignee_id: value(s.admin_assignee_id.take()).flatten(),
            team_assignee_id: value(s.team_assignee_id.take()).flatten(),
            message_type_extension: value(s.message_type.take()).flatten(),
            max_record_updated_at: s.max_record_updated_at,
            parts: std::mem::take(&mut s.parts),
        })
    }
}

/// All conversations being merged.
#[derive(Debug, Default)]
pub struct Merger {
    // Boxed: a map grows by doubling, and slack slots of a 300-byte state
    // would cost more than the box.
    states: FxHashMap<ConversationKey, Box<ConversationState>>,
}

impl Merger {
    pub fn new() -> Merger {
        Merger::default()
    }

    /// Applies one record read at `seq`. Returns false for records that
    /// concern no conversation (ignored notification topics).
    pub fn apply(&mut self, record: Record, seq: Seq) -> bool {
        match record {
            Record::Conversation(mut c) => {
                let key = std::mem::replace(
                    &mut c.key,
                    ConversationKey {
                        workspace_id: Id::const_new(""),
                        id: Id::const_new(""),
                    },
                );
                self.states
                    .entry(key)
                    .or_default()
                    .apply_conversation(*c, seq);
                true
            }
            Record::Part { key, part } => {
                self.states.entry(key).or_default().apply_part(part, seq);
                true
            }
            Record::Deleted(key) => {
                self.states.entry(key).or_default().delete();
                true
            }
            Record::IgnoredEvent => false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.states.len()
    }

    /// The merged conversations, in no particular order, and how many
    /// conversations were deleted (and so left out).
    pub fn finish(self) -> (Vec<Conversation>, u64) {
        let mut convs = Vec::with_capacity(self.states.len());
        let mut deleted = 0u64;
        for (key, state) in self.states {
            match state.finish(key) {
                Some(c) => convs.push(c),
                None => deleted += 1,
            }
        }
        (convs, deleted)
    }
}
