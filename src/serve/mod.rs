//! The HTTP edge of continuous ingestion (`convstats serve`, cli.md):
//! routes and their limits (`routes.rs`), the parsing of an NDJSON body into
//! accepted lines and per-line rejections (`ingest.rs`), and the group
//! committer that makes accepted lines durable in the state store before a
//! request is answered (`commit.rs`).

pub mod commit;
pub mod ingest;
pub mod routes;
pub mod signature;
