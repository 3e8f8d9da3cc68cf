//! Subcommands: each wires library modules together and does nothing else.

pub mod backfill;
pub mod check_config;
pub mod compute;
pub mod dlq;
pub mod es;
pub mod export;
pub mod progress;
pub mod serve;
pub mod setup;
pub mod synth;

/// How a command failed, which decides the exit code (cli.md).
#[derive(Debug)]
pub enum Failure {
    /// Bad usage or configuration, a missing input file: exit 2.
    Usage(anyhow::Error),
    /// I/O, a truncated gzip, Elasticsearch gave up: exit 1.
    Runtime(anyhow::Error),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Runtime(_) => 1,
        }
    }

    pub fn error(&self) -> &anyhow::Error {
        match self {
            Failure::Usage(e) | Failure::Runtime(e) => e,
        }
    }
}

/// A loading failure as a command failure: an input that cannot be opened
/// is a usage error (exit 2); a read that fails part-way, or a parse worker
/// lost to a bug, is a runtime failure (exit 1).
pub fn load_failure(e: crate::source::LoadError) -> Failure {
    match e {
        crate::source::LoadError::Open(_) => Failure::Usage(e.into()),
        crate::source::LoadError::Read { .. }
        | crate::source::LoadError::WorkerPanicked(_)
        | crate::source::LoadError::Spill(_) => Failure::Runtime(e.into()),
    }
}

/// `--memory-budget` and `--spill-dir`, shared by `compute` and `backfill`
/// (cli.md, "Memory").
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MemoryArgs {
    /// Memory the run may hold before it spills to disk, e.g. 512MiB, 4GiB
    /// or 2GB [default: a quarter of the machine's memory]
    #[arg(long, value_name = "BYTES", env = "CONVSTATS_MEMORY_BUDGET")]
    pub memory_budget: Option<crate::spill::MemoryBudget>,
    /// Directory for the spill files of a run over its budget (a
    /// `.convstats-spill-*` directory inside it, removed at the end)
    /// [default: compute: inside --out's staging directory; backfill: the
    /// dead-letter file's directory]
    #[arg(long, value_name = "DIR", env = "CONVSTATS_SPILL_DIR")]
    pub spill_dir: Option<std::path::PathBuf>,
}

impl MemoryArgs {
    /// The plan, spilling into `--spill-dir` or else `default_dir`; a spill
    /// directory that is not an existing directory is a usage error.
    pub fn plan(&self, default_dir: &std::path::Path) -> Result<crate::spill::SpillPlan, Failure> {
        let dir = self
            .spill_dir
            .clone()
            .unwrap_or_else(|| default_dir.to_path_buf());
        if !dir.is_dir() {
            return Err(Failure::Usage(anyhow::anyhow!(
                "the spill directory {} is not an existing directory; create it, or name another with --spill-dir",
                dir.display()
            )));
        }
        Ok(crate::spill::SpillPlan {
            budget: self
                .memory_budget
                .unwrap_or_else(crate::spill::MemoryBudget::default_for_machine),
            dir,
        })
    }
}
