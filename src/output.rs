//! The output directory of `convstats compute` (cli.md): the two document
//! files, the CSV, the rejected lines and the report.
//!
//! Conversations are rendered in parallel chunks (metrics + serialization)
//! and written in key order, so memory holds one chunk of documents at a time.

use crate::aggregate::Views;
use crate::config::Settings;
use crate::conversation::Conversation;
use crate::document::{self, csv_writer};
use crate::record::Rejection;
use crate::report::{self, RunSummary};
use crate::write_behind::WriteBehind;
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

pub const NEW_FILE: &str = "conversations-new.ndjson";
pub const LEGACY_FILE: &str = "conversations-legacy.ndjson";
pub const CSV_FILE: &str = "conversations.csv";
pub const REJECTED_FILE: &str = "rejected.ndjson";
pub const REPORT_FILE: &str = "report.html";

/// One line of `rejected.ndjson`.
#[derive(serde::Serialize)]
struct RejectedLine<'a> {
    source: &'a str,
    line: u64,
    reason: &'a str,
}

/// Conversations rendered per parallel task.
const TASK: usize = 256;
/// Conversations rendered before writing, at most.
const MAX_CHUNK: usize = 16 * 1024;
/// Bytes a conversation in a chunk costs while chunks are in flight (three
/// chunks of conversations at 1.7 KB, four of documents at 2.6 KB).
const IN_FLIGHT_PER_CONVERSATION: u64 = 16 << 10;

/// The conversations per chunk when a quarter of `budget` bytes may be in
/// flight between reading, rendering and writing.
pub fn chunk_for(budget: u64) -> usize {
    ((budget / 4 / IN_FLIGHT_PER_CONVERSATION) as usize).clamp(TASK, MAX_CHUNK)
}

/// Conversations (in key order) gathered into chunks of `chunk`.
pub fn chunked<I>(
    conversations: I,
    chunk: usize,
) -> impl Iterator<Item = io::Result<Vec<Conversation>>> + Send
where
    I: Iterator<Item = io::Result<Conversation>> + Send,
{
    let mut conversations = conversations.fuse();
    std::iter::from_fn(move || {
        let mut c = Vec::with_capacity(chunk);
        for next in conversations.by_ref() {
            match next {
                Ok(conv) => c.push(conv),
                Err(e) => return Some(Err(e)),
            }
            if c.len() == chunk {
                break;
            }
        }
        (!c.is_empty()).then_some(Ok(c))
    })
}

/// Documents of a run of conversations, serialized.
struct Rendered {
    new: Vec<u8>,
    legacy: Vec<u8>,
    csv: Vec<u8>,
    stats: Views,
}

/// A buffer from the writer's returns, or a new one.
fn buffer(pool: &crossbeam_channel::Receiver<Vec<u8>>, capacity: usize) -> Vec<u8> {
    match pool.try_recv() {
        Ok(mut b) => {
            b.clear();
            b
        }
        Err(_) => Vec::with_capacity(capacity),
    }
}

fn render(
    convs: &[Conversation],
    settings: &Settings,
    pool: &crossbeam_channel::Receiver<Vec<u8>>,
) -> io::Result<Rendered> {
    let mut r = Rendered {
        new: buffer(pool, convs.len() * 800),
        legacy: buffer(pool, convs.len() * 1300),
        csv: Vec::new(),
        stats: Views::default(),
    };
    let mut csv = csv_writer(buffer(pool, convs.len() * 500));
    for c in convs {
        let m = document::metrics_for(c, settings);
        document::write_new_line(&mut r.new, c, &m);
        document::write_legacy_line(&mut r.legacy, c, &m);
        document::write_csv_row(&mut csv, c, &m).map_err(io::Error::other)?;
        r.stats.add(c, &m);
    }
    r.csv = csv
        .into_inner()
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok(r)
}

