//! Opening an input: a file, a `.gz` file (decompressed, multi-member), or
//! stdin (`-`), with a byte counter for progress.
//!
//! An edge: it does I/O and nothing else.

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// An opened input.
pub struct Source {
    /// The file name as given, or `-` for stdin.
    pub name: String,
    /// Size on disk when known (compressed size for `.gz`), for progress.
    pub len: Option<u64>,
    pub(super) reader: Box<dyn Read + Send>,
}

/// Why an input could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("input file {name}: {source}; check the path")]
pub struct OpenError {
    pub name: String,
    pub source: io::Error,
}

/// Counts raw bytes read, for progress reporting.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens `name` (`-` is stdin; a name ending `.gz` is decompressed), adding
/// the raw bytes it reads to `progress`.
pub fn open(name: &str, progress: Arc<AtomicU64>) -> Result<Source, OpenError> {
    if name == "-" {
        return Ok(Source {
            name: name.to_string(),
            len: None,
            reader: Box::new(Counting {
                inner: io::stdin(),
                counter: progress,
            }),
        });
    }
    let err = |source| OpenError {
        name: name.to_string(),
        source,
    };
    let file = File::open(Path::new(name)).map_err(err)?;
    let meta = file.metadata().map_err(err)?;
    if meta.is_dir() {
        return Err(err(io::Error::other("is a directory")));
    }
    let counted = Counting {
        inner: file,
        counter: progress,
    };
    let reader: Box<dyn Read + Send> = if name.ends_with(".gz") {
        Box::new(MultiGzDecoder::new(io::BufReader::with_capacity(
            1 << 16,
            counted,
        )))
    } else {
        Box::new(counted)
    };
    Ok(Source {
        name: name.to_string(),
        len: Some(meta.len()),
        reader,
    })
}
