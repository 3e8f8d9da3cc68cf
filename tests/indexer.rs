//! The indexer of continuous ingestion (`src/indexer.rs`) against the ES
//! double: what the store holds ends up in both aliases exactly as `compute`
//! renders it, at the store's revisions; a touched conversation is written
//! again above its old version; a deleted one loses both documents; while
//! the engine is away nothing is marked clean, and the next pass catches up.
mod common;
mod support;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use convstats::config::Settings;
use convstats::document::{document_id, metrics_for, render_pair};
use convstats::elasticsearch::setup::setup;
use convstats::elasticsearch::{Aliases, BulkConfig, EsClient, EsConfig};
use convstats::indexer::{IndexerConfig, index_once};
use convstats::store::{Accepted, Store};
use serde_json::{Value, json};
use support::EsDouble;

fn accepted(line: &str) -> Accepted {
    Accepted::parse(line.as_bytes()).unwrap().unwrap()
}

struct Fixture {
    double: EsDouble,
    client: EsClient,
    store: Mutex<Store>,
    cfg: IndexerConfig,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let double = EsDouble::start().await;
    let client = EsClient::new(&EsConfig {
        urls: vec![double.url()],
        give_up_after: Some(Duration::from_secs(2)),
        ..Default::default()
    })
    .unwrap();
    let aliases = Aliases::with_prefix("convstats");
    setup(&client, &aliases).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Mutex::new(Store::open(&dir.path().join("state.db"), Some(4)).unwrap());
    let cfg = IndexerConfig {
        aliases,
        bulk: BulkConfig {
            dead_letter_path: dir.path().join("dead.ndjson"),
            max_age: Duration::from_millis(20),
            give_up_after: Some(Duration::from_secs(2)),
            backoff_base: Duration::from_millis(20),
            ..Default::default()
        },
        batch: 50,
        on_written: None,
    };
    Fixture {
        double,
        client,
        store,
        cfg,
        _dir: dir,
    }
}

/// `compute`'s documents of `lines`: `_id` → (new, legacy).
fn computed(lines: &[String]) -> BTreeMap<String, (Value, Value)> {
    let settings = Settings::default();
    common::merge_ndjson(lines.join("\n").into_bytes())
        .into_iter()
        .map(|c| {
            let (new, legacy) = render_pair(&c, &metrics_for(&c, &settings));
            (
                document_id(&c),
                (
                    serde_json::from_slice(&new).unwrap(),
                    serde_json::from_slice(&legacy).unwrap(),
                ),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_store_holds_ends_up_in_both_aliases_as_compute_renders_it() {
    let f = fixture().await;
    let lines = common::gen_lines(200, 9);
    for chunk in lines.chunks(23) {
        let batch: Vec<Accepted> = chunk.iter().map(|l| accepted(l)).collect();
        f.store
            .lock()
            .unwrap()
            .append(&batch, &[], SystemTime::now())
            .unwrap();
    }
    let pass = index_once(&f.store, &f.store, &f.client, &f.cfg, &Settings::default())
        .await
        .unwrap();
    let want = computed(&lines);
    assert_eq!(pass.indexed, want.len() as u64);
    assert_eq!(f.store.lock().unwrap().dirty_count().unwrap(), 0);
    let new = f.double.docs(&f.cfg.aliases.new);
    let legacy = f.double.docs(&f.cfg.aliases.legacy);
    assert_eq!(new.len(), want.len());
    assert_eq!(legacy.len(), want.len());
    for (id, (n, l)) in &want {
        assert_eq!(&new[id].1, n, "{id} new");
        assert_eq!(&legacy[id].1, l, "{id} legacy");
        assert!(
            new[id].0 > 1_000_000,
            "{id}: a clock-tied revision as version"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_touched_conversation_is_written_again_above_its_old_version_and_a_deleted_one_loses_both_documents()
 {
    let f = fixture().await;
    let mut conv = common::conversation(vec![common::part("1", "comment", 60, "admin")]);
    conv["workspace_id"] = json!("w1");
    let settings = Settings::default();
    let add = |line: String| {
        f.store
            .lock()
            .unwrap()
            .append(&[accepted(&line)], &[], SystemTime::now())
            .unwrap();
    };
    add(conv.to_string());
    index_once(&f.store, &f.store, &f.client, &f.cfg, &settings)
        .await
        .unwrap();
    let (v1, doc1) = f.double.docs(&f.cfg.aliases.new)["w1:c1"].clone();
    let mut part = common::part("2", "close", 120, "admin");
    part["conversation_id"] = json!("c1");
    part["workspace_id"] = json!("w1");
    add(part.to_string());
    let pass = index_once(&f.store, &f.store, &f.client, &f.cfg, &settings)
        .await
        .unwrap();
    assert_eq!(pass.indexed, 1);
    let (v2, doc2) = f.double.docs(&f.cfg.aliases.new)["w1:c1"].clone();
    assert!(v2 > v1);
    assert_ne!(doc1, doc2);
    assert_eq!(doc2["state"], doc1["state"], "state comes from the record");
    assert!(!doc2["last_closed_at"].is_null(), "the close part counts");
    add(
        json!({"type": "notification_event", "topic": "conversation.deleted",
        "app_id": "w1", "created_at": common::T0,
        "data": {"item": {"type": "conversation", "id": "c1"}}})
        .to_string(),
    );
    let pass = index_once(&f.store, &f.store, &f.client, &f.cfg, &settings)
        .await
        .unwrap();
    assert_eq!(pass.deleted, 1);
    assert!(!f.double.docs(&f.cfg.aliases.new).contains_key("w1:c1"));
    assert!(!f.double.docs(&f.cfg.aliases.legacy).contains_key("w1:c1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_engine_is_away_nothing_is_marked_clean_and_the_next_pass_catches_up() {
    let f = fixture().await;
    let lines = common::gen_lines(20, 9);
    let batch: Vec<Accepted> = lines.iter().map(|l| accepted(l)).collect();
    f.store
        .lock()
        .unwrap()
        .append(&batch, &[], SystemTime::now())
        .unwrap();
    f.double.faults(|x| x.down = true);
    let failed = index_once(&f.store, &f.store, &f.client, &f.cfg, &Settings::default()).await;
    assert!(
        failed.is_err(),
        "the writer gave up while the engine was down"
    );
    assert_eq!(f.store.lock().unwrap().dirty_count().unwrap(), 20);
    f.double.faults(|x| x.down = false);
    let pass = index_once(&f.store, &f.store, &f.client, &f.cfg, &Settings::default())
        .await
        .unwrap();
    assert_eq!(pass.indexed, 20);
    assert_eq!(f.store.lock().unwrap().dirty_count().unwrap(), 0);
    assert_eq!(f.double.docs(&f.cfg.aliases.new).len(), 20);
}
