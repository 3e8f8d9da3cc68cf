//! The bulk writer against the ES double: stale writes, dead letters,
//! faults (429 storms, 503s, resets, item-level 429s, 413), gzip, give-up.
mod support;

use std::path::Path;
use std::time::Duration;

use convstats::elasticsearch::client::Method;
use convstats::elasticsearch::{Aliases, Family};
use convstats::elasticsearch::{
    BulkConfig, BulkOp, BulkWriter, EsClient, EsConfig, EsError, dead_letter, templates,
};
use serde_json::{Value, json};
use support::EsDouble;
use support::docs::new_doc;

fn client(d: &EsDouble) -> EsClient {
    EsClient::new(&EsConfig {
        urls: vec![d.url()],
        ..Default::default()
    })
    .unwrap()
}

fn cfg(dir: &Path) -> BulkConfig {
    BulkConfig {
        max_ops: 50,
        max_age: Duration::from_millis(20),
        backoff_base: Duration::from_millis(1),
        backoff_cap: Duration::from_millis(20),
        give_up_after: Some(Duration::from_secs(20)),
        jitter_seed: Some(42),
        dead_letter_path: dir.join("dead.ndjson"),
        ..Default::default()
    }
}

/// Templates applied, one concrete index behind each alias.
async fn prepare(d: &EsDouble, c: &EsClient) -> Aliases {
    let aliases = Aliases::default();
    templates::apply(c, &aliases).await.unwrap();
    for f in Family::ALL {
        let alias = aliases.get(f);
        let index = format!("{alias}-20260101000000");
        c.json_ok(Method::Put, &format!("/{index}"), &[], None, "create")
            .await
            .unwrap();
        let body =
            json!({"actions": [{"add": {"index": index, "alias": alias, "is_write_index": true}}]});
        c.json_ok(Method::Post, "/_aliases", &[], Some(&body), "alias")
            .await
            .unwrap();
    }
    let _ = d;
    aliases
}

fn op(alias: &str, i: u64, rev: u64) -> BulkOp {
    let doc = new_doc("w1", &format!("c{i}"), i, rev);
    BulkOp::index(
        alias,
        format!("w1:c{i}"),
        rev,
        serde_json::to_vec(&doc).unwrap(),
    )
}

#[tokio::test]
async fn stale_revisions_lose_and_409s_are_counted_not_dead_lettered() {
    let d = EsDouble::start().await;
    let c = client(&d);
    let aliases = prepare(&d, &c).await;
    let dir = tempfile::tempdir().unwrap();
    let config = BulkConfig {
        max_ops: 1,
        concurrency: 1,
        ..cfg(dir.path())
    };
    let w = BulkWriter::spawn(c.clone(), config).unwrap();
    // newer first, then the older revision of the same conversation
    w.send(op(&aliases.new, 1, 20)).await.unwrap();
    w.send(op(&aliases.new, 1, 10)).await.unwrap();
    w.send(BulkOp::delete(&aliases.new, "w1:c1", 15))
        .await
        .unwrap();
    w.send(BulkOp::delete(&aliases.new, "w1:never", 3))
        .await
        .unwrap();
    let s = w.finish().await.unwrap().metrics;
    assert_eq!(s.sent, 4);
    assert_eq!(s.indexed, 1);
    assert_eq!(s.stale_skipped, 2, "the old index and the old delete");
    assert_eq!(s.deleted, 1, "a delete of a missing doc is done");
    assert_eq!(s.dead_lettered, 0);
    assert!(!dir.path().join("dead.ndjson").exists());
    let docs = d.docs(&aliases.new);
    assert_eq!(docs["w1:c1"].0, 20);
    assert_eq!(docs["w1:c1"].1, new_doc("w1", "c1", 1, 20));
}

