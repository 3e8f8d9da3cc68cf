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
        crate::source::LoadError::Read { .. } | crate::source::LoadError::WorkerPanicked(_) => {
            Failure::Runtime(e.into())
        }
    }
}
