//! Elasticsearch flags shared by `setup`, `backfill` and `dlq`, and their
//! resolution: a flag beats its `CONVSTATS_<NAME>` environment variable
//! (clap), which beats the `[elasticsearch]` section of the config file.
//! Secret values from the environment are never shown by `--help`.

use super::Failure;
use crate::config::{EsFileSettings, Settings};
use crate::elasticsearch::{
    Aliases, Auth, BulkConfig, DEFAULT_DEAD_LETTER_FILE, EsClient, EsConfig, EsError, Secret,
};
use anyhow::anyhow;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Connection flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnectionArgs {
    /// Elasticsearch URL (repeatable; a comma separates URLs where the next starts with http:// or https://) [default: http://127.0.0.1:9200]
    #[arg(long = "es-url", env = "CONVSTATS_ES_URL", hide_env_values = true)]
    pub es_url: Vec<String>,
    /// Basic-auth user name
    #[arg(long, env = "CONVSTATS_ES_USERNAME")]
    pub es_username: Option<String>,
    /// Basic-auth password (prefer --es-password-file or the env variable)
    #[arg(long, env = "CONVSTATS_ES_PASSWORD", hide_env_values = true)]
    pub es_password: Option<String>,
    /// File holding the basic-auth password
    #[arg(long, env = "CONVSTATS_ES_PASSWORD_FILE")]
    pub es_password_file: Option<PathBuf>,
    /// API key: the base64 "encoded" form, or `id:key`
    #[arg(long, env = "CONVSTATS_ES_API_KEY", hide_env_values = true)]
    pub es_api_key: Option<String>,
    /// File holding the API key
    #[arg(long, env = "CONVSTATS_ES_API_KEY_FILE")]
    pub es_api_key_file: Option<PathBuf>,
    /// Bearer token
    #[arg(long, env = "CONVSTATS_ES_BEARER_TOKEN", hide_env_values = true)]
    pub es_bearer_token: Option<String>,
    /// File holding the bearer token
    #[arg(long, env = "CONVSTATS_ES_BEARER_TOKEN_FILE")]
    pub es_bearer_token_file: Option<PathBuf>,
    /// PEM file with the CA certificate(s) to trust
    #[arg(long, env = "CONVSTATS_ES_CA_FILE")]
    pub es_ca_file: Option<PathBuf>,
    /// Skip TLS certificate verification (explicit opt-in; never in production)
    #[arg(long, env = "CONVSTATS_ES_INSECURE")]
    pub es_insecure: bool,
    /// Alias prefix: the aliases are <prefix>-new and <prefix>-legacy [default: convstats]
    #[arg(long, env = "CONVSTATS_ALIAS_PREFIX")]
    pub alias_prefix: Option<String>,
    /// Give up when no request (the first connection included) succeeded for this long (e.g. 600, 90s, 10m) [default: 10m]
    #[arg(long, env = "CONVSTATS_GIVE_UP_AFTER", value_parser = parse_duration)]
    pub give_up_after: Option<Duration>,
}

/// Bulk writer flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WriterArgs {
    /// Maximum bulk requests in flight [default: 4]
    #[arg(long, env = "CONVSTATS_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// Flush a bulk request at this many bytes [default: 5242880]
    #[arg(long, env = "CONVSTATS_BULK_BYTES")]
    pub bulk_bytes: Option<usize>,
    /// Gzip bulk request bodies
    #[arg(long, env = "CONVSTATS_GZIP")]
    pub gzip: bool,
    /// Where dead letters go [default: ./convstats-dead-letters.ndjson]
    #[arg(long, env = "CONVSTATS_DEAD_LETTER_FILE")]
    pub dead_letter_file: Option<PathBuf>,
}

