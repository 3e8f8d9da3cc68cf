//! Conversation revisions, the external versions of both documents: a
//! revision only grows, within a process and across processes and restarts,
//! and between a backfill and later continuous ingestion, because it is tied
//! to the clock: `max(previous + 1, now in microseconds)`. Persist it with
//! the conversation.

use std::time::{SystemTime, UNIX_EPOCH};

/// The next revision after `previous` (none for a new conversation) at `now`.
pub fn next_revision(previous: Option<u64>, now: SystemTime) -> u64 {
    let micros = now
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    match previous {
        Some(p) => micros.max(p.saturating_add(1)),
        None => micros.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn revisions_only_grow_even_when_the_clock_goes_back() {
        let t = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let a = next_revision(None, t);
        assert_eq!(a, 1_800_000_000_000_000);
        let b = next_revision(Some(a), t - Duration::from_secs(5));
        assert_eq!(b, a + 1);
        let c = next_revision(Some(b), t + Duration::from_secs(1));
        assert!(c > b);
        assert_eq!(next_revision(None, UNIX_EPOCH), 1);
    }
}