#[tokio::test]
async fn mapping_errors_are_dead_lettered_with_status_and_reason_and_replay_empties_the_file() {
    let d = EsDouble::start().await;
    let c = client(&d);
    let aliases = prepare(&d, &c).await;
    let dir = tempfile::tempdir().unwrap();
    let w = BulkWriter::spawn(c.clone(), cfg(dir.path())).unwrap();
    for i in 0..20 {
        let mut doc = new_doc("w1", &format!("c{i}"), i, 1);
        if i == 3 {
            doc["surprise"] = json!(1);
        }
        if i == 7 {
            doc["first_response_time"] = json!("soon");
        }
        w.send(BulkOp::index(
            &aliases.new,
            format!("w1:c{i}"),
            1,
            serde_json::to_vec(&doc).unwrap(),
        ))
        .await
        .unwrap();
    }
    let s = w.finish().await.unwrap().metrics;
    assert_eq!((s.indexed, s.dead_lettered), (18, 2));
    let path = dir.path().join("dead.ndjson");
    let letters = dead_letter::list(&path).unwrap();
    assert_eq!(letters.len(), 2);
    let by_id = |id: &str| letters.iter().find(|l| l.id == id).unwrap().clone();
    let l3 = by_id("w1:c3");
    assert_eq!(l3.status, 400);
    assert_eq!(l3.error_type, "strict_dynamic_mapping_exception");
    assert!(l3.reason.contains("surprise"));
    assert_eq!(l3.version, 1);
    assert_eq!(l3.index, aliases.new);
    let doc: Value = serde_json::from_str(l3.document.as_ref().unwrap().get()).unwrap();
    assert_eq!(doc["surprise"], 1);
    assert_eq!(by_id("w1:c7").error_type, "document_parsing_exception");
    assert_eq!(d.docs(&aliases.new).len(), 18);

    // replay before the fix: both fail again and stay
    let r = dead_letter::replay(&c, &path, cfg(dir.path()), None)
        .await
        .unwrap();
    assert_eq!((r.replayed, r.succeeded, r.still_failing), (2, 0, 2));
    assert_eq!(dead_letter::list(&path).unwrap().len(), 2);

    // "fix the mapping": the field becomes known, the value is corrected in the file
    d.cluster(|cl| {
        for idx in cl.indices.values_mut() {
            idx.mappings["properties"]["surprise"] = json!({"type": "long"});
        }
    });
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "\"first_response_time\":\"soon\"",
        "\"first_response_time\":61",
    );
    std::fs::write(&path, text).unwrap();
    let r = dead_letter::replay(&c, &path, cfg(dir.path()), None)
        .await
        .unwrap();
    assert_eq!((r.replayed, r.succeeded, r.still_failing), (2, 2, 0));
    assert!(dead_letter::list(&path).unwrap().is_empty());
    assert_eq!(d.docs(&aliases.new).len(), 20);
}

#[tokio::test]
async fn faults_end_with_identical_content_and_concurrency_falls_during_a_429_storm() {
    let d = EsDouble::start().await;
    let c = client(&d);
    let aliases = prepare(&d, &c).await;
    let dir = tempfile::tempdir().unwrap();
    const N: u64 = 1500;
    // slow responses let requests overlap; a storm starts at the 12th bulk request
    d.faults(|f| {
        f.delay = Duration::from_millis(4);
        f.seed = 9;
        f.at_bulk(12, 2, |f| f.fail_bulk(429, 24));
        f.at_bulk(60, 3, |f| {
            f.item_429_fraction = 0.2;
            f.fail_bulk(503, 3);
            f.fail_bulk(413, 1);
            f.reset_bulk = 3;
        });
    });
    let config = BulkConfig {
        max_ops: 20,
        concurrency: 4,
        ..cfg(dir.path())
    };
    let w = BulkWriter::spawn(c.clone(), config).unwrap();
    for i in 0..N {
        // revisions 2 and 1 of every conversation, sometimes in the wrong order
        let (a, b) = if i % 3 == 0 { (1, 2) } else { (2, 1) };
        w.send(op(&aliases.new, i, a)).await.unwrap();
        w.send(op(&aliases.new, i, b)).await.unwrap();
    }
    let s = w.finish().await.unwrap().metrics;
    assert_eq!(s.dead_lettered, 0);
    assert_eq!(s.indexed + s.stale_skipped, 2 * N, "{s:?}");
    assert!(s.retried > 0);
    let docs = d.docs(&aliases.new);
    assert_eq!(docs.len() as u64, N);
    for i in 0..N {
        assert_eq!(
            docs[&format!("w1:c{i}")],
            (2, new_doc("w1", &format!("c{i}"), i, 2))
        );
    }
    let reqs = d.bulk_requests();
    let before: Vec<_> = reqs.iter().filter(|r| r.phase == 0).collect();
    let storm: Vec<_> = reqs
        .iter()
        .filter(|r| r.phase == 2 && r.faulted && r.status == 429)
        .collect();
    assert!(
        before.iter().map(|r| r.bulk_in_flight).max().unwrap() >= 3,
        "requests overlapped before the storm"
    );
    assert!(storm.len() >= 20);
    let late_storm_max = storm[storm.len() / 2..]
        .iter()
        .map(|r| r.bulk_in_flight)
        .max()
        .unwrap();
    assert!(
        late_storm_max <= 2,
        "in-flight requests fell during the storm (late max {late_storm_max})"
    );
    assert!(reqs.iter().any(|r| r.status == 413));
    assert!(reqs.iter().any(|r| r.bulk_items_429 > 0));
    assert!(reqs.iter().any(|r| r.status == 503));
}

