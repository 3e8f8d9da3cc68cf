//! Writer counters, shared with whoever wants to watch progress (backfill's
//! progress bar, `serve`'s `/metrics`).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Live counters.
#[derive(Debug, Default)]
pub struct BulkMetrics {
    /// Operations handed to the writer.
    pub sent: AtomicU64,
    /// Index operations written (2xx).
    pub indexed: AtomicU64,
    /// Delete operations done (2xx, or 404: nothing to delete).
    pub deleted: AtomicU64,
    /// Operations answered 409 (already newer).
    pub stale_skipped: AtomicU64,
    /// Operation sends repeated (item retries and whole-request retries).
    pub retried: AtomicU64,
    /// Operations appended to the dead-letter file.
    pub dead_lettered: AtomicU64,
    /// Request body bytes sent (after gzip), retries included.
    pub bytes: AtomicU64,
    /// HTTP requests made.
    pub requests: AtomicU64,
    /// HTTP requests in flight now.
    pub in_flight: AtomicU64,
}

/// A copy of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetricsSnapshot {
    pub sent: u64,
    pub indexed: u64,
    pub deleted: u64,
    pub stale_skipped: u64,
    pub retried: u64,
    pub dead_lettered: u64,
    pub bytes: u64,
    pub requests: u64,
    pub in_flight: u64,
}

impl std::ops::AddAssign for MetricsSnapshot {
    /// Sums two writers' counters (`in_flight` is a level, not summed).
    fn add_assign(&mut self, o: MetricsSnapshot) {
        self.sent += o.sent;
        self.indexed += o.indexed;
        self.deleted += o.deleted;
        self.stale_skipped += o.stale_skipped;
        self.retried += o.retried;
        self.dead_lettered += o.dead_lettered;
        self.bytes += o.bytes;
        self.requests += o.requests;
    }
}

impl MetricsSnapshot {
    /// Operations finished one way or another.
    pub fn finished(&self) -> u64 {
        self.indexed + self.deleted + self.stale_skipped + self.dead_lettered
    }
}

impl BulkMetrics {
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            sent: self.sent.load(Relaxed),
            indexed: self.indexed.load(Relaxed),
            deleted: self.deleted.load(Relaxed),
            stale_skipped: self.stale_skipped.load(Relaxed),
            retried: self.retried.load(Relaxed),
            dead_lettered: self.dead_lettered.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            requests: self.requests.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }
}
