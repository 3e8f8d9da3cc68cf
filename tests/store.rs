//! The state store of continuous ingestion (`src/store.rs`): what it keeps
//! merges into the documents `compute` writes, acknowledged records survive
//! reopening, deletes are final, a conversation touched while being indexed
//! stays dirty, and the layout (partitions, schema) is fixed.
mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use convstats::config::Settings;
use convstats::document::{metrics_for, render_pair};
use convstats::record::ConversationKey;
use convstats::store::{Accepted, Store, StoreError};
use serde_json::json;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
}

fn key(ws: &str, id: &str) -> ConversationKey {
    ConversationKey {
        workspace_id: ws.into(),
        id: id.into(),
    }
}

fn accepted(line: &str) -> Accepted {
    Accepted::parse(line.as_bytes())
        .expect("valid")
        .expect("about a conversation")
}

/// Both documents of every conversation, by key.
fn documents(
    convs: impl IntoIterator<Item = convstats::conversation::Conversation>,
) -> BTreeMap<(String, String), (Vec<u8>, Vec<u8>)> {
    let settings = Settings::default();
    convs
        .into_iter()
        .map(|c| {
            let m = metrics_for(&c, &settings);
            (
                (c.key.workspace_id.to_string(), c.key.id.to_string()),
                render_pair(&c, &m),
            )
        })
        .collect()
}

#[test]
fn records_kept_in_the_store_merge_into_the_documents_compute_writes() {
    let lines = common::gen_lines(300, 5);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state.db"), Some(8)).unwrap();
    // Many requests of uneven sizes, as clients send them.
    for (i, chunk) in lines.chunks(37).enumerate() {
        let batch: Vec<Accepted> = chunk.iter().map(|l| accepted(l)).collect();
        store.append(&batch, &[], at(i as u64)).unwrap();
    }
    let want = documents(common::merge_ndjson(lines.join("\n").into_bytes()));
    let mut dirty = Vec::new();
    for p in 0..store.partitions() {
        dirty.extend(store.dirty(p, usize::MAX >> 1).unwrap());
    }
    assert_eq!(dirty.len(), want.len(), "every conversation is dirty once");
    assert_eq!(store.dirty_count().unwrap(), want.len() as u64);
    let got = documents(
        dirty
            .iter()
            .filter_map(|d| store.conversation(&d.key).unwrap()),
    );
    assert_eq!(got.len(), want.len());
    for (k, docs) in &want {
        assert!(got.get(k) == Some(docs), "{k:?} differs from compute's");
    }
}

#[test]
fn an_acknowledged_append_survives_reopening_with_its_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let line = common::conversation(vec![common::part("1", "comment", 60, "admin")]).to_string();
    {
        let mut store = Store::open(&path, None).unwrap();
        store
            .append(&[accepted(&line)], &[("feed.ndjson", 4096)], at(0))
            .unwrap();
        // Dropped without any shutdown: what append returned is on disk.
    }
    let store = Store::open(&path, None).unwrap();
    assert_eq!(store.partitions(), 64);
    assert_eq!(store.offset("feed.ndjson").unwrap(), Some(4096));
    assert_eq!(store.offset("other").unwrap(), None);
    let c = store
        .conversation(&accepted(&line).key)
        .unwrap()
        .expect("kept");
    assert_eq!(c.parts.len(), 1);
    assert_eq!(store.dirty_count().unwrap(), 1);
}

#[test]
fn a_deleted_conversation_is_final_its_records_before_and_after_are_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state.db"), Some(4)).unwrap();
    let mut conv = common::conversation(vec![]);
    conv["workspace_id"] = json!("w1");
    let conv = conv.to_string();
    let deleted = json!({"type": "notification_event", "topic": "conversation.deleted",
        "app_id": "w1", "created_at": common::T0,
        "data": {"item": {"type": "conversation", "id": "c1"}}})
    .to_string();
    let d = accepted(&deleted);
    assert!(d.delete);
    store.append(&[accepted(&conv)], &[], at(0)).unwrap();
    let kept = store.append(&[d, accepted(&conv)], &[], at(1)).unwrap();
    assert_eq!((kept.kept, kept.after_delete), (1, 1));
    assert!(store.conversation(&key("w1", "c1")).unwrap().is_none());
    let p = convstats::partition::of(&key("w1", "c1"), 4);
    let dirty = store.dirty(p, 10).unwrap();
    assert_eq!(dirty.len(), 1);
    assert!(dirty[0].deleted, "the indexer deletes both documents");
}

