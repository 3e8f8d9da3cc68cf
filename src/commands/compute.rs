//! `convstats compute`: files → merged conversations → output directory.

use super::{Failure, MemoryArgs};
use crate::aggregate;
use crate::config::Settings;
use crate::conversation::Conversation;
use crate::output;
use crate::publish::{Publish, PublishError};
use crate::report::RunSummary;
use crate::source::{Conversations, Progress, Quiet, load};
use crate::spill::Sorted;
use anyhow::anyhow;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

/// `convstats compute [INPUT]... [--out DIR]`.
#[derive(Debug, Clone, clap::Args)]
pub struct ComputeArgs {
    /// Input files, read in order
    pub inputs: Vec<String>,
    /// Output directory
    #[arg(long, default_value = "out", env = "CONVSTATS_OUT")]
    pub out: PathBuf,
    #[command(flatten)]
    pub memory: MemoryArgs,
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
        )?;
        if r.lines == 0 {
            // An empty input (or a closed stdin) is a valid, empty run: its
            // outputs replace the previous ones. Said, so nobody is surprised.
            write!(
                f,
                "\nno input lines were read: the outputs now hold an empty set (any previous outputs were replaced)"
            )?;
        }
        Ok(())
    }
}

/// A terminal progress bar over the raw bytes read.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total: Option<u64>) {
        if let Some(t) = total {
            self.0.set_length(t);
        }
    }
    fn advance(&self, read: u64) {
        self.0.set_position(read);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A progress bar when stderr is a terminal and every input is a file.
pub fn progress_for(inputs: &[String]) -> Box<dyn Progress> {
    let from_files = !inputs.is_empty() && inputs.iter().all(|i| i != "-");
    if !(from_files && std::io::stderr().is_terminal()) {
        return Box::new(Quiet);
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} {bytes}/{total_bytes} read [{wide_bar}] {bytes_per_sec}, ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    Box::new(Bar(bar))
}

fn publish_failure(e: PublishError) -> Failure {
    match e {
        PublishError::Unusable(_) => Failure::Usage(e.into()),
        PublishError::Locked { .. } | PublishError::Io { .. } => Failure::Runtime(e.into()),
    }
}

/// The part of `budget` left to the conversations and documents in flight
/// while rendering, once the report's figures are counted: their exact
/// percentiles keep up to [`aggregate::VALUE_BYTES_PER_CONVERSATION`] per
/// conversation until the end. When those alone take most of the budget,
/// a warning says the run may go over it, and what budget would not.
fn render_budget(budget: u64, conversations: u64) -> u64 {
    let figures = conversations.saturating_mul(aggregate::VALUE_BYTES_PER_CONVERSATION);
    if figures > budget / 2 {
        tracing::warn!(
            conversations,
            figures_mib = figures >> 20,
            budget_mib = budget >> 20,
            "the report's exact percentiles of {conversations} conversations keep about \
             {} MiB, more than half the memory budget of {} MiB; rendering gets what is \
             left, and the run may go over the budget (a --memory-budget of {} MiB or more \
             keeps it within)",
            figures >> 20,
            budget >> 20,
            (figures >> 20).saturating_mul(2).max(1)
        );
    }
    budget.saturating_sub(figures)
}

/// Runs `compute`. The outputs appear in `args.out` all at once, after every
/// file is written and synced ([`crate::publish`]); a failure leaves the
/// previous outputs as they were.
pub fn run(args: &ComputeArgs, settings: &Settings) -> Result<ComputeSummary, Failure> {
    let started = Instant::now();
    let publish = Publish::begin(&args.out, &output::FILES).map_err(publish_failure)?;
    let plan = args.memory.plan(publish.dir())?;
    let progress = progress_for(&args.inputs);
    let loaded =
        load(&args.inputs, progress.as_ref(), &plan).map_err(|e| match super::load_failure(e) {
            Failure::Runtime(e) => Failure::Runtime(anyhow!(
                "{e}; the previous outputs were left as they were in {}",
                args.out.display()
            )),
            usage => usage,
        })?;
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "inputs loaded");
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        Failure::Runtime(anyhow!(
            "{what} for {} (in {}): {e}; the previous outputs were left as they were",
            args.out.display(),
            publish.dir().display()
        ))
    };
    let sorted = match loaded.conversations {
        Conversations::InMemory { sorted, deleted } => Sorted::InMemory {
            conversations: sorted,
            deleted,
        },
        Conversations::Spilled(spilled) => spilled
            .sorted()
            .map_err(|e| failed("merging the spilled records", &e))?,
    };
    tracing::debug!(
        seconds = started.elapsed().as_secs_f64(),
        "conversations merged"
    );
    let report = &loaded.report;
    let mut run = RunSummary {
        inputs: loaded.names.clone(),
        lines: report.counts.lines,
        records: report.counts.records,
        rejected: report.counts.rejected,
        conversations: 0,
        deleted: 0,
    };
    let ignored_events = report.counts.ignored_events;
    // In key order, a chunk at a time: from memory, or merged from runs.
    let conversations: Box<dyn Iterator<Item = std::io::Result<Conversation>> + Send> = match sorted
    {
        Sorted::InMemory {
            conversations,
            deleted,
        } => {
            run.conversations = conversations.len() as u64;
            run.deleted = deleted;
            Box::new(conversations.into_iter().map(Ok))
        }
        Sorted::Runs(runs) => {
            run.conversations = runs.conversations;
            run.deleted = runs.deleted;
            Box::new(runs.map(|c| c.map_err(std::io::Error::from)))
        }
    };
    let chunk = output::chunk_for(render_budget(plan.budget.bytes(), run.conversations));
    let written = output::write_all(
        publish.dir(),
        output::chunked(conversations, chunk),
        &report.rejections,
        &loaded.names,
        settings,
        &run,
    );
    written.map_err(|e| failed("writing the outputs", &e))?;
    let retired = publish.commit().map_err(publish_failure)?;
    let seconds = started.elapsed().as_secs_f64();
    retired.wait();
    Ok(ComputeSummary {
        run,
        ignored_events,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reports_figures_are_counted_in_the_memory_budget_before_rendering_chunks_are_sized() {
        let budget = 1u64 << 30;
        let n = 10_000_000;
        let left = render_budget(budget, n);
        assert_eq!(left + n * aggregate::VALUE_BYTES_PER_CONVERSATION, budget);
        // Fewer conversations in flight while rendering than without them.
        assert!(output::chunk_for(left) < output::chunk_for(budget));
        // Figures beyond the whole budget leave the smallest chunks, no wrap.
        assert_eq!(render_budget(1 << 20, n), 0);
        assert_eq!(output::chunk_for(0), output::chunk_for(1));
    }
}
