//! `POST /v1/records` of `serve` over real HTTP (`src/serve/`): good lines
//! are durable in the store before the 202, bad lines are reported with
//! their numbers and never reject their neighbours, a missing or wrong token
//! is a 401, a body over the limit a 413, and a full commit queue a 429 with
//! `Retry-After`.
mod common;

use std::sync::{Arc, Mutex};

use convstats::config::Settings;
use convstats::secret::Secret;
use convstats::serve::commit::Committer;
use convstats::serve::http::{Limits, serve};
use convstats::serve::routes::{App, router};
use convstats::serve::status::Status;
use convstats::serve::telemetry::Telemetry;
use convstats::store::Store;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Server {
    addr: std::net::SocketAddr,
    store: Arc<Mutex<Store>>,
    _dir: tempfile::TempDir,
}

async fn server(token: Option<&str>, max_body: usize, backlog: usize) -> Server {
    server_with(token, None, max_body, backlog).await
}

async fn server_with(
    token: Option<&str>,
    webhook_secret: Option<&str>,
    max_body: usize,
    backlog: usize,
) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Mutex::new(
        Store::open(&dir.path().join("state.db"), Some(4)).unwrap(),
    ));
    let (committer, _task) = Committer::spawn(store.clone(), backlog, Default::default());
    let reader = Arc::new(Mutex::new(
        Store::open(&dir.path().join("state.db"), None).unwrap(),
    ));
    let app = router(
        App {
            committer,
            token: token.map(|t| Arc::new(Secret::new(t))),
            webhook_secret: webhook_secret.map(|t| Arc::new(Secret::new(t))),
            reader,
            settings: Arc::new(Settings::default()),
            status: Arc::new(Status::default()),
            telemetry: Arc::new(Telemetry::new()),
            backlog_limit: u64::MAX,
        },
        max_body,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = Limits {
        header_timeout: std::time::Duration::from_secs(1),
        request_timeout: std::time::Duration::from_secs(2),
        ..Limits::default()
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        serve(listener, app, limits, stopped).await;
        drop(stop);
    });
    Server {
        addr,
        store,
        _dir: dir,
    }
}

/// Sends one request and returns the status, the headers and the body.
async fn post(addr: std::net::SocketAddr, token: Option<&str>, body: &str) -> (u16, String, Value) {
    let auth = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    send(addr, "/v1/records", &auth, body).await
}

async fn send(
    addr: std::net::SocketAddr,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, Value) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (
        status,
        head.to_ascii_lowercase(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

/// Holds the store's lock for 800 ms on another thread (the committer
/// blocks on it); returns once it is held.
fn hold(store: &Arc<Mutex<Store>>) -> std::thread::JoinHandle<()> {
    let store = store.clone();
    let (locked, is_locked) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        let _guard = store.lock().unwrap();
        locked.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(800));
    });
    is_locked.recv().unwrap();
    holder
}

