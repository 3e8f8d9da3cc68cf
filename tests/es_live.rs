//! The scenarios a real search engine can show, run against every target:
//! always the project's ES double (in process), and a real engine when
//! `CONVSTATS_TEST_ES_URL` is set (`scripts/opensearch start` prints one;
//! `CONVSTATS_TEST_ES_API_KEY`, or `CONVSTATS_TEST_ES_USER` and
//! `CONVSTATS_TEST_ES_PASSWORD`, for credentials; `CONVSTATS_TEST_ES_INSECURE`
//! to skip certificate checks). The same assertions hold on both: that is how
//! the double is held to the engine.
//!
//! Two scenarios need engines started with other settings:
//! `CONVSTATS_TEST_ES_LIMITS_URL` (a node with `thread_pool.write.size: 1`,
//! `thread_pool.write.queue_size: 1` and `http.max_content_length: 1mb`) and
//! `CONVSTATS_TEST_ES_CLUSTER_URLS` with `CONVSTATS_TEST_ES_CLUSTER_PIDS` (three
//! nodes of one cluster and their pids, one node is killed). `.ci/run` starts
//! all three with `scripts/opensearch`. With `CONVSTATS_TEST_ES_REQUIRED` set
//! (CI sets it) a missing engine fails the test instead of being skipped.
//!
//! Each scenario uses its own index prefix `convstats-live-<scenario>` and
//! deletes what it created, before and after.
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use convstats::elasticsearch::backfill::{BackfillItem, BackfillOptions, backfill};
use convstats::elasticsearch::client::Method;
use convstats::elasticsearch::setup::{alias_targets, setup};
use convstats::elasticsearch::templates::{Family, render};
use convstats::elasticsearch::{Aliases, BulkOp, BulkWriter};
use serde_json::{Value, json};
use support::docs::{legacy_doc, new_doc};
use support::logs::LogBuffer;
use support::targets::*;

/// Everything the library logs in this process at INFO and above (the
/// writer runs on the runtime's threads, so a thread-local capture would
/// miss it).
fn logs() -> &'static LogBuffer {
    static LOGS: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = LogBuffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(buf.clone())
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
}

