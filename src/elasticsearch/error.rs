//! [`EsError`]: every failure of the Elasticsearch edge, each saying what
//! failed and what to do. Messages never contain secrets: URLs are stored
//! without user info and credentials only live in [`crate::secret::Secret`].

use std::path::PathBuf;

/// A failure talking to Elasticsearch or running one of its protocols.
#[derive(Debug, thiserror::Error)]
pub enum EsError {
    /// Settings that cannot work (bad URL, unreadable CA file, ...).
    #[error("invalid Elasticsearch configuration: {0}")]
    Config(String),
    /// No node answered.
    #[error(
        "cannot reach Elasticsearch at {urls}: {reason}; check the URL (--es-url) and that the cluster is running and reachable"
    )]
    Unreachable { urls: String, reason: String },
    /// HTTP 401/403.
    #[error(
        "Elasticsearch at {url} rejected the request with HTTP {status} while {what}; check the username/password, API key or bearer token and the user's privileges"
    )]
    Auth {
        url: String,
        status: u16,
        what: String,
    },
    /// Something answered, but not Elasticsearch.
    #[error("the server at {url} does not look like Elasticsearch: {detail}")]
    NotElasticsearch { url: String, detail: String },
    /// A request returned an unexpected HTTP status.
    #[error("{what} failed with HTTP {status}: {reason}")]
    Status {
        what: String,
        status: u16,
        reason: String,
    },
    /// A request failed below HTTP (connection refused/reset, timeout, TLS).
    #[error("{what} failed: {reason}")]
    Transport { what: String, reason: String },
    /// A response could not be parsed.
    #[error("{what}: unexpected response from Elasticsearch: {reason}")]
    Protocol { what: String, reason: String },
    /// The bulk writer stopped because nothing succeeded for too long.
    #[error(
        "gave up: no request to Elasticsearch succeeded for {waited} (last problem: {last}); check the cluster's health and retry later"
    )]
    GaveUp { waited: String, last: String },
    /// The inputs held no document: the aliases are not pointed at empty
    /// indices.
    #[error(
        "no documents were read; refusing to point the aliases at empty indices (check the input files)"
    )]
    NoDocuments,
    /// `--fail-on-dead-letters` and some documents were dead-lettered.
    #[error("{count} documents were dead-lettered to {} (--fail-on-dead-letters)", .path.display())]
    DeadLettersPresent { count: u64, path: PathBuf },
    /// An index holds another number of documents than were written.
    #[error(
        "{index} holds {count} documents but {expected} were expected ({sent} sent − {dead} dead letters)"
    )]
    CountMismatch {
        index: String,
        count: u64,
        expected: u64,
        sent: u64,
        dead: u64,
    },
    /// The restored replicas of a loaded index did not all become active
    /// although the cluster has the data nodes to hold them (a node lost
    /// while loading, say): swapping would leave the aliases on an index
    /// with fewer copies than configured, or none.
    #[error(
        "index {index} is {status} after {waited}: {unassigned} shard copies are unassigned although {data_nodes} data nodes could hold them (was a node lost?); check GET _cluster/allocation/explain"
    )]
    NotReplicated {
        index: String,
        status: String,
        waited: String,
        unassigned: u64,
        data_nodes: u64,
    },
    /// The cluster's state stands in the way (an index named like an
    /// alias, no free index name).
    #[error("{0}")]
    Conflict(String),
    /// A broken invariant inside convstats (a poisoned lock, a bundled
    /// template that does not render): a bug, never the user's fault.
    #[error("internal error: {0}; this is a bug in convstats, please report it")]
    Internal(String),
    /// A line of the dead-letter file is not a dead letter.
    #[error(
        "the dead-letter file {path}, line {line}, is not a dead letter convstats wrote ({reason}); fix or remove that line"
    )]
    DeadLetterFile {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    /// The documents' input could not be read to its end (a spill file).
    #[error("{0}")]
    Input(String),
    /// The bulk writer is no longer running (it gave up or failed).
    #[error("the bulk writer has stopped; see the previous error")]
    WriterStopped,
    /// Reading or writing a local file (dead letters) failed.
    #[error("{what} {path}: {source}")]
    Io {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A backfill or setup step failed; `half_built` lists concrete indices
    /// that were created and are not behind any alias, `deleted` those that
    /// were and have been deleted (`--cleanup`).
    #[error("{step} failed: {cause}{}", indices_note(.half_built, .deleted))]
    Step {
        step: String,
        #[source]
        cause: Box<EsError>,
        half_built: Vec<String>,
        deleted: Vec<String>,
    },
}

fn indices_note(half_built: &[String], deleted: &[String]) -> String {
    if !deleted.is_empty() {
        format!(
            "; the aliases were left untouched and the half-built indices {} were deleted",
            deleted.join(", ")
        )
    } else if !half_built.is_empty() {
        format!(
            "; the aliases were left untouched; half-built indices: {} (delete them, or rerun with --cleanup)",
            half_built.join(", ")
        )
    } else {
        String::new()
    }
}

impl EsError {
    /// The exit code for the CLI (cli.md): 2 for bad configuration (found
    /// before talking to the cluster, or a prefix that cannot work), 1 for
    /// every runtime failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            EsError::Config(_) => 2,
            _ => 1,
        }
    }

    pub(crate) fn io(what: &str, path: &std::path::Path, source: std::io::Error) -> Self {
        EsError::Io {
            what: what.to_string(),
            path: path.to_path_buf(),
            source,
        }
    }
}
