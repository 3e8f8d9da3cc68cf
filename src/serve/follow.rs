//! `serve --follow FILE`: tails an NDJSON file into the store (cli.md).
//!
//! - Only complete lines (ending in `\n`) are read; a partial last line waits
//!   for its end.
//! - The position is checkpointed in the store's offsets, in the same
//!   transaction as the lines read up to it (group commit), so a crash
//!   never loses a line and never stores one twice: after a restart the
//!   file is read again from the last committed offset. The file's inode is
//!   checkpointed beside it.
//! - Rotation: when the path names another file (a new inode) or the file
//!   is shorter than the offset (truncated), it is read from the start.
//!   Lines still unread in a rotated-away file are lost only if the file was
//!   replaced between two polls *and* held lines never read; the poll
//!   interval is short to make that window small.
//! - A line longer than the body limit is rejected (logged with its byte
//!   offset) and skipped; so is every line the parser rejects.
//!
//! An edge: file I/O.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::commit::Committer;
use super::ingest::parse_body;
use super::sleep_or_stop;
use super::telemetry::Telemetry;
use crate::store::Store;

/// How a file is followed.
#[derive(Debug, Clone)]
pub struct FollowConfig {
    pub path: PathBuf,
    /// Between two looks at a file that had nothing new.
    pub poll: Duration,
    /// The longest line read; longer ones are rejected.
    pub max_line: usize,
}

/// The offsets-table keys of a followed file: its offset and its inode.
pub fn source_keys(path: &Path) -> (String, String) {
    let p = path.display();
    (format!("follow:{p}"), format!("follow-inode:{p}"))
}

/// What one read found.
struct Chunk {
    /// Complete lines (each ending in `\n`), from `start`.
    bytes: Vec<u8>,
    start: u64,
    /// The file's inode at the read.
    inode: u64,
}

/// Reads complete lines from `offset` (or from 0 when the file is not the
/// one checkpointed or shorter than the offset).
fn read_chunk(
    path: &Path,
    offset: u64,
    inode: Option<u64>,
    max: usize,
) -> std::io::Result<Option<Chunk>> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = f.metadata()?;
    let (ino, len) = (meta.ino(), meta.len());
    let start = if inode.is_some_and(|i| i != ino) || len < offset {
        0
    } else {
        offset
    };
    let mut buf = Vec::new();
    f.seek(SeekFrom::Start(start))?;
    f.take(max as u64 + 1).read_to_end(&mut buf)?;
    Ok(Some(Chunk {
        bytes: buf,
        start,
        inode: ino,
    }))
}

