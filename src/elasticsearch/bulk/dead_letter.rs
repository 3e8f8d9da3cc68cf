//! The dead-letter file: one NDJSON line per operation that failed with a
//! status that retrying cannot fix (mapping errors, 400s, 404s, a one-document
//! 413): time, action, index, `_id`, version, status, error type and reason,
//! and the whole document. Each error type is logged once per writer.
//!
//! [`list`] reads it (`convstats dlq list`); [`replay`] sends every entry again
//! and rewrites the file with only those that fail again (`convstats dlq replay`).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::batch::{Action, BulkOp};
use super::writer::{BulkWriter, WriteSummary};
use crate::elasticsearch::client::EsClient;
use crate::elasticsearch::config::BulkConfig;
use crate::elasticsearch::error::EsError;

/// One dead letter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadLetter {
    /// When it was written (RFC 3339 UTC).
    pub time: String,
    pub action: Action,
    pub index: String,
    #[serde(rename = "_id")]
    pub id: String,
    pub version: u64,
    pub status: u16,
    pub error_type: String,
    pub reason: String,
    /// The whole document (null for deletes).
    pub document: Option<Box<RawValue>>,
}

impl DeadLetter {
    pub fn new(op: &BulkOp, status: u16, error_type: &str, reason: &str) -> Self {
        let document = op.source.as_ref().map(|src| {
            serde_json::from_slice::<Box<RawValue>>(src).unwrap_or_else(|_| {
                // Not JSON: keep it as a string so nothing is lost.
                let text = String::from_utf8_lossy(src).into_owned();
                serde_json::value::to_raw_value(&text).unwrap_or_else(|_| RawValue::NULL.to_owned())
            })
        });
        DeadLetter {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            action: op.action,
            index: op.index.clone(),
            id: op.id.clone(),
            version: op.version,
            status,
            error_type: error_type.to_string(),
            reason: reason.to_string(),
            document,
        }
    }

    /// The operation to send again.
    pub fn to_op(&self) -> BulkOp {
        match self.action {
            Action::Delete => BulkOp::delete(&self.index, &self.id, self.version),
            Action::Index => {
                let src = self
                    .document
                    .as_ref()
                    .map(|d| Bytes::copy_from_slice(d.get().as_bytes()))
                    .unwrap_or_else(|| Bytes::from_static(b"{}"));
                BulkOp::index(&self.index, &self.id, self.version, src)
            }
        }
    }
}

/// Appends dead letters to a file (opened on first use).
#[derive(Debug)]
pub struct DeadLetterFile {
    path: PathBuf,
    out: Mutex<Option<BufWriter<File>>>,
    logged: Mutex<HashSet<String>>,
}

impl DeadLetterFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        DeadLetterFile {
            path: path.into(),
            out: Mutex::new(None),
            logged: Mutex::new(HashSet::new()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends and flushes `letters`; logs the first of each error type.
    pub fn append(&self, letters: &[DeadLetter]) -> Result<(), EsError> {
        if letters.is_empty() {
            return Ok(());
        }
        if let Ok(mut logged) = self.logged.lock() {
            for l in letters {
                if logged.insert(l.error_type.clone()) {
                    tracing::warn!(
                        error_type = %l.error_type,
                        status = l.status,
                        index = %l.index,
                        id = %l.id,
                        file = %self.path.display(),
                        "document rejected by Elasticsearch: {}; it and any others of this type go to the dead-letter file",
                        l.reason
                    );
                }
            }
        }
        let mut guard = self
            .out
            .lock()
            .map_err(|_| EsError::Internal("the dead-letter file's lock is poisoned".into()))?;
        if guard.is_none() {
            if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| EsError::io("cannot create the dead-letter directory", dir, e))?;
            }
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .map_err(|e| EsError::io("cannot open the dead-letter file", &self.path, e))?;
            *guard = Some(BufWriter::new(file));
        }
        if let Some(out) = guard.as_mut() {
            for l in letters {
                serde_json::to_writer(&mut *out, l).map_err(|e| {
                    EsError::io("cannot write the dead-letter file", &self.path, e.into())
                })?;
                out.write_all(b"\n")
                    .map_err(|e| EsError::io("cannot write the dead-letter file", &self.path, e))?;
            }
            out.flush()
                .map_err(|e| EsError::io("cannot write the dead-letter file", &self.path, e))?;
        }
        Ok(())
    }
}

