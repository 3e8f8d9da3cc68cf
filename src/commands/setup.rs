//! `convstats setup`: check the cluster, apply both index templates, create
//! the first indices and aliases when absent (idempotent); with
//! `--kibana-url`, then import the Kibana saved objects (overwriting, so a
//! second run imports the same objects again).

use super::Failure;
use super::es::{ConnectionArgs, api_key_auth, connect, failure, runtime, secret};
use crate::config::Settings;
use crate::elasticsearch::setup::{SetupReport, setup};
use crate::elasticsearch::{Auth, EsConfig};
use crate::kibana::{self, ImportReport, KibanaClient, KibanaConfig, KibanaError};
use anyhow::anyhow;
use std::path::PathBuf;

/// The saved objects built into the binary (`kibana/convstats.ndjson`).
pub const BUILT_IN_OBJECTS: &str = include_str!("../../kibana/convstats.ndjson");

/// `convstats setup`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub conn: ConnectionArgs,
    #[command(flatten)]
    pub kibana: KibanaArgs,
}

/// The Kibana flags of `setup`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KibanaArgs {
    /// Kibana URL (with its base path if it has one); when given, setup imports the Kibana saved objects after the Elasticsearch part [default: none, no import]
    #[arg(long, env = "CONVSTATS_KIBANA_URL", hide_env_values = true)]
    pub kibana_url: Option<String>,
    /// Id of the Kibana space to import into [default: the default space]
    #[arg(long, env = "CONVSTATS_KIBANA_SPACE")]
    pub kibana_space: Option<String>,
    /// NDJSON file of saved objects to import [default: the objects built into convstats, kibana/convstats.ndjson]
    #[arg(long, env = "CONVSTATS_KIBANA_OBJECTS")]
    pub kibana_objects: Option<PathBuf>,
    /// Kibana basic-auth user name [default: when no --kibana-* credentials are given, the Elasticsearch ones]
    #[arg(long, env = "CONVSTATS_KIBANA_USERNAME")]
    pub kibana_username: Option<String>,
    /// Kibana basic-auth password (prefer --kibana-password-file or the env variable) [default: when no --kibana-* credentials are given, the Elasticsearch ones]
    #[arg(long, env = "CONVSTATS_KIBANA_PASSWORD", hide_env_values = true)]
    pub kibana_password: Option<String>,
    /// File holding the Kibana basic-auth password [default: none]
    #[arg(long, env = "CONVSTATS_KIBANA_PASSWORD_FILE")]
    pub kibana_password_file: Option<PathBuf>,
    /// Kibana API key: the base64 "encoded" form, or `id:key` [default: when no --kibana-* credentials are given, the Elasticsearch ones]
    #[arg(long, env = "CONVSTATS_KIBANA_API_KEY", hide_env_values = true)]
    pub kibana_api_key: Option<String>,
    /// File holding the Kibana API key [default: none]
    #[arg(long, env = "CONVSTATS_KIBANA_API_KEY_FILE")]
    pub kibana_api_key_file: Option<PathBuf>,
    /// Kibana bearer token [default: when no --kibana-* credentials are given, the Elasticsearch ones]
    #[arg(long, env = "CONVSTATS_KIBANA_BEARER_TOKEN", hide_env_values = true)]
    pub kibana_bearer_token: Option<String>,
    /// File holding the Kibana bearer token [default: none]
    #[arg(long, env = "CONVSTATS_KIBANA_BEARER_TOKEN_FILE")]
    pub kibana_bearer_token_file: Option<PathBuf>,
    /// PEM file with the CA certificate(s) to trust for Kibana [default: the Elasticsearch CA file, --es-ca-file]
    #[arg(long, env = "CONVSTATS_KIBANA_CA_FILE")]
    pub kibana_ca_file: Option<PathBuf>,
    /// Skip TLS certificate verification for Kibana (explicit opt-in; never in production) [default: verify]
    #[arg(long, env = "CONVSTATS_KIBANA_INSECURE")]
    pub kibana_insecure: bool,
}

/// A resolved Kibana import: the client and the objects.
#[derive(Debug, Clone)]
pub struct KibanaPlan {
    pub client: KibanaClient,
    /// The NDJSON text sent.
    pub objects: String,
    /// Where the objects came from, for messages.
    pub source: String,
    /// Saved objects in the file.
    pub count: usize,
}

