//! Large output files written front to back, whose pages go to disk while
//! the file is still being written and then leave the page cache.
//!
//! Without it, gigabytes of outputs sit dirty in memory until the final
//! `fsync` of [`crate::publish`], which then waits for all of them at once,
//! and they push out of the cache whatever else was there (at 10M
//! conversations, 29 GB go through a 24 GB page cache). With it, every
//! [`WINDOW`] written starts its writeback at once (`sync_file_range`), the
//! window before it is waited for and dropped from the cache
//! (`posix_fadvise(DONTNEED)`), so the final sync has at most two windows
//! left and the cache holds at most two windows per file.
//!
//! An edge: file I/O only. On systems other than Linux the file is written
//! plainly.

use std::fs::File;
use std::io::{self, Write};

/// Bytes between two writeback requests.
pub const WINDOW: u64 = 32 << 20;

/// A file written from its start, in order, with write-behind.
pub struct WriteBehind {
    file: File,
    /// Bytes written so far.
    written: u64,
    /// Where the window not yet handed to writeback starts.
    requested: u64,
}

impl WriteBehind {
    /// `file` must be empty and opened for writing.
    pub fn new(file: File) -> WriteBehind {
        WriteBehind {
            file,
            written: 0,
            requested: 0,
        }
    }

    /// Hands each full window to writeback; waits for the one before.
    fn behind(&mut self) -> io::Result<()> {
        while self.written - self.requested >= WINDOW {
            let start = self.requested;
            platform::start_writeback(&self.file, start, WINDOW)?;
            if let Some(before) = start.checked_sub(WINDOW) {
                platform::finish_and_drop(&self.file, before, WINDOW)?;
            }
            self.requested += WINDOW;
        }
        Ok(())
    }
}

impl Write for WriteBehind {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        self.behind()?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;

    fn range(file: &File, offset: u64, len: u64, flags: libc::c_uint) -> io::Result<()> {
        let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
            return Ok(());
        };
        // SAFETY: the descriptor is open for the lifetime of `file`; the call
        // takes integers only and touches no memory of ours.
        let rc = unsafe { libc::sync_file_range(file.as_raw_fd(), offset, len, flags) };
        if rc == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        // File systems without the call (some FUSE, network ones): the
        // final fsync does the work, as without write-behind.
        match e.raw_os_error() {
            Some(libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP | libc::ESPIPE) => Ok(()),
            _ => Err(e),
        }
    }

    /// Starts writing `len` bytes at `offset` to disk, without waiting.
    pub fn start_writeback(file: &File, offset: u64, len: u64) -> io::Result<()> {
        range(file, offset, len, libc::SYNC_FILE_RANGE_WRITE)
    }

    /// Waits until `len` bytes at `offset` are on disk, then drops them from
    /// the page cache.
    pub fn finish_and_drop(file: &File, offset: u64, len: u64) -> io::Result<()> {
        range(
            file,
            offset,
            len,
            libc::SYNC_FILE_RANGE_WAIT_BEFORE
                | libc::SYNC_FILE_RANGE_WRITE
                | libc::SYNC_FILE_RANGE_WAIT_AFTER,
        )?;
        // Advice only: a refusal changes nothing that matters.
        let _ = rustix::fs::fadvise(
            file,
            offset,
            std::num::NonZeroU64::new(len),
            rustix::fs::Advice::DontNeed,
        );
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use std::fs::File;
    use std::io;

    pub fn start_writeback(_: &File, _: u64, _: u64) -> io::Result<()> {
        Ok(())
    }

    pub fn finish_and_drop(_: &File, _: u64, _: u64) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn a_file_written_through_write_behind_holds_every_byte_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let mut w = WriteBehind::new(File::create(&path).unwrap());
        // Three windows and a bit, in uneven pieces.
        let piece: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
        let mut expected = Vec::new();
        while (expected.len() as u64) < 3 * WINDOW + 12_345 {
            w.write_all(&piece).unwrap();
            expected.extend_from_slice(&piece);
        }
        w.flush().unwrap();
        assert!(w.requested >= 3 * WINDOW);
        drop(w);
        let mut got = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut got).unwrap();
        assert!(got == expected, "the file differs from what was written");
    }
}
