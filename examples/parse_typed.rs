//! Companion of `parse_baseline` for `scripts/bench-compute.sh`: the cost of
//! reading every line of an NDJSON file into validated records with
//! `record::parse_line`, one line at a time on one thread (no merging, no
//! output).
//!
//!     cargo run --release --example parse_typed -- FILE

use convstats::record::{Record, parse_line};
use std::io::BufRead;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: parse_typed FILE"))?;
    let file = std::fs::File::open(&path)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::with_capacity(1 << 16);
    let (mut lines, mut bad, mut parts) = (0u64, 0u64, 0usize);
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        lines += 1;
        match parse_line(line.strip_suffix(b"\n").unwrap_or(&line)) {
            Ok(Some(Record::Conversation(c))) => parts += c.parts.len(),
            Ok(_) => {}
            Err(_) => bad += 1,
        }
    }
    eprintln!("read {lines} lines ({bad} rejected, {parts} embedded parts)");
    Ok(())
}