impl KibanaArgs {
    /// The flags given (by flag or environment) other than the URL.
    fn others_given(&self) -> Option<&'static str> {
        [
            (self.kibana_space.is_some(), "kibana-space"),
            (self.kibana_objects.is_some(), "kibana-objects"),
            (self.kibana_username.is_some(), "kibana-username"),
            (self.kibana_password.is_some(), "kibana-password"),
            (self.kibana_password_file.is_some(), "kibana-password-file"),
            (self.kibana_api_key.is_some(), "kibana-api-key"),
            (self.kibana_api_key_file.is_some(), "kibana-api-key-file"),
            (self.kibana_bearer_token.is_some(), "kibana-bearer-token"),
            (
                self.kibana_bearer_token_file.is_some(),
                "kibana-bearer-token-file",
            ),
            (self.kibana_ca_file.is_some(), "kibana-ca-file"),
            (self.kibana_insecure, "kibana-insecure"),
        ]
        .into_iter()
        .find_map(|(given, name)| given.then_some(name))
    }

    /// The import to run, `None` without `--kibana-url`. Everything that
    /// can be checked before Elasticsearch is touched is: the URL, the space,
    /// the credentials, the CA file, the objects file.
    pub fn resolve(&self, es: &EsConfig) -> Result<Option<KibanaPlan>, Failure> {
        let Some(url) = self.kibana_url.as_deref().map(str::trim) else {
            if let Some(flag) = self.others_given() {
                let var = format!("CONVSTATS_{}", flag.to_uppercase().replace('-', "_"));
                return Err(Failure::Usage(anyhow!(
                    "--{flag} (or {var}) was given without --kibana-url; add the Kibana URL (--kibana-url or CONVSTATS_KIBANA_URL), or drop --{flag} and unset {var}"
                )));
            }
            return Ok(None);
        };
        if url.is_empty() {
            return Err(Failure::Usage(anyhow!(
                "the Kibana URL is empty (--kibana-url or CONVSTATS_KIBANA_URL); give a URL such as https://kibana.example.com:5601, or leave it out to skip the Kibana import"
            )));
        }
        let config = KibanaConfig {
            url: url.to_string(),
            space: self.kibana_space.clone(),
            auth: self.auth(url, es)?,
            ca_file: self.kibana_ca_file.clone().or_else(|| es.ca_file.clone()),
            insecure: self.kibana_insecure,
            ..KibanaConfig::default()
        };
        let client = KibanaClient::new(&config).map_err(kibana_failure)?;
        let (objects, source) = match &self.kibana_objects {
            Some(path) => (
                std::fs::read_to_string(path).map_err(|e| {
                    Failure::Usage(anyhow!(
                        "cannot read the saved-objects file {}: {e}; check --kibana-objects (or CONVSTATS_KIBANA_OBJECTS)",
                        path.display()
                    ))
                })?,
                path.display().to_string(),
            ),
            None => (
                BUILT_IN_OBJECTS.to_string(),
                "the built-in kibana/convstats.ndjson".to_string(),
            ),
        };
        let count = kibana::objects_in(&objects)
            .map_err(|e| {
                Failure::Usage(anyhow!(
                    "the saved-objects file {source} cannot be imported: {e}; fix it or give another with --kibana-objects"
                ))
            })?
            .len();
        Ok(Some(KibanaPlan {
            client,
            objects,
            source,
            count,
        }))
    }

    /// Kibana's credentials: its own flags, else the user info of its URL
    /// (taken by the client), else the Elasticsearch connection's.
    fn auth(&self, url: &str, es: &EsConfig) -> Result<Auth, Failure> {
        let password = secret(
            "kibana-password",
            &self.kibana_password,
            &self.kibana_password_file,
            &None,
            &None,
        )?;
        let api_key = secret(
            "kibana-api-key",
            &self.kibana_api_key,
            &self.kibana_api_key_file,
            &None,
            &None,
        )?;
        let bearer = secret(
            "kibana-bearer-token",
            &self.kibana_bearer_token,
            &self.kibana_bearer_token_file,
            &None,
            &None,
        )?;
        let username = self.kibana_username.clone().filter(|u| !u.is_empty());
        let given = [
            username.is_some() || password.is_some(),
            api_key.is_some(),
            bearer.is_some(),
        ];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(Failure::Usage(anyhow!(
                "more than one kind of Kibana credentials given (user/password, API key, bearer token); keep one"
            )));
        }
        Ok(if let Some(key) = api_key {
            api_key_auth(key)
        } else if let Some(token) = bearer {
            Auth::Bearer(token)
        } else if let Some(password) = password {
            let Some(username) = username else {
                return Err(Failure::Usage(anyhow!(
                    "a Kibana password was given without a user name; set --kibana-username (or CONVSTATS_KIBANA_USERNAME)"
                )));
            };
            Auth::Basic { username, password }
        } else if let Some(username) = username {
            return Err(Failure::Usage(anyhow!(
                "Kibana user {username} was given without a password; set --kibana-password-file or CONVSTATS_KIBANA_PASSWORD"
            )));
        } else if kibana::auth_from_url(url).is_some() {
            Auth::None
        } else {
            match &es.auth {
                Auth::None => es
                    .urls
                    .iter()
                    .find_map(|u| kibana::auth_from_url(u))
                    .unwrap_or(Auth::None),
                auth => auth.clone(),
            }
        })
    }
}