fn create_file(dir: &Path, name: &str) -> io::Result<File> {
    let path = dir.join(name);
    File::create(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", path.display())))
}

fn create(dir: &Path, name: &str) -> io::Result<BufWriter<File>> {
    create_file(dir, name).map(|f| BufWriter::with_capacity(1 << 20, f))
}

/// Every file `compute` writes; the output directory holds nothing else.
pub const FILES: [&str; 5] = [NEW_FILE, LEGACY_FILE, CSV_FILE, REJECTED_FILE, REPORT_FILE];

/// Writes every output file into `dir` (an existing, empty directory:
/// [`crate::publish`] puts it in place), rendering the conversations (in
/// key order, chunk by chunk as [`chunked`] gives them; the chunks are
/// taken on a thread of their own, so reading them overlaps rendering).
pub fn write_all<I>(
    dir: &Path,
    conversations: I,
    rejections: &[Rejection],
    source_names: &[String],
    settings: &Settings,
    run: &RunSummary,
) -> io::Result<()>
where
    I: Iterator<Item = io::Result<Vec<Conversation>>> + Send,
{
    // The rendered buffers are large already: written straight to the files,
    // not copied through a BufWriter first, and sent to disk while writing.
    let mut new = WriteBehind::new(create_file(dir, NEW_FILE)?);
    let mut legacy = WriteBehind::new(create_file(dir, LEGACY_FILE)?);
    let mut csv = WriteBehind::new(create_file(dir, CSV_FILE)?);
    {
        let mut header = csv_writer(&mut csv);
        document::write_csv_header(&mut header).map_err(io::Error::other)?;
        header.flush()?;
    }
    // Rendering (all cores) and writing (one thread) overlap: the writer
    // takes finished chunks while the next chunk renders. The channel holds
    // at most two chunks, so memory stays bounded.
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Rendered>>(2);
    // Written buffers go back to the renderers: reusing them avoids page
    // faults on fresh memory for every chunk.
    let (pool_tx, pool) = crossbeam_channel::bounded::<Vec<u8>>(3 * 2 * MAX_CHUNK / TASK);
    // The next chunk is read (from memory, or merged from spilled runs)
    // while this one renders.
    let (chunk_tx, chunks) = crossbeam_channel::bounded::<io::Result<Vec<Conversation>>>(1);
    let written = std::thread::scope(|scope| {
        scope.spawn(move || {
            for chunk in conversations {
                if chunk_tx.send(chunk).is_err() {
                    return;
                }
            }
        });
        let writer = scope.spawn(move || -> io::Result<Views> {
            let mut stats = Views::default();
            for parts in rx {
                for part in parts {
                    new.write_all(&part.new)?;
                    legacy.write_all(&part.legacy)?;
                    csv.write_all(&part.csv)?;
                    stats.merge(part.stats);
                    for b in [part.new, part.legacy, part.csv] {
                        let _ = pool_tx.try_send(b);
                    }
                }
            }
            new.flush()?;
            legacy.flush()?;
            csv.flush()?;
            Ok(stats)
        });
        let mut render_result = Ok(());
        let mut waited = std::time::Duration::ZERO;
        for chunk in chunks.iter() {
            let mut chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    render_result = Err(e);
                    break;
                }
            };
            let parts: io::Result<Vec<Rendered>> = chunk
                .par_chunks_mut(TASK)
                .map(|c| {
                    let rendered = render(c, settings, &pool);
                    // Parts are the bulk of memory: freed here, in parallel,
                    // rather than one by one when the list is dropped.
                    for conv in c {
                        conv.parts = Vec::new();
                    }
                    rendered
                })
                .collect();
            match parts {
                Ok(parts) => {
                    let t = std::time::Instant::now();
                    let sent = tx.send(parts);
                    waited += t.elapsed();
                    if sent.is_err() {
                        break; // the writer failed; its error is reported below
                    }
                }
                Err(e) => {
                    render_result = Err(e);
                    break;
                }
            }
        }
        drop(tx);
        drop(chunks);
        tracing::trace!(
            waited_for_writer = waited.as_secs_f64(),
            "documents rendered"
        );
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the output writer thread panicked")));
        render_result.and(written)
    });
    tracing::trace!("documents rendered and written");
    let stats = written?;

    let mut rej = create(dir, REJECTED_FILE)?;
    for r in rejections {
        let source = source_names.get(r.source).map_or("?", String::as_str);
        serde_json::to_writer(
            &mut rej,
            &RejectedLine {
                source,
                line: r.line,
                reason: &r.reason,
            },
        )?;
        rej.write_all(b"\n")?;
    }
    rej.flush()?;

    let mut page = create(dir, REPORT_FILE)?;
    page.write_all(report::render_html(&stats, run).as_bytes())?;
    page.flush()?;
    Ok(())
}
