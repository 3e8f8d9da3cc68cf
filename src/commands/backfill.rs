//! `convstats backfill [INPUT]...`: load the inputs like `compute`, compute
//! both documents of every conversation (rayon, in chunks), and stream them
//! into the backfill protocol of `elasticsearch::backfill` (fresh indices,
//! bulk load, checks, one atomic alias swap).
//!
//! Revision: one stamp per run, `revision::next_revision(None, now)`, shared
//! by every document. The indices are fresh, so each `_id` is written once
//! and needs no order among documents; a later run, or later continuous
//! ingestion (`max(previous + 1, now)`), always gets a greater stamp.

use super::compute::progress_for;
use super::es::{ConnectionArgs, WriterArgs, connect, failure, runtime};
use super::{Failure, MemoryArgs};
use crate::config::Settings;
use crate::conversation::Conversation;
use crate::document::{document_id, metrics_for, render_pair};
use crate::elasticsearch::backfill::{
    BackfillItem, BackfillOptions, BackfillReport, ProgressHook, backfill,
};
use crate::elasticsearch::bulk::MetricsSnapshot;
use crate::elasticsearch::revision::next_revision;
use crate::elasticsearch::{EsClient, EsError};
use crate::source::{Conversations, load};
use crate::spill::SpillError;
use anyhow::anyhow;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

/// Conversations computed and serialized per parallel chunk.
const CHUNK: usize = 2048;
/// Chunks ready ahead of the writer (with the writer's own bounded channel,
/// this bounds the documents held in memory).
const CHUNKS_AHEAD: usize = 2;

/// `convstats backfill [INPUT]...` with the connection and writer flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BackfillArgs {
    /// Input files, read in order (`-` or none reads stdin)
    pub inputs: Vec<String>,
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[command(flatten)]
    pub writer: WriterArgs,
    /// On a failure before the alias swap, delete the half-built indices
    #[arg(long)]
    pub cleanup: bool,
    /// Delete the indices the aliases pointed to, in the same atomic swap
    #[arg(long)]
    pub delete_old: bool,
    /// Exit 1 before the swap when any document was dead-lettered
    #[arg(long)]
    pub fail_on_dead_letters: bool,
    #[command(flatten)]
    pub memory: MemoryArgs,
}

/// What a successful backfill did.
#[derive(Debug, Clone)]
pub struct BackfillSummary {
    pub report: BackfillReport,
    pub conversations: u64,
    pub rejected: u64,
    pub revision: u64,
    pub seconds: f64,
    pub dead_letter_file: std::path::PathBuf,
}

impl std::fmt::Display for BackfillSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = &self.report.metrics;
        let rate = if self.seconds > 0.0 {
            m.sent as f64 / self.seconds
        } else {
            0.0
        };
        writeln!(
            f,
            "backfill: {} conversations ({} rejected input lines), revision {}",
            self.conversations, self.rejected, self.revision
        )?;
        writeln!(
            f,
            "documents: sent {}, indexed {}, stale_skipped {}, retried {}, dead-lettered {}{}",
            m.sent,
            m.indexed,
            m.stale_skipped,
            m.retried,
            m.dead_lettered,
            if m.dead_lettered > 0 {
                format!(
                    " (see {}; `convstats dlq list`, `convstats dlq replay`)",
                    self.dead_letter_file.display()
                )
            } else {
                String::new()
            }
        )?;
        for r in [&self.report.new, &self.report.legacy] {
            let old = if r.old_indices.is_empty() {
                "no previous index".to_string()
            } else if self.report.deleted_old {
                format!("old {} deleted", r.old_indices.join(", "))
            } else {
                format!(
                    "old {} kept (delete with --delete-old next time)",
                    r.old_indices.join(", ")
                )
            };
            writeln!(
                f,
                "alias {} → {} ({} documents); {old}",
                r.alias, r.index, r.count
            )?;
        }
        write!(f, "seconds: {:.2}, documents/s: {rate:.0}", self.seconds)
    }
}

/// Conversations to backfill, a group at a time (all of them at once when
/// they were merged in memory; group by group when the input was spilled).
pub type Groups = Box<dyn Iterator<Item = Result<Vec<Conversation>, SpillError>> + Send>;

/// Both documents of every conversation, computed in parallel chunks on a
/// producer thread and handed over through a bounded channel, so that the
/// producer waits when the writer falls behind. Each conversation is
/// counted in `counted`. A group that cannot be read ends the stream with
/// an error, so nothing is swapped. Join the returned thread after the
/// stream is dropped: it owns the groups (and so the spill files).
pub fn items(
    groups: Groups,
    settings: Arc<Settings>,
    revision: u64,
    counted: Arc<AtomicU64>,
) -> (
    impl Stream<Item = Result<BackfillItem, EsError>> + Send + 'static,
    std::thread::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Result<BackfillItem, EsError>>>(CHUNKS_AHEAD);
    let producer = std::thread::spawn(move || {
        for group in groups {
            let conversations = match group {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.blocking_send(vec![Err(EsError::Input(e.to_string()))]);
                    return;
                }
            };
            for chunk in conversations.chunks(CHUNK) {
                let items: Vec<Result<BackfillItem, EsError>> = chunk
                    .par_iter()
                    .map(|c| {
                        let m = metrics_for(c, &settings);
                        let (new, legacy) = render_pair(c, &m);
                        Ok(BackfillItem {
                            id: document_id(c),
                            version: revision,
                            new_doc: Bytes::from(new),
                            legacy_doc: Bytes::from(legacy),
                        })
                    })
                    .collect();
                counted.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                if tx.blocking_send(items).is_err() {
                    // The consumer stopped (the backfill failed): stop computing.
                    return;
                }
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (futures::stream::iter(chunk), rx))
    })
    .flatten();
    (stream, producer)
}

