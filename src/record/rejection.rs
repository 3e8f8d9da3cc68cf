//! What reading told about the input: a rejected line with its reason, and
//! the counts of lines, records and rejections.

/// A rejected input line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejection {
    pub source: usize,
    pub line: u64,
    pub reason: String,
}

/// Counts of what was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Non-blank lines.
    pub lines: u64,
    /// Lines accepted as records.
    pub records: u64,
    /// Accepted notifications on topics that are not about conversations.
    pub ignored_events: u64,
    pub rejected: u64,
}

impl Counts {
    /// Adds another worker's counts.
    pub fn add(&mut self, o: Counts) {
        self.lines += o.lines;
        self.records += o.records;
        self.ignored_events += o.ignored_events;
        self.rejected += o.rejected;
    }
}