fn items(n: u64, rev: u64) -> Vec<BackfillItem> {
    (0..n)
        .map(|i| BackfillItem {
            id: format!("w1:c{i}"),
            version: rev,
            new_doc: Bytes::from(
                serde_json::to_vec(&new_doc("w1", &format!("c{i}"), i, rev)).unwrap(),
            ),
            legacy_doc: Bytes::from(
                serde_json::to_vec(&legacy_doc("w1", &format!("c{i}"), i, rev)).unwrap(),
            ),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_are_applied_and_new_indices_of_the_pattern_use_them() {
    for t in targets().await {
        let prefix = "convstats-live-templates";
        clean(&t, prefix).await;
        let aliases = Aliases::with_prefix(prefix);
        setup(&t.client, &aliases).await.unwrap();
        for family in Family::ALL {
            let alias = aliases.get(family);
            let index = format!("{alias}-manual");
            t.client
                .json_ok(Method::Put, &format!("/{index}"), &[], None, "create")
                .await
                .unwrap();
            let got = t
                .client
                .json_ok(Method::Get, &format!("/{index}"), &[], None, "get index")
                .await
                .unwrap();
            let want = render(family, alias).unwrap();
            let got = &got[&index];
            assert_eq!(got["mappings"]["dynamic"], "strict", "{}", t.name);
            for (field, mapping) in want["template"]["mappings"]["properties"]
                .as_object()
                .unwrap()
            {
                assert_eq!(
                    got["mappings"]["properties"][field]["type"], mapping["type"],
                    "{} {index} {field}",
                    t.name
                );
            }
            let settings = &got["settings"]["index"];
            assert_eq!(settings["refresh_interval"], "1s", "{}", t.name);
            assert_eq!(settings["number_of_shards"], "1", "{}", t.name);
        }
        clean(&t, prefix).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_field_and_a_bad_date_each_become_a_dead_letter_with_the_engine_s_own_error_type()
 {
    for t in targets().await {
        let prefix = "convstats-live-strict";
        clean(&t, prefix).await;
        let aliases = Aliases::with_prefix(prefix);
        setup(&t.client, &aliases).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cfg = bulk_config(dir.path());
        let w = BulkWriter::spawn(t.client.clone(), cfg.clone()).unwrap();
        let mut unknown = new_doc("w1", "c1", 1, 3);
        unknown["surprise"] = json!(1);
        let mut bad_date = new_doc("w1", "c2", 2, 3);
        bad_date["started_at"] = json!("not a date");
        let good = new_doc("w1", "c3", 3, 3);
        for (id, doc) in [("w1:c1", unknown), ("w1:c2", bad_date), ("w1:c3", good)] {
            w.send(BulkOp::index(
                &aliases.new,
                id,
                3,
                serde_json::to_vec(&doc).unwrap(),
            ))
            .await
            .unwrap();
        }
        let m = w.finish().await.unwrap().metrics;
        assert_eq!((m.indexed, m.dead_lettered), (1, 2), "{}", t.name);
        let letters = dead_letters(&cfg.dead_letter_path);
        let kind = |id: &str| {
            letters
                .iter()
                .find(|l| l.id == id)
                .map(|l| (l.status, l.error_type.clone()))
        };
        assert_eq!(
            kind("w1:c1"),
            Some((400, "strict_dynamic_mapping_exception".into())),
            "{}",
            t.name
        );
        assert_eq!(
            kind("w1:c2"),
            Some((400, t.product.document_parse_error().into())),
            "{}",
            t.name
        );
        clean(&t, prefix).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_versions_make_stale_writes_and_stale_deletes_409s_counted_as_skipped() {
    for t in targets().await {
        let prefix = "convstats-live-versions";
        clean(&t, prefix).await;
        let aliases = Aliases::with_prefix(prefix);
        setup(&t.client, &aliases).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let doc = |rev| serde_json::to_vec(&new_doc("w1", "c1", 1, rev)).unwrap();
        let step = |ops: Vec<BulkOp>| {
            let client = t.client.clone();
            let cfg = bulk_config(dir.path());
            async move {
                let w = BulkWriter::spawn(client, cfg).unwrap();
                for op in ops {
                    w.send(op).await.unwrap();
                }
                w.finish().await.unwrap().metrics
            }
        };
        let m = step(vec![BulkOp::index(&aliases.new, "w1:c1", 10, doc(10))]).await;
        assert_eq!(m.indexed, 1, "{}", t.name);
        let m = step(vec![BulkOp::index(&aliases.new, "w1:c1", 5, doc(5))]).await;
        assert_eq!((m.indexed, m.stale_skipped), (0, 1), "{}", t.name);
        let m = step(vec![BulkOp::delete(&aliases.new, "w1:c1", 7)]).await;
        assert_eq!((m.deleted, m.stale_skipped), (0, 1), "{}", t.name);
        let stored = read_back(&t, &aliases.new).await;
        assert_eq!(stored["w1:c1"].version, Some(10), "{}", t.name);
        let m = step(vec![BulkOp::delete(&aliases.new, "w1:c1", 11)]).await;
        assert_eq!((m.deleted, m.dead_lettered), (1, 0), "{}", t.name);
        assert!(read_back(&t, &aliases.new).await.is_empty(), "{}", t.name);
        // The delete left its version behind: an older write stays out.
        let m = step(vec![BulkOp::index(&aliases.new, "w1:c1", 8, doc(8))]).await;
        assert_eq!((m.indexed, m.stale_skipped), (0, 1), "{}", t.name);
        assert!(dead_letters(&dir.path().join("dead.ndjson")).is_empty());
        clean(&t, prefix).await;
    }
}

/// How many conversations the backfill scenario writes into a real engine
/// (the double gets a tenth).
fn backfill_size() -> u64 {
    std::env::var("CONVSTATS_TEST_LIVE_CONVERSATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_stores_every_document_as_compute_writes_it_restores_settings_and_swaps_both_aliases()
 {
    for t in targets().await {
        let prefix = "convstats-live-backfill";
        clean(&t, prefix).await;
        let aliases = Aliases::with_prefix(prefix);
        let dir = tempfile::tempdir().unwrap();
        let n = if t.double.is_some() {
            backfill_size() / 10
        } else {
            backfill_size()
        };
        let (input, want) = computed(dir.path(), n).await;
        let input = input.to_string_lossy().into_owned();
        let mut cmd = convstats(&t, prefix, dir.path());
        cmd.args(["setup"]);
        let (code, text) = run(cmd).await;
        assert_eq!(code, 0, "{}: {text}", t.name);
        let before = [
            alias_targets(&t.client, &aliases.new).await.unwrap(),
            alias_targets(&t.client, &aliases.legacy).await.unwrap(),
        ];
        let alias_calls = || {
            t.double.as_ref().map(|d| {
                d.requests()
                    .iter()
                    .filter(|r| r.method == "POST" && r.path == "/_aliases")
                    .count()
            })
        };
        let calls_before = alias_calls();
        // Over its memory budget (cli.md, "Memory"): the records are spilled
        // by partition and merged group by group; the documents are still
        // compute's (`want`, from an unbounded run).
        let spill = dir.path().join("spill");
        std::fs::create_dir(&spill).unwrap();
        let mut cmd = convstats(&t, prefix, dir.path());
        cmd.args(["backfill", &input, "--delete-old", "--gzip"])
            .args(["--memory-budget", "4MiB", "--spill-dir"])
            .arg(&spill);
        let (code, text) = run(cmd).await;
        assert_eq!(code, 0, "{}: {text}", t.name);
        assert!(text.contains("spilling to disk"), "{}: {text}", t.name);
        assert_eq!(
            std::fs::read_dir(&spill).unwrap().count(),
            0,
            "spill files left"
        );
        // Both aliases move in one `POST _aliases` (the engine does not say
        // how many calls it got; the double does).
        if let (Some(before), Some(after)) = (calls_before, alias_calls()) {
            assert_eq!(after - before, 1, "one alias call for both families");
        }
        for (i, family) in Family::ALL.into_iter().enumerate() {
            let alias = aliases.get(family);
            let behind = alias_targets(&t.client, alias).await.unwrap();
            assert_eq!(behind.len(), 1, "{}: {alias} → {behind:?}", t.name);
            assert!(
                !before[i].contains(&behind[0]),
                "{}: {alias} not swapped",
                t.name
            );
            for old in &before[i] {
                let (status, _, _) = t
                    .client
                    .json(Method::Head, &format!("/{old}"), &[], None, "head")
                    .await
                    .unwrap();
                assert_eq!(status, 404, "{}: {old} kept despite --delete-old", t.name);
            }
            let settings = t
                .client
                .json_ok(
                    Method::Get,
                    &format!("/{}/_settings", behind[0]),
                    &[],
                    None,
                    "settings",
                )
                .await
                .unwrap();
            let index = &settings[&behind[0]]["settings"]["index"];
            assert_eq!(index["refresh_interval"], "1s", "{}", t.name);
            assert_eq!(index["number_of_replicas"], "1", "{}", t.name);
            let found = read_back(&t, alias).await;
            assert_sources_equal(t.name, alias, &found, &want[i]);
        }
        clean(&t, prefix).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_of_a_mapping_without_the_fields_are_replayed_once_the_mapping_is_fixed() {
    for t in targets().await {
        let prefix = "convstats-live-replay";
        clean(&t, prefix).await;
        let index = format!("{prefix}-narrow");
        t.client
            .json_ok(
                Method::Put,
                &format!("/{index}"),
                &[],
                Some(&json!({"mappings": {"dynamic": "strict", "properties": {
                    "conversation_id": {"type": "keyword"},
                    "workspace_id": {"type": "keyword"}}}})),
                "create",
            )
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cfg = bulk_config(dir.path());
        let w = BulkWriter::spawn(t.client.clone(), cfg.clone()).unwrap();
        let mut want = BTreeMap::new();
        for i in 0..20u64 {
            let doc = new_doc("w1", &format!("c{i}"), i, 4);
            let id = format!("w1:c{i}");
            w.send(BulkOp::index(
                &index,
                &id,
                4,
                serde_json::to_vec(&doc).unwrap(),
            ))
            .await
            .unwrap();
            want.insert(id, doc);
        }
        let m = w.finish().await.unwrap().metrics;
        assert_eq!(m.dead_lettered, 20, "{}", t.name);
        let fields =
            render(Family::New, prefix).unwrap()["template"]["mappings"]["properties"].clone();
        t.client
            .json_ok(
                Method::Put,
                &format!("/{index}/_mapping"),
                &[],
                Some(&json!({ "properties": fields })),
                "fix the mapping",
            )
            .await
            .unwrap();
        let mut cmd = convstats(&t, prefix, dir.path());
        cmd.args(["dlq", "replay", "--dead-letter-file"])
            .arg(&cfg.dead_letter_path);
        let (code, text) = run(cmd).await;
        assert_eq!(code, 0, "{}: {text}", t.name);
        assert!(!cfg.dead_letter_path.exists(), "{}: {text}", t.name);
        let found = read_back(&t, &index).await;
        assert_sources_equal(t.name, &index, &found, &want);
        clean(&t, prefix).await;
    }
}

/// A node (or the double) that rejects writes beyond one at a time and
/// bodies over 1 MiB.
async fn limited_targets() -> Vec<Target> {
    let d = double().await;
    if let Some(double) = &d.double {
        double.faults(|f| {
            f.item_429_fraction = 0.3;
            f.max_content_length = 1024 * 1024;
        });
    }
    let mut t = vec![d];
    t.extend(
        engine_from(
            "CONVSTATS_TEST_ES_LIMITS_URL",
            "a node with a write pool of one and http.max_content_length 1mb",
        )
        .await,
    );
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_level_429s_and_413s_of_a_busy_engine_end_with_every_document_written_once() {
    for t in limited_targets().await {
        let prefix = "convstats-live-limits";
        clean(&t, prefix).await;
        let aliases = Aliases::with_prefix(prefix);
        setup(&t.client, &aliases).await.unwrap();
        // The limit is real: a 2 MB body is refused whole.
        let big: String = (0..2000)
            .map(|i| format!("{{\"index\":{{\"_index\":\"{prefix}-probe\",\"_id\":\"{i}\"}}}}\n{{\"k\":\"{}\"}}\n", "x".repeat(1000)))
            .collect();
        let answer = t
            .client
            .send(
                Method::Post,
                "/_bulk",
                &[],
                Some((
                    Bytes::from(big),
                    convstats::elasticsearch::client::BodyKind::Ndjson,
                )),
                "a body over the limit",
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 413, "{}", t.name);
        let dir = tempfile::tempdir().unwrap();
        let logged_before = logs().contents().len();
        let mut bulk = bulk_config(dir.path());
        bulk.max_bytes = 4 * 1024 * 1024;
        bulk.max_ops = 20_000;
        bulk.concurrency = 4;
        bulk.max_age = Duration::from_millis(500);
        bulk.backoff_base = Duration::from_millis(50);
        bulk.backoff_cap = Duration::from_secs(1);
        let n = 20_000;
        let report = backfill(
            &t.client,
            BackfillOptions::new(aliases.clone(), bulk.clone()),
            futures::stream::iter(items(n, 6).into_iter().map(Ok)),
        )
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", t.name));
        assert_eq!(
            (report.new.count, report.legacy.count),
            (n, n),
            "{}",
            t.name
        );
        assert!(
            report.metrics.retried > 0,
            "{}: no write was refused and retried: {:?}",
            t.name,
            report.metrics
        );
        assert_eq!(report.metrics.dead_lettered, 0, "{}", t.name);
        let logged = logs().contents();
        assert!(
            logged[logged_before..]
                .contains("bulk request too large (413): splitting it in halves"),
            "{}: no 413 split",
            t.name
        );
        let found = read_back(&t, &aliases.new).await;
        let want: BTreeMap<String, Value> = (0..n)
            .map(|i| (format!("w1:c{i}"), new_doc("w1", &format!("c{i}"), i, 6)))
            .collect();
        assert_sources_equal(t.name, &aliases.new, &found, &want);
        assert!(found.values().all(|d| d.version == Some(6)), "{}", t.name);
        clean(&t, prefix).await;
    }
}

/// Three nodes, one killed with SIGKILL in the middle of a backfill: the
/// backfill either finishes with every document (the replicas) or exits 1
/// with the aliases untouched and, with `--cleanup`, no half-built index.
/// A real cluster only: the double has no nodes to lose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_in_the_middle_of_a_backfill_loses_nothing_or_leaves_the_aliases_untouched() {
    let Some(t) = engine_from("CONVSTATS_TEST_ES_CLUSTER_URLS", "a three-node cluster").await
    else {
        return;
    };
    let pids: Vec<i32> = std::env::var("CONVSTATS_TEST_ES_CLUSTER_PIDS")
        .expect("CONVSTATS_TEST_ES_CLUSTER_PIDS: the pids of the cluster's nodes")
        .split(',')
        .map(|p| p.trim().parse().expect("a pid"))
        .collect();
    assert_eq!(pids.len(), 3, "three nodes");
    let prefix = "convstats-live-nodeloss";
    clean(&t, prefix).await;
    let aliases = Aliases::with_prefix(prefix);
    let dir = tempfile::tempdir().unwrap();
    let n = backfill_size() / 2;
    let (input, want) = computed(dir.path(), n).await;
    let mut cmd = convstats(&t, prefix, dir.path());
    cmd.arg("setup");
    let (code, text) = run(cmd).await;
    assert_eq!(code, 0, "{text}");
    let before = alias_targets(&t.client, &aliases.new).await.unwrap();
    let mut cmd = convstats(&t, prefix, dir.path());
    cmd.env("CONVSTATS_GIVE_UP_AFTER", "40s")
        .args(["backfill", &input.to_string_lossy(), "--cleanup"])
        .arg("--concurrency")
        .arg("2")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Wait until the loading is well under way (indexing counted before
    // any refresh), then kill the last node.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let (status, body, _) = t
            .client
            .json(
                Method::Get,
                &format!("/{prefix}-*/_stats/indexing"),
                &[],
                None,
                "indexing stats",
            )
            .await
            .unwrap();
        let indexed = body["_all"]["primaries"]["indexing"]["index_total"]
            .as_u64()
            .unwrap_or(0);
        if status == 200 && indexed > n / 4 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no document arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let victim = pids[2];
    eprintln!("killing node pid {victim} with SIGKILL");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &victim.to_string()])
        .status()
        .unwrap();
    assert!(killed.success(), "kill -KILL {victim}");
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    // The rest of the suite talks to the first node, which is alive.
    let t = Target {
        urls: vec![t.urls[0].clone()],
        client: client_for(&t.urls[..1]),
        ..t
    };
    match out.status.code() {
        Some(0) => {
            eprintln!("the backfill finished despite the lost node");
            for (i, family) in Family::ALL.into_iter().enumerate() {
                let alias = aliases.get(family);
                let found = read_back(&t, alias).await;
                assert_sources_equal(t.name, alias, &found, &want[i]);
            }
        }
        Some(1) => {
            eprintln!("the backfill failed after the lost node: {text}");
            assert_eq!(
                alias_targets(&t.client, &aliases.new).await.unwrap(),
                before,
                "aliases touched: {text}"
            );
            let (_, body, _) = t
                .client
                .json(Method::Get, &format!("/{prefix}-*"), &[], None, "list")
                .await
                .unwrap();
            let left: Vec<&String> = body
                .as_object()
                .into_iter()
                .flat_map(|o| o.keys())
                .collect();
            assert_eq!(
                left.len(),
                2,
                "half-built indices left after --cleanup: {left:?}"
            );
        }
        other => panic!("exit {other:?}: {text}"),
    }
    clean(&t, prefix).await;
}
