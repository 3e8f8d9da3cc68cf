//! Elasticsearch edge: connection, index templates and aliases, the bulk
//! writer (batching, retries, AIMD concurrency, dead letters), and the setup,
//! backfill and dead-letter-replay protocols of `spec/elasticsearch.md`.
//!
//! The core hands this module documents already serialized as JSON; nothing
//! here computes metrics. Layout, one concept per file:
//!
//! - [`config`]: connection and writer settings, secrets ([`crate::secret::Secret`]).
//! - [`error`]: [`EsError`], every failure this module reports.
//! - [`client`]: [`EsClient`], raw requests over the official client and the
//!   start-up cluster check.
//! - [`templates`]: the embedded `mappings/*.json` templates, rendered per alias.
//! - [`bulk`]: the bulk writer.
//! - [`bulk::dead_letter`]: the dead-letter file, `dlq list` and `dlq replay`.
//! - [`revision`]: monotonic revisions (external versions).
//! - [`setup`], [`backfill`]: the index-family protocols.

pub mod backfill;
pub mod bulk;
pub mod client;
pub mod config;
pub mod error;
pub mod policy;
pub mod product;
pub mod revision;
pub mod scan;
pub mod setup;
pub mod templates;

pub use bulk::dead_letter;
pub use bulk::{Action, BulkOp, BulkWriter, OpOutcome, WriteSummary};
pub use client::{ClusterInfo, EsClient};
pub use config::{Aliases, Auth, BulkConfig, DEFAULT_DEAD_LETTER_FILE, EsConfig, Secret};
pub use error::EsError;
pub use templates::Family;
