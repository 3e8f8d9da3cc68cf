//! `convstats serve`: resolves its settings (flag, then `CONVSTATS_<NAME>`,
//! then the config file's `[serve]` and `[elasticsearch]` sections) and runs
//! `serve::run` until SIGTERM or SIGINT.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;

use super::Failure;
use super::es::{ConnectionArgs, WriterArgs, parse_duration, runtime, secret};
use crate::config::Settings;
use crate::serve::indexing::Intervals;
use crate::serve::routes::{DEFAULT_BACKLOG_LIMIT, DEFAULT_MAX_BODY};
use crate::serve::{ServeError, ServeOptions, http};

/// `convstats serve`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// The state store (SQLite) [default: ./convstats.db]
    #[arg(long, env = "CONVSTATS_STORE")]
    pub store: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "CONVSTATS_LISTEN")]
    pub listen: Option<String>,
    /// Intercom's client secret, to check webhook signatures (prefer the file or the env variable)
    #[arg(long, env = "CONVSTATS_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// File holding Intercom's client secret
    #[arg(long, env = "CONVSTATS_WEBHOOK_SECRET_FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Token the /v1 routes (but the webhook) require as `Authorization: Bearer <token>`
    #[arg(long, env = "CONVSTATS_BEARER_TOKEN", hide_env_values = true)]
    pub bearer_token: Option<String>,
    /// File holding the bearer token
    #[arg(long, env = "CONVSTATS_BEARER_TOKEN_FILE")]
    pub bearer_token_file: Option<PathBuf>,
    /// Largest request body (and followed line) in bytes [default: 10485760]
    #[arg(long, env = "CONVSTATS_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Dirty conversations above which POST /v1/records answers 429 [default: 200000]
    #[arg(long, env = "CONVSTATS_BACKLOG_LIMIT")]
    pub backlog_limit: Option<u64>,
    /// Also tail this NDJSON file (repeatable)
    #[arg(long, env = "CONVSTATS_FOLLOW")]
    pub follow: Vec<PathBuf>,
    /// Partitions of a new store (fixed once created) [default: 64]
    #[arg(long, env = "CONVSTATS_PARTITIONS")]
    pub partitions: Option<u32>,
    /// How often to check where the aliases point (a backfill moved them?) [default: 60s]
    #[arg(long, env = "CONVSTATS_ALIAS_CHECK_INTERVAL", value_parser = parse_duration)]
    pub alias_check_interval: Option<Duration>,
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[command(flatten)]
    pub writer: WriterArgs,
}

/// The options of `serve` from flags, environment and config file.
pub fn options(args: &ServeArgs, settings: &Settings) -> Result<ServeOptions, Failure> {
    let file = &settings.serve;
    let (es, aliases) = args.conn.resolve(settings)?;
    let bulk = args.writer.resolve(settings, &es)?;
    let max_body = args
        .max_body_bytes
        .or(file.max_body_bytes)
        .unwrap_or(DEFAULT_MAX_BODY);
    if max_body == 0 {
        return Err(Failure::Usage(anyhow!(
            "--max-body-bytes must be at least 1"
        )));
    }
    let partitions = args.partitions.or(file.partitions);
    if partitions.is_some_and(|p| p == 0 || p > 65_536) {
        return Err(Failure::Usage(anyhow!(
            "--partitions must be between 1 and 65536"
        )));
    }
    let mut follow = args.follow.clone();
    if follow.is_empty() {
        follow = file.follow.clone();
    }
    Ok(ServeOptions {
        store: args
            .store
            .clone()
            .or_else(|| file.store.clone())
            .unwrap_or_else(|| PathBuf::from("convstats.db")),
        partitions,
        listen: args
            .listen
            .clone()
            .or_else(|| file.listen.clone())
            .unwrap_or_else(|| "127.0.0.1:8080".to_string()),
        bearer_token: secret(
            "bearer-token",
            &args.bearer_token,
            &args.bearer_token_file,
            &file.bearer_token,
            &file.bearer_token_file,
        )?,
        webhook_secret: secret(
            "webhook-secret",
            &args.webhook_secret,
            &args.webhook_secret_file,
            &file.webhook_secret,
            &file.webhook_secret_file,
        )?,
        max_body,
        backlog_limit: args
            .backlog_limit
            .or(file.backlog_limit)
            .unwrap_or(DEFAULT_BACKLOG_LIMIT),
        follow,
        es,
        aliases,
        bulk,
        settings: Arc::new(settings.clone()),
        intervals: Intervals {
            alias_check: args
                .alias_check_interval
                .unwrap_or(Intervals::default().alias_check),
            ..Intervals::default()
        },
        limits: http::Limits::default(),
        batch: 500,
        drain: Duration::from_secs(10),
    })
}

