//! Where the scenarios that a real engine can show run (`es_live`,
//! `serve_live`): the project's ES double in process, and a real engine when
//! `CONVSTATS_TEST_ES_URL` is set; and what they share (a client with the
//! test credentials, cleaning a prefix, reading an alias back, the binary
//! pointed at a target, `compute`'s documents for comparison).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use convstats::elasticsearch::client::Method;
use convstats::elasticsearch::dead_letter::DeadLetter;
use convstats::elasticsearch::product::Product;
use convstats::elasticsearch::scan::{StoredDoc, scan};
use convstats::elasticsearch::{Aliases, Auth, BulkConfig, EsClient, EsConfig, Secret};
use serde_json::Value;

use super::EsDouble;
use super::docs::lines_by_id;

/// Where a scenario runs.
pub struct Target {
    pub name: &'static str,
    pub urls: Vec<String>,
    pub client: EsClient,
    pub product: Product,
    /// The double, kept alive while the scenario runs.
    pub double: Option<EsDouble>,
}

pub fn required() -> bool {
    std::env::var_os("CONVSTATS_TEST_ES_REQUIRED").is_some()
}

pub fn client_for(urls: &[String]) -> EsClient {
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
    EsClient::new(&EsConfig {
        urls: urls.to_vec(),
        auth,
        insecure: std::env::var_os("CONVSTATS_TEST_ES_INSECURE").is_some(),
        give_up_after: Some(Duration::from_secs(120)),
        ..Default::default()
    })
    .unwrap()
}

pub async fn engine_from(var: &str, what: &str) -> Option<Target> {
    let Ok(urls) = std::env::var(var) else {
        assert!(
            !required(),
            "{var} is not set but CONVSTATS_TEST_ES_REQUIRED is: start {what} with scripts/opensearch"
        );
        eprintln!("skipped on a real engine: set {var} ({what}; see scripts/opensearch)");
        return None;
    };
    let urls: Vec<String> = urls.split(',').map(str::to_string).collect();
    let client = client_for(&urls);
    let info = client
        .check()
        .await
        .unwrap_or_else(|e| panic!("{var}: {e}"));
    eprintln!("engine: {} {}", info.distribution, info.version);
    Some(Target {
        name: "engine",
        urls,
        client,
        product: Product::of(&info),
        double: None,
    })
}

pub async fn double() -> Target {
    let d = EsDouble::start().await;
    let urls = vec![d.url()];
    let client = client_for(&urls);
    let info = client.check().await.unwrap();
    Target {
        name: "double",
        urls,
        client,
        product: Product::of(&info),
        double: Some(d),
    }
}

/// The double, then the engine of `CONVSTATS_TEST_ES_URL` when set.
/// With `CONVSTATS_TEST_ENGINE_ONLY` set (CI's live run, after `cargo test`
/// ran every scenario on the double), the engine alone.
pub async fn targets() -> Vec<Target> {
    let mut t = Vec::new();
    if std::env::var_os("CONVSTATS_TEST_ENGINE_ONLY").is_none() {
        t.push(double().await);
    }
    t.extend(engine_from("CONVSTATS_TEST_ES_URL", "a node").await);
    t
}

/// Deletes every index and template of `prefix`.
pub async fn clean(t: &Target, prefix: &str) {
    let c = &t.client;
    let (status, body, _) = c
        .json(Method::Get, &format!("/{prefix}-*"), &[], None, "listing")
        .await
        .unwrap();
    if status == 200 {
        for index in body.as_object().into_iter().flat_map(|o| o.keys()) {
            c.json(Method::Delete, &format!("/{index}"), &[], None, "cleanup")
                .await
                .unwrap();
        }
    }
    let aliases = Aliases::with_prefix(prefix);
    for a in [&aliases.new, &aliases.legacy] {
        c.json(
            Method::Delete,
            &format!("/_index_template/{a}"),
            &[],
            None,
            "cleanup",
        )
        .await
        .unwrap();
    }
}

