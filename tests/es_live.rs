//! The end-to-end scenarios against a real cluster, when
//! `CONVSTATS_TEST_ES_URL` is set (for example `http://localhost:9200`;
//! `CONVSTATS_TEST_ES_API_KEY` or `CONVSTATS_TEST_ES_USER` +
//! `CONVSTATS_TEST_ES_PASSWORD` for credentials). Skipped otherwise. Uses the
//! index prefix `convstats-livetest` and deletes what it creates.
mod support;

use std::time::Duration;

use bytes::Bytes;
use convstats::elasticsearch::backfill::{BackfillItem, BackfillOptions, backfill};
use convstats::elasticsearch::client::Method;
use convstats::elasticsearch::setup::{alias_targets, delete_indices, setup};
use convstats::elasticsearch::{
    Aliases, Auth, BulkConfig, BulkOp, BulkWriter, EsClient, EsConfig, Secret,
};
use support::docs::{legacy_doc, new_doc};

fn live_client() -> Option<EsClient> {
    let Ok(url) = std::env::var("CONVSTATS_TEST_ES_URL") else {
        eprintln!("skipped: set CONVSTATS_TEST_ES_URL to run the live Elasticsearch suite");
        return None;
    };
    let auth = if let Some(key) = Secret::from_env("CONVSTATS_TEST_ES_API_KEY") {
        Auth::ApiKey { id: None, key }
    } else if let (Ok(username), Some(password)) = (
        std::env::var("CONVSTATS_TEST_ES_USER"),
        Secret::from_env("CONVSTATS_TEST_ES_PASSWORD"),
    ) {
        Auth::Basic { username, password }
    } else {
        Auth::None
    };
    let insecure = std::env::var("CONVSTATS_TEST_ES_INSECURE").is_ok();
    Some(
        EsClient::new(&EsConfig {
            urls: vec![url],
            auth,
            insecure,
            ..Default::default()
        })
        .unwrap(),
    )
}

#[tokio::test]
async fn live_setup_backfill_stale_writes_and_swap() {
    let Some(c) = live_client() else { return };
    c.check().await.unwrap();
    let aliases = Aliases::with_prefix("convstats-livetest");
    setup(&c, &aliases).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bulk = BulkConfig {
        dead_letter_path: dir.path().join("dead.ndjson"),
        max_age: Duration::from_millis(100),
        ..Default::default()
    };
    let items: Vec<BackfillItem> = (0..500u64)
        .map(|i| BackfillItem {
            id: format!("w1:c{i}"),
            version: 10,
            new_doc: Bytes::from(
                serde_json::to_vec(&new_doc("w1", &format!("c{i}"), i, 10)).unwrap(),
            ),
            legacy_doc: Bytes::from(
                serde_json::to_vec(&legacy_doc("w1", &format!("c{i}"), i, 10)).unwrap(),
            ),
        })
        .collect();
    let mut opts = BackfillOptions::new(aliases.clone(), bulk.clone());
    opts.delete_old = true;
    let report = backfill(&c, opts, futures::stream::iter(items))
        .await
        .unwrap();
    assert_eq!((report.new.count, report.legacy.count), (500, 500));
    // a stale write through the alias loses
    let w = BulkWriter::spawn(c.clone(), bulk).unwrap();
    w.send(BulkOp::index(
        &aliases.new,
        "w1:c1",
        5,
        serde_json::to_vec(&new_doc("w1", "c1", 1, 5)).unwrap(),
    ))
    .await
    .unwrap();
    let s = w.finish().await.unwrap().metrics;
    assert_eq!(s.stale_skipped, 1);
    let doc = c
        .json_ok(
            Method::Get,
            &format!("/{}/_doc/w1:c1", aliases.new),
            &[],
            None,
            "get",
        )
        .await
        .unwrap();
    assert_eq!(doc["_version"], 10);
    // clean up
    let mut all = alias_targets(&c, &aliases.new).await.unwrap();
    all.extend(alias_targets(&c, &aliases.legacy).await.unwrap());
    delete_indices(&c, &all).await.unwrap();
    for a in [&aliases.new, &aliases.legacy] {
        let _ = c
            .json(
                Method::Delete,
                &format!("/_index_template/{a}"),
                &[],
                None,
                "cleanup",
            )
            .await;
    }
}
