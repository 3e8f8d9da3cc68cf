//! `convstats compute`: files → merged conversations → output directory.

use super::Failure;
use crate::config::Settings;
use crate::ingest::{self, Ingest, WorkerReport};
use crate::input::{self, Blocks};
use crate::output;
use crate::report::RunSummary;
use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// What `compute` was asked to do.
#[derive(Debug, Clone)]
pub struct ComputeArgs {
    /// Input names; empty or `-` reads stdin.
    pub inputs: Vec<String>,
    pub out: PathBuf,
}

/// What `compute` did.
#[derive(Debug, Clone)]
pub struct ComputeSummary {
    pub run: RunSummary,
    pub ignored_events: u64,
    pub seconds: f64,
}

impl std::fmt::Display for ComputeSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.run;
        let rate = if self.seconds > 0.0 {
            r.records as f64 / self.seconds
        } else {
            0.0
        };
        write!(
            f,
            "records: {} ({} ignored notification topics), conversations: {} ({} deleted), rejected: {}, \
             seconds: {:.2}, records/s: {:.0}",
            r.records,
            self.ignored_events,
            r.conversations,
            r.deleted,
            r.rejected,
            self.seconds,
            rate
        )
    }
}

fn progress_bar(total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::new_spinner(),
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {bytes}/{total_bytes} read [{wide_bar}] {bytes_per_sec}, ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Runs `compute`.
pub fn run(args: &ComputeArgs, settings: &Settings) -> Result<ComputeSummary, Failure> {
    let started = Instant::now();
    let names: Vec<String> = if args.inputs.is_empty() {
        vec!["-".to_string()]
    } else {
        args.inputs.clone()
    };
    let read_bytes = Arc::new(AtomicU64::new(0));
    let mut sources = Vec::with_capacity(names.len());
    for name in &names {
        sources.push(input::open(name, read_bytes.clone()).map_err(|e| Failure::Usage(e.into()))?);
    }
    let from_files = sources.iter().all(|s| s.len.is_some());
    let total: Option<u64> = sources.iter().map(|s| s.len).sum();
    let bar = (from_files && std::io::stderr().is_terminal()).then(|| progress_bar(total));

    let ingest = Ingest::new();
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (tx, rx) = crossbeam_channel::bounded::<input::Block>(workers * 2);
    let (reports, read_result) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let rx = rx.clone();
                let ingest = &ingest;
                scope.spawn(move || {
                    let mut report = WorkerReport::default();
                    for block in rx {
                        ingest.ingest(block, &mut report);
                    }
                    report
                })
            })
            .collect();
        drop(rx);
        let mut read_result = Ok(());
        'sources: for (i, source) in sources.into_iter().enumerate() {
            let name = source.name.clone();
            let mut blocks = Blocks::new(i, source);
            loop {
                match blocks.next_block() {
                    Ok(Some(block)) => {
                        if tx.send(block).is_err() {
                            read_result = Err(anyhow!("the parsing workers stopped unexpectedly"));
                            break 'sources;
                        }
                        if let Some(bar) = &bar {
                            bar.set_position(read_bytes.load(Ordering::Relaxed));
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        read_result = Err(anyhow!(
                            "reading {name}: {e}; the input is unreadable or truncated (an incomplete .gz file?)"
                        ));
                        break 'sources;
                    }
                }
            }
        }
        drop(tx);
        let reports: Vec<WorkerReport> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect();
        (reports, read_result)
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    read_result.map_err(Failure::Runtime)?;
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "read, parsed and merged"
    );
    let report = ingest::combine(reports);
    let (conversations, deleted) = ingest.finish();
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "conversations finished and sorted"
    );
    let run = RunSummary {
        inputs: names.clone(),
        lines: report.counts.lines,
        records: report.counts.records,
        rejected: report.counts.rejected,
        conversations: conversations.len() as u64,
        deleted,
    };
    output::write_all(
        &args.out,
        conversations,
        &report.rejections,
        &names,
        settings,
        &run,
    )
    .map_err(|e| {
        Failure::Runtime(anyhow!(
            "writing the output into {}: {e}",
            args.out.display()
        ))
    })?;
    Ok(ComputeSummary {
        run,
        ignored_events: report.counts.ignored_events,
        seconds: started.elapsed().as_secs_f64(),
    })
}
