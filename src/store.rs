//! The state store of continuous ingestion: one SQLite file (WAL) holding
//! every accepted record of every conversation, each conversation's
//! revision, partition and dirty mark, the tombstones of deleted
//! conversations, and the offsets of followed files.
//!
//! Decisions (ARCHITECTURE.md, "Merge state and the store"):
//! - The store keeps the **accepted lines** (validated, byte for byte, with
//!   the store's own increasing sequence number as read position), not
//!   merged state. A conversation is recomputed by parsing its lines in
//!   sequence order and merging them with the same [`Merger`] `compute`
//!   uses: one implementation of input.md's rules.
//! - `conversation.deleted` is final (input.md): the conversation's lines are
//!   dropped, a tombstone stays, and later lines about it are not kept.
//! - Durability: `journal_mode = WAL`, `synchronous = FULL`. A transaction
//!   is on disk (the WAL fsynced) when [`Store::append`] returns, so an
//!   acknowledged record survives a process crash *and* a power loss. One
//!   call takes many requests' records in one transaction (group commit):
//!   one fsync for all of them.
//! - Every conversation has a partition ([`crate::partition`]), fixed by the
//!   partition count chosen when the store is created. Dirty conversations
//!   are taken partition by partition; nothing assumes one process owns all.
//! - Schema version in `meta`; [`Store::open`] migrates older stores and
//!   refuses newer ones.
//!
//! An edge: file I/O. The clock comes in as an argument (revisions).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, params};

use crate::conversation::{Conversation, Merger};
use crate::elasticsearch::revision::next_revision;
use crate::partition;
use crate::record::{self, ConversationKey, Record};

/// The schema this build writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Each schema version's statements; `MIGRATIONS[v - 1]` takes a store from
/// version `v - 1` to `v`.
const MIGRATIONS: [&str; 1] = ["
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        workspace_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        partition INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        dirty INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        UNIQUE (workspace_id, conversation_id)
    );
    CREATE INDEX conversations_dirty ON conversations (partition, id) WHERE dirty = 1;
    CREATE TABLE records (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation INTEGER NOT NULL REFERENCES conversations (id),
        line BLOB NOT NULL
    );
    CREATE INDEX records_by_conversation ON records (conversation, seq);
    CREATE TABLE offsets (source TEXT PRIMARY KEY, offset INTEGER NOT NULL);
"];

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the state store {path}: {what}: {source}")]
    Sql {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the state store {path} has schema version {found}, newer than this convstats writes ({SCHEMA_VERSION}); run a newer convstats or give another store"
    )]
    TooNew { path: PathBuf, found: i64 },
    #[error(
        "the state store {path} was created with {stored} partitions; {asked} were asked for, and the count cannot change (omit it, or give another store)"
    )]
    Partitions {
        path: PathBuf,
        stored: u32,
        asked: u32,
    },
    #[error("the state store {path} is damaged: {detail}")]
    Damaged { path: PathBuf, detail: String },
}

/// A validated line to keep.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The line as received (what `record::parse_line` accepted).
    pub line: Vec<u8>,
    pub key: ConversationKey,
    /// `conversation.deleted`.
    pub delete: bool,
}

impl Accepted {
    /// The line, validated: `Ok(None)` for a blank line or an event that is
    /// not about a conversation (accepted and ignored, nothing to keep),
    /// `Err` with the reason for a rejected one.
    pub fn parse(line: &[u8]) -> Result<Option<Accepted>, String> {
        let Some(rec) = record::parse_line(line)? else {
            return Ok(None);
        };
        let delete = matches!(rec, Record::Deleted(_));
        Ok(rec.key().cloned().map(|key| Accepted {
            line: line.to_vec(),
            key,
            delete,
        }))
    }
}

/// A conversation whose documents must be written again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirty {
    pub key: ConversationKey,
    /// The external version to write both documents with.
    pub revision: u64,
    /// Deleted: both documents are to be deleted (at `revision`).
    pub deleted: bool,
}

/// What one [`Store::append`] kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Appended {
    pub kept: u64,
    /// Lines about a deleted conversation: accepted, not kept.
    pub after_delete: u64,
}

/// The open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    partitions: u32,
}