/// SIGTERM or SIGINT.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!("cannot watch SIGTERM ({e}); only SIGINT stops serve");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `serve` until a stop signal.
pub fn run(args: &ServeArgs, settings: &Settings) -> Result<(), Failure> {
    let opts = options(args, settings)?;
    runtime()?.block_on(async {
        crate::serve::run(opts, stop_signal())
            .await
            .map_err(|e| match e {
                ServeError::Listen { .. } => Failure::Usage(e.into()),
                ServeError::Elasticsearch(es) => super::es::failure(es),
                ServeError::Store(_) => Failure::Runtime(e.into()),
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elasticsearch::Secret;

    fn settings(toml: &str) -> Settings {
        crate::config::parse(toml).unwrap()
    }

    #[test]
    fn flags_beat_the_serve_section_which_beats_the_defaults() {
        let defaults = options(&ServeArgs::default(), &settings("")).unwrap();
        assert_eq!(defaults.store, PathBuf::from("convstats.db"));
        assert_eq!(defaults.listen, "127.0.0.1:8080");
        assert_eq!(defaults.max_body, DEFAULT_MAX_BODY);
        assert_eq!(defaults.backlog_limit, DEFAULT_BACKLOG_LIMIT);
        assert!(defaults.webhook_secret.is_none() && defaults.bearer_token.is_none());
        assert_eq!(defaults.intervals.alias_check, Duration::from_secs(60));
        let s = settings(
            "[serve]\nstore = \"conf.db\"\nlisten = \"0.0.0.0:1\"\nbearer_token = \"conf-token\"\nbacklog_limit = 7\nfollow = \"/f\"\n",
        );
        let conf = options(&ServeArgs::default(), &s).unwrap();
        assert_eq!(conf.store, PathBuf::from("conf.db"));
        assert_eq!(conf.backlog_limit, 7);
        assert_eq!(conf.follow, vec![PathBuf::from("/f")]);
        assert_eq!(
            conf.bearer_token.as_ref().map(Secret::expose),
            Some("conf-token")
        );
        let flags = ServeArgs {
            store: Some("flag.db".into()),
            bearer_token: Some("flag-token".into()),
            backlog_limit: Some(9),
            alias_check_interval: Some(Duration::from_secs(2)),
            ..Default::default()
        };
        let o = options(&flags, &s).unwrap();
        assert_eq!(o.store, PathBuf::from("flag.db"));
        assert_eq!(o.listen, "0.0.0.0:1");
        assert_eq!(o.backlog_limit, 9);
        assert_eq!(
            o.bearer_token.as_ref().map(Secret::expose),
            Some("flag-token")
        );
        assert_eq!(o.intervals.alias_check, Duration::from_secs(2));
    }

    #[test]
    fn a_missing_secret_file_or_a_bad_limit_is_a_usage_error_naming_the_flag() {
        let args = ServeArgs {
            webhook_secret_file: Some("/nonexistent/secret".into()),
            ..Default::default()
        };
        let e = options(&args, &settings("")).err().unwrap();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.error().to_string().contains("--webhook-secret-file"),
            "{}",
            e.error()
        );
        let args = ServeArgs {
            partitions: Some(0),
            ..Default::default()
        };
        assert_eq!(options(&args, &settings("")).err().unwrap().exit_code(), 2);
        let args = ServeArgs {
            max_body_bytes: Some(0),
            ..Default::default()
        };
        assert_eq!(options(&args, &settings("")).err().unwrap().exit_code(), 2);
    }
}
