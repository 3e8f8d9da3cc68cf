//! Baseline for `scripts/bench-compute.sh`: the cost of merely parsing an
//! NDJSON file with serde_json into `IgnoredAny`. `convstats compute` is
//! compared against it.
//!
//!     cargo run --release --example parse_baseline -- FILE [--threads N] [--read]
//!
//! The fair baseline (the default) maps the file and parses it on as many
//! threads as `compute` uses (`--threads`, default: the available cores, as
//! rayon sizes `compute`'s pool): the file is cut into that many ranges at
//! line ends, one thread each. `--read` is the earlier baseline instead: one
//! thread reading through a buffer, line by line.

use serde::de::IgnoredAny;
use std::io::BufRead;

/// Lines parsed and lines that were not JSON.
fn parse_lines(bytes: &[u8]) -> (u64, u64) {
    let (mut lines, mut bad) = (0u64, 0u64);
    for line in bytes.split(|b| *b == b'\n') {
        if line.is_empty() {
            continue;
        }
        lines += 1;
        if serde_json::from_slice::<IgnoredAny>(line).is_err() {
            bad += 1;
        }
    }
    (lines, bad)
}

/// `bytes` cut into at most `n` ranges, each ending at a line end (or the
/// end of the input).
fn ranges(bytes: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for i in 1..=n {
        if start >= bytes.len() {
            break;
        }
        let mut end = if i == n {
            bytes.len()
        } else {
            (bytes.len() * i / n).max(start)
        };
        while end < bytes.len() && bytes[end] != b'\n' {
            end += 1;
        }
        let end = (end + 1).min(bytes.len());
        out.push(&bytes[start..end]);
        start = end;
    }
    out
}

fn read_one_thread(path: &str) -> anyhow::Result<(u64, u64)> {
    let file = std::fs::File::open(path)?;
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
    Ok((lines, bad))
}

fn mapped(path: &str, threads: usize) -> anyhow::Result<(u64, u64)> {
    let file = std::fs::File::open(path)?;
    // SAFETY: the benchmark's input is not modified while it is read; a
    // concurrent writer could only change the bytes parsed, not memory safety
    // of anything but this read-only view.
    let map = unsafe { memmap2::Mmap::map(&file)? };
    #[cfg(unix)]
    let _ = map.advise(memmap2::Advice::Sequential);
    let parts = ranges(&map, threads);
    let counts = std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|p| s.spawn(move || parse_lines(p)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or((0, 0)))
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    });
    Ok(counts)
}

fn main() -> anyhow::Result<()> {
    let usage = "usage: parse_baseline FILE [--threads N] [--read]";
    let mut path = None;
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut read = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--read" => read = true,
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow::anyhow!("--threads needs a positive number; {usage}"))?;
            }
            _ if path.is_none() => path = Some(a),
            _ => anyhow::bail!("{usage}"),
        }
    }
    let path = path.ok_or_else(|| anyhow::anyhow!("{usage}"))?;
    let (lines, bad) = if read {
        read_one_thread(&path)?
    } else {
        mapped(&path, threads)?
    };
    let how = if read {
        "1 thread, buffered read".to_string()
    } else {
        format!("{threads} threads, mapped")
    };
    eprintln!("parsed {lines} lines ({bad} not JSON; {how})");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranges_cover_the_input_once_and_end_at_line_ends() {
        let text = b"{\"a\":1}\n{\"b\":2}\n\n{\"c\":[3]}\nnot json\n{}";
        for n in 1..12 {
            let parts = ranges(text, n);
            assert_eq!(parts.concat(), text.to_vec(), "{n}");
            for p in &parts[..parts.len() - 1] {
                assert_eq!(p.last(), Some(&b'\n'), "{n}");
            }
            let (lines, bad) = parts
                .iter()
                .map(|p| parse_lines(p))
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            assert_eq!((lines, bad), (5, 1), "{n}");
        }
    }
}
