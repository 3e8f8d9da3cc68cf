//! convstats: customer-support conversation events → reporting metrics.
//!
//! Data flows one way (spec README): `record` (parse, validate) →
//! `conversation` (merge) → `metrics` (pure, with `office_hours`) →
//! `document` (new, legacy, CSV row) → sinks at the edges.
pub mod aggregate;
pub mod commands;
pub mod config;
pub mod conversation;
pub mod document;
pub mod elasticsearch;
pub mod export;
pub mod indexer;
pub mod kibana;
pub mod metrics;
pub mod office_hours;
pub mod output;
pub mod partition;
pub mod publish;
pub mod record;
pub mod redact;
pub mod report;
pub mod secret;
pub mod serve;
pub mod source;
pub mod spill;
pub mod store;
pub mod synth;
pub mod write_behind;