/// What a Kibana import did.
#[derive(Debug, Clone)]
pub struct KibanaImport {
    /// Kibana's URL as shown (no user info).
    pub url: String,
    pub source: String,
    pub report: ImportReport,
}

/// What `setup` did.
#[derive(Debug, Clone)]
pub struct SetupOutcome {
    pub elasticsearch: SetupReport,
    /// `None` without `--kibana-url`.
    pub kibana: Option<KibanaImport>,
}

/// A [`KibanaError`] as a command failure with its exit code.
fn kibana_failure(e: KibanaError) -> Failure {
    if e.exit_code() == 2 {
        Failure::Usage(e.into())
    } else {
        Failure::Runtime(e.into())
    }
}

/// Runs `setup`: the Elasticsearch part, then the Kibana import when asked
/// for; the outcome says what was created, what already existed and what
/// was imported. An import with any failed object fails the command with
/// every error listed.
pub fn run(args: &SetupArgs, settings: &Settings) -> Result<SetupOutcome, Failure> {
    let (config, aliases) = args.conn.resolve(settings)?;
    let plan = args.kibana.resolve(&config)?.map(|mut plan| {
        plan.objects = kibana::for_aliases(&plan.objects, &aliases.new, &aliases.legacy);
        plan
    });
    runtime()?.block_on(async {
        let client = connect(&config).await?;
        let elasticsearch = setup(&client, &aliases).await.map_err(failure)?;
        let kibana = match plan {
            Some(plan) => Some(import(&plan).await?),
            None => None,
        };
        Ok(SetupOutcome {
            elasticsearch,
            kibana,
        })
    })
}

const DONE_BEFORE: &str = "Elasticsearch is set up, but importing the Kibana saved objects failed";

async fn import(plan: &KibanaPlan) -> Result<KibanaImport, Failure> {
    let (url, space) = (plan.client.url(), plan.client.space());
    tracing::info!(
        url,
        space,
        objects = plan.count,
        source = %plan.source,
        "importing the Kibana saved objects"
    );
    let report = plan
        .client
        .import(plan.objects.as_bytes(), true)
        .await
        .map_err(|e| Failure::Runtime(anyhow::Error::new(e).context(DONE_BEFORE)))?;
    if !report.succeeded() {
        return Err(Failure::Runtime(
            anyhow!(import_errors(&report, url, plan.count)).context(DONE_BEFORE),
        ));
    }
    Ok(KibanaImport {
        url: url.to_string(),
        source: plan.source.clone(),
        report,
    })
}

/// The failure text of an import Kibana did not fully accept: each error by
/// `type id` and what to do.
fn import_errors(report: &ImportReport, url: &str, sent: usize) -> String {
    let space = &report.space;
    let mut out = if report.errors.is_empty() {
        format!(
            "Kibana at {url} answered success: false for space {space} without naming an object; check Kibana's logs"
        )
    } else {
        format!(
            "Kibana at {url} did not import {} of the {sent} saved objects into space {space} (it reported {} as imported):",
            report.errors.len(),
            report.imported.len(),
        )
    };
    for e in &report.errors {
        out.push_str("\n  ");
        out.push_str(&e.to_string());
    }
    out.push_str(
        "\nfix the saved-objects file (--kibana-objects) or the objects already in Kibana, then run setup again",
    );
    out
}

