//! The parse workers' side of spilling: every validated record goes, as a
//! binary frame with its read position, into the buffer of its
//! conversation's partition. Buffers stay in memory while all of them
//! together fit the share of the budget they are given; beyond it, each
//! partition's bytes go to its own file in the spill directory (created
//! then, not before: a run that fits never touches the disk).

use super::{SpillError, codec};
use crate::conversation::Seq;
use crate::partition;
use crate::record::Record;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A worker hands a partition its frames in pieces of about this size.
const LOCAL_BYTES: usize = 16 << 10;

/// One partition's bytes: in memory, or in its file (never both once the
/// file exists, except for what [`Partitions::finish_writing`] moves).
#[derive(Debug, Default)]
pub(super) struct Sink {
    pub(super) mem: Vec<u8>,
    /// Its spill file, once it has one.
    path: Option<PathBuf>,
    /// That file, open for appending while it is written (closed once the
    /// writing is done, so that thousands of parts hold no descriptors).
    handle: Option<File>,
    pub(super) on_disk: u64,
}

impl Sink {
    /// Appends `bytes` to this sink's file, created first when it has none
    /// as `partition-NUMBER.bin` in `dir`; `base` (the spill directory the
    /// user named) and `spilled` (bytes so far) go into a full disk's error.
    pub(super) fn append_to_file(
        &mut self,
        dir: &Path,
        number: usize,
        bytes: &[u8],
        base: &Path,
        spilled: u64,
    ) -> Result<(), SpillError> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.handle.is_none() {
            let (path, opened) = match &self.path {
                Some(path) => (
                    path.clone(),
                    std::fs::OpenOptions::new().append(true).open(path),
                ),
                None => {
                    let path = dir.join(format!("partition-{number:04}.bin"));
                    (path.clone(), File::create(&path))
                }
            };
            let file = opened.map_err(|e| {
                SpillError::io(
                    "cannot create the spill file",
                    path.clone(),
                    base.to_path_buf(),
                    spilled,
                    e,
                )
            })?;
            self.path = Some(path);
            self.handle = Some(file);
        }
        if let (Some(path), Some(file)) = (self.path.as_ref(), self.handle.as_mut()) {
            file.write_all(bytes).map_err(|e| {
                SpillError::io(
                    "writing the spill file",
                    path.clone(),
                    base.to_path_buf(),
                    spilled,
                    e,
                )
            })?;
            self.on_disk += bytes.len() as u64;
        }
        Ok(())
    }

    /// Whether its bytes went to a file.
    pub(super) fn has_file(&self) -> bool {
        self.path.is_some()
    }

    /// Closes its file (it is opened again to append, or to be read).
    pub(super) fn close(&mut self) {
        self.handle = None;
    }

    /// Its file's path, taken away to be read (the file closed).
    pub(super) fn take_path(&mut self) -> Option<PathBuf> {
        self.handle = None;
        self.path.take()
    }
}

/// Every partition of one run, shared by the parse workers.
#[derive(Debug)]
pub struct Partitions {
    base: PathBuf,
    dir: Mutex<Option<tempfile::TempDir>>,
    sinks: Vec<Mutex<Sink>>,
    buffered: AtomicU64,
    spilled: AtomicU64,
    threshold: u64,
    failed: AtomicBool,
    error: Mutex<Option<SpillError>>,
}

impl Partitions {
    /// `count` partitions (at least 1) whose buffers may hold `in_memory`
    /// bytes together; the spill directory would be created in `base`.
    pub fn new(count: u32, in_memory: u64, base: &Path) -> Partitions {
        super::raise_open_file_limit();
        Partitions {
            base: base.to_path_buf(),
            dir: Mutex::new(None),
            sinks: (0..count.max(1))
                .map(|_| Mutex::new(Sink::default()))
                .collect(),
            buffered: AtomicU64::new(0),
            spilled: AtomicU64::new(0),
            threshold: in_memory,
            failed: AtomicBool::new(false),
            error: Mutex::new(None),
        }
    }

    pub fn count(&self) -> u32 {
        self.sinks.len() as u32
    }

