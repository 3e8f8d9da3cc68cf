//! `convstats gen`: synthetic Intercom conversations (NDJSON) on stdout
//! (the generator is `crate::synth`).

use super::Failure;
use crate::synth::{GenParams, sample_config, write_all};
use anyhow::anyhow;
use std::io::{self, Write};

/// `convstats gen`.
#[derive(Debug, Clone, clap::Args)]
pub struct GenArgs {
    /// How many conversations
    #[arg(long, default_value_t = 1000)]
    pub conversations: u64,
    /// Seed: the same arguments always give the same bytes
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of workspaces (ws-1, ws-2, ...)
    #[arg(long, default_value_t = 3)]
    pub workspaces: u32,
    /// First date of the arrival window (YYYY-MM-DD)
    #[arg(long, default_value = "2026-01-05")]
    pub start: chrono::NaiveDate,
    /// Length of the arrival window in days
    #[arg(long, default_value_t = 28)]
    pub days: u32,
    /// Print a convstats.toml (office hours, bot ids) for the generated workspaces instead
    #[arg(long)]
    pub print_config: bool,
}

/// Writes the conversations to stdout, or the sample configuration for the
/// generated workspaces with `--print-config`.
pub fn run(args: &GenArgs) -> Result<(), Failure> {
    let params = &GenParams {
        conversations: args.conversations,
        seed: args.seed,
        workspaces: args.workspaces,
        start: args.start,
        days: args.days,
    };
    let config_only = args.print_config;
    params
        .validate()
        .map_err(|e| Failure::Usage(anyhow!("{e}")))?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 20, stdout.lock());
    let result = if config_only {
        out.write_all(sample_config(params.workspaces).as_bytes())
            .and_then(|()| out.flush())
    } else {
        write_all(params, &mut out).and_then(|()| out.flush())
    };
    match result {
        Ok(()) => Ok(()),
        // `convstats gen | head` is a normal way to look at a few lines.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Runtime(anyhow!("writing to stdout: {e}"))),
    }
}
