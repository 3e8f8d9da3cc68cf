//! Connection and writer settings for Elasticsearch (credentials are
//! [`Secret`]s).
//!
//! The core's config module fills these from TOML, environment variables and
//! flags; the defaults here are the spec's (5 MiB / 1 s batches, 4 requests in
//! flight, give up after 10 minutes without success).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::error::EsError;
pub use crate::secret::Secret;

/// Where dead letters go when nothing else is configured.
pub const DEFAULT_DEAD_LETTER_FILE: &str = "convstats-dead-letters.ndjson";

/// How to authenticate.
#[derive(Clone, Debug, Default)]
pub enum Auth {
    #[default]
    None,
    Basic {
        username: String,
        password: Secret,
    },
    /// `id` + `key`, or (with `id: None`) the base64 "encoded" form.
    ApiKey {
        id: Option<String>,
        key: Secret,
    },
    Bearer(Secret),
}

/// Where the cluster is and how to talk to it. `Debug` hides user info in URLs.
#[derive(Clone)]
pub struct EsConfig {
    /// One or more node URLs, used round robin. User info in a URL
    /// (`https://user:pass@host`) is moved into [`Auth::Basic`].
    pub urls: Vec<String>,
    pub auth: Auth,
    /// PEM file with the CA certificate(s) to trust.
    pub ca_file: Option<PathBuf>,
    /// Skip TLS certificate verification (explicit opt-in only).
    pub insecure: bool,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Control calls (everything but bulk requests: `GET /`, templates,
    /// indices, aliases, searches) retry transient failures with the bulk
    /// writer's backoff until nothing succeeded for this long; `None` never
    /// gives up. The same value as [`BulkConfig::give_up_after`].
    pub give_up_after: Option<Duration>,
    /// First backoff delay of control calls, doubling per attempt.
    pub backoff_base: Duration,
    /// Backoff cap of control calls.
    pub backoff_cap: Duration,
}

impl fmt::Debug for EsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls: Vec<String> = self.urls.iter().map(|u| crate::redact::url(u)).collect();
        f.debug_struct("EsConfig")
            .field("urls", &urls)
            .field("auth", &self.auth)
            .field("ca_file", &self.ca_file)
            .field("insecure", &self.insecure)
            .field("request_timeout", &self.request_timeout)
            .field("give_up_after", &self.give_up_after)
            .finish()
    }
}

impl Default for EsConfig {
    fn default() -> Self {
        EsConfig {
            urls: vec!["http://127.0.0.1:9200".to_string()],
            auth: Auth::None,
            ca_file: None,
            insecure: false,
            request_timeout: Duration::from_secs(60),
            give_up_after: Some(Duration::from_secs(600)),
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(30),
        }
    }
}

/// The two aliases, `<prefix>-new` and `<prefix>-legacy`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Aliases {
    pub new: String,
    pub legacy: String,
}

impl Aliases {
    pub fn with_prefix(prefix: &str) -> Self {
        Aliases {
            new: format!("{prefix}-new"),
            legacy: format!("{prefix}-legacy"),
        }
    }

    pub fn get(&self, family: super::Family) -> &str {
        match family {
            super::Family::New => &self.new,
            super::Family::Legacy => &self.legacy,
        }
    }
}

impl Default for Aliases {
    fn default() -> Self {
        Aliases::with_prefix("convstats")
    }
}

/// Called once per operation with its final outcome (continuous mode uses it
/// to clear dirty flags).
pub type OutcomeHook = Arc<dyn Fn(&super::BulkOp, super::OpOutcome) + Send + Sync>;

/// Called with the duration of every bulk HTTP request (answered or not).
pub type RequestHook = Arc<dyn Fn(Duration) + Send + Sync>;

/// Bulk writer settings.
#[derive(Clone)]
pub struct BulkConfig {
    /// Flush when the NDJSON body reaches this many bytes (default 5 MiB).
    pub max_bytes: usize,
    /// Flush at this many operations (default 10 000).
    pub max_ops: usize,
    /// Flush when the oldest buffered operation is this old (default 1 s).
    pub max_age: Duration,
    /// Maximum requests in flight (default 4); AIMD moves between 1 and this.
    pub concurrency: usize,
    /// Gzip request bodies.
    pub gzip: bool,
    /// Operations buffered between producer and writer (back-pressure bound).
    pub channel_capacity: usize,
    /// Give up when no request succeeded for this long; `None` never gives up
    /// (continuous ingestion).
    pub give_up_after: Option<Duration>,
    /// First backoff delay (default 100 ms), doubling per attempt.
    pub backoff_base: Duration,
    /// Backoff cap (default 30 s).
    pub backoff_cap: Duration,
    /// Seed for the backoff jitter (deterministic tests); `None` uses entropy.
    pub jitter_seed: Option<u64>,
    /// Where dead letters are appended.
    pub dead_letter_path: PathBuf,
    /// Called with every operation's final outcome.
    pub on_outcome: Option<OutcomeHook>,
    /// Called with every bulk request's duration (`serve`'s latency histogram).
    pub on_request: Option<RequestHook>,
}

impl Default for BulkConfig {
    fn default() -> Self {
        BulkConfig {
            max_bytes: 5 * 1024 * 1024,
            max_ops: 10_000,
            max_age: Duration::from_secs(1),
            concurrency: 4,
            gzip: false,
            channel_capacity: 20_000,
            give_up_after: Some(Duration::from_secs(600)),
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(30),
            jitter_seed: None,
            dead_letter_path: PathBuf::from(DEFAULT_DEAD_LETTER_FILE),
            on_outcome: None,
            on_request: None,
        }
    }
}

impl fmt::Debug for BulkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkConfig")
            .field("max_bytes", &self.max_bytes)
            .field("max_ops", &self.max_ops)
            .field("max_age", &self.max_age)
            .field("concurrency", &self.concurrency)
            .field("gzip", &self.gzip)
            .field("channel_capacity", &self.channel_capacity)
            .field("give_up_after", &self.give_up_after)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .field("dead_letter_path", &self.dead_letter_path)
            .field("on_outcome", &self.on_outcome.is_some())
            .field("on_request", &self.on_request.is_some())
            .finish()
    }
}

impl BulkConfig {
    pub(crate) fn validate(&self) -> Result<(), EsError> {
        if self.concurrency == 0 {
            return Err(EsError::Config(
                "bulk concurrency must be at least 1".into(),
            ));
        }
        if self.max_ops == 0 || self.max_bytes == 0 {
            return Err(EsError::Config(
                "bulk batch size (bytes and operations) must be at least 1".into(),
            ));
        }
        if self.channel_capacity == 0 {
            return Err(EsError::Config(
                "bulk channel capacity must be at least 1".into(),
            ));
        }
        Ok(())
    }
}
