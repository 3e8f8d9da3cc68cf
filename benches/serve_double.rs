//! The Elasticsearch protocol double of the tests (`tests/support`) as a
//! process of its own, for `scripts/bench-serve.sh`: starts it on
//! 127.0.0.1:0, prints `url=http://...` on stdout, and runs until its
//! stdin is closed (or it is killed).
//!
//! The double keeps every document as a `serde_json::Value` (a few KiB
//! each), so a long run at 10,000 conversations/s would fill memory with
//! the double alone. With `BENCH_DOUBLE_FORGET_SECS=N` it drops, every N
//! seconds, the documents whose `_id` does not start with
//! `BENCH_DOUBLE_KEEP_PREFIX` (default `bench:`, the workspace the load
//! generator's marker conversations live in). Writes are external-versioned,
//! so a forgotten document written again is simply created again.
//!
//! Built by `cargo build --release --benches` (harness = false: this is a
//! plain `main`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::time::Duration;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let double = support::EsDouble::start().await;
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "url={}", double.url()).expect("stdout");
            out.flush().expect("stdout");
        }
        let forget = std::env::var("BENCH_DOUBLE_FORGET_SECS")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|&s| s > 0);
        let keep = std::env::var("BENCH_DOUBLE_KEEP_PREFIX").unwrap_or_else(|_| "bench:".into());
        let (eof_tx, mut eof_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut sink = [0u8; 4096];
            let mut stdin = std::io::stdin().lock();
            while let Ok(n) = stdin.read(&mut sink) {
                if n == 0 {
                    break;
                }
            }
            let _ = eof_tx.send(());
        });
        let mut tick = tokio::time::interval(Duration::from_secs(forget.unwrap_or(3600)));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = &mut eof_rx => break,
                _ = tick.tick(), if forget.is_some() => {
                    double.cluster(|c| {
                        for index in c.indices.values_mut() {
                            index.docs.retain(|id, _| id.starts_with(&keep));
                            index.searchable.retain(|id, _| id.starts_with(&keep));
                        }
                    });
                }
            }
        }
        drop(double);
    });
}