    /// True once spilling failed: readers may stop early.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    fn fail(&self, e: SpillError) {
        self.failed.store(true, Ordering::Relaxed);
        if let Ok(mut slot) = self.error.lock()
            && slot.is_none()
        {
            *slot = Some(e);
        }
    }

    /// A worker's buffers for these partitions.
    pub fn local(&self) -> Local<'_> {
        Local {
            parts: self,
            bufs: vec![Vec::new(); self.sinks.len()],
        }
    }

    /// The spill directory, created on first use.
    fn spill_dir(&self) -> Result<PathBuf, SpillError> {
        let mut dir = self.dir.lock().map_err(|_| SpillError::Io {
            what: "creating a spill directory in",
            path: self.base.clone(),
            source: std::io::Error::other("a worker panicked"),
        })?;
        if let Some(d) = dir.as_ref() {
            return Ok(d.path().to_path_buf());
        }
        let created = super::create_dir(&self.base)?;
        let path = created.path().to_path_buf();
        tracing::info!(dir = %path.display(), "over the memory budget: spilling to disk");
        *dir = Some(created);
        Ok(path)
    }

    /// Adds `bytes` (whole frames) to partition `p`.
    fn append(&self, p: usize, bytes: &[u8]) {
        if self.failed() || bytes.is_empty() {
            return;
        }
        if let Err(e) = self.try_append(p, bytes) {
            self.fail(e);
        }
    }

    fn try_append(&self, p: usize, bytes: &[u8]) -> Result<(), SpillError> {
        let Some(sink) = self.sinks.get(p) else {
            return Ok(());
        };
        let mut sink = sink.lock().map_err(|_| SpillError::Io {
            what: "spilling into",
            path: self.base.clone(),
            source: std::io::Error::other("a worker panicked"),
        })?;
        let len = bytes.len() as u64;
        let over = self.buffered.load(Ordering::Relaxed) + len > self.threshold;
        if !sink.has_file() && !over {
            sink.mem.extend_from_slice(bytes);
            self.buffered.fetch_add(len, Ordering::Relaxed);
            return Ok(());
        }
        let held = std::mem::take(&mut sink.mem);
        self.buffered
            .fetch_sub(held.len() as u64, Ordering::Relaxed);
        self.write(p, &mut sink, &held)?;
        self.write(p, &mut sink, bytes)
    }

    /// Writes `bytes` to partition `p`'s file, creating it when needed.
    fn write(&self, p: usize, sink: &mut Sink, bytes: &[u8]) -> Result<(), SpillError> {
        if bytes.is_empty() {
            return Ok(());
        }
        let dir = if !sink.has_file() {
            self.spill_dir()?
        } else {
            PathBuf::new()
        };
        let spilled = self.spilled.load(Ordering::Relaxed);
        sink.append_to_file(&dir, p, bytes, &self.base, spilled)?;
        self.spilled
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Ends the writing: when anything was spilled, what is still in memory
    /// goes to the files too, so that memory is free for merging. Returns
    /// the partitions, or the first error any worker met.
    pub fn finish_writing(self) -> Result<Finished, SpillError> {
        if let Some(e) = self.error.lock().ok().and_then(|mut e| e.take()) {
            return Err(e);
        }
        let spilled = self.dir.lock().map(|d| d.is_some()).unwrap_or(false);
        let mut sinks = Vec::with_capacity(self.sinks.len());
        for (p, sink) in self.sinks.iter().enumerate() {
            let Ok(mut sink) = sink.lock() else {
                return Err(SpillError::Io {
                    what: "spilling into",
                    path: self.base.clone(),
                    source: std::io::Error::other("a worker panicked"),
                });
            };
            let mut sink = std::mem::take(&mut *sink);
            if spilled && !sink.mem.is_empty() {
                let held = std::mem::take(&mut sink.mem);
                self.write(p, &mut sink, &held)?;
            }
            sink.close();
            sinks.push(sink);
        }
        Ok(Finished {
            dir: self.dir.lock().ok().and_then(|mut d| d.take()),
            base: self.base.clone(),
            sinks,
        })
    }
}

/// The partitions once every worker is done: what [`super::Spilled`] reads.
#[derive(Debug)]
pub struct Finished {
    pub(super) dir: Option<tempfile::TempDir>,
    pub(super) base: PathBuf,
    pub(super) sinks: Vec<Sink>,
}

/// One worker's unsent frames, a buffer per partition.
pub struct Local<'a> {
    parts: &'a Partitions,
    bufs: Vec<Vec<u8>>,
}

impl Local<'_> {
    /// Spills `record` read at `seq`; false for a record about no
    /// conversation (it is not kept).
    pub fn push(&mut self, record: Record, seq: Seq) -> bool {
        let Some(key) = record.key() else {
            return false;
        };
        let p = partition::of(key, self.parts.count()) as usize;
        if let Some(buf) = self.bufs.get_mut(p) {
            codec::put_record(buf, seq, &record);
            if buf.len() >= LOCAL_BYTES {
                self.parts.append(p, buf);
                buf.clear();
            }
        }
        true
    }

    /// Hands every remaining frame to its partition.
    pub fn flush(&mut self) {
        for (p, buf) in self.bufs.iter_mut().enumerate() {
            self.parts.append(p, buf);
            *buf = Vec::new();
        }
    }
}

impl Drop for Local<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}