fn conversation(id: &str) -> String {
    let mut c = common::conversation(vec![common::part("1", "comment", 60, "admin")]);
    c["id"] = id.into();
    c.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_lines_are_durable_before_the_202_and_bad_lines_are_reported_by_number() {
    let s = server(None, 1 << 20, 16).await;
    let body = format!(
        "{}\nnot json\n\n{}\n{{\"type\":\"conversation\"}}\n",
        conversation("c1"),
        conversation("c2")
    );
    let (status, _, answer) = post(s.addr, None, &body).await;
    assert_eq!(status, 202, "{answer}");
    assert_eq!(answer["accepted"], 2);
    let lines: Vec<u64> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![2, 5]);
    assert!(answer["rejected"][0]["reason"].as_str().unwrap().len() > 3);
    // Answered only after the commit: the store has both conversations.
    assert_eq!(s.store.lock().unwrap().dirty_count().unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_wrong_token_is_a_401_and_nothing_is_stored() {
    let s = server(Some("s3cret-token"), 1 << 20, 16).await;
    for token in [None, Some("wrong"), Some("s3cret-tokeN")] {
        let (status, _, answer) = post(s.addr, token, &conversation("c1")).await;
        assert_eq!(status, 401, "{token:?}");
        assert!(answer["error"].as_str().unwrap().contains("bearer token"));
    }
    assert_eq!(s.store.lock().unwrap().dirty_count().unwrap(), 0);
    let (status, _, _) = post(s.addr, Some("s3cret-token"), &conversation("c1")).await;
    assert_eq!(status, 202);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_a_413() {
    let s = server(None, 1000, 16).await;
    let body = format!("{}\n", conversation("c1")).repeat(10);
    let (status, _, _) = post(s.addr, None, &body).await;
    assert_eq!(status, 413);
    assert_eq!(s.store.lock().unwrap().dirty_count().unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_commit_queue_answers_429_with_retry_after_and_frees_up() {
    let s = server(None, 1 << 20, 1).await;
    // Hold the store: the committer takes one request and blocks on it, one
    // more waits in the queue of one, the rest find it full.
    let holder = hold(&s.store);
    let requests: Vec<_> = (0..6)
        .map(|i| {
            let addr = s.addr;
            tokio::spawn(async move { post(addr, None, &conversation(&format!("c{i}"))).await })
        })
        .collect();
    holder.join().unwrap();
    let mut statuses = Vec::new();
    for r in requests {
        let (status, head, _) = r.await.unwrap();
        if status == 429 {
            assert!(head.contains("retry-after: 1"), "{head}");
        }
        statuses.push(status);
    }
    let accepted = statuses.iter().filter(|&&s| s == 202).count();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(accepted >= 1, "{statuses:?}");
    assert_eq!(
        s.store.lock().unwrap().dirty_count().unwrap(),
        accepted as u64,
        "what was answered 202 is stored, nothing else"
    );
}

/// An Intercom delivery, pretty-printed as Intercom sends it.
fn delivery() -> String {
    let mut item = common::conversation(vec![common::part("1", "comment", 60, "admin")]);
    item["id"] = "w7".into();
    serde_json::to_string_pretty(&serde_json::json!({
        "type": "notification_event", "topic": "conversation.admin.replied",
        "app_id": "app1", "created_at": common::T0 + 60, "data": {"item": item}
    }))
    .unwrap()
}

fn sign(secret: &str, body: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha1={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_signed_with_the_secret_is_stored_and_any_other_is_a_401() {
    let s = server_with(None, Some("client-secret"), 1 << 20, 16).await;
    let body = delivery();
    let path = "/v1/webhooks/intercom";
    for header in [
        String::new(),
        format!("x-hub-signature: {}\r\n", sign("other", &body)),
        format!(
            "x-hub-signature: {}\r\n",
            sign("client-secret", &format!("{body} "))
        ),
    ] {
        let (status, _, answer) = send(s.addr, path, &header, &body).await;
        assert_eq!(status, 401, "{header:?}: {answer}");
    }
    assert_eq!(s.store.lock().unwrap().dirty_count().unwrap(), 0);
    let header = format!("x-hub-signature: {}\r\n", sign("client-secret", &body));
    let (status, _, answer) = send(s.addr, path, &header, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 1);
    assert_eq!(s.store.lock().unwrap().dirty_count().unwrap(), 1);
    // A signed delivery that is no valid record: answered, not stored.
    let bad = r#"{"type": "notification_event", "topic": "conversation.admin.replied"}"#;
    let header = format!("x-hub-signature: {}\r\n", sign("client-secret", bad));
    let (status, _, answer) = send(s.addr, path, &header, bad).await;
    assert_eq!(status, 200);
    assert_eq!(answer["rejected"][0]["line"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_configured_secret_deliveries_are_not_checked_and_a_ping_is_answered() {
    let s = server(None, 1 << 20, 16).await;
    let (status, _, answer) = send(s.addr, "/v1/webhooks/intercom", "", &delivery()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["accepted"], 1);
    let ping = r#"{"type": "notification_event", "topic": "ping", "app_id": "app1",
        "created_at": 1700000000, "data": {"item": {"type": "ping", "message": "hi"}}}"#;
    let (status, _, answer) = send(s.addr, "/v1/webhooks/intercom", "", ping).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (answer["accepted"].as_u64(), answer["ignored"].as_u64()),
        (Some(0), Some(1))
    );
    // Intercom checks the URL with HEAD.
    let mut c = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"HEAD /v1/webhooks/intercom HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    c.read_to_end(&mut out).await.unwrap();
    assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_waits_for_room_instead_of_being_told_to_back_off() {
    let s = server(None, 1 << 20, 1).await;
    let holder = hold(&s.store);
    let requests: Vec<_> = (0..5)
        .map(|i| {
            let addr = s.addr;
            let mut d: Value = serde_json::from_str(&delivery()).unwrap();
            d["data"]["item"]["id"] = format!("w{i}").into();
            let body = d.to_string();
            tokio::spawn(async move { send(addr, "/v1/webhooks/intercom", "", &body).await })
        })
        .collect();
    holder.join().unwrap();
    for r in requests {
        assert_eq!(r.await.unwrap().0, 200);
    }
    assert_eq!(s.store.lock().unwrap().dirty_count().unwrap(), 5);
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes between good lines: no panic, every good line kept, every
    /// other non-blank line rejected with its number.
    #[test]
    fn any_bytes_in_a_body_keep_the_good_lines_and_reject_the_rest(
        garbage in prop::collection::vec(
            prop::collection::vec(any::<u8>().prop_filter("no newline or brace", |b| *b != b'\n' && *b != b'{'), 0..40),
            0..12,
        ),
        goods in prop::collection::vec(any::<bool>(), 0..12),
    ) {
        let mut body = Vec::new();
        let mut expected_good = 0;
        let mut bad_lines = Vec::new();
        let mut n = 0u64;
        for (i, g) in garbage.iter().enumerate() {
            n += 1;
            body.extend_from_slice(g);
            body.push(b'\n');
            if !g.iter().all(u8::is_ascii_whitespace) {
                bad_lines.push(n);
            }
            if goods.get(i).copied().unwrap_or(false) {
                n += 1;
                body.extend_from_slice(conversation(&format!("c{i}")).as_bytes());
                body.push(b'\n');
                expected_good += 1;
            }
        }
        let parsed = convstats::serve::ingest::parse_body(&body);
        prop_assert_eq!(parsed.accepted.len(), expected_good);
        let got: Vec<u64> = parsed.rejected.iter().map(|r| r.line).collect();
        prop_assert_eq!(got, bad_lines);
    }
}

/// Reads what the server sends until it closes the connection (or 10 s).
async fn read_all(s: &mut tokio::net::TcpStream) -> String {
    let mut out = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_sends_half_a_request_and_stalls_never_delays_the_others() {
    let srv = server(None, 1 << 20, 64).await;
    // Half a head, then nothing; and a whole head with half its body.
    let mut half_head = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    half_head
        .write_all(b"POST /v1/records HTTP/1.1\r\nhost: x\r\ncontent-le")
        .await
        .unwrap();
    let mut half_body = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    half_body
        .write_all(b"POST /v1/records HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n{\"type\":")
        .await
        .unwrap();
    // Meanwhile another client is served at once.
    let good = r#"{"type":"conversation","id":"c1","created_at":1700000000}"#;
    let (status, _, body) = post(srv.addr, None, good).await;
    assert_eq!(status, 202);
    assert_eq!(body["accepted"], 1);
    // The stalled ones are cut off by the header and request timeouts.
    let head_answer = read_all(&mut half_head).await;
    assert!(
        head_answer.is_empty() || head_answer.starts_with("HTTP/1.1 408"),
        "{head_answer}"
    );
    let body_answer = read_all(&mut half_body).await;
    assert!(body_answer.starts_with("HTTP/1.1 408"), "{body_answer}");
    assert_eq!(srv.store.lock().unwrap().dirty_count().unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_on_the_socket_get_a_400_and_the_server_goes_on() {
    let srv = server(None, 1 << 20, 64).await;
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
        .await
        .unwrap();
    let answer = read_all(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    let good = r#"{"type":"conversation","id":"c1","created_at":1700000000}"#;
    assert_eq!(post(srv.addr, None, good).await.0, 202);
}