impl Store {
    /// Opens (or creates) the store at `path`. `partitions` is used when the
    /// store is created (default [`partition::DEFAULT_PARTITIONS`]); given
    /// for an existing store, it must match.
    pub fn open(path: &Path, partitions: Option<u32>) -> Result<Store, StoreError> {
        let sql = |what| {
            let path = path.to_path_buf();
            move |source| StoreError::Sql { path, what, source }
        };
        let mut conn = Connection::open(path).map_err(sql("opening"))?;
        // A new store gets 8 KiB pages (a record of a few KiB fits one); an
        // existing one keeps its size (ignored then).
        conn.pragma_update(None, "page_size", 8192)
            .map_err(sql("setting the page size"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql("switching to WAL"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql("setting synchronous"))?;
        // 32 MiB of page cache per connection, and a checkpoint every
        // ~32 MiB of WAL rather than every 4 MiB: pages written many times
        // between two checkpoints are copied into the database once.
        conn.pragma_update(None, "cache_size", -32_768)
            .map_err(sql("setting the cache size"))?;
        conn.pragma_update(None, "wal_autocheckpoint", 4096)
            .map_err(sql("setting the checkpoint interval"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(sql("enabling foreign keys"))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(sql("setting the busy timeout"))?;
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(sql("reading the schema version"))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: version,
            });
        }
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql("starting a migration"))?;
        for (v, statements) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            tx.execute_batch(statements).map_err(sql("migrating"))?;
            tx.pragma_update(None, "user_version", v as i64 + 1)
                .map_err(sql("recording the schema version"))?;
        }
        let stored: Option<String> = tx
            .query_row("SELECT value FROM meta WHERE key = 'partitions'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql("reading the partition count"))?;
        let partitions =
            match stored {
                Some(text) => {
                    let stored: u32 = text.parse().ok().filter(|&p| p > 0).ok_or_else(|| {
                        StoreError::Damaged {
                            path: path.to_path_buf(),
                            detail: format!("partition count {text:?}"),
                        }
                    })?;
                    if let Some(asked) = partitions.filter(|&a| a != stored) {
                        return Err(StoreError::Partitions {
                            path: path.to_path_buf(),
                            stored,
                            asked,
                        });
                    }
                    stored
                }
                None => {
                    let p = partitions.unwrap_or(partition::DEFAULT_PARTITIONS).max(1);
                    tx.execute(
                        "INSERT INTO meta (key, value) VALUES ('partitions', ?1)",
                        [p.to_string()],
                    )
                    .map_err(sql("recording the partition count"))?;
                    p
                }
            };
        tx.commit().map_err(sql("committing the migration"))?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            partitions,
        })
    }

    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    fn sql(&self, what: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
        move |source| StoreError::Sql {
            path: self.path.clone(),
            what,
            source,
        }
    }

    /// Keeps `lines` (the records of one or many requests) and advances
    /// `offsets` (followed files), in one transaction that is durable when
    /// this returns. Every touched conversation gets a new revision (at
    /// `now`) and is marked dirty.
    pub fn append(
        &mut self,
        lines: &[Accepted],
        offsets: &[(&str, u64)],
        now: SystemTime,
    ) -> Result<Appended, StoreError> {
        let path = self.path.clone();
        let sql = |what| {
            let path = path.clone();
            move |source| StoreError::Sql { path, what, source }
        };
        let partitions = self.partitions;
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql("starting a write"))?;
        let mut done = Appended::default();
        {
            let mut find = tx
                .prepare_cached(
                    "SELECT id, revision, deleted FROM conversations
                     WHERE workspace_id = ?1 AND conversation_id = ?2",
                )
                .map_err(sql("preparing a lookup"))?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO conversations
                     (workspace_id, conversation_id, partition, revision, dirty, deleted)
                     VALUES (?1, ?2, ?3, ?4, 1, ?5)",
                )
                .map_err(sql("preparing an insert"))?;
            let mut touch = tx
                .prepare_cached(
                    "UPDATE conversations
                     SET revision = coalesce(?2, revision), dirty = 1, deleted = ?3 WHERE id = ?1",
                )
                .map_err(sql("preparing an update"))?;
            let mut keep = tx
                .prepare_cached("INSERT INTO records (conversation, line) VALUES (?1, ?2)")
                .map_err(sql("preparing a record insert"))?;
            let mut drop_lines = tx
                .prepare_cached("DELETE FROM records WHERE conversation = ?1")
                .map_err(sql("preparing a record delete"))?;
            // Each conversation is looked up, and given its new revision,
            // once per transaction however many of its lines come: one
            // revision per commit is enough for versions to increase.
            let mut seen: rustc_hash::FxHashMap<&ConversationKey, (i64, bool)> =
                rustc_hash::FxHashMap::default();
            for a in lines {
                let (ws, id) = (a.key.workspace_id.as_str(), a.key.id.as_str());
                let row = match seen.get(&a.key).copied() {
                    Some((_, true)) => {
                        done.after_delete += 1;
                        continue;
                    }
                    Some((row, false)) => {
                        if a.delete {
                            touch
                                .execute(params![row, None::<i64>, true])
                                .map_err(sql("marking a conversation deleted"))?;
                        }
                        row
                    }
                    None => {
                        let found: Option<(i64, i64, bool)> = find
                            .query_row(params![ws, id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                            .optional()
                            .map_err(sql("looking a conversation up"))?;
                        match found {
                            Some((row, _, true)) => {
                                seen.insert(&a.key, (row, true));
                                done.after_delete += 1;
                                continue;
                            }
                            Some((row, revision, false)) => {
                                let revision = next_revision(Some(revision as u64), now);
                                touch
                                    .execute(params![row, Some(revision as i64), a.delete])
                                    .map_err(sql("marking a conversation dirty"))?;
                                row
                            }
                            None => {
                                let revision = next_revision(None, now);
                                insert
                                    .execute(params![
                                        ws,
                                        id,
                                        partition::of(&a.key, partitions),
                                        revision as i64,
                                        a.delete
                                    ])
                                    .map_err(sql("adding a conversation"))?;
                                tx.last_insert_rowid()
                            }
                        }
                    }
                };
                seen.insert(&a.key, (row, a.delete));
                if a.delete {
                    drop_lines
                        .execute([row])
                        .map_err(sql("dropping a deleted conversation's records"))?;
                } else {
                    keep.execute(params![row, a.line])
                        .map_err(sql("keeping a record"))?;
                }
                done.kept += 1;
            }
            let mut offset = tx
                .prepare_cached(
                    "INSERT INTO offsets (source, offset) VALUES (?1, ?2)
                     ON CONFLICT (source) DO UPDATE SET offset = excluded.offset",
                )
                .map_err(sql("preparing an offset update"))?;
            for (source, at) in offsets {
                offset
                    .execute(params![source, *at as i64])
                    .map_err(sql("advancing an offset"))?;
            }
        }
        tx.commit().map_err(sql("committing"))?;
        Ok(done)
    }

    /// The stored offset of a followed file.
    pub fn offset(&self, source: &str) -> Result<Option<u64>, StoreError> {
        self.conn
            .query_row(
                "SELECT offset FROM offsets WHERE source = ?1",
                [source],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|o| o.map(|v| v as u64))
            .map_err(self.sql("reading an offset"))
    }

    /// Up to `limit` dirty conversations of `partition`.
    pub fn dirty(&self, partition: u32, limit: usize) -> Result<Vec<Dirty>, StoreError> {
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT workspace_id, conversation_id, revision, deleted FROM conversations
                 WHERE dirty = 1 AND partition = ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(self.sql("preparing the dirty set"))?;
        let rows = q
            .query_map(params![partition, limit as i64], |r| {
                Ok(Dirty {
                    key: ConversationKey {
                        workspace_id: r.get::<_, String>(0)?.into(),
                        id: r.get::<_, String>(1)?.into(),
                    },
                    revision: r.get::<_, i64>(2)? as u64,
                    deleted: r.get(3)?,
                })
            })
            .map_err(self.sql("reading the dirty set"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.sql("reading the dirty set"))
    }

    /// How many conversations are dirty (the indexing backlog).
    pub fn dirty_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM conversations WHERE dirty = 1",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(self.sql("counting the dirty set"))
    }

    /// The indexing backlog: how many conversations are dirty, and the
    /// revision (microseconds at its last touch) of the oldest dirty one.
    pub fn backlog(&self) -> Result<(u64, Option<u64>), StoreError> {
        self.conn
            .query_row(
                "SELECT count(*), min(revision) FROM conversations WHERE dirty = 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Option<i64>>(1)?)),
            )
            .map(|(n, oldest)| (n, oldest.map(|v| v as u64)))
            .map_err(self.sql("measuring the backlog"))
    }

    /// Up to `limit` stored conversations (deleted ones left out) after
    /// `after`, in document order (`workspace_id`, then conversation id,
    /// byte-wise): the pages of an export.
    pub fn keys_after(
        &self,
        after: Option<&ConversationKey>,
        limit: usize,
    ) -> Result<Vec<ConversationKey>, StoreError> {
        let (ws, id) = after
            .map(|k| (k.workspace_id.as_str(), k.id.as_str()))
            .unwrap_or(("", ""));
        let first = after.is_none();
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT workspace_id, conversation_id FROM conversations
                 WHERE deleted = 0 AND (?1 OR (workspace_id, conversation_id) > (?2, ?3))
                 ORDER BY workspace_id, conversation_id LIMIT ?4",
            )
            .map_err(self.sql("preparing a page of conversations"))?;
        let rows = q
            .query_map(params![first, ws, id, limit as i64], |r| {
                Ok(ConversationKey {
                    workspace_id: r.get::<_, String>(0)?.into(),
                    id: r.get::<_, String>(1)?.into(),
                })
            })
            .map_err(self.sql("reading a page of conversations"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.sql("reading a page of conversations"))
    }

    /// A value of the store's `meta` table (`None` when unset).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(self.sql("reading a setting"))
    }

    /// Sets a value of the `meta` table (durable when this returns).
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )
            .map(|_| ())
            .map_err(self.sql("writing a setting"))
    }

    /// Whether the store answers (readiness).
    pub fn ping(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM meta", [], |r| r.get::<_, i64>(0))
            .map(|_| ())
            .map_err(self.sql("answering a readiness check"))
    }

    /// Bytes on disk: the database file and its write-ahead log.
    pub fn size_bytes(&self) -> u64 {
        let wal = {
            let mut p = self.path.clone().into_os_string();
            p.push("-wal");
            PathBuf::from(p)
        };
        [self.path.as_path(), wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// The file the store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Clears the dirty mark of `key` if it is still at `revision` (both
    /// documents were written, 409-skipped or dead-lettered at it). A
    /// conversation touched since keeps its mark. Returns whether it was
    /// cleared.
    pub fn mark_clean(&mut self, key: &ConversationKey, revision: u64) -> Result<bool, StoreError> {
        Ok(self.mark_clean_all(&[(key.clone(), revision)])? == 1)
    }

    /// [`Store::mark_clean`] for many conversations in one transaction (one
    /// fsync). Returns how many were cleared.
    pub fn mark_clean_all(&mut self, done: &[(ConversationKey, u64)]) -> Result<u64, StoreError> {
        let path = self.path.clone();
        let sql = |what| {
            let path = path.clone();
            move |source| StoreError::Sql { path, what, source }
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql("starting a write"))?;
        let mut cleared = 0;
        {
            let mut clean = tx
                .prepare_cached(
                    "UPDATE conversations SET dirty = 0
                     WHERE workspace_id = ?1 AND conversation_id = ?2 AND revision = ?3",
                )
                .map_err(sql("preparing a dirty-mark update"))?;
            for (key, revision) in done {
                cleared += clean
                    .execute(params![
                        key.workspace_id.as_str(),
                        key.id.as_str(),
                        *revision as i64
                    ])
                    .map_err(sql("clearing a dirty mark"))? as u64;
            }
        }
        tx.commit().map_err(sql("committing"))?;
        Ok(cleared)
    }

    /// Gives every stored conversation a new revision and marks it dirty
    /// (an alias now points at another index: everything is written again,
    /// above any version a backfill wrote).
    pub fn raise_all_revisions(&mut self, now: SystemTime) -> Result<u64, StoreError> {
        let floor = next_revision(None, now) as i64;
        self.conn
            .execute(
                "UPDATE conversations SET revision = max(revision + 1, ?1), dirty = 1",
                [floor],
            )
            .map(|n| n as u64)
            .map_err(self.sql("raising every revision"))
    }

    /// The conversation as merged from its stored records (`None` when it
    /// was deleted or is unknown), with the pure core's [`Merger`].
    pub fn conversation(&self, key: &ConversationKey) -> Result<Option<Conversation>, StoreError> {
        let mut q = self
            .conn
            .prepare_cached(
                "SELECT r.seq, r.line FROM records r JOIN conversations c ON c.id = r.conversation
                 WHERE c.workspace_id = ?1 AND c.conversation_id = ?2 AND c.deleted = 0
                 ORDER BY r.seq",
            )
            .map_err(self.sql("preparing a conversation read"))?;
        let mut rows = q
            .query(params![key.workspace_id.as_str(), key.id.as_str()])
            .map_err(self.sql("reading a conversation"))?;
        let mut merger = Merger::new();
        while let Some(row) = rows.next().map_err(self.sql("reading a conversation"))? {
            let seq: i64 = row.get(0).map_err(self.sql("reading a record"))?;
            let line: Vec<u8> = row.get(1).map_err(self.sql("reading a record"))?;
            match record::parse_line(&line) {
                Ok(Some(rec)) => {
                    merger.apply(rec, seq as u64);
                }
                Ok(None) => {}
                Err(reason) => {
                    return Err(StoreError::Damaged {
                        path: self.path.clone(),
                        detail: format!("record {seq} no longer parses: {reason}"),
                    });
                }
            }
        }
        let (mut convs, _) = merger.finish();
        Ok(convs.pop())
    }
}
