//! Throughput of the bulk writer into an endpoint that acknowledges every
//! item instantly (201), on loopback. Run with `scripts/bench-bulk.sh`
//! (criterion) or `BENCH_ONESHOT=1000000 cargo bench --bench bulk_writer`
//! (one timed run printing docs/s and peak RSS).

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Response};
use bytes::{BufMut, Bytes, BytesMut};
use convstats::elasticsearch::{BulkConfig, BulkOp, BulkWriter, EsClient, EsConfig};
use criterion::{Criterion, Throughput};

/// `{"errors":false,"items":[{"index":{"status":201}},...]}` with one item
/// per action line (every op here is an index op: two lines each).
async fn ack(headers: HeaderMap, body: Bytes) -> Response<Body> {
    let _ = headers;
    let lines = memchr::memchr_iter(b'\n', &body).count();
    let items = lines / 2;
    let mut out = BytesMut::with_capacity(32 + items * 28);
    out.put_slice(b"{\"errors\":false,\"items\":[");
    for i in 0..items {
        if i > 0 {
            out.put_u8(b',');
        }
        out.put_slice(b"{\"index\":{\"status\":201}}");
    }
    out.put_slice(b"]}");
    Response::builder()
        .header("content-type", "application/json")
        .header("x-elastic-product", "Elasticsearch")
        .body(Body::from(out.freeze()))
        .expect("response")
}

async fn start_ack_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new()
        .fallback(ack)
        .layer(DefaultBodyLimit::disable());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// 1000 distinct legacy-sized documents (~900 bytes each).
fn documents() -> Vec<Bytes> {
    (0..1000u64)
        .map(|i| {
            let doc = serde_json::json!({
                "conversation_id": format!("c{i}"), "workspace_id": "w1", "message_type": "UserMessage",
                "inbound": true, "message_created_at": "2026-03-08T09:15:00Z",
                "conversation_created_at": "2026-03-08T09:15:00Z", "state": "closed",
                "admin_assignee_id": "a1", "team_assignee_id": null, "updated_at": "2026-03-08T10:15:00Z",
                "first_contact_reply_at": "2026-03-08T09:15:00Z", "first_assignment_at": "2026-03-08T09:16:00Z",
                "first_admin_reply_at": "2026-03-08T09:20:00Z", "first_close_at": "2026-03-08T10:00:00Z",
                "last_assignment_at": "2026-03-08T09:16:00Z", "last_assignment_admin_reply_at": "2026-03-08T09:16:00Z",
                "last_contact_reply_at": "2026-03-08T09:50:00Z", "last_admin_reply_at": "2026-03-08T09:55:00Z",
                "last_close_at": "2026-03-08T10:00:00Z", "last_closed_by_id": "a1",
                "count_reopens": 0, "count_assignments": 1, "count_conversation_parts": 7,
                "time_to_assignment": 60, "time_to_assignment_ooo": 60, "time_to_admin_reply": 300,
                "time_to_admin_reply_ooo": 300, "time_to_first_close": 2700, "time_to_first_close_ooo": 2700,
                "time_to_last_close": 2700, "time_to_last_close_ooo": 2700, "median_time_to_reply": 300,
                "median_time_to_reply_ooo": 300, "reply_times": [300, 120], "reply_times_ooo": [300, 120],
            });
            Bytes::from(serde_json::to_vec(&doc).expect("json"))
        })
        .collect()
}

async fn push(url: &str, docs: &[Bytes], n: u64, dir: &std::path::Path) -> Duration {
    let client = EsClient::new(&EsConfig {
        urls: vec![url.to_string()],
        ..Default::default()
    })
    .expect("client");
    let cfg = BulkConfig {
        dead_letter_path: dir.join("dead.ndjson"),
        ..Default::default()
    };
    let start = Instant::now();
    let writer = BulkWriter::spawn(client, cfg).expect("writer");
    for i in 0..n {
        let op = BulkOp::index(
            "convstats-legacy",
            format!("w1:c{i}"),
            1,
            docs[(i % 1000) as usize].clone(),
        );
        writer.send(op).await.expect("send");
    }
    let s = writer.finish().await.expect("finish").metrics;
    assert_eq!(s.indexed, n);
    start.elapsed()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let url = rt.block_on(start_ack_server());
    let docs = documents();
    let dir = tempfile::tempdir().expect("tempdir");
    if let Ok(n) = std::env::var("BENCH_ONESHOT") {
        let n: u64 = n.parse().expect("BENCH_ONESHOT is a document count");
        let elapsed = rt.block_on(push(&url, &docs, n, dir.path()));
        println!(
            "bulk_writer oneshot: {n} docs in {:.3} s = {:.0} docs/s; peak RSS {} MiB",
            elapsed.as_secs_f64(),
            n as f64 / elapsed.as_secs_f64(),
            peak_rss_kib().unwrap_or(0) / 1024
        );
        return;
    }
    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();
    const N: u64 = 200_000;
    let mut group = c.benchmark_group("bulk_writer");
    group.throughput(Throughput::Elements(N));
    group.bench_function("index_200k_legacy_docs_instant_ack", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += rt.block_on(push(&url, &docs, N, dir.path()));
            }
            total
        })
    });
    group.finish();
    c.final_summary();
    println!("peak RSS: {} MiB", peak_rss_kib().unwrap_or(0) / 1024);
}