#[tokio::test]
async fn a_413_splits_the_request_and_a_lone_oversized_document_is_dead_lettered() {
    let d = EsDouble::start().await;
    let c = client(&d);
    let aliases = prepare(&d, &c).await;
    let dir = tempfile::tempdir().unwrap();
    d.faults(|f| f.max_content_length = 3000);
    let w = BulkWriter::spawn(
        c.clone(),
        BulkConfig {
            max_ops: 16,
            ..cfg(dir.path())
        },
    )
    .unwrap();
    for i in 0..16 {
        w.send(op(&aliases.new, i, 1)).await.unwrap();
    }
    let mut big = new_doc("w1", "big", 99, 1);
    big["state"] = json!("x".repeat(5000));
    w.send(BulkOp::index(
        &aliases.new,
        "w1:big",
        1,
        serde_json::to_vec(&big).unwrap(),
    ))
    .await
    .unwrap();
    let s = w.finish().await.unwrap().metrics;
    assert_eq!((s.indexed, s.dead_lettered), (16, 1));
    let letters = dead_letter::list(&dir.path().join("dead.ndjson")).unwrap();
    assert_eq!(letters[0].status, 413);
    assert_eq!(letters[0].id, "w1:big");
}

#[tokio::test]
async fn gzip_bodies_are_sent_when_asked() {
    let d = EsDouble::start().await;
    let c = client(&d);
    let aliases = prepare(&d, &c).await;
    let dir = tempfile::tempdir().unwrap();
    let w = BulkWriter::spawn(
        c.clone(),
        BulkConfig {
            gzip: true,
            ..cfg(dir.path())
        },
    )
    .unwrap();
    for i in 0..100 {
        w.send(op(&aliases.new, i, 1)).await.unwrap();
    }
    let s = w.finish().await.unwrap().metrics;
    assert_eq!(s.indexed, 100);
    assert!(d.bulk_requests().iter().all(|r| r.gzip));
    assert_eq!(d.docs(&aliases.new).len(), 100);
}

