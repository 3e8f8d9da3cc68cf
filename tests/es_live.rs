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

/// The real binary against the live cluster: `setup`, `backfill` of the
/// examples (documents equal `compute`'s lines), a stale dead letter replayed
/// with `dlq replay` (409 counted, not dead-lettered), a second backfill with
/// `--delete-old`. Index prefix `convstats-livetest-cli`, removed at the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_cli_setup_backfill_replay_and_delete_old() {
    let Some(c) = live_client() else { return };
    let prefix = "convstats-livetest-cli";
    let aliases = Aliases::with_prefix(prefix);
    let dir = tempfile::tempdir().unwrap();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let examples = root.join("examples/conversations.ndjson");
    let config = root.join("examples/convstats.toml");
    let dead = dir.path().join("dead.ndjson");
    let cli = |args: Vec<String>| {
        let mut cmd = assert_cmd::Command::cargo_bin("convstats").unwrap();
        for (k, _) in std::env::vars() {
            if k.starts_with("CONVSTATS_") && !k.starts_with("CONVSTATS_TEST_") {
                cmd.env_remove(k);
            }
        }
        cmd.current_dir(dir.path())
            .env(
                "CONVSTATS_ES_URL",
                std::env::var("CONVSTATS_TEST_ES_URL").unwrap(),
            )
            .env("CONVSTATS_ALIAS_PREFIX", prefix)
            .arg("--config")
            .arg(&config)
            .args(&args);
        if let Ok(k) = std::env::var("CONVSTATS_TEST_ES_API_KEY") {
            cmd.env("CONVSTATS_ES_API_KEY", k);
        } else if let (Ok(u), Ok(p)) = (
            std::env::var("CONVSTATS_TEST_ES_USER"),
            std::env::var("CONVSTATS_TEST_ES_PASSWORD"),
        ) {
            cmd.env("CONVSTATS_ES_USERNAME", u)
                .env("CONVSTATS_ES_PASSWORD", p);
        }
        if std::env::var("CONVSTATS_TEST_ES_INSECURE").is_ok() {
            cmd.env("CONVSTATS_ES_INSECURE", "true");
        }
        async move {
            tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap()
        }
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let ex = examples.to_string_lossy().into_owned();
    let dl = dead.to_string_lossy().into_owned();
    let out = cli(s(&["setup"])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(s(&["compute", &ex, "--out", "out"])).await;
    assert!(out.status.success());
    let out = cli(s(&["backfill", &ex, "--dead-letter-file", &dl])).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = alias_targets(&c, &aliases.new).await.unwrap();
    let want: Vec<serde_json::Value> =
        std::fs::read_to_string(dir.path().join("out/conversations-new.ndjson"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let found = c
        .json_ok(
            Method::Post,
            &format!("/{}/_search", aliases.new),
            &[],
            Some(&serde_json::json!({"size": 1000, "query": {"match_all": {}}})),
            "search",
        )
        .await
        .unwrap();
    let hits = found["hits"]["hits"].as_array().unwrap();
    assert_eq!(hits.len(), want.len());
    let mut id = String::new();
    for h in hits {
        let src = &h["_source"];
        assert!(want.contains(src), "{src}");
        id = h["_id"].as_str().unwrap().to_string();
    }
    // a stale dead letter (an older revision) loses on replay
    let letter = serde_json::json!({
        "time": "2026-01-01T00:00:00.000Z", "action": "index", "index": aliases.new,
        "_id": id, "version": 1, "status": 503, "error_type": "x", "reason": "x",
        "document": want[0],
    });
    std::fs::write(&dead, format!("{letter}\n")).unwrap();
    let out = cli(s(&["dlq", "replay", "--dead-letter-file", &dl])).await;
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success() && err.contains("1 already newer"),
        "{err}"
    );
    assert!(!dead.exists());
    // --delete-old removes the first backfill's indices
    let out = cli(s(&[
        "backfill",
        &ex,
        "--delete-old",
        "--dead-letter-file",
        &dl,
    ]))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, _, _) = c
        .json(Method::Head, &format!("/{}", first[0]), &[], None, "head")
        .await
        .unwrap();
    assert_eq!(status, 404);
    // clean up everything with the prefix
    let mut all = alias_targets(&c, &aliases.new).await.unwrap();
    all.extend(alias_targets(&c, &aliases.legacy).await.unwrap());
    let (_, body, _) = c
        .json(Method::Get, &format!("/{prefix}-*"), &[], None, "list")
        .await
        .unwrap();
    if let Some(m) = body.as_object() {
        all.extend(m.keys().cloned());
    }
    all.sort();
    all.dedup();
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