#[test]
fn a_conversation_touched_again_while_being_indexed_stays_dirty() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state.db"), Some(1)).unwrap();
    let conv = common::conversation(vec![]).to_string();
    let part = {
        let mut p = common::part("1", "comment", 60, "admin");
        p["conversation_id"] = json!("c1");
        p.to_string()
    };
    store.append(&[accepted(&conv)], &[], at(0)).unwrap();
    let first = store.dirty(0, 10).unwrap().remove(0);
    // A new part arrives while the indexer writes `first`.
    store.append(&[accepted(&part)], &[], at(1)).unwrap();
    assert!(!store.mark_clean(&first.key, first.revision).unwrap());
    let second = store.dirty(0, 10).unwrap().remove(0);
    assert!(second.revision > first.revision, "revisions only grow");
    assert!(store.mark_clean(&second.key, second.revision).unwrap());
    assert!(store.dirty(0, 10).unwrap().is_empty());
    // Revisions grow even when the clock goes back.
    store.append(&[accepted(&part)], &[], at(0)).unwrap();
    let third = store.dirty(0, 10).unwrap().remove(0);
    assert!(third.revision > second.revision);
}

#[test]
fn raising_every_revision_marks_everything_dirty_above_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state.db"), Some(1)).unwrap();
    let conv = common::conversation(vec![]).to_string();
    store.append(&[accepted(&conv)], &[], at(100)).unwrap();
    let d = store.dirty(0, 10).unwrap().remove(0);
    store.mark_clean(&d.key, d.revision).unwrap();
    assert_eq!(store.raise_all_revisions(at(50)).unwrap(), 1);
    let again = store.dirty(0, 10).unwrap().remove(0);
    assert!(again.revision > d.revision);
}

#[test]
fn the_partition_count_is_fixed_when_the_store_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(Store::open(&path, Some(16)).unwrap());
    assert_eq!(Store::open(&path, None).unwrap().partitions(), 16);
    assert_eq!(Store::open(&path, Some(16)).unwrap().partitions(), 16);
    let err = Store::open(&path, Some(32)).err().expect("refused");
    assert!(matches!(
        err,
        StoreError::Partitions {
            stored: 16,
            asked: 32,
            ..
        }
    ));
    assert!(err.to_string().contains("cannot change"), "{err}");
}

#[test]
fn a_store_of_a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(Store::open(&path, None).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    let err = Store::open(&path, None).err().expect("refused");
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("newer convstats"), "{err}");
}

#[test]
fn a_rejected_line_is_not_accepted_and_says_why() {
    let err = Accepted::parse(b"{\"type\": \"conversation\"}").unwrap_err();
    assert!(!err.is_empty());
    assert!(Accepted::parse(b"   ").unwrap().is_none());
}

#[test]
fn many_lines_of_one_conversation_in_one_commit_keep_every_line_and_a_delete_among_them_is_final() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("state.db"), Some(1)).unwrap();
    let conv = common::conversation(vec![common::part("1", "comment", 60, "admin")]).to_string();
    let part = |id: &str, dt: i64| {
        let mut p = common::part(id, "comment", dt, "user");
        p["conversation_id"] = json!("c1");
        p.to_string()
    };
    let lines = [conv.clone(), part("2", 120), part("3", 180), part("4", 240)];
    let batch: Vec<Accepted> = lines.iter().map(|l| accepted(l)).collect();
    assert_eq!(store.append(&batch, &[], at(0)).unwrap().kept, 4);
    let dirty = store.dirty(0, 10).unwrap();
    assert_eq!(dirty.len(), 1, "one conversation, one dirty mark");
    let whole = store.conversation(&dirty[0].key).unwrap().unwrap();
    assert_eq!(
        documents([whole]),
        documents(common::merge(
            &lines
                .iter()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<_>>()
        )),
        "every line of the commit is merged"
    );
    // A part, the delete, and a part after it, in one commit.
    let deleted = json!({"type": "notification_event", "topic": "conversation.deleted",
        "data": {"item": {"type": "conversation", "id": "c1"}}})
    .to_string();
    let batch = [
        accepted(&part("5", 300)),
        accepted(&deleted),
        accepted(&part("6", 360)),
    ];
    let kept = store.append(&batch, &[], at(1)).unwrap();
    assert_eq!((kept.kept, kept.after_delete), (2, 1));
    assert!(store.conversation(&dirty[0].key).unwrap().is_none());
    let after = store.dirty(0, 10).unwrap().remove(0);
    assert!(after.deleted && after.revision > dirty[0].revision);
}
