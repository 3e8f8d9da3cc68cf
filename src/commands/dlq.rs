//! `convstats dlq list | replay`: show the dead-letter file, or send its
//! entries again and keep only those that fail again.

use super::Failure;
use super::es::{ConnectionArgs, WriterArgs, connect, dead_letter_path, failure, runtime};
use crate::config::Settings;
use crate::elasticsearch::dead_letter::{self, ReplaySummary};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// `convstats dlq list | replay`.
#[derive(Debug, Clone, clap::Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
pub enum DlqArgs {
    /// Print every dead letter and a count per error type
    List {
        /// The dead-letter file [default: ./convstats-dead-letters.ndjson]
        #[arg(long, env = "CONVSTATS_DEAD_LETTER_FILE")]
        dead_letter_file: Option<PathBuf>,
    },
    /// Send every dead letter again; keep only those that fail again
    Replay {
        #[command(flatten)]
        conn: ConnectionArgs,
        #[command(flatten)]
        writer: WriterArgs,
    },
}

/// `dlq list`: one line per dead letter and a count per error type, of the
/// file `--dead-letter-file` (else the config file's, else the default).
pub fn list(dead_letter_file: Option<&Path>, settings: &Settings) -> Result<String, Failure> {
    let path = &dead_letter_path(dead_letter_file, settings);
    let letters = dead_letter::list(path).map_err(failure)?;
    let mut out = String::new();
    let mut by_type: BTreeMap<(u16, String), u64> = BTreeMap::new();
    for l in &letters {
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\tv{}\t{} {}: {}",
            l.time,
            serde_json::to_string(&l.action)
                .unwrap_or_default()
                .trim_matches('"'),
            l.index,
            l.id,
            l.version,
            l.status,
            l.error_type,
            l.reason
        );
        *by_type.entry((l.status, l.error_type.clone())).or_default() += 1;
    }
    let _ = writeln!(out, "{} dead letters in {}", letters.len(), path.display());
    for ((status, ty), n) in by_type {
        let _ = writeln!(out, "  {n} × {status} {ty}");
    }
    Ok(out)
}

/// `dlq replay`: what it did, and the dead-letter file it read.
pub fn replay(
    conn: &ConnectionArgs,
    writer: &WriterArgs,
    settings: &Settings,
) -> Result<(ReplaySummary, PathBuf), Failure> {
    let (config, _) = conn.resolve(settings)?;
    let bulk = writer.resolve(settings, &config)?;
    let path = bulk.dead_letter_path.clone();
    let bar = super::progress::bar(Some(0), "dead letters");
    let progress = bar.clone().map(|b| {
        let total = b.clone();
        dead_letter::ReplayProgress {
            start: Box::new(move |n| total.set_length(n)),
            update: std::sync::Arc::new(move |m| b.set_position(m.finished())),
        }
    });
    let summary = runtime()?.block_on(async {
        let client = connect(&config).await?;
        dead_letter::replay(&client, &path, bulk, progress.as_ref())
            .await
            .map_err(failure)
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let summary = summary?;
    Ok((summary, path))
}

/// The summary printed after `dlq replay`.
pub fn describe_replay(s: &ReplaySummary, path: &Path) -> String {
    let m = &s.writer.metrics;
    format!(
        "replayed {} dead letters from {}: {} done ({} indexed, {} deleted, {} already newer), {} failed again{}",
        s.replayed,
        path.display(),
        s.succeeded,
        m.indexed,
        m.deleted,
        m.stale_skipped,
        s.still_failing,
        if s.still_failing == 0 {
            "; the file was removed".to_string()
        } else {
            "; they are the file's new content (see `convstats dlq list`)".to_string()
        }
    )
}
