//! The bulk writer: operations in (a bounded channel, so producers wait when
//! Elasticsearch is slower than they are), NDJSON `_bulk` requests out, every
//! operation ending as indexed, stale-skipped (409), deleted, or dead-lettered.
//!
//! - [`batch`]: operations and NDJSON body building.
//! - [`request`]: one `_bulk` HTTP exchange and its whole-request classification.
//! - [`response`]: per-item results, matched by position.
//! - [`retry`]: capped full-jitter exponential backoff.
//! - [`concurrency`]: the AIMD limit on requests in flight.
//! - [`dead_letter`]: the dead-letter file, `dlq list`, `dlq replay`.
//! - [`metrics`](mod@metrics): counters.
//! - [`writer`]: the batching loop and per-batch retry logic tying it together.

pub mod batch;
pub mod concurrency;
pub mod counters;
pub mod dead_letter;
pub mod request;
pub mod response;
pub mod retry;
pub mod writer;

pub use batch::{Action, BulkOp};
pub use counters::{BulkMetrics, MetricsSnapshot};
pub use response::OpOutcome;
pub use writer::{BulkWriter, WriteSummary};
