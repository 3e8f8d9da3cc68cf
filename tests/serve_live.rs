//! `convstats serve` as a child process, against every target (the ES
//! double always, a real engine when `CONVSTATS_TEST_ES_URL` is set; see
//! `support::targets`): what users of continuous ingestion rely on.
//!
//! - Crash safety: SIGKILL at random instants (at least 20 times), a
//!   restart on the same store, every unanswered request sent again: the
//!   engine ends up holding exactly `compute`'s documents for the same
//!   records (none lost, none stale, deleted ones absent).
//! - An outage of 30 s (a proxy between serve and the engine drops every
//!   connection): `/readyz` is 503 with the reason, ingest goes on with
//!   202, and everything is indexed afterwards without anyone doing
//!   anything.
//! - A backfill of older files while serving (and one while serve is
//!   stopped): serve notices the alias move and re-indexes, so the final
//!   documents are those of everything it knows.
//! - Webhook deliveries shuffled and repeated give `compute`'s documents.
//! - The CSV export (the route, `export csv` from the store and from the
//!   engine) equals `compute`'s CSV for the same timeframe.
//! - `/metrics` parses as Prometheus text and counts what was sent.
mod common;
mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use support::targets::*;

/// A free local port (bound and released; the race is harmless in tests).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP/1.1 exchange (`connection: close`). `Err` when the server is
/// not there or the connection broke before a whole answer.
fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no complete answer"))?;
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    let mut body = out[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
    out
}

/// A `serve` child process.
struct Serve {
    child: Child,
    port: u16,
    store: PathBuf,
    cmd_env: Vec<(String, String)>,
    log: PathBuf,
    extra: Vec<String>,
}

