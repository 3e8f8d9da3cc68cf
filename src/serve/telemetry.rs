//! `serve`'s Prometheus metrics (`GET /metrics`), kept in a registry of the
//! `prometheus` crate and rendered by its text encoder (format 0.0.4):
//!
//! | metric | type | what |
//! |---|---|---|
//! | `convstats_records_accepted_total{source}` | counter | lines stored (`records`, `webhook`, `follow`) |
//! | `convstats_records_rejected_total{source}` | counter | lines rejected, each with its reason in the answer or the log |
//! | `convstats_records_ignored_total{source}` | counter | valid lines about no conversation (other webhook topics) |
//! | `convstats_backlog_conversations` | gauge | dirty conversations (waiting to be indexed) |
//! | `convstats_indexing_lag_seconds` | gauge | age of the oldest dirty conversation's last change (0 when none) |
//! | `convstats_indexed_lag_seconds` | histogram | from a conversation's last change to Elasticsearch confirming its documents |
//! | `convstats_bulk_request_seconds` | histogram | duration of each bulk request |
//! | `convstats_bulk_retries_total` | counter | operation sends repeated (item or whole-request retries) |
//! | `convstats_dead_letters_total` | counter | operations appended to the dead-letter file |
//! | `convstats_documents_written_total{outcome}` | counter | `indexed`, `deleted`, `stale_skipped` |
//! | `convstats_alias_moves_total` | counter | times an alias was found on another index (everything re-indexed) |
//! | `convstats_store_bytes` | gauge | the state store's size on disk (database and WAL) |
//! | `convstats_elasticsearch_up` | gauge | 1 when the last check of the cluster succeeded |
//!
//! An edge of nothing: plain counters behind atomics, safe from any task.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// Every metric of `serve`.
pub struct Telemetry {
    registry: Registry,
    pub accepted: IntCounterVec,
    pub rejected: IntCounterVec,
    pub ignored: IntCounterVec,
    pub backlog: IntGauge,
    pub lag: prometheus::Gauge,
    pub indexed_lag: Histogram,
    pub bulk_latency: Histogram,
    pub retries: IntCounter,
    pub dead_letters: IntCounter,
    pub written: IntCounterVec,
    pub alias_moves: IntCounter,
    pub store_bytes: IntGauge,
    pub es_up: IntGauge,
}

fn must<T>(r: prometheus::Result<T>) -> T {
    // Only a malformed name or a duplicate registration fails, both fixed
    // at compile time here.
    r.expect("metric definitions are static and valid")
}

impl Telemetry {
    pub fn new() -> Telemetry {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, label: &str| {
            let c = must(IntCounterVec::new(Opts::new(name, help), &[label]));
            must(registry.register(Box::new(c.clone())));
            c
        };
        let counter = |name: &str, help: &str| {
            let c = must(IntCounter::new(name, help));
            must(registry.register(Box::new(c.clone())));
            c
        };
        let gauge = |name: &str, help: &str| {
            let g = must(IntGauge::new(name, help));
            must(registry.register(Box::new(g.clone())));
            g
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let h = must(Histogram::with_opts(
                HistogramOpts::new(name, help).buckets(buckets),
            ));
            must(registry.register(Box::new(h.clone())));
            h
        };
        let lag = must(prometheus::Gauge::new(
            "convstats_indexing_lag_seconds",
            "Age of the oldest dirty conversation's last change (0 when none is dirty)",
        ));
        must(registry.register(Box::new(lag.clone())));
        let seconds = vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
            300.0, 900.0, 3600.0,
        ];
        Telemetry {
            accepted: counter_vec(
                "convstats_records_accepted_total",
                "Input lines stored durably",
                "source",
            ),
            rejected: counter_vec(
                "convstats_records_rejected_total",
                "Input lines rejected (each reason is in the answer or the log)",
                "source",
            ),
            ignored: counter_vec(
                "convstats_records_ignored_total",
                "Valid input lines about no conversation",
                "source",
            ),
            backlog: gauge(
                "convstats_backlog_conversations",
                "Conversations waiting to be indexed",
            ),
            lag,
            indexed_lag: histogram(
                "convstats_indexed_lag_seconds",
                "From a conversation's last change to Elasticsearch confirming both documents",
                seconds.clone(),
            ),
            bulk_latency: histogram(
                "convstats_bulk_request_seconds",
                "Duration of each bulk request",
                seconds,
            ),
            retries: counter(
                "convstats_bulk_retries_total",
                "Bulk operation sends repeated",
            ),
            dead_letters: counter(
                "convstats_dead_letters_total",
                "Operations appended to the dead-letter file",
            ),
            written: counter_vec(
                "convstats_documents_written_total",
                "Bulk operations finished, by outcome",
                "outcome",
            ),
            alias_moves: counter(
                "convstats_alias_moves_total",
                "Times an alias was found on another index",
            ),
            store_bytes: gauge("convstats_store_bytes", "The state store's size on disk"),
            es_up: gauge(
                "convstats_elasticsearch_up",
                "1 when the last check of the cluster succeeded",
            ),
            registry,
        }
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec fails only on metric families that are
        // malformed, which the registry never holds.
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!("encoding the metrics: {e}");
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

impl Default for Telemetry {
    fn default() -> Self {
        Telemetry::new()
    }
}
