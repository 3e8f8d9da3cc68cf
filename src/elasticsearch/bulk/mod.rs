//! The bulk writer: operations in (a bounded channel, so producers wait when
//! Elasticsearch is slower than they are), NDJSON `_bulk` requests out, every
//! operation ending as indexed, stale-skipped (409), deleted, or dead-lettered.
//!
//! - [`batch`]: operations and NDJSON body building.
//! - [`request`]: one `_bulk` HTTP exchange, its status decided by [`crate::elasticsearch::policy`].
//! - [`response`]: per-item results, matched by position.
//! - [`retry`]: capped full-jitter exponential backoff.
//! - [`concurrency`]: the AIMD limit on requests in flight.
//! - [`dead_letter`]: the dead-letter file, `dlq list`, `dlq replay`.
//! - [`counters`] (the writer's counters).
//! - [`writer`]: the batching loop; carries out the policy's decisions
//!   (backoff, split, retry exactly the failed items, dead letters).

pub mod batch;
pub mod concurrency;
pub mod counters;
pub mod dead_letter;
pub mod request;
pub mod response;
pub mod retry;
pub mod writer;

pub use crate::elasticsearch::policy::OpOutcome;
pub use batch::{Action, BulkOp};
pub use counters::{BulkMetrics, MetricsSnapshot};
pub use writer::{BulkWriter, WriteSummary};
