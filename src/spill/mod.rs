//! A batch run over its memory budget (cli.md, "Memory"): the validated
//! records are spilled by partition (the stable hash of [`crate::partition`],
//! the one the state store uses), each group of partitions is then merged,
//! and the groups' sorted conversations are merged back into key order, so
//! the outputs are byte-identical to a run held wholly in memory.
//!
//! - [`budget`]: `--memory-budget` sizes and the default.
//! - [`codec`]: the compact binary frames (no second JSON parse).
//! - [`partitions`]: the parse workers' side: records into per-partition
//!   buffers, kept in memory while they fit, written to spill files beyond.
//! - [`groups`]: the partitions read back group by group, merged with the
//!   one merge of every run ([`crate::source::batch::BatchMerge`]), and the
//!   sorted runs merged into key order.
//!
//! Spill files live in a `.convstats-spill-*` directory created inside the
//! spill directory when the first byte has to leave memory, and removed
//! with everything in it when the run ends, whether it succeeded or failed.
//! A full disk stops the run with [`SpillError::DiskFull`]. An edge: files.

pub mod budget;
pub mod codec;
pub mod groups;
pub mod partitions;

pub use budget::MemoryBudget;
pub use groups::{RunMerge, Sorted, Spilled};
pub use partitions::Partitions;

use std::io;
use std::path::PathBuf;

/// Where and how much a batch run may spill.
#[derive(Debug, Clone)]
pub struct SpillPlan {
    pub budget: MemoryBudget,
    /// The directory the spill directory is created in.
    pub dir: PathBuf,
}

/// Why spilling failed (exit 1; the outputs are left as they were).
#[derive(Debug, thiserror::Error)]
pub enum SpillError {
    #[error(
        "the disk holding the spill directory {dir} is full ({source}) after {spilled} bytes were spilled; free space there, point --spill-dir at a larger disk, or raise --memory-budget so that less is spilled"
    )]
    DiskFull {
        dir: PathBuf,
        spilled: u64,
        source: io::Error,
    },
    #[error("{what} {path}: {source}; check that the spill directory (--spill-dir) is writable")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(
        "{path}: {source}: this run needs more open files than this process may have; raise the limit (ulimit -n), or give a larger --memory-budget (fewer partitions and runs)"
    )]
    TooManyFiles { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Codec(#[from] codec::CodecError),
}

impl SpillError {
    /// Reading `path` failed (the descriptor limits told apart).
    fn read(what: &'static str, path: PathBuf, e: io::Error) -> Self {
        if matches!(e.raw_os_error(), Some(23 | 24)) {
            return SpillError::TooManyFiles { path, source: e };
        }
        SpillError::Io {
            what,
            path,
            source: e,
        }
    }

    /// `what` failed on `path`: a full disk or quota is told apart.
    fn io(what: &'static str, path: PathBuf, dir: PathBuf, spilled: u64, e: io::Error) -> Self {
        if matches!(
            e.kind(),
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
        ) {
            SpillError::DiskFull {
                dir,
                spilled,
                source: e,
            }
        } else {
            // EMFILE, ENFILE: the descriptor limits, not the disk.
            SpillError::read(what, path, e)
        }
    }
}

/// Raises this process's soft limit of open files to its hard limit, where
/// the system allows it (Linux): spilling keeps a file open per partition
/// (up to 1,024) while records are read, and one per run while runs merge.
pub(crate) fn raise_open_file_limit() {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            let raised = rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!(error = %e, "the open-file limit could not be raised");
            }
        }
    }
}

/// A fresh `.convstats-spill-*` directory in `base`, removed when dropped.
fn create_dir(base: &std::path::Path) -> Result<tempfile::TempDir, SpillError> {
    tempfile::Builder::new()
        .prefix(".convstats-spill-")
        .tempdir_in(base)
        .map_err(|e| {
            SpillError::io(
                "cannot create a spill directory in",
                base.to_path_buf(),
                base.to_path_buf(),
                0,
                e,
            )
        })
}

impl From<SpillError> for io::Error {
    fn from(e: SpillError) -> io::Error {
        io::Error::other(e.to_string())
    }
}