/// The lines printed after `setup`.
pub fn describe(outcome: &SetupOutcome) -> String {
    let report = &outcome.elasticsearch;
    let mut out = format!("templates applied: {}\n", report.templates.join(", "));
    for (alias, index) in &report.created {
        out.push_str(&format!("created {index} behind alias {alias}\n"));
    }
    for (alias, indices) in &report.existing {
        out.push_str(&format!(
            "alias {alias} already exists (on {}); left as it is\n",
            indices.join(", ")
        ));
    }
    if let Some(k) = &outcome.kibana {
        let r = &k.report;
        out.push_str(&format!(
            "imported {} saved objects into Kibana space {} at {} (from {}, overwriting)\n",
            r.imported.len(),
            r.space,
            k.url,
            k.source
        ));
        for o in &r.imported {
            match &o.title {
                Some(title) => out.push_str(&format!("  {} ({title})\n", o.object)),
                None => out.push_str(&format!("  {}\n", o.object)),
            }
        }
        for w in &r.warnings {
            out.push_str(&format!("Kibana warning: {w}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elasticsearch::Secret;

    fn es(auth: Auth, urls: &[&str]) -> EsConfig {
        EsConfig {
            urls: urls.iter().map(|u| u.to_string()).collect(),
            auth,
            ..EsConfig::default()
        }
    }

    #[test]
    fn without_a_url_there_is_no_import_and_other_kibana_flags_are_refused() {
        let none = KibanaArgs::default().resolve(&EsConfig::default()).unwrap();
        assert!(none.is_none());
        let a = KibanaArgs {
            kibana_space: Some("ops".into()),
            ..Default::default()
        };
        let e = a.resolve(&EsConfig::default()).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.error().to_string().contains("--kibana-space"),
            "{:#}",
            e.error()
        );
    }

    #[test]
    fn the_built_in_objects_are_importable() {
        assert!(!kibana::objects_in(BUILT_IN_OBJECTS).unwrap().is_empty());
    }

    #[test]
    fn kibana_credentials_fall_back_to_the_elasticsearch_ones() {
        let a = KibanaArgs::default();
        let basic = Auth::Basic {
            username: "elastic".into(),
            password: Secret::new("pw"),
        };
        let got = a
            .auth("http://kb:5601", &es(basic, &["http://es:9200"]))
            .unwrap();
        assert!(matches!(got, Auth::Basic { username, .. } if username == "elastic"));
        // the user info of the ES URL counts too
        let got = a
            .auth("http://kb:5601", &es(Auth::None, &["http://u:p@es:9200"]))
            .unwrap();
        assert!(matches!(got, Auth::Basic { username, .. } if username == "u"));
        // Kibana's own URL user info beats the ES credentials (the client takes it)
        let got = a
            .auth(
                "http://k:kp@kb:5601",
                &es(Auth::Bearer(Secret::new("t")), &["http://es:9200"]),
            )
            .unwrap();
        assert!(matches!(got, Auth::None));
        // Kibana's flags beat everything
        let a = KibanaArgs {
            kibana_api_key: Some("id:key".into()),
            ..Default::default()
        };
        let got = a
            .auth("http://k:kp@kb", &es(Auth::Bearer(Secret::new("t")), &[]))
            .unwrap();
        assert!(matches!(got, Auth::ApiKey { id: Some(id), .. } if id == "id"));
    }

    #[test]
    fn half_or_double_kibana_credentials_are_usage_errors() {
        let es = EsConfig::default();
        for a in [
            KibanaArgs {
                kibana_username: Some("u".into()),
                ..Default::default()
            },
            KibanaArgs {
                kibana_password: Some("p".into()),
                ..Default::default()
            },
            KibanaArgs {
                kibana_api_key: Some("k".into()),
                kibana_bearer_token: Some("t".into()),
                ..Default::default()
            },
            KibanaArgs {
                kibana_password_file: Some("/nonexistent/secret".into()),
                kibana_username: Some("u".into()),
                ..Default::default()
            },
        ] {
            let e = a.auth("http://kb", &es).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{a:?}");
            assert!(!e.error().to_string().contains("\"p\""));
        }
    }
}