/// Reads every dead letter of `path` (none when the file does not exist).
pub fn list(path: &Path) -> Result<Vec<DeadLetter>, EsError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(EsError::io("cannot open the dead-letter file", path, e)),
    };
    let mut out = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| EsError::io("cannot read the dead-letter file", path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let letter: DeadLetter =
            serde_json::from_str(&line).map_err(|e| EsError::DeadLetterFile {
                path: path.to_path_buf(),
                line: n as u64 + 1,
                reason: e.to_string(),
            })?;
        out.push(letter);
    }
    Ok(out)
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplaySummary {
    /// Entries read from the file.
    pub replayed: u64,
    /// Entries now done (written, stale-skipped or already deleted): removed.
    pub succeeded: u64,
    /// Entries that failed again: they are the file's new content.
    pub still_failing: u64,
    pub writer: WriteSummary,
}

/// The alias a concrete index `<alias>-<yyyymmddhhmmss>` belongs to; other
/// names are returned unchanged.
pub fn alias_of(index: &str) -> &str {
    match index.rsplit_once('-') {
        Some((alias, stamp))
            if !alias.is_empty()
                && stamp.len() == 14
                && stamp.bytes().all(|b| b.is_ascii_digit()) =>
        {
            alias
        }
        _ => index,
    }
}

/// A progress display's two hooks: the number of letters, then the
/// writer's counters as they grow.
pub struct ReplayProgress {
    pub start: Box<dyn Fn(u64) + Send + Sync>,
    pub update: std::sync::Arc<dyn Fn(&super::counters::MetricsSnapshot) + Send + Sync>,
}

/// Sends every dead letter of `path` again through a writer configured by
/// `config` (its `dead_letter_path` is ignored); the file is then replaced by
/// the entries that failed again (removed when none did). When the replay
/// itself fails (Elasticsearch gave up), the file is left as it was.
///
/// Letters recorded against a concrete index `<alias>-<timestamp>` (as
/// backfill writes them) are sent through `<alias>`: after the swap that is
/// the same index, and if a later backfill replaced it, the alias is still
/// where the document belongs (a write to the retired concrete name would
/// auto-create an index no alias points to).
///
/// `progress`, when given, is called with the writer's counters every 250 ms
/// and once at the end, after being told how many letters there are.
pub async fn replay(
    client: &EsClient,
    path: &Path,
    config: BulkConfig,
    progress: Option<&ReplayProgress>,
) -> Result<ReplaySummary, EsError> {
    let letters = list(path)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".replay-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let _ = std::fs::remove_file(&tmp);
    let config = BulkConfig {
        dead_letter_path: tmp.clone(),
        ..config
    };
    let writer = BulkWriter::spawn(client.clone(), config)?;
    let ticker = progress.map(|p| {
        (p.start)(letters.len() as u64);
        writer.report_progress(p.update.clone())
    });
    for letter in &letters {
        let mut op = letter.to_op();
        op.index = alias_of(&op.index).to_string();
        writer.send(op).await?;
    }
    let finished = writer.finish().await;
    if let Some(t) = ticker {
        t.abort();
    }
    if let (Some(p), Ok(s)) = (progress, &finished) {
        (p.update)(&s.metrics);
    }
    let summary = match finished {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let failing = summary.metrics.dead_lettered;
    if tmp.exists() {
        std::fs::rename(&tmp, path)
            .map_err(|e| EsError::io("cannot replace the dead-letter file", path, e))?;
    } else {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(EsError::io("cannot remove the dead-letter file", path, e)),
        }
    }
    Ok(ReplaySummary {
        replayed: letters.len() as u64,
        succeeded: (letters.len() as u64).saturating_sub(failing),
        still_failing: failing,
        writer: summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concrete_backfill_indices_map_to_their_alias() {
        assert_eq!(alias_of("convstats-new-20260308091500"), "convstats-new");
        assert_eq!(alias_of("convstats-new"), "convstats-new");
        assert_eq!(alias_of("x-2026030809150"), "x-2026030809150");
        assert_eq!(alias_of("-20260308091500"), "-20260308091500");
    }
}