/// The URLs of one `--es-url` value or of `CONVSTATS_ES_URL`: a comma
/// separates two URLs only where the next one starts with `http://` or
/// `https://`, so a comma inside a password never cuts a URL in two (and
/// never turns a piece of the password into a "host" that would be printed).
pub fn split_url_list(list: &str) -> Vec<String> {
    let starts_url = |rest: &str| {
        let rest = rest.trim_start().as_bytes();
        let prefix =
            |p: &str| rest.len() >= p.len() && rest[..p.len()].eq_ignore_ascii_case(p.as_bytes());
        prefix("http://") || prefix("https://")
    };
    let mut urls = Vec::new();
    let mut start = 0;
    for (i, _) in list.match_indices(',') {
        if starts_url(&list[i + 1..]) {
            urls.push(&list[start..i]);
            start = i + 1;
        }
    }
    urls.push(&list[start..]);
    // Stray commas and blanks around the URLs are no part of them (a user
    // info ends with '@', never with a comma).
    let junk = |c: char| c == ',' || c.is_whitespace();
    urls.iter()
        .map(|u| u.trim_matches(junk).to_string())
        .filter(|u| !u.is_empty())
        .collect()
}

/// `90`, `90s`, `10m`, `1h`, `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, unit) = t
        .find(|c: char| !c.is_ascii_digit())
        .map_or((t, ""), |i| t.split_at(i));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write e.g. 600, 90s, 10m or 1h"))?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("{text:?}: unknown unit; use ms, s, m or h")),
    };
    if d.is_zero() {
        return Err("the duration must be greater than zero".into());
    }
    Ok(d)
}

/// A secret from its flag, its file flag, the config value or the config
/// file, in that order. `flag` names the flag (`es-password`), for the
/// message when a file cannot be read.
pub fn secret(
    flag_name: &str,
    flag: &Option<String>,
    flag_file: &Option<PathBuf>,
    conf: &Option<Secret>,
    conf_file: &Option<PathBuf>,
) -> Result<Option<Secret>, Failure> {
    let read = |p: &Path| {
        Secret::from_file(p).map_err(|e| {
            Failure::Usage(anyhow!(
                "{e}; check --{flag_name}-file (or CONVSTATS_{}_FILE)",
                flag_name.to_uppercase().replace('-', "_")
            ))
        })
    };
    if let Some(v) = flag.as_deref().filter(|v| !v.is_empty()) {
        return Ok(Some(Secret::new(v)));
    }
    if let Some(p) = flag_file {
        return read(p).map(Some);
    }
    if let Some(v) = conf {
        return Ok(Some(v.clone()));
    }
    if let Some(p) = conf_file {
        return read(p).map(Some);
    }
    Ok(None)
}

/// An API key as given: `id:key`, or the base64 "encoded" form.
pub fn api_key_auth(key: Secret) -> Auth {
    match key.expose().split_once(':') {
        Some((id, k)) if !id.is_empty() && !k.is_empty() => Auth::ApiKey {
            id: Some(id.to_string()),
            key: Secret::new(k),
        },
        _ => Auth::ApiKey { id: None, key },
    }
}