impl Serve {
    fn start(t: &Target, prefix: &str, dir: &Path, es_urls: &[String], extra: &[&str]) -> Serve {
        let base = convstats(t, prefix, dir);
        let mut cmd_env: Vec<(String, String)> = base
            .get_envs()
            .filter_map(|(k, v)| Some((k.to_str()?.to_string(), v?.to_str()?.to_string())))
            .collect();
        cmd_env.retain(|(k, _)| k != "CONVSTATS_ES_URL");
        cmd_env.push(("CONVSTATS_ES_URL".into(), es_urls.join(",")));
        let mut s = Serve {
            child: std::process::Command::new("true").spawn().unwrap(),
            port: free_port(),
            store: dir.join("serve.db"),
            cmd_env,
            log: dir.join("serve.log"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_convstats"));
        for (k, _) in std::env::vars() {
            if k.starts_with("CONVSTATS_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(self.cmd_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .args([
                "serve",
                "--store",
                &self.store.to_string_lossy(),
                "--listen",
                &format!("127.0.0.1:{}", self.port),
                "--alias-check-interval",
                "1s",
                "--partitions",
                "8",
            ])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        self.child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !matches!(http(self.port, "GET", "/healthz", "", b""), Ok((200, _))) {
            assert!(
                Instant::now() < deadline,
                "serve did not start: {}",
                self.log_text()
            );
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("serve exited with {status}: {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A gauge or counter of `/metrics` (summed over its labels).
    fn metric(&self, name: &str) -> Option<f64> {
        let (_, body) = http(self.port, "GET", "/metrics", "", b"").ok()?;
        let text = String::from_utf8(body).ok()?;
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let scrape = prometheus_parse::Scrape::parse(lines).ok()?;
        let found: Vec<f64> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter_map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => Some(v),
                // A histogram: its count (the +Inf bucket).
                prometheus_parse::Value::Histogram(ref h) => {
                    h.iter().map(|b| b.count).reduce(f64::max)
                }
                _ => None,
            })
            .collect();
        (!found.is_empty()).then(|| found.iter().sum())
    }

    /// Waits until nothing is dirty (measured twice, a probe apart).
    fn wait_indexed(&self, within: Duration) {
        let deadline = Instant::now() + within;
        let mut zero_seen = 0;
        loop {
            if self.metric("convstats_backlog_conversations") == Some(0.0) {
                zero_seen += 1;
                if zero_seen >= 3 {
                    return;
                }
            } else {
                zero_seen = 0;
            }
            assert!(
                Instant::now() < deadline,
                "the backlog did not drain within {within:?}: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(700));
        }
    }

    /// SIGTERM, and the exit status.
    fn stop(mut self) -> std::process::ExitStatus {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "serve did not stop within 15 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request a client sends.
#[derive(Clone)]
enum Request {
    Records(String),
    Webhook(String),
}

impl Request {
    fn send(&self, port: u16) -> std::io::Result<u16> {
        let (path, body) = match self {
            Request::Records(b) => ("/v1/records", b),
            Request::Webhook(b) => ("/v1/webhooks/intercom", b),
        };
        http(
            port,
            "POST",
            path,
            "content-type: application/json\r\n",
            body.as_bytes(),
        )
        .map(|(s, _)| s)
    }
}

/// The records of `n` synthetic conversations as a client stream: half of
/// each conversation's parts come with it (through `/v1/records` or as a
/// webhook delivery), the other half as separate `conversation_part`
/// records; every seventh conversation is deleted; some requests repeat.
/// Returns the requests (shuffled by `seed`) and every line they hold.
fn stream(n: u64, seed: u64) -> (Vec<Request>, Vec<String>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut records: Vec<String> = Vec::new();
    let mut requests = Vec::new();
    for (i, line) in common::gen_lines(n, seed).iter().enumerate() {
        let mut c: Value = serde_json::from_str(line).unwrap();
        let id = c["id"].as_str().unwrap().to_string();
        let ws = c["workspace_id"].as_str().unwrap().to_string();
        let parts = c["conversation_parts"]["conversation_parts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let keep = parts.len() / 2;
        c["conversation_parts"]["conversation_parts"] = json!(parts[..keep]);
        let mut separate: Vec<String> = parts[keep..]
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p["conversation_id"] = json!(id);
                p["workspace_id"] = json!(ws);
                p.to_string()
            })
            .collect();
        if i % 2 == 0 {
            let event = json!({"type": "notification_event", "topic": "conversation.admin.replied",
                "app_id": ws, "created_at": c["updated_at"], "data": {"item": c}});
            records.push(event.to_string());
            requests.push(Request::Webhook(event.to_string()));
        } else {
            separate.push(c.to_string());
        }
        if i % 7 == 3 {
            let deleted = json!({"type": "notification_event", "topic": "conversation.deleted",
                "app_id": ws, "data": {"item": {"type": "conversation", "id": id}}});
            records.push(deleted.to_string());
            requests.push(Request::Webhook(deleted.to_string()));
        }
        records.extend(separate.iter().cloned());
        for chunk in separate.chunks(rng.random_range(1..6)) {
            requests.push(Request::Records(chunk.join("\n") + "\n"));
        }
    }
    // Shuffled, and one request in ten sent twice.
    for i in (1..requests.len()).rev() {
        let j = rng.random_range(0..=i);
        requests.swap(i, j);
    }
    let repeats: Vec<Request> = (0..requests.len() / 10)
        .map(|_| requests[rng.random_range(0..requests.len())].clone())
        .collect();
    requests.extend(repeats);
    (requests, records)
}

/// `compute`'s documents (and CSV) for `records`.
async fn expected(dir: &Path, records: &[String]) -> ([BTreeMap<String, Value>; 2], String) {
    let input = dir.join("all.ndjson");
    std::fs::write(&input, records.join("\n") + "\n").unwrap();
    let out = dir.join("expected");
    let docs = compute_documents(&input, &out).await;
    (
        docs,
        std::fs::read_to_string(out.join("conversations.csv")).unwrap(),
    )
}

/// Both aliases hold exactly `want`.
async fn assert_holds(t: &Target, prefix: &str, want: &[BTreeMap<String, Value>; 2]) {
    let aliases = convstats::elasticsearch::Aliases::with_prefix(prefix);
    for (alias, want) in [&aliases.new, &aliases.legacy].into_iter().zip(want) {
        let found = read_back(t, alias).await;
        assert_sources_equal(t.name, alias, &found, want);
    }
}

/// Sends every request until it is answered 2xx, waiting for the server
/// when it is away (a real client's retry). Returns how many sends failed.
fn send_all(requests: &[Request], port: u16, stop: &AtomicBool) -> u64 {
    let mut failed = 0;
    for r in requests {
        loop {
            match r.send(port) {
                Ok(s) if (200..300).contains(&s) => break,
                Ok(429) | Ok(503) | Err(_) => {
                    failed += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Ok(s) => panic!("unexpected answer {s}"),
            }
            if stop.load(Ordering::Relaxed) {
                return failed;
            }
        }
    }
    failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_twenty_sigkills_at_random_instants_the_engine_holds_exactly_compute_s_documents() {
    for t in targets().await {
        let prefix = "convstats-live-serve-crash";
        clean(&t, prefix).await;
        let dir = tempfile::tempdir().unwrap();
        let (requests, records) = stream(400, 21);
        let (want, _) = expected(dir.path(), &records).await;
        let serve = Serve::start(&t, prefix, dir.path(), &t.urls, &[]);
        let port = serve.port;
        let serve = Arc::new(std::sync::Mutex::new(serve));
        let done = Arc::new(AtomicBool::new(false));
        let sender = {
            let done = done.clone();
            std::thread::spawn(move || {
                let failed = send_all(&requests, port, &AtomicBool::new(false));
                done.store(true, Ordering::Relaxed);
                failed
            })
        };
        let killer = {
            let serve = serve.clone();
            let done = done.clone();
            tokio::task::spawn_blocking(move || {
                let mut rng = ChaCha8Rng::seed_from_u64(5);
                let mut kills = 0;
                let mut during_ingest = 0;
                while kills < 20 || !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(rng.random_range(10..400)));
                    let mut s = serve.lock().unwrap();
                    if !done.load(Ordering::Relaxed) {
                        during_ingest += 1;
                    }
                    s.kill9();
                    kills += 1;
                    s.spawn();
                }
                (kills, during_ingest)
            })
        };
        let (kills, during_ingest) = killer.await.unwrap();
        let failed = sender.join().unwrap();
        eprintln!(
            "{}: {kills} SIGKILLs ({during_ingest} while requests were being sent), {failed} sends to repeat",
            t.name
        );
        assert!(kills >= 20);
        assert!(during_ingest >= 1, "no kill happened while sending");
        let serve = Arc::try_unwrap(serve).ok().unwrap().into_inner().unwrap();
        serve.wait_indexed(Duration::from_secs(120));
        assert_holds(&t, prefix, &want).await;
        assert!(serve.stop().success());
        clean(&t, prefix).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_deliveries_shuffled_and_repeated_give_compute_s_documents() {
    for t in targets().await {
        let prefix = "convstats-live-serve-order";
        clean(&t, prefix).await;
        let dir = tempfile::tempdir().unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        // Each conversation as deliveries of growing part lists, as
        // Intercom sends them, plus a delivery of each part alone.
        let mut deliveries: Vec<String> = Vec::new();
        for line in common::gen_lines(60, 4) {
            let c: Value = serde_json::from_str(&line).unwrap();
            let parts = c["conversation_parts"]["conversation_parts"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for upto in [parts.len() / 3, parts.len()] {
                let mut item = c.clone();
                item["conversation_parts"]["conversation_parts"] = json!(parts[..upto]);
                deliveries.push(
                    json!({"type": "notification_event", "topic": "conversation.user.replied",
                        "app_id": c["workspace_id"], "data": {"item": item}})
                    .to_string(),
                );
            }
        }
        let (want, _) = expected(dir.path(), &deliveries).await;
        let mut sent = deliveries.clone();
        for _ in 0..deliveries.len() / 2 {
            sent.push(deliveries[rng.random_range(0..deliveries.len())].clone());
        }
        for i in (1..sent.len()).rev() {
            let j = rng.random_range(0..=i);
            sent.swap(i, j);
        }
        let serve = Serve::start(&t, prefix, dir.path(), &t.urls, &[]);
        let port = serve.port;
        let requests: Vec<Request> = sent.into_iter().map(Request::Webhook).collect();
        let failed =
            tokio::task::spawn_blocking(move || send_all(&requests, port, &AtomicBool::new(false)))
                .await
                .unwrap();
        assert_eq!(failed, 0, "a webhook delivery was refused");
        serve.wait_indexed(Duration::from_secs(60));
        assert_holds(&t, prefix, &want).await;
        assert!(serve.stop().success());
        clean(&t, prefix).await;
    }
}

/// A TCP proxy to `upstream` that can be switched off: then every
/// connection, open or new, is dropped.
struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let url = url::Url::parse(upstream).unwrap();
        let target = format!(
            "{}:{}",
            url.host_str().unwrap(),
            url.port_or_known_default().unwrap()
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let flag = down.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if flag.load(Ordering::Relaxed) {
                    continue;
                }
                let target = target.clone();
                let flag = flag.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    let cut = async {
                        while !flag.load(Ordering::Relaxed) {
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    };
                    tokio::select! {
                        _ = copy => {}
                        _ = cut => {}
                    }
                });
            }
        });
        Proxy { port, down }
    }

    fn url(&self, upstream: &str) -> String {
        let mut u = url::Url::parse(upstream).unwrap();
        u.set_host(Some("127.0.0.1")).unwrap();
        u.set_port(Some(self.port)).unwrap();
        u.to_string().trim_end_matches('/').to_string()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_engine_is_away_for_30_s_ingest_answers_202_readyz_says_why_and_indexing_resumes_by_itself()
 {
    for t in targets().await {
        let prefix = "convstats-live-serve-outage";
        clean(&t, prefix).await;
        let dir = tempfile::tempdir().unwrap();
        let (requests, records) = stream(200, 8);
        let (want, _) = expected(dir.path(), &records).await;
        let proxy = Proxy::start(&t.urls[0]).await;
        let serve = Serve::start(&t, prefix, dir.path(), &[proxy.url(&t.urls[0])], &[]);
        let port = serve.port;
        let (first, rest) = requests.split_at(requests.len() / 3);
        let (during, after) = rest.split_at(rest.len() / 2);
        let send = |part: &[Request]| {
            let part = part.to_vec();
            tokio::task::spawn_blocking(move || {
                for r in &part {
                    let status = r.send(port).unwrap();
                    assert!((200..300).contains(&status), "answered {status}");
                }
            })
        };
        send(first).await.unwrap();
        proxy.down.store(true, Ordering::Relaxed);
        let went_down = Instant::now();
        // Readiness says why within a few probes.
        let mut reason = String::new();
        while went_down.elapsed() < Duration::from_secs(15) {
            let (status, body) = http(port, "GET", "/readyz", "", b"").unwrap();
            if status == 503 {
                reason = String::from_utf8_lossy(&body).into_owned();
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        assert!(
            reason.contains("elasticsearch"),
            "{}: /readyz gave no reason: {reason:?}",
            t.name
        );
        send(during).await.unwrap();
        let left = Duration::from_secs(30).saturating_sub(went_down.elapsed());
        tokio::time::sleep(left).await;
        assert_eq!(http(port, "GET", "/readyz", "", b"").unwrap().0, 503);
        proxy.down.store(false, Ordering::Relaxed);
        send(after).await.unwrap();
        serve.wait_indexed(Duration::from_secs(120));
        assert_eq!(http(port, "GET", "/readyz", "", b"").unwrap().0, 200);
        assert_holds(&t, prefix, &want).await;
        assert!(serve.stop().success());
        clean(&t, prefix).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_of_older_files_while_serving_or_stopped_ends_with_the_documents_of_everything_serve_knows()
 {
    for t in targets().await {
        let prefix = "convstats-live-serve-backfill";
        clean(&t, prefix).await;
        let dir = tempfile::tempdir().unwrap();
        let (requests, records) = stream(200, 12);
        let (want, _) = expected(dir.path(), &records).await;
        // The older files: the conversations as they were before the
        // parts sent separately (a subset of what serve gets).
        let older = dir.path().join("older.ndjson");
        let older_lines: Vec<String> = records
            .iter()
            .filter(|l| !l.contains("\"conversation_id\""))
            .cloned()
            .collect();
        std::fs::write(&older, older_lines.join("\n") + "\n").unwrap();
        let serve = Serve::start(&t, prefix, dir.path(), &t.urls, &[]);
        let port = serve.port;
        tokio::task::spawn_blocking(move || send_all(&requests, port, &AtomicBool::new(false)))
            .await
            .unwrap();
        serve.wait_indexed(Duration::from_secs(60));
        let mut backfill = convstats(&t, prefix, dir.path());
        backfill.args(["-q", "backfill", &older.to_string_lossy()]);
        let (code, text) = run(backfill).await;
        assert_eq!(code, 0, "{text}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while serve.metric("convstats_alias_moves_total").unwrap_or(0.0) < 1.0 {
            assert!(
                Instant::now() < deadline,
                "serve did not notice the alias move"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        serve.wait_indexed(Duration::from_secs(60));
        assert_holds(&t, prefix, &want).await;
        // A backfill while serve is stopped is noticed at the next start.
        let mut serve = serve;
        serve.kill9();
        let mut backfill = convstats(&t, prefix, dir.path());
        backfill.args(["-q", "backfill", &older.to_string_lossy(), "--delete-old"]);
        let (code, text) = run(backfill).await;
        assert_eq!(code, 0, "{text}");
        serve.spawn();
        let deadline = Instant::now() + Duration::from_secs(30);
        while serve.metric("convstats_alias_moves_total").unwrap_or(0.0) < 1.0 {
            assert!(
                Instant::now() < deadline,
                "serve did not notice at start that the aliases moved while it was stopped"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        serve.wait_indexed(Duration::from_secs(60));
        assert_holds(&t, prefix, &want).await;
        assert!(serve.stop().success());
        clean(&t, prefix).await;
    }
}

/// The rows of `csv` (header kept) whose `message_created_at` (column 5)
/// lies in `[from, to)`, compared as the documents' RFC 3339 text.
fn csv_in(csv: &str, from: &str, to: &str) -> String {
    let mut out = String::new();
    for (i, line) in csv.lines().enumerate() {
        let keep = i == 0 || {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(line.as_bytes());
            let rec = r.records().next().unwrap().unwrap();
            let t = &rec[4];
            !t.is_empty() && t >= from && t < to
        };
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_export_from_the_store_and_from_the_engine_equals_compute_s_for_the_timeframe() {
    for t in targets().await {
        let prefix = "convstats-live-serve-csv";
        clean(&t, prefix).await;
        let dir = tempfile::tempdir().unwrap();
        let (requests, records) = stream(300, 31);
        let (_, all_csv) = expected(dir.path(), &records).await;
        let serve = Serve::start(&t, prefix, dir.path(), &t.urls, &[]);
        let port = serve.port;
        let sent = requests.len();
        tokio::task::spawn_blocking(move || send_all(&requests, port, &AtomicBool::new(false)))
            .await
            .unwrap();
        serve.wait_indexed(Duration::from_secs(60));
        // A timeframe that cuts the generated month in two.
        let (from, to) = ("2026-01-10T00:00:00Z", "2026-01-20T00:00:00Z");
        let want = csv_in(&all_csv, from, to);
        assert!(
            want.lines().count() > 10,
            "the timeframe holds conversations"
        );
        let (status, body) = http(
            port,
            "GET",
            &format!("/v1/export.csv?from={from}&to={to}"),
            "",
            b"",
        )
        .unwrap();
        assert_eq!(status, 200);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            want,
            "{}: the route",
            t.name
        );
        let cli = |es: bool| {
            let mut c = convstats(&t, prefix, dir.path());
            if !es {
                c.env_remove("CONVSTATS_ES_URL");
            }
            c.args(["-q", "export", "csv", "--from", from, "--to", to, "--store"])
                .arg(&serve.store);
            c
        };
        let (code, store_csv) = run(cli(false)).await;
        assert_eq!(code, 0, "{store_csv}");
        assert_eq!(store_csv, want, "{}: export csv from the store", t.name);
        let aliases = convstats::elasticsearch::Aliases::with_prefix(prefix);
        refresh(&t, &aliases.legacy).await;
        let (code, es_csv) = run(cli(true)).await;
        assert_eq!(code, 0, "{es_csv}");
        assert_eq!(es_csv, want, "{}: export csv from the engine", t.name);
        // /metrics parses and counts what was sent.
        let accepted = serve.metric("convstats_records_accepted_total").unwrap();
        assert!(
            accepted >= records.len() as f64,
            "{accepted} < {}",
            records.len()
        );
        assert!(serve.metric("convstats_indexed_lag_seconds").unwrap_or(0.0) > 0.0);
        assert!(sent > 0);
        assert!(serve.stop().success());
        clean(&t, prefix).await;
    }
}

/// The committed offset of a followed file, read from the store.
fn follow_offset(store: &Path, file: &Path) -> u64 {
    let s = convstats::store::Store::open(store, None).unwrap();
    let (key, _) = convstats::serve::follow::source_keys(file);
    s.offset(&key).unwrap().unwrap_or(0)
}

fn wait_offset(serve: &Serve, file: &Path, at_least: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while follow_offset(&serve.store, file) < at_least {
        assert!(
            Instant::now() < deadline,
            "the follower did not reach byte {at_least}: {}",
            serve.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn append(path: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_followed_file_is_read_in_whole_lines_across_a_crash_a_rotation_and_a_truncation() {
    for t in targets().await {
        let prefix = "convstats-live-serve-follow";
        clean(&t, prefix).await;
        let dir = tempfile::tempdir().unwrap();
        let (_, mut records) = stream(60, 17);
        records.insert(5, "not json at all".to_string());
        let (want, _) = expected(dir.path(), &records).await;
        let n = records.len();
        let (a, rest) = records.split_at(n / 4);
        let (b, rest) = rest.split_at(n / 4);
        let (c, d) = rest.split_at(n / 4);
        let file = dir.path().join("feed.ndjson");
        let file_arg = file.to_string_lossy().into_owned();
        // A whole first part and half a line.
        let half = b[0].len() / 2;
        append(&file, &(a.join("\n") + "\n" + &b[0][..half]));
        let mut serve = Serve::start(&t, prefix, dir.path(), &t.urls, &["--follow", &file_arg]);
        let a_len = a.iter().map(|l| l.len() as u64 + 1).sum::<u64>();
        wait_offset(&serve, &file, a_len);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            follow_offset(&serve.store, &file),
            a_len,
            "half a line is not read"
        );
        append(
            &file,
            &(b[0][half..].to_string() + "\n" + &b[1..].join("\n") + "\n"),
        );
        // A crash: the restart reads on from the committed offset.
        serve.kill9();
        serve.spawn();
        let len = std::fs::metadata(&file).unwrap().len();
        wait_offset(&serve, &file, len);
        // Rotation: the file is renamed and a new one takes its path.
        std::fs::rename(&file, dir.path().join("feed.ndjson.1")).unwrap();
        append(&file, &(c.join("\n") + "\n"));
        let c_len = std::fs::metadata(&file).unwrap().len();
        let deadline = Instant::now() + Duration::from_secs(30);
        while follow_offset(&serve.store, &file) != c_len {
            assert!(
                Instant::now() < deadline,
                "the rotated file was not read: {}",
                serve.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Truncation in place (copytruncate), then a shorter content.
        let short = d[..d.len() / 3].join("\n") + "\n";
        assert!((short.len() as u64) < c_len);
        std::fs::write(&file, &short).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while follow_offset(&serve.store, &file) != short.len() as u64 {
            assert!(
                Instant::now() < deadline,
                "the truncated file was not read: {}",
                serve.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        append(&file, &(d[d.len() / 3..].join("\n") + "\n"));
        wait_offset(&serve, &file, std::fs::metadata(&file).unwrap().len());
        serve.wait_indexed(Duration::from_secs(60));
        assert_holds(&t, prefix, &want).await;
        assert!(
            serve.log_text().contains("line rejected"),
            "the bad line is logged"
        );
        assert!(serve.stop().success());
        clean(&t, prefix).await;
    }
}
