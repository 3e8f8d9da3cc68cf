//! Baseline for `scripts/bench-compute.sh`: the cost of merely parsing an
//! NDJSON file with serde_json into `IgnoredAny`, one line at a time on one
//! thread. `convstats compute` is compared against it.
//!
//!     cargo run --release --example parse_baseline -- FILE

use serde::de::IgnoredAny;
use std::io::BufRead;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: parse_baseline FILE"))?;
    let file = std::fs::File::open(&path)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::with_capacity(1 << 16);
    let (mut lines, mut bad) = (0u64, 0u64);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        lines += 1;
        if serde_json::from_slice::<IgnoredAny>(&line).is_err() {
            bad += 1;
        }
    }
    eprintln!("parsed {lines} lines ({bad} not JSON)");
    Ok(())
}