#[tokio::test]
async fn the_writer_gives_up_when_nothing_succeeds_and_recovers_after_down_up() {
    let d = EsDouble::start().await;
    let c = client(&d);
    let aliases = prepare(&d, &c).await;
    let dir = tempfile::tempdir().unwrap();
    // down for the first 5 bulk attempts, then up again: no give-up
    d.faults(|f| f.fail_bulk(503, 5));
    let w = BulkWriter::spawn(c.clone(), cfg(dir.path())).unwrap();
    for i in 0..10 {
        w.send(op(&aliases.new, i, 1)).await.unwrap();
    }
    assert_eq!(w.finish().await.unwrap().metrics.indexed, 10);
    // down, then up again while the writer retries: everything lands
    d.faults(|f| f.down = true);
    let w = BulkWriter::spawn(c.clone(), cfg(dir.path())).unwrap();
    for i in 10..20 {
        w.send(op(&aliases.new, i, 1)).await.unwrap();
    }
    let metrics = w.metrics();
    for _ in 0..2000 {
        if metrics.retried.load(std::sync::atomic::Ordering::Relaxed) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(metrics.retried.load(std::sync::atomic::Ordering::Relaxed) >= 3);
    d.faults(|f| f.down = false);
    let s = w.finish().await.unwrap().metrics;
    assert_eq!(s.indexed, 10);
    assert_eq!(d.docs(&aliases.new).len(), 20);
    // down for good: gives up
    d.faults(|f| f.down = true);
    let config = BulkConfig {
        give_up_after: Some(Duration::from_millis(200)),
        ..cfg(dir.path())
    };
    let w = BulkWriter::spawn(c.clone(), config).unwrap();
    w.send(op(&aliases.new, 1, 2)).await.unwrap();
    let err = w.finish().await.unwrap_err();
    assert!(matches!(err, EsError::GaveUp { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("no request to Elasticsearch succeeded")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_reports_its_outcome_once_and_sync_producers_can_feed_the_writer() {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use convstats::elasticsearch::OpOutcome;
    let d = EsDouble::start().await;
    let c = client(&d);
    let aliases = prepare(&d, &c).await;
    let dir = tempfile::tempdir().unwrap();
    type Seen = Arc<Mutex<HashMap<(String, u64), Vec<OpOutcome>>>>;
    let seen: Seen = Arc::default();
    let hook_seen = seen.clone();
    d.faults(|f| {
        f.item_429_fraction = 0.3;
        f.seed = 5;
    });
    let config = BulkConfig {
        on_outcome: Some(Arc::new(move |op: &BulkOp, outcome| {
            hook_seen
                .lock()
                .unwrap()
                .entry((op.id.clone(), op.version))
                .or_default()
                .push(outcome);
        })),
        channel_capacity: 8,
        ..cfg(dir.path())
    };
    let w = BulkWriter::spawn(c.clone(), config).unwrap();
    // a plain thread (as a rayon/crossbeam pipeline would) feeding the writer
    let tx = w.sender();
    let alias = aliases.new.clone();
    let producer = std::thread::spawn(move || {
        for i in 0..300 {
            tx.blocking_send(op(&alias, i, 3)).unwrap();
        }
        for i in 0..100 {
            tx.blocking_send(BulkOp::delete(&alias, format!("w1:c{i}"), 4))
                .unwrap();
        }
        tx.blocking_send(BulkOp::delete(&alias, "w1:c200", 1))
            .unwrap();
    });
    tokio::task::spawn_blocking(move || producer.join().unwrap())
        .await
        .unwrap();
    let s = w.finish().await.unwrap().metrics;
    // A delete (version 4) may land before a retried index (version 3) of
    // the same document: that index is then stale (409), as in ES. Every
    // operation ends exactly once either way.
    assert_eq!((s.sent, s.deleted), (401, 100));
    assert_eq!(s.indexed + s.stale_skipped, 301);
    assert!(
        s.stale_skipped >= 1,
        "the delete of w1:c200 at version 1 is stale"
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 401);
    assert!(
        seen.values().all(|v| v.len() == 1),
        "one outcome per operation"
    );
    // The delete of w1:c0 (v4) deletes the document, or, when it overtook
    // a retried index of it (v3), finds nothing; that index is then stale.
    for i in 0..100 {
        let id = format!("w1:c{i}");
        match seen[&(id.clone(), 4)].as_slice() {
            [OpOutcome::Written] => {}
            [OpOutcome::AlreadyDeleted] => assert_eq!(
                seen[&(id.clone(), 3)],
                vec![OpOutcome::StaleSkipped],
                "{id}: an index overtaken by its delete is stale"
            ),
            other => panic!("{id}: the delete ended as {other:?}"),
        }
    }
    assert_eq!(
        seen[&("w1:c200".to_string(), 1)],
        vec![OpOutcome::StaleSkipped]
    );
    assert_eq!(d.docs(&aliases.new).len(), 200);
}

#[tokio::test]
async fn producers_wait_when_the_cluster_is_slower_than_they_are() {
    let d = EsDouble::start().await;
    let c = client(&d);
    let aliases = prepare(&d, &c).await;
    let dir = tempfile::tempdir().unwrap();
    d.faults(|f| f.down = true);
    let config = BulkConfig {
        channel_capacity: 4,
        max_ops: 2,
        concurrency: 1,
        ..cfg(dir.path())
    };
    let w = BulkWriter::spawn(c.clone(), config).unwrap();
    let tx = w.sender();
    // queue (4) + one batch being retried (2) + one batch waiting for a slot (2)
    let mut accepted = 0;
    for i in 0..1000 {
        match tx.try_send(op(&aliases.new, i, 1)) {
            Ok(()) => accepted += 1,
            Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => {
                // let the writer take what it can, then check it stays full
                tokio::task::yield_now().await;
                if tx.try_send(op(&aliases.new, i, 1)).is_err() {
                    break;
                }
                accepted += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        accepted < 20,
        "at most a few batches are buffered, got {accepted}"
    );
    d.faults(|f| f.down = false);
    drop(tx);
    let s = w.finish().await.unwrap().metrics;
    assert_eq!(s.indexed, accepted);
}