pub fn bulk_config(dir: &Path) -> BulkConfig {
    BulkConfig {
        dead_letter_path: dir.join("dead.ndjson"),
        max_age: Duration::from_millis(50),
        give_up_after: Some(Duration::from_secs(120)),
        ..Default::default()
    }
}

pub async fn refresh(t: &Target, index: &str) {
    t.client
        .json_ok(
            Method::Post,
            &format!("/{index}/_refresh"),
            &[],
            None,
            "refresh",
        )
        .await
        .unwrap();
}

/// Every document behind `index`, by `_id`, read with a point in time.
pub async fn read_back(t: &Target, index: &str) -> BTreeMap<String, StoredDoc> {
    refresh(t, index).await;
    let mut out = BTreeMap::new();
    let n = scan(&t.client, t.product, index, 1000, |d| {
        out.insert(d.id.clone(), d);
    })
    .await
    .unwrap_or_else(|e| panic!("{}: {e}", t.name));
    assert_eq!(n as usize, out.len(), "{}: a document read twice", t.name);
    out
}

pub fn dead_letters(path: &Path) -> Vec<DeadLetter> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The binary with the target's URLs and `prefix`, nothing from the
/// caller's environment but the test credentials.
pub fn convstats(t: &Target, prefix: &str, dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_convstats"));
    for (k, _) in std::env::vars() {
        if k.starts_with("CONVSTATS_") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir)
        .env("CONVSTATS_ES_URL", t.urls.join(","))
        .env("CONVSTATS_ALIAS_PREFIX", prefix)
        .env("CONVSTATS_GIVE_UP_AFTER", "120s");
    if let Ok(k) = std::env::var("CONVSTATS_TEST_ES_API_KEY") {
        cmd.env("CONVSTATS_ES_API_KEY", k);
    } else if let (Ok(u), Ok(p)) = (
        std::env::var("CONVSTATS_TEST_ES_USER"),
        std::env::var("CONVSTATS_TEST_ES_PASSWORD"),
    ) {
        cmd.env("CONVSTATS_ES_USERNAME", u)
            .env("CONVSTATS_ES_PASSWORD", p);
    }
    if std::env::var_os("CONVSTATS_TEST_ES_INSECURE").is_some() {
        cmd.env("CONVSTATS_ES_INSECURE", "true");
    }
    cmd
}

/// Runs a command off the runtime's threads (the double lives on them).
pub async fn run(mut cmd: std::process::Command) -> (i32, String) {
    tokio::task::spawn_blocking(move || {
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    })
    .await
    .unwrap()
}

/// `n` synthetic conversations, computed by `compute`: the input file and
/// the expected documents of each family by `_id`.
pub async fn computed(dir: &Path, n: u64) -> (PathBuf, [BTreeMap<String, Value>; 2]) {
    let input = dir.join("gen.ndjson");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    convstats::synth::write_all(
        &convstats::synth::GenParams {
            conversations: n,
            seed: 11,
            ..Default::default()
        },
        &mut out,
    )
    .unwrap();
    drop(out);
    let docs = compute_documents(&input, &dir.join("out")).await;
    (input, docs)
}

/// Runs `compute` on `input` into `out` and returns the documents of each
/// family by `_id`.
pub async fn compute_documents(input: &Path, out: &Path) -> [BTreeMap<String, Value>; 2] {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_convstats"));
    cmd.env_remove("CONVSTATS_CONFIG").args([
        "-q",
        "compute",
        &input.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]);
    let (code, text) = run(cmd).await;
    assert_eq!(code, 0, "{text}");
    [
        lines_by_id(&out.join("conversations-new.ndjson")),
        lines_by_id(&out.join("conversations-legacy.ndjson")),
    ]
}

pub fn assert_sources_equal(
    target: &str,
    alias: &str,
    found: &BTreeMap<String, StoredDoc>,
    want: &BTreeMap<String, Value>,
) {
    assert_eq!(found.len(), want.len(), "{target} {alias}: document count");
    for (id, doc) in want {
        let got = found
            .get(id)
            .unwrap_or_else(|| panic!("{target} {alias}: {id} missing"));
        assert_eq!(&got.source, doc, "{target} {alias}: {id}");
    }
}