impl ConnectionArgs {
    /// The connection settings and the aliases.
    pub fn resolve(&self, settings: &Settings) -> Result<(EsConfig, Aliases), Failure> {
        let file: &EsFileSettings = &settings.elasticsearch;
        let urls: Vec<String> = self
            .es_url
            .iter()
            .flat_map(|list| split_url_list(list))
            .collect();
        let env_empty = std::env::var_os("CONVSTATS_ES_URL")
            .is_some_and(|v| split_url_list(&v.to_string_lossy()).is_empty());
        if urls.is_empty() && (!self.es_url.is_empty() || env_empty) {
            return Err(Failure::Usage(anyhow!(
                "the Elasticsearch URL is empty (--es-url or CONVSTATS_ES_URL); give a URL such as https://host:9200, or unset CONVSTATS_ES_URL to use the config file or the default"
            )));
        }
        let urls = if !urls.is_empty() {
            urls
        } else if !file.urls.is_empty() {
            file.urls.clone()
        } else {
            EsConfig::default().urls
        };
        let password = secret(
            "es-password",
            &self.es_password,
            &self.es_password_file,
            &file.password,
            &file.password_file,
        )?;
        let api_key = secret(
            "es-api-key",
            &self.es_api_key,
            &self.es_api_key_file,
            &file.api_key,
            &file.api_key_file,
        )?;
        let bearer = secret(
            "es-bearer-token",
            &self.es_bearer_token,
            &self.es_bearer_token_file,
            &file.bearer_token,
            &file.bearer_token_file,
        )?;
        let username = self.es_username.clone().or_else(|| file.username.clone());
        let given = [
            username.is_some() || password.is_some(),
            api_key.is_some(),
            bearer.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(Failure::Usage(anyhow!(
                "more than one kind of Elasticsearch credentials given (user/password, API key, bearer token); keep one"
            )));
        }
        let auth = if let Some(key) = api_key {
            api_key_auth(key)
        } else if let Some(token) = bearer {
            Auth::Bearer(token)
        } else if let Some(password) = password {
            let Some(username) = username else {
                return Err(Failure::Usage(anyhow!(
                    "an Elasticsearch password was given without a user name; set --es-username (or CONVSTATS_ES_USERNAME)"
                )));
            };
            Auth::Basic { username, password }
        } else if let Some(username) = username {
            return Err(Failure::Usage(anyhow!(
                "Elasticsearch user {username} was given without a password; set --es-password-file or CONVSTATS_ES_PASSWORD"
            )));
        } else {
            Auth::None
        };
        let prefix = self
            .alias_prefix
            .clone()
            .or_else(|| file.alias_prefix.clone())
            .unwrap_or_else(|| "convstats".to_string());
        if prefix.is_empty()
            || prefix.starts_with(['-', '_', '+'])
            || prefix
                .chars()
                .any(|c| c.is_ascii_uppercase() || "\\/*?\"<>| ,#:".contains(c))
        {
            return Err(Failure::Usage(anyhow!(
                "alias prefix {prefix:?} is not a valid Elasticsearch index name start; use lowercase letters, digits, '-' and '_'"
            )));
        }
        let config = EsConfig {
            urls,
            auth,
            ca_file: self.es_ca_file.clone().or_else(|| file.ca_file.clone()),
            insecure: self.es_insecure || file.insecure.unwrap_or(false),
            give_up_after: Some(
                self.give_up_after
                    .or(file.give_up_after.map(Duration::from_secs))
                    .unwrap_or(Duration::from_secs(600)),
            ),
            ..EsConfig::default()
        };
        Ok((config, Aliases::with_prefix(&prefix)))
    }
}

impl WriterArgs {
    /// The bulk writer settings; it gives up at the same time as the
    /// connection's control calls (`es.give_up_after`).
    pub fn resolve(&self, settings: &Settings, es: &EsConfig) -> Result<BulkConfig, Failure> {
        let file = &settings.elasticsearch;
        let defaults = BulkConfig::default();
        let concurrency = self
            .concurrency
            .or(file.concurrency)
            .unwrap_or(defaults.concurrency);
        let max_bytes = self
            .bulk_bytes
            .or(file.bulk_bytes)
            .unwrap_or(defaults.max_bytes);
        if concurrency == 0 || max_bytes == 0 {
            return Err(Failure::Usage(anyhow!(
                "--concurrency and --bulk-bytes must be at least 1"
            )));
        }
        Ok(BulkConfig {
            concurrency,
            max_bytes,
            gzip: self.gzip || file.gzip.unwrap_or(false),
            dead_letter_path: dead_letter_path(self.dead_letter_file.as_deref(), settings),
            give_up_after: es.give_up_after,
            backoff_base: es.backoff_base,
            backoff_cap: es.backoff_cap,
            ..defaults
        })
    }
}

/// The dead-letter file: the flag (or its variable), else the config file's
/// `dead_letter_file`, else [`DEFAULT_DEAD_LETTER_FILE`].
pub fn dead_letter_path(flag: Option<&Path>, settings: &Settings) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| settings.elasticsearch.dead_letter_file.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DEAD_LETTER_FILE))
}

/// A Tokio runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(anyhow!("cannot start the async runtime: {e}")))
}