/// Backfills `conversations` through `client` (templates, fresh indices,
/// load, checks, swap).
pub async fn backfill_conversations(
    client: &EsClient,
    options: BackfillOptions,
    conversations: Vec<Conversation>,
    settings: Arc<Settings>,
    revision: u64,
) -> Result<BackfillReport, EsError> {
    let groups: Groups = Box::new(std::iter::once(Ok(conversations)));
    let counted = Arc::new(AtomicU64::new(0));
    let (stream, producer) = items(groups, settings, revision, counted);
    let report = backfill(client, options, stream).await;
    let _ = producer.join();
    report
}

/// A docs/s + ETA bar over the writer's counters, only on a terminal.
/// Without a total (a spilled input: the count is known only at the end),
/// a counter with the rate.
fn progress_bar(total_ops: Option<u64>) -> Option<(ProgressBar, ProgressHook)> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match total_ops {
        Some(total) => {
            let bar = ProgressBar::new(total);
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {human_pos}/{human_len} documents [{wide_bar}] {msg}, ETA {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        }
        None => {
            let bar = ProgressBar::no_length();
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} {human_pos} documents, {msg}")
            {
                bar.set_style(style);
            }
            bar
        }
    };
    let b = bar.clone();
    let started = Instant::now();
    let hook: ProgressHook = Arc::new(move |m: &MetricsSnapshot| {
        let done = m.finished();
        let seconds = started.elapsed().as_secs_f64();
        if seconds > 0.0 {
            b.set_message(format!("{:.0} documents/s", done as f64 / seconds));
        }
        b.set_position(done);
    });
    Some((bar, hook))
}

/// Runs `backfill`.
pub fn run(args: &BackfillArgs, settings: &Settings) -> Result<BackfillSummary, Failure> {
    let started = Instant::now();
    let (config, aliases) = args.conn.resolve(settings)?;
    let bulk = args.writer.resolve(settings, &config)?;
    let dead_letter_file = bulk.dead_letter_path.clone();
    let rt = runtime()?;
    // Check the cluster before reading: an unreachable cluster or bad
    // credentials should not cost a long load first.
    let client = rt.block_on(connect(&config))?;
    let default_dir = match dead_letter_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let plan = args.memory.plan(&default_dir)?;
    let progress = progress_for(&args.inputs);
    let loaded = load(&args.inputs, progress.as_ref(), &plan).map_err(super::load_failure)?;
    let rejected = loaded.report.counts.rejected;
    let (groups, known): (Groups, Option<u64>) = match loaded.conversations {
        Conversations::InMemory { sorted, .. } => {
            let n = sorted.len() as u64;
            (Box::new(std::iter::once(Ok(sorted))), Some(n))
        }
        Conversations::Spilled(spilled) => (
            Box::new(spilled.into_groups().map(|g| g.map(|(convs, _)| convs))),
            None,
        ),
    };
    // The first group with a conversation is merged before the cluster is
    // touched: an input of no conversation must not replace the indices.
    let mut groups = groups
        .filter(|g| !matches!(g, Ok(c) if c.is_empty()))
        .peekable();
    match groups.peek() {
        None => {
            return Err(Failure::Runtime(anyhow!(
                "the inputs hold no conversations ({rejected} rejected lines); refusing to replace the indices with empty ones"
            )));
        }
        Some(Err(_)) => {
            let e = groups.next().and_then(Result::err).map(|e| e.to_string());
            return Err(Failure::Runtime(anyhow!(
                "merging the spilled records: {}",
                e.unwrap_or_default()
            )));
        }
        Some(Ok(_)) => {}
    }
    let revision = next_revision(None, SystemTime::now());
    let mut options = BackfillOptions::new(aliases, bulk);
    options.delete_old = args.delete_old;
    options.cleanup = args.cleanup;
    options.fail_on_dead_letters = args.fail_on_dead_letters;
    let bar = progress_bar(known.map(|n| n * 2));
    options.progress = bar.as_ref().map(|(_, hook)| hook.clone());
    let settings = Arc::new(settings.clone());
    let counted = Arc::new(AtomicU64::new(0));
    let (stream, producer) = items(Box::new(groups), settings, revision, counted.clone());
    let result = rt.block_on(backfill(&client, options, stream));
    // The producer stops at its next chunk once the stream is gone; joined,
    // so its spill files are removed before the command returns.
    let _ = producer.join();
    if let Some((bar, _)) = bar {
        bar.finish_and_clear();
    }
    let conversations = counted.load(Ordering::Relaxed);
    let report = result.map_err(failure)?;
    Ok(BackfillSummary {
        report,
        conversations,
        rejected,
        revision,
        seconds: started.elapsed().as_secs_f64(),
        dead_letter_file,
    })
}
