//! Cutting an opened input into blocks of whole lines (about 1 MiB each),
//! numbering lines as it goes. Lines longer than [`MAX_LINE_BYTES`] are
//! skipped while reading, so memory stays bounded whatever the input, and
//! reported as oversized for rejection.
//!
//! An edge: it does I/O and nothing else.

use super::open::Source;
use crate::record::MAX_LINE_BYTES;
use std::io::{self, Read};

/// Bytes read per block, roughly.
const BLOCK_BYTES: usize = 1 << 20;

/// A run of whole lines from one source.
#[derive(Debug)]
pub enum Block {
    /// `data` holds complete lines, the first being line `first_line`
    /// (1-based); the last may lack its `\n` at end of input.
    Lines {
        source: usize,
        first_line: u64,
        data: Vec<u8>,
    },
    /// Line `line` is longer than the limit and was skipped unread.
    Oversized {
        source: usize,
        line: u64,
        bytes: u64,
    },
}

/// Buffers handed back by whoever consumed a block, for reuse: allocating
/// a fresh megabyte per block costs page faults that dwarf the parsing.
pub type Recycled = crossbeam_channel::Receiver<Vec<u8>>;

/// Reads one source and cuts it into [`Block`]s.
pub struct Blocks {
    source_index: usize,
    reader: Box<dyn Read + Send>,
    pending: Vec<u8>,
    next_line: u64,
    done: bool,
    recycled: Option<Recycled>,
}

impl Blocks {
    pub fn new(source_index: usize, source: Source) -> Blocks {
        Blocks::with_recycling(source_index, source, None)
    }

    /// Like [`Blocks::new`], taking buffers for new blocks from `recycled`
    /// when it has any.
    pub fn with_recycling(
        source_index: usize,
        source: Source,
        recycled: Option<Recycled>,
    ) -> Blocks {
        Blocks {
            source_index,
            reader: source.reader,
            pending: Vec::with_capacity(BLOCK_BYTES * 2),
            next_line: 1,
            done: false,
            recycled,
        }
    }

    fn fresh_buffer(&self) -> Vec<u8> {
        match self.recycled.as_ref().and_then(|r| r.try_recv().ok()) {
            Some(mut b) => {
                b.clear();
                b
            }
            None => Vec::with_capacity(BLOCK_BYTES * 2),
        }
    }

    /// Reads up to `want` more bytes into `pending`; 0 at end of input.
    fn fill(&mut self, want: usize) -> io::Result<usize> {
        (&mut self.reader)
            .take(want as u64)
            .read_to_end(&mut self.pending)
    }

    /// Skips the rest of an oversized line; returns the bytes skipped.
    fn skip_line(&mut self) -> io::Result<u64> {
        let mut skipped = 0u64;
        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.pending) {
                skipped += pos as u64;
                self.pending.drain(..=pos);
                return Ok(skipped);
            }
            skipped += self.pending.len() as u64;
            self.pending.clear();
            if self.fill(BLOCK_BYTES)? == 0 {
                self.done = true;
                return Ok(skipped);
            }
        }
    }

    /// The next block, or `None` at end of input.
    pub fn next_block(&mut self) -> io::Result<Option<Block>> {
        loop {
            if self.done {
                if self.pending.is_empty() {
                    return Ok(None);
                }
                let data = std::mem::take(&mut self.pending);
                return Ok(Some(self.lines(data)));
            }
            let have_line_end = memchr::memrchr(b'\n', &self.pending);
            if self.pending.len() >= BLOCK_BYTES {
                if let Some(pos) = have_line_end {
                    let mut next = self.fresh_buffer();
                    next.extend_from_slice(self.pending.get(pos + 1..).unwrap_or_default());
                    self.pending.truncate(pos + 1);
                    let data = std::mem::replace(&mut self.pending, next);
                    return Ok(Some(self.lines(data)));
                }
                if self.pending.len() > MAX_LINE_BYTES {
                    let line = self.next_line;
                    let bytes = self.skip_line()?;
                    self.next_line += 1;
                    return Ok(Some(Block::Oversized {
                        source: self.source_index,
                        line,
                        bytes,
                    }));
                }
            }
            if self.fill(BLOCK_BYTES)? == 0 {
                self.done = true;
            }
        }
    }

    fn lines(&mut self, data: Vec<u8>) -> Block {
        let first_line = self.next_line;
        self.next_line += memchr::memchr_iter(b'\n', &data).count() as u64;
        Block::Lines {
            source: self.source_index,
            first_line,
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks_of(input: Vec<u8>) -> Vec<Block> {
        let src = Source {
            name: "t".into(),
            len: None,
            reader: Box::new(io::Cursor::new(input)),
        };
        let mut b = Blocks::new(0, src);
        let mut out = Vec::new();
        while let Some(x) = b.next_block().unwrap() {
            out.push(x);
        }
        out
    }

    #[test]
    fn an_oversized_line_is_skipped_and_numbering_goes_on() {
        let mut input = b"a\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 3 * BLOCK_BYTES));
        input.extend(b"\nb\nc");
        let blocks = blocks_of(input);
        let mut lines = Vec::new();
        let mut oversized = Vec::new();
        for b in blocks {
            match b {
                Block::Lines {
                    first_line, data, ..
                } => {
                    for (i, l) in data.split(|&c| c == b'\n').enumerate() {
                        if !l.is_empty() {
                            lines.push((
                                first_line + i as u64,
                                String::from_utf8(l.to_vec()).unwrap(),
                            ));
                        }
                    }
                }
                Block::Oversized { line, bytes, .. } => oversized.push((line, bytes)),
            }
        }
        assert_eq!(
            oversized,
            vec![(2, (MAX_LINE_BYTES + 3 * BLOCK_BYTES) as u64)]
        );
        assert_eq!(
            lines,
            vec![(1, "a".into()), (3, "b".into()), (4, "c".into())]
        );
    }
}
