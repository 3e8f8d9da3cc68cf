//! Progress bars of the long commands (compute, backfill, dlq replay,
//! export): shown only when stderr is a terminal, with a rate and, where
//! the total is known, an ETA. Elsewhere nothing is drawn and each command
//! prints its one-line summary when done.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};

/// Whether bars are drawn: stderr is a terminal.
pub fn wanted() -> bool {
    std::io::stderr().is_terminal()
}

/// A bar counting `unit` towards `total` (rate and ETA), or a spinner with
/// the count and rate when the total is unknown; `None` off a terminal.
pub fn bar(total: Option<u64>, unit: &str) -> Option<ProgressBar> {
    if !wanted() {
        return None;
    }
    let (bar, template) = match total {
        Some(t) => (
            ProgressBar::new(t),
            format!(
                "{{spinner}} {{human_pos}}/{{human_len}} {unit} [{{wide_bar}}] {{per_sec}}, ETA {{eta}}"
            ),
        ),
        None => (
            ProgressBar::new_spinner(),
            format!("{{spinner}} {{human_pos}} {unit}, {{per_sec}}, {{elapsed}}"),
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

/// A writer that moves a bar by one for every line written through it (the
/// CSV export's rows; a quoted field holding a line break moves it twice,
/// which a progress display can bear).
pub struct LineCounter<W> {
    inner: W,
    bar: Option<ProgressBar>,
}

impl<W: Write> LineCounter<W> {
    pub fn new(inner: W, bar: Option<ProgressBar>) -> Self {
        LineCounter { inner, bar }
    }
}

impl<W: Write> Write for LineCounter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(b) = &self.bar {
            b.inc(memchr::memchr_iter(b'\n', &buf[..n]).count() as u64);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W> Drop for LineCounter<W> {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counter_passes_every_byte_through_and_counts_the_lines() {
        let mut out = Vec::new();
        let bar = ProgressBar::hidden();
        {
            let mut w = LineCounter::new(&mut out, Some(bar.clone()));
            w.write_all(b"a,b\nc,d\n").unwrap();
            w.flush().unwrap();
        }
        assert_eq!(out, b"a,b\nc,d\n");
        assert_eq!(bar.position(), 2, "one step per line");
    }
}