/// Follows `cfg.path` until `stop`.
pub async fn follow(
    cfg: FollowConfig,
    committer: Committer,
    reader: Arc<Mutex<Store>>,
    telemetry: Arc<Telemetry>,
    mut stop: watch::Receiver<bool>,
) {
    let (offset_key, inode_key) = source_keys(&cfg.path);
    let stored = reader
        .lock()
        .map_err(|_| "the store lock was poisoned".to_string())
        .and_then(|s| {
            Ok((
                s.offset(&offset_key).map_err(|e| e.to_string())?,
                s.offset(&inode_key).map_err(|e| e.to_string())?,
            ))
        });
    let (mut offset, mut inode) = match stored {
        Ok((o, i)) => (o.unwrap_or(0), i),
        Err(e) => {
            tracing::error!(file = %cfg.path.display(), "not following: {e}");
            return;
        }
    };
    tracing::info!(file = %cfg.path.display(), offset, "following");
    let mut missing_said = false;
    loop {
        if *stop.borrow() {
            return;
        }
        let path = cfg.path.clone();
        let max = cfg.max_line;
        let read = tokio::task::spawn_blocking(move || read_chunk(&path, offset, inode, max)).await;
        let chunk = match read {
            Ok(Ok(Some(c))) => {
                missing_said = false;
                c
            }
            Ok(Ok(None)) => {
                if !missing_said {
                    tracing::warn!(file = %cfg.path.display(), "the followed file does not exist (yet); waiting for it");
                    missing_said = true;
                }
                if sleep_or_stop(&mut stop, cfg.poll).await {
                    return;
                }
                continue;
            }
            Ok(Err(e)) => {
                tracing::warn!(file = %cfg.path.display(), "reading the followed file: {e}; trying again");
                if sleep_or_stop(&mut stop, cfg.poll.max(Duration::from_secs(1))).await {
                    return;
                }
                continue;
            }
            Err(e) => {
                tracing::error!("the follow read task failed: {e}");
                return;
            }
        };
        if chunk.start != offset || inode.is_some_and(|i| i != chunk.inode) {
            tracing::info!(file = %cfg.path.display(), "the file was rotated or truncated; reading it from the start");
        }
        // Complete lines only: up to the last newline.
        let (consumed, body): (usize, &[u8]) = match memchr::memrchr(b'\n', &chunk.bytes) {
            Some(i) => (i + 1, &chunk.bytes[..=i]),
            None if chunk.bytes.len() > cfg.max_line => {
                // One line longer than the limit: skip to its end.
                tracing::warn!(
                    file = %cfg.path.display(),
                    at = chunk.start,
                    "line rejected: longer than {} bytes",
                    cfg.max_line
                );
                telemetry.rejected.with_label_values(&["follow"]).inc();
                let skipped = skip_line(&cfg.path, chunk.start + chunk.bytes.len() as u64).await;
                let next = skipped.unwrap_or(chunk.start + chunk.bytes.len() as u64);
                match committer
                    .submit_with_offsets(
                        Vec::new(),
                        vec![(offset_key.clone(), next), (inode_key.clone(), chunk.inode)],
                    )
                    .await
                {
                    Ok(_) => {
                        offset = next;
                        inode = Some(chunk.inode);
                    }
                    Err(e) => {
                        tracing::error!("storing the follow offset: {e}");
                        if sleep_or_stop(&mut stop, Duration::from_secs(1)).await {
                            return;
                        }
                    }
                }
                continue;
            }
            None => (0, &[]),
        };
        if consumed == 0 {
            // Nothing complete: wait (a new inode is noticed at the next read).
            if chunk.start != offset || inode != Some(chunk.inode) {
                offset = chunk.start;
                inode = Some(chunk.inode);
            }
            if sleep_or_stop(&mut stop, cfg.poll).await {
                return;
            }
            continue;
        }
        let parsed = parse_body(body);
        for r in &parsed.rejected {
            tracing::warn!(file = %cfg.path.display(), line_in_chunk = r.line, from_byte = chunk.start, reason = %r.reason, "line rejected");
        }
        let accepted = parsed.accepted.len() as u64;
        let next = chunk.start + consumed as u64;
        match committer
            .submit_with_offsets(
                parsed.accepted,
                vec![(offset_key.clone(), next), (inode_key.clone(), chunk.inode)],
            )
            .await
        {
            Ok(_) => {
                telemetry
                    .accepted
                    .with_label_values(&["follow"])
                    .inc_by(accepted);
                telemetry
                    .rejected
                    .with_label_values(&["follow"])
                    .inc_by(parsed.rejected.len() as u64);
                telemetry
                    .ignored
                    .with_label_values(&["follow"])
                    .inc_by(parsed.ignored);
                offset = next;
                inode = Some(chunk.inode);
            }
            Err(e) => {
                tracing::error!(file = %cfg.path.display(), "storing followed lines: {e}; trying again");
                if sleep_or_stop(&mut stop, Duration::from_secs(1)).await {
                    return;
                }
            }
        }
    }
}

/// The offset just after the newline that ends the line going on at `from`
/// (`None` when the file ends first).
async fn skip_line(path: &Path, from: u64) -> Option<u64> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<Option<u64>> {
        let mut f = std::fs::File::open(&path)?;
        f.seek(SeekFrom::Start(from))?;
        let mut buf = vec![0u8; 1 << 16];
        let mut at = from;
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                return Ok(None);
            }
            if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
                return Ok(Some(at + i as u64 + 1));
            }
            at += n as u64;
        }
    })
    .await
    .ok()
    .and_then(Result::ok)
    .flatten()
}