/// An [`EsError`] as a command failure with its exit code.
pub fn failure(e: EsError) -> Failure {
    if e.exit_code() == 2 {
        Failure::Usage(e.into())
    } else {
        Failure::Runtime(e.into())
    }
}

/// Builds the client and runs the start-up check (`GET /`).
pub async fn connect(config: &EsConfig) -> Result<EsClient, Failure> {
    let client = EsClient::new(config).map_err(failure)?;
    let info = client.check().await.map_err(failure)?;
    tracing::debug!(version = %info.version, "cluster check passed");
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comma_separates_urls_only_before_a_scheme_so_passwords_may_hold_commas() {
        assert_eq!(
            split_url_list("http://a:9200, https://b:9200,HTTP://c"),
            vec!["http://a:9200", "https://b:9200", "HTTP://c"]
        );
        assert_eq!(
            split_url_list("http://u:pa,ss@a:9200,http://b"),
            vec!["http://u:pa,ss@a:9200", "http://b"]
        );
        assert_eq!(split_url_list(",http://a,"), vec!["http://a"]);
        assert!(split_url_list(" , ").is_empty());
        assert!(split_url_list("").is_empty());
    }

    #[test]
    fn durations_take_plain_seconds_and_units() {
        assert_eq!(parse_duration("600"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
    }

    fn settings(toml: &str) -> Settings {
        crate::config::parse(toml).unwrap()
    }

    #[test]
    fn flags_beat_the_config_file_and_secrets_stay_redacted() {
        let s = settings(
            "[elasticsearch]\nurls = [\"http://conf:9200\"]\nusername = \"cu\"\npassword = \"conf-secret\"\nalias_prefix = \"conf\"\nconcurrency = 7\n",
        );
        let (c, a) = ConnectionArgs::default().resolve(&s).unwrap();
        assert_eq!(c.urls, vec!["http://conf:9200".to_string()]);
        assert_eq!(a.new, "conf-new");
        assert!(matches!(&c.auth, Auth::Basic { username, .. } if username == "cu"));
        assert!(!format!("{c:?}").contains("conf-secret"));
        let flags = ConnectionArgs {
            es_url: vec!["http://flag:9200".into()],
            es_api_key: Some("id1:key1".into()),
            es_username: None,
            ..Default::default()
        };
        // an API key by flag plus a password from the file: two kinds of credentials
        assert!(flags.resolve(&s).is_err());
        let (c, _) = flags.resolve(&settings("")).unwrap();
        assert_eq!(c.urls, vec!["http://flag:9200".to_string()]);
        assert!(matches!(&c.auth, Auth::ApiKey { id: Some(id), .. } if id == "id1"));
        let w = WriterArgs {
            concurrency: Some(2),
            ..Default::default()
        };
        assert_eq!(w.resolve(&s, &c).unwrap().concurrency, 2);
        assert_eq!(
            WriterArgs::default().resolve(&s, &c).unwrap().concurrency,
            7
        );
        assert_eq!(
            WriterArgs::default()
                .resolve(&settings(""), &c)
                .unwrap()
                .dead_letter_path,
            PathBuf::from(DEFAULT_DEAD_LETTER_FILE)
        );
    }

    #[test]
    fn bad_prefixes_and_half_credentials_are_usage_errors() {
        let s = settings("");
        for prefix in ["", "Upper", "-x", "a b", "a*"] {
            let a = ConnectionArgs {
                alias_prefix: Some(prefix.into()),
                ..Default::default()
            };
            assert_eq!(a.resolve(&s).unwrap_err().exit_code(), 2, "{prefix:?}");
        }
        let a = ConnectionArgs {
            es_username: Some("u".into()),
            ..Default::default()
        };
        assert_eq!(a.resolve(&s).unwrap_err().exit_code(), 2);
        let a = ConnectionArgs {
            es_password_file: Some("/nonexistent/secret".into()),
            es_username: Some("u".into()),
            ..Default::default()
        };
        let e = a.resolve(&s).unwrap_err();
        assert!(
            e.error().to_string().contains("--es-password-file"),
            "{:#}",
            e.error()
        );
    }
}
