//! (edge) Kibana's saved-objects import, for `convstats setup --kibana-url`.
//!
//! One `POST <url>[/s/<space>]/api/saved_objects/_import?overwrite=true`
//! carrying the NDJSON file as the multipart field `file` (file name
//! `convstats.ndjson`) with `kbn-xsrf: true`, authenticated like the
//! Elasticsearch connection ([`Auth`]: basic, API key, bearer; the same CA
//! file and insecure options). Kibana's answer becomes an [`ImportReport`]
//! (every imported object and every error by `type:id`, with a reason a
//! person can act on; success is Kibana's `success`, never `successCount`);
//! every other answer or failure becomes a [`KibanaError`] saying what failed
//! and what to do. The URL is shown only through [`crate::redact`] and
//! credentials live in [`Secret`]s, so no message carries a secret.
//!
//! Protocol notes: `../shared/notes/kibana-saved-objects.md`.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde_json::Value;

pub use crate::elasticsearch::config::{Auth, Secret};
use crate::redact;

/// The space Kibana uses when none is named (no `/s/<space>` prefix).
pub const DEFAULT_SPACE: &str = "default";

/// The name the file is sent under (Kibana requires the `.ndjson` ending).
pub const FILE_NAME: &str = "convstats.ndjson";

/// The largest answer read from Kibana; an import answer lists each object
/// once, so a few MiB hold many thousands.
pub const MAX_RESPONSE_BYTES: usize = 8 * 1024 * 1024;

/// Longest piece of a Kibana message or title that is shown.
const MAX_SHOWN_CHARS: usize = 500;

/// Where Kibana is and how to talk to it. `Debug` hides user info in the URL.
#[derive(Clone)]
pub struct KibanaConfig {
    /// Kibana's URL, with its base path if it has one (`server.basePath`).
    /// User info in it (`https://user:pass@host`) becomes [`Auth::Basic`]
    /// when `auth` is [`Auth::None`].
    pub url: String,
    /// The space to import into; `None` (or `default`) is the default space.
    pub space: Option<String>,
    pub auth: Auth,
    /// PEM file with the CA certificate(s) to trust.
    pub ca_file: Option<PathBuf>,
    /// Skip TLS certificate verification (explicit opt-in only).
    pub insecure: bool,
    /// Timeout of the whole import request (default 60 s).
    pub request_timeout: Duration,
    /// Timeout of the TCP and TLS connection (default 10 s).
    pub connect_timeout: Duration,
    /// The largest answer read (default [`MAX_RESPONSE_BYTES`]).
    pub max_response_bytes: usize,
}

impl Default for KibanaConfig {
    fn default() -> Self {
        KibanaConfig {
            url: "http://127.0.0.1:5601".to_string(),
            space: None,
            auth: Auth::None,
            ca_file: None,
            insecure: false,
            request_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            max_response_bytes: MAX_RESPONSE_BYTES,
        }
    }
}

impl fmt::Debug for KibanaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KibanaConfig")
            .field("url", &redact::url(&self.url))
            .field("space", &self.space)
            .field("auth", &self.auth)
            .field("ca_file", &self.ca_file)
            .field("insecure", &self.insecure)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// A failure of the import itself (not of single objects: those are in
/// [`ImportReport::errors`]). Every message says what failed and what to do.
#[derive(Debug, thiserror::Error)]
pub enum KibanaError {
    /// Settings that cannot work (bad URL or space, unreadable CA file).
    #[error("invalid Kibana configuration: {0}")]
    Config(String),
    /// No connection (refused, DNS, TLS handshake, reset).
    #[error(
        "cannot reach Kibana at {url}: {reason}; check --kibana-url (scheme, host, port — 5601 by default — and base path) and that Kibana is running and reachable from here"
    )]
    Unreachable { url: String, reason: String },
    /// No answer within the request timeout.
    #[error(
        "Kibana at {url} did not answer the saved-objects import within {seconds} s; check that Kibana is up and healthy (GET {url}/api/status) and run setup again"
    )]
    Timeout { url: String, seconds: u64 },
    /// HTTP 401.
    #[error(
        "Kibana at {url} rejected the credentials (HTTP 401: {detail}); check --kibana-username with --kibana-password-file, --kibana-api-key or --kibana-bearer-token (without any of them setup uses the Elasticsearch credentials)"
    )]
    Unauthorized { url: String, detail: String },
    /// HTTP 403.
    #[error(
        "Kibana at {url} refused the saved-objects import into space {space} (HTTP 403: {detail}); the user needs the \"Saved Objects Management\" (all) privilege in that space, or use credentials that have it"
    )]
    Forbidden {
        url: String,
        space: String,
        detail: String,
    },
    /// HTTP 404 under `/s/<space>`: the space does not exist.
    #[error(
        "Kibana at {url} has no space {space:?} (HTTP 404: {detail}); create the space (Stack Management → Spaces) or fix --kibana-space (omit it for the default space)"
    )]
    SpaceNotFound {
        url: String,
        space: String,
        detail: String,
    },
    /// HTTP 404 on the default space's route: not Kibana, or a wrong base path.
    #[error(
        "Kibana at {url} has no saved-objects import API (HTTP 404 on {path}); check that --kibana-url points at Kibana itself (port 5601 by default), with its base path if it has one (server.basePath)"
    )]
    NotFound { url: String, path: String },
    /// HTTP 400: Kibana refused the request as a whole (a repeated
    /// `type:id`, a line that is not JSON, a missing header).
    #[error(
        "Kibana at {url} rejected the saved-objects import (HTTP {status}): {message}; fix the saved-objects file (--kibana-objects) and run setup again"
    )]
    Rejected {
        url: String,
        status: u16,
        message: String,
    },
    /// HTTP 413.
    #[error(
        "Kibana at {url} refused the saved-objects file as too large (HTTP 413: {detail}); raise savedObjects.maxImportPayloadBytes in kibana.yml or import a smaller file"
    )]
    TooLarge { url: String, detail: String },
    /// A redirect (not followed: a POST would be turned into a GET, and
    /// credentials must not travel to another host).
    #[error(
        "Kibana at {url} answered the import with a redirect (HTTP {status}) to {location}; give the URL it redirects to as --kibana-url"
    )]
    Redirected {
        url: String,
        status: u16,
        location: String,
    },
    /// Any other status (5xx: Kibana not ready, Elasticsearch behind it away).
    #[error(
        "Kibana at {url} failed the saved-objects import with HTTP {status}: {detail}; check Kibana's status (GET {url}/api/status) and logs, then run setup again"
    )]
    Status {
        url: String,
        status: u16,
        detail: String,
    },
    /// A 200 that is not an import result.
    #[error(
        "the answer of {url} to the saved-objects import is not a Kibana import result ({reason}); check that --kibana-url points at Kibana"
    )]
    Protocol { url: String, reason: String },
    /// The connection broke after the request was sent.
    #[error(
        "the saved-objects import at Kibana {url} failed: {reason}; check Kibana's logs and run setup again"
    )]
    Transport { url: String, reason: String },
}

impl KibanaError {
    /// 2 for settings that cannot work, 1 for everything else (cli.md).
    pub fn exit_code(&self) -> i32 {
        match self {
            KibanaError::Config(_) => 2,
            _ => 1,
        }
    }
}

/// A saved object by type and id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: String,
    pub id: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.id)
    }
}

/// An object Kibana imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedObject {
    pub object: ObjectRef,
    pub title: Option<String>,
}

/// Why Kibana did not import an object (`error.type` of its answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// `missing_references`: references to objects neither in the file nor
    /// in the space.
    MissingReferences(Vec<ObjectRef>),
    /// `conflict`: the object exists and was not overwritten.
    Conflict,
    /// `ambiguous_conflict`: several existing objects match it.
    AmbiguousConflict,
    /// `unsupported_type`: this Kibana cannot import objects of its type.
    UnsupportedType,
    /// `unknown`: Kibana failed on it (a migration or schema failure, say).
    Unknown {
        message: Option<String>,
        status_code: Option<u64>,
    },
    /// An error type this client does not know.
    Other {
        kind: String,
        message: Option<String>,
    },
}

/// One object Kibana did not import, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectError {
    pub object: ObjectRef,
    pub title: Option<String>,
    pub problem: Problem,
}

impl fmt::Display for ObjectError {
    /// `dashboard convstats-legacy: missing reference index-pattern convstats-legacy-dv`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.object)?;
        match &self.problem {
            Problem::MissingReferences(refs) if refs.is_empty() => {
                f.write_str("missing references (Kibana named none)")
            }
            Problem::MissingReferences(refs) => {
                let list: Vec<String> = refs.iter().map(ToString::to_string).collect();
                let noun = if refs.len() == 1 {
                    "reference"
                } else {
                    "references"
                };
                write!(
                    f,
                    "missing {noun} {} (neither in the file nor in the space; add {} to the file or create {} first)",
                    list.join(", "),
                    if refs.len() == 1 { "it" } else { "them" },
                    if refs.len() == 1 { "it" } else { "them" },
                )
            }
            Problem::Conflict => f.write_str(
                "already exists in the space and was not overwritten (conflict); import with overwrite",
            ),
            Problem::AmbiguousConflict => f.write_str(
                "matches several existing objects (ambiguous_conflict); delete the extra copies in Stack Management → Saved objects",
            ),
            Problem::UnsupportedType => write!(
                f,
                "this Kibana cannot import objects of type {} (unsupported_type); check the Kibana version and that the plugin owning the type is enabled",
                self.object.kind
            ),
            Problem::Unknown {
                message,
                status_code,
            } => {
                f.write_str("Kibana failed to import it")?;
                if let Some(code) = status_code {
                    write!(f, " (HTTP {code})")?;
                }
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                Ok(())
            }
            Problem::Other { kind, message } => {
                write!(f, "not imported ({kind})")?;
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                Ok(())
            }
        }
    }
}

/// What Kibana answered to an import (HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The space imported into (`default` for the default space).
    pub space: String,
    /// Kibana's `success`: no object failed.
    pub success: bool,
    /// Kibana's `successCount` (informative only).
    pub success_count: u64,
    /// Kibana's `successResults`: the objects it imported.
    pub imported: Vec<ImportedObject>,
    /// Kibana's `errors`, one per object it did not import.
    pub errors: Vec<ObjectError>,
    /// Kibana's `warnings` (their messages).
    pub warnings: Vec<String>,
}

impl ImportReport {
    /// Kibana said `success: true` and listed no error.
    pub fn succeeded(&self) -> bool {
        self.success && self.errors.is_empty()
    }
}

/// A Kibana space id: lowercase letters, digits, `_` and `-`.
pub fn valid_space(space: &str) -> bool {
    !space.is_empty()
        && space
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Basic auth from the user info of `raw` (`https://user:pass@host`), when
/// it has any; `None` for a URL without user info or one that does not parse.
pub fn auth_from_url(raw: &str) -> Option<Auth> {
    let url = url::Url::parse(raw.trim()).ok()?;
    if url.username().is_empty() && url.password().is_none() {
        return None;
    }
    Some(Auth::Basic {
        username: crate::elasticsearch::client::percent_decode(url.username()),
        password: Secret::new(crate::elasticsearch::client::percent_decode(
            url.password().unwrap_or(""),
        )),
    })
}

/// The saved objects of an import file (`type:id` of each line): a quick
/// check before anything is sent. Blank lines and Kibana's export summary
/// line (`{"exportedCount": ...}`) are skipped, as Kibana skips them; a
/// repeated `type:id` is left for Kibana to refuse. The error names the line.
pub fn objects_in(ndjson: &str) -> Result<Vec<ObjectRef>, String> {
    let mut objects = Vec::new();
    for (n, line) in ndjson.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let value: Value =
            serde_json::from_str(line).map_err(|e| format!("line {} is not JSON ({e})", n + 1))?;
        let Some(obj) = value.as_object() else {
            return Err(format!("line {} is not a JSON object", n + 1));
        };
        if obj.contains_key("exportedCount") {
            continue;
        }
        match (
            obj.get("type").and_then(Value::as_str),
            obj.get("id").and_then(Value::as_str),
        ) {
            (Some(kind), Some(id)) if !kind.is_empty() && !id.is_empty() => {
                objects.push(ObjectRef {
                    kind: kind.to_string(),
                    id: id.to_string(),
                })
            }
            _ => {
                return Err(format!(
                    "line {} is not a saved object (it needs a string \"type\" and \"id\")",
                    n + 1
                ));
            }
        }
    }
    if objects.is_empty() {
        return Err("it holds no saved object".to_string());
    }
    Ok(objects)
}

/// The saved objects with their data views pointed at `new` and `legacy`
/// (the aliases of the run's `--alias-prefix`): a data view whose title is
/// one of the default aliases (`convstats-new`, `convstats-legacy`) gets the
/// run's alias instead; every other line is left byte for byte.
pub fn for_aliases(ndjson: &str, new: &str, legacy: &str) -> String {
    if new == "convstats-new" && legacy == "convstats-legacy" {
        return ndjson.to_string();
    }
    let mut out = String::with_capacity(ndjson.len());
    for line in ndjson.lines() {
        let mut value: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(_) => {
                out.push_str(line);
                out.push('\n');
                continue;
            }
        };
        let title = if value["type"] == "index-pattern" {
            match value["attributes"]["title"].as_str() {
                Some("convstats-new") => Some(new),
                Some("convstats-legacy") => Some(legacy),
                _ => None,
            }
        } else {
            None
        };
        match title {
            Some(t) => {
                value["attributes"]["title"] = Value::String(t.to_string());
                out.push_str(&value.to_string());
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// A client for one Kibana and one space.
#[derive(Clone)]
pub struct KibanaClient {
    http: reqwest::Client,
    /// The import endpoint, without user info.
    endpoint: url::Url,
    /// Kibana's URL as shown to people.
    display: String,
    space: String,
    authorization: Option<HeaderValue>,
    timeout: Duration,
    max_response_bytes: usize,
}

impl fmt::Debug for KibanaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KibanaClient")
            .field("url", &self.display)
            .field("space", &self.space)
            .finish()
    }
}

impl KibanaClient {
    /// Builds the client. Fails on a URL or space that cannot work, or an
    /// unreadable CA file.
    pub fn new(config: &KibanaConfig) -> Result<Self, KibanaError> {
        let raw = config.url.trim();
        let shown = redact::url(raw);
        let mut url = url::Url::parse(raw).map_err(|e| {
            KibanaError::Config(format!(
                "the Kibana URL, {shown}, is not a valid URL ({e}); write it like https://kibana.example.com:5601, and percent-encode ',', '@', ':', '/' and '#' in a user name or password (or use --kibana-username and --kibana-password-file)"
            ))
        })?;
        if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
            return Err(KibanaError::Config(format!(
                "the Kibana URL, {shown}, must start with http:// or https:// and name a host; write it like https://kibana.example.com:5601"
            )));
        }
        if url.path().contains('@') {
            return Err(KibanaError::Config(format!(
                "the Kibana URL, {shown}, has an '@' after its host, so part of what looks like a user name or password was read as the host; percent-encode '/', '?', '#' and '@' in a user name or password (or use --kibana-username and --kibana-password-file)"
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(KibanaError::Config(format!(
                "the Kibana URL, {shown}, has a query or fragment (after ? or #); give only scheme, host, port and base path"
            )));
        }
        let mut auth = config.auth.clone();
        if let Some(from_url) = auth_from_url(url.as_str()) {
            if matches!(auth, Auth::None) {
                auth = from_url;
            }
            // Cannot fail for http(s) URLs with a host.
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        let space = match config.space.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_SPACE.to_string(),
            Some(s) if valid_space(s) => s.to_string(),
            Some(s) => {
                return Err(KibanaError::Config(format!(
                    "{s:?} is not a Kibana space id (lowercase letters, digits, '_' and '-'); give the space's id, not its name, as --kibana-space"
                )));
            }
        };
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        let display = redact::url(url.as_str()).trim_end_matches('/').to_string();
        let route = if space == DEFAULT_SPACE {
            "api/saved_objects/_import".to_string()
        } else {
            format!("s/{space}/api/saved_objects/_import")
        };
        let endpoint = url.join(&route).map_err(|e| {
            KibanaError::Config(format!("cannot form the import URL under {display}: {e}"))
        })?;

        let mut builder = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("convstats/", env!("CARGO_PKG_VERSION")));
        if config.insecure {
            builder = builder.danger_accept_invalid_certs(true);
        } else if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                KibanaError::Config(format!(
                    "cannot read the CA certificate file {}: {e}; check --kibana-ca-file",
                    path.display()
                ))
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    KibanaError::Config(format!(
                        "CA certificate file {} holds no valid PEM certificate; check --kibana-ca-file",
                        path.display()
                    ))
                })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder
            .build()
            .map_err(|e| KibanaError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(KibanaClient {
            http,
            endpoint,
            display,
            space,
            authorization: authorization(&auth)?,
            timeout: config.request_timeout,
            max_response_bytes: config.max_response_bytes,
        })
    }

    /// Kibana's URL as shown to people (no user info).
    pub fn url(&self) -> &str {
        &self.display
    }

    /// The space imported into (`default` for the default space).
    pub fn space(&self) -> &str {
        &self.space
    }

    /// Imports `ndjson` (one saved object a line). `overwrite` replaces
    /// objects that exist (setup always overwrites: the file is the truth).
    /// `Ok` holds Kibana's answer, failed objects included; check
    /// [`ImportReport::succeeded`].
    pub async fn import(
        &self,
        ndjson: &[u8],
        overwrite: bool,
    ) -> Result<ImportReport, KibanaError> {
        let part = reqwest::multipart::Part::bytes(ndjson.to_vec())
            .file_name(FILE_NAME)
            .mime_str("application/ndjson")
            .map_err(|e| KibanaError::Config(format!("cannot form the request: {e}")))?;
        let form = reqwest::multipart::Form::new().part("file", part);
        let mut request = self
            .http
            .post(self.endpoint.clone())
            .query(&[("overwrite", if overwrite { "true" } else { "false" })])
            .header("kbn-xsrf", "true")
            .multipart(form);
        if let Some(value) = &self.authorization {
            request = request.header(AUTHORIZATION, value.clone());
        }
        tracing::debug!(url = %self.display, space = %self.space, bytes = ndjson.len(), "importing Kibana saved objects");
        let mut response = request.send().await.map_err(|e| self.send_error(&e))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(redact::text);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.send_error(&e))? {
            if body.len() + chunk.len() > self.max_response_bytes {
                return Err(KibanaError::Protocol {
                    url: self.display.clone(),
                    reason: format!(
                        "HTTP {status} with an answer larger than {} bytes",
                        self.max_response_bytes
                    ),
                });
            }
            body.extend_from_slice(&chunk);
        }
        if (300..400).contains(&status) {
            return Err(KibanaError::Redirected {
                url: self.display.clone(),
                status,
                location: location.unwrap_or_else(|| "(no Location header)".to_string()),
            });
        }
        interpret(
            status,
            &body,
            &self.display,
            &self.space,
            self.endpoint.path(),
        )
    }

    fn send_error(&self, e: &reqwest::Error) -> KibanaError {
        let url = self.display.clone();
        if e.is_timeout() {
            return KibanaError::Timeout {
                url,
                seconds: self.timeout.as_secs().max(1),
            };
        }
        let reason = error_chain(e);
        if e.is_connect() {
            KibanaError::Unreachable { url, reason }
        } else {
            KibanaError::Transport { url, reason }
        }
    }
}

/// The `Authorization` header of `auth` (marked sensitive: never logged).
fn authorization(auth: &Auth) -> Result<Option<HeaderValue>, KibanaError> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let text = match auth {
        Auth::None => return Ok(None),
        Auth::Basic { username, password } => {
            format!(
                "Basic {}",
                b64(&format!("{username}:{}", password.expose()))
            )
        }
        Auth::ApiKey { id: Some(id), key } => {
            format!("ApiKey {}", b64(&format!("{id}:{}", key.expose())))
        }
        Auth::ApiKey { id: None, key } => format!("ApiKey {}", key.expose().trim()),
        Auth::Bearer(token) => format!("Bearer {}", token.expose().trim()),
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| {
        KibanaError::Config(
            "the Kibana credentials hold characters an HTTP header cannot carry (a line break?); check the API key or token"
                .to_string(),
        )
    })?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// A reqwest error and its causes, URLs redacted.
fn error_chain(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    // reqwest's own text names the URL, which the message already names.
    let mut text = String::new();
    let mut source = e.source();
    let mut depth = 0;
    while let Some(s) = source {
        if depth >= 5 {
            break;
        }
        let piece = s.to_string();
        if !text.contains(&piece) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&piece);
        }
        source = s.source();
        depth += 1;
    }
    if text.is_empty() {
        text = e.to_string();
    }
    redact::text(&text)
}

/// `text` on one line (runs of white space, line breaks included, become
/// one space), cut to [`MAX_SHOWN_CHARS`] characters.
fn clip(text: &str) -> String {
    let mut words = text.split_whitespace().peekable();
    let mut out = String::new();
    let mut chars = 0;
    while let Some(word) = words.next() {
        for c in word.chars() {
            if chars >= MAX_SHOWN_CHARS {
                out.push('…');
                return out;
            }
            out.push(c);
            chars += 1;
        }
        if words.peek().is_some() {
            out.push(' ');
            chars += 1;
        }
    }
    out
}

/// The `message` of a Kibana error body (`{statusCode, error, message}`),
/// else the start of the body.
fn error_detail(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        let message = v.get("message").and_then(Value::as_str);
        let error = v.get("error").and_then(Value::as_str);
        match (error, message) {
            (Some(e), Some(m)) if !m.is_empty() && m != e => return clip(&format!("{e}: {m}")),
            (_, Some(m)) if !m.is_empty() => return clip(m),
            (Some(e), _) => return clip(e),
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".to_string()
    } else {
        clip(text)
    }
}

/// Kibana's answer to an import: a report for 200, an error for the rest.
/// `url` is Kibana's URL as shown, `path` the import route (for messages).
/// Pure; never panics, whatever the body.
pub fn interpret(
    status: u16,
    body: &[u8],
    url: &str,
    space: &str,
    path: &str,
) -> Result<ImportReport, KibanaError> {
    let url = url.to_string();
    match status {
        200 => parse_report(body, space).map_err(|reason| KibanaError::Protocol { url, reason }),
        401 => Err(KibanaError::Unauthorized {
            url,
            detail: error_detail(body),
        }),
        403 => Err(KibanaError::Forbidden {
            url,
            space: space.to_string(),
            detail: error_detail(body),
        }),
        404 if space != DEFAULT_SPACE => Err(KibanaError::SpaceNotFound {
            url,
            space: space.to_string(),
            detail: error_detail(body),
        }),
        404 => Err(KibanaError::NotFound {
            url,
            path: path.to_string(),
        }),
        413 => Err(KibanaError::TooLarge {
            url,
            detail: error_detail(body),
        }),
        400..=499 => Err(KibanaError::Rejected {
            url,
            status,
            message: error_detail(body),
        }),
        _ => Err(KibanaError::Status {
            url,
            status,
            detail: error_detail(body),
        }),
    }
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(clip)
}

fn object_ref(v: &Value) -> ObjectRef {
    ObjectRef {
        kind: text_of(v, "type").unwrap_or_else(|| "(no type)".to_string()),
        id: text_of(v, "id").unwrap_or_else(|| "(no id)".to_string()),
    }
}

fn title_of(v: &Value) -> Option<String> {
    text_of(v, "title").or_else(|| v.get("meta").and_then(|m| text_of(m, "title")))
}

/// The report in a 200 body; the error says what is wrong with the body.
fn parse_report(body: &[u8], space: &str) -> Result<ImportReport, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "HTTP 200 whose body is not JSON ({e}): {}",
            clip(String::from_utf8_lossy(body).trim())
        )
    })?;
    let Some(success) = v.get("success").and_then(Value::as_bool) else {
        return Err("HTTP 200 without a boolean \"success\"".to_string());
    };
    let list = |key: &str| -> Vec<Value> {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let imported = list("successResults")
        .iter()
        .map(|r| ImportedObject {
            object: object_ref(r),
            title: title_of(r),
        })
        .collect();
    let errors = list("errors")
        .iter()
        .map(|e| {
            let error = e.get("error").cloned().unwrap_or(Value::Null);
            let kind = text_of(&error, "type").unwrap_or_else(|| "unknown".to_string());
            let message = text_of(&error, "message");
            let problem = match kind.as_str() {
                "missing_references" => Problem::MissingReferences(
                    error
                        .get("references")
                        .and_then(Value::as_array)
                        .map(|refs| refs.iter().map(object_ref).collect())
                        .unwrap_or_default(),
                ),
                "conflict" => Problem::Conflict,
                "ambiguous_conflict" => Problem::AmbiguousConflict,
                "unsupported_type" => Problem::UnsupportedType,
                "unknown" => Problem::Unknown {
                    message,
                    status_code: error.get("statusCode").and_then(Value::as_u64),
                },
                _ => Problem::Other { kind, message },
            };
            ObjectError {
                object: object_ref(e),
                title: title_of(e),
                problem,
            }
        })
        .collect();
    let warnings = list("warnings")
        .iter()
        .filter_map(|w| match w {
            Value::String(s) => Some(clip(s)),
            _ => text_of(w, "message"),
        })
        .collect();
    Ok(ImportReport {
        space: space.to_string(),
        success,
        success_count: v.get("successCount").and_then(Value::as_u64).unwrap_or(0),
        imported,
        errors,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://kibana:5601";
    const PATH: &str = "/api/saved_objects/_import";

    #[test]
    fn with_another_alias_prefix_the_data_views_name_that_prefixs_aliases() {
        let file = include_str!("../kibana/convstats.ndjson");
        assert_eq!(for_aliases(file, "convstats-new", "convstats-legacy"), file);
        let moved = for_aliases(file, "ops-new", "ops-legacy");
        let titles: Vec<(String, String)> = moved
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|v| v["type"] == "index-pattern")
            .map(|v| {
                (
                    v["id"].as_str().unwrap().to_string(),
                    v["attributes"]["title"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            titles,
            [
                ("convstats-legacy".to_string(), "ops-legacy".to_string()),
                (
                    "convstats-legacy-by-message-created-at".into(),
                    "ops-legacy".into()
                ),
                ("convstats-new".into(), "ops-new".into()),
            ]
        );
        // The dashboards refer to data views by id: unchanged.
        let dashboards = |f: &str| {
            f.lines()
                .filter(|l| l.contains("\"type\":\"dashboard\""))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(dashboards(&moved), dashboards(file));
    }

    #[test]
    fn a_successful_import_lists_every_object() {
        let body = br#"{"successCount":2,"success":true,"warnings":[],"successResults":[
            {"type":"index-pattern","id":"dv","meta":{"title":"convstats-new","icon":"indexPatternApp"},"overwrite":true},
            {"type":"dashboard","id":"d","meta":{"title":"Conversations"}}]}"#;
        let r = interpret(200, body, URL, "default", PATH).unwrap();
        assert!(r.succeeded());
        assert_eq!(r.success_count, 2);
        assert_eq!(r.imported.len(), 2);
        assert_eq!(r.imported[1].object.to_string(), "dashboard d");
        assert_eq!(r.imported[1].title.as_deref(), Some("Conversations"));
    }

    #[test]
    fn success_false_fails_even_when_success_count_is_positive() {
        let body = br#"{"successCount":1,"success":false,"warnings":[],
            "successResults":[{"type":"index-pattern","id":"dv","meta":{"title":"x"}}],
            "errors":[{"id":"convstats-legacy","type":"dashboard","title":"Legacy","meta":{"title":"Legacy","icon":"dashboardApp"},
              "error":{"type":"missing_references","references":[{"type":"index-pattern","id":"convstats-legacy-dv"}]}}]}"#;
        let r = interpret(200, body, URL, "default", PATH).unwrap();
        assert!(!r.succeeded());
        assert_eq!(r.errors.len(), 1);
        let text = r.errors[0].to_string();
        assert!(
            text.starts_with(
                "dashboard convstats-legacy: missing reference index-pattern convstats-legacy-dv"
            ),
            "{text}"
        );
        // success true with errors listed is a failure too
        let body = br#"{"success":true,"successCount":0,"errors":[{"id":"x","type":"lens","error":{"type":"conflict"}}]}"#;
        assert!(
            !interpret(200, body, URL, "default", PATH)
                .unwrap()
                .succeeded()
        );
    }

    #[test]
    fn every_error_kind_reads_as_a_reason() {
        let body = br#"{"success":false,"successCount":0,"errors":[
            {"id":"a","type":"lens","error":{"type":"conflict"}},
            {"id":"b","type":"lens","error":{"type":"ambiguous_conflict","destinations":[]}},
            {"id":"c","type":"canvas-workpad","error":{"type":"unsupported_type"}},
            {"id":"d","type":"dashboard","error":{"type":"unknown","message":"Document \"d\" has property \"dashboard\" which belongs to a more recent version of Kibana [10.2.0]","statusCode":400}},
            {"id":"e","type":"dashboard","error":{"type":"brand_new"}},
            {"error":7}]}"#;
        let r = interpret(200, body, URL, "ops", PATH).unwrap();
        let texts: Vec<String> = r.errors.iter().map(ToString::to_string).collect();
        assert!(texts[0].starts_with("lens a: already exists"), "{texts:?}");
        assert!(texts[1].contains("ambiguous_conflict"), "{texts:?}");
        assert!(texts[2].contains("type canvas-workpad"), "{texts:?}");
        assert!(
            texts[3].contains("(HTTP 400): Document \"d\" has property"),
            "{texts:?}"
        );
        assert!(texts[4].contains("brand_new"), "{texts:?}");
        assert!(texts[5].starts_with("(no type) (no id)"), "{texts:?}");
    }

    #[test]
    fn answers_other_than_200_become_errors_that_say_what_to_do() {
        let e = interpret(
            400,
            br#"{"statusCode":400,"error":"Bad Request","message":"Non-unique import objects detected: [index-pattern:dv]"}"#,
            URL,
            "default",
            PATH,
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("Non-unique import objects detected: [index-pattern:dv]"),
            "{e}"
        );
        let e = interpret(404, b"{}", URL, "ops", "/s/ops/x").unwrap_err();
        assert!(matches!(e, KibanaError::SpaceNotFound { .. }));
        assert!(e.to_string().contains("no space \"ops\""), "{e}");
        let e = interpret(404, b"", URL, "default", PATH).unwrap_err();
        assert!(e.to_string().contains("--kibana-url"), "{e}");
        let e = interpret(401, b"not json", URL, "default", PATH).unwrap_err();
        assert!(e.to_string().contains("rejected the credentials"), "{e}");
        let e = interpret(403, b"", URL, "ops", PATH).unwrap_err();
        assert!(e.to_string().contains("privilege"), "{e}");
        let e =
            interpret(503, b"Kibana server is not ready yet", URL, "default", PATH).unwrap_err();
        assert!(e.to_string().contains("not ready yet"), "{e}");
        for body in [
            &b""[..],
            b"[]",
            b"{\"success\":\"yes\"}",
            b"\xff\xfe",
            b"null",
        ] {
            let e = interpret(200, body, URL, "default", PATH).unwrap_err();
            assert!(matches!(e, KibanaError::Protocol { .. }), "{e}");
        }
    }

    #[test]
    fn fields_of_the_wrong_shape_are_read_without_panicking() {
        let body = br#"{"success":true,"successCount":"two","successResults":[1,"x",null,{"type":5,"id":[]}],
            "errors":[{"error":{"type":"missing_references","references":"nope"}},{"type":"lens","id":"l","error":null}],
            "warnings":[3,"plain",{"type":"simple","message":"a warning"},{"message":["x"]}]}"#;
        let r = interpret(200, body, URL, "default", PATH).unwrap();
        assert!(!r.succeeded());
        assert_eq!(r.imported.len(), 4);
        assert_eq!(r.errors.len(), 2);
        assert_eq!(
            r.warnings,
            vec!["plain".to_string(), "a warning".to_string()]
        );
        assert!(r.errors[1].to_string().starts_with("lens l: Kibana failed"));
    }

    proptest::proptest! {
        #[test]
        fn no_answer_makes_the_client_panic(
            status in 100u16..600,
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            cut in 0usize..400,
        ) {
            let _ = interpret(status, &body, URL, "ops", PATH);
            let sample = br#"{"success":false,"successCount":1,"successResults":[{"type":"index-pattern","id":"dv","meta":{"title":"t"}}],"errors":[{"id":"d","type":"dashboard","title":"T","error":{"type":"missing_references","references":[{"type":"index-pattern","id":"x"}]}}],"warnings":[]}"#;
            let cut = cut.min(sample.len());
            for (s, b) in [(200, &sample[..cut]), (status, &sample[..cut]), (200, &body[..])] {
                if let Ok(r) = interpret(s, b, URL, "default", PATH) {
                    for e in &r.errors {
                        let _ = e.to_string();
                    }
                }
            }
        }
    }

    #[test]
    fn kibana_texts_are_shown_on_one_line_and_cut() {
        assert_eq!(clip("a\n\tb  c "), "a b c");
        let long = "x".repeat(MAX_SHOWN_CHARS + 10);
        assert_eq!(clip(&long).chars().count(), MAX_SHOWN_CHARS + 1);
        assert!(clip(&long).ends_with('…'));
        assert_eq!(
            clip(&"é".repeat(MAX_SHOWN_CHARS)).chars().count(),
            MAX_SHOWN_CHARS
        );
        let words = format!("{} {}", "y".repeat(MAX_SHOWN_CHARS), "z".repeat(20));
        assert_eq!(clip(&words).chars().count(), MAX_SHOWN_CHARS + 2);
    }

    #[test]
    fn the_object_check_names_the_bad_line_and_skips_the_export_summary() {
        let ok = "{\"type\":\"index-pattern\",\"id\":\"a\"}\n\n{\"exportedCount\":1,\"missingRefCount\":0}\n";
        assert_eq!(objects_in(ok).unwrap().len(), 1);
        assert!(
            objects_in("{\"type\":\"x\",\"id\":\"a\"}\n{oops")
                .unwrap_err()
                .starts_with("line 2 ")
        );
        assert!(objects_in("[1]").unwrap_err().contains("line 1"));
        assert!(objects_in("{\"id\":\"a\"}").unwrap_err().contains("line 1"));
        assert!(objects_in("\n").is_err());
    }

    #[test]
    fn spaces_urls_and_credentials_are_checked_and_never_shown() {
        assert!(valid_space("ops-2_x") && !valid_space("Ops") && !valid_space("a/b"));
        let config = |url: &str, space: Option<&str>| KibanaConfig {
            url: url.to_string(),
            space: space.map(str::to_string),
            ..KibanaConfig::default()
        };
        let c =
            KibanaClient::new(&config("http://elastic:s3cret@kb:5601/base", Some("ops"))).unwrap();
        assert_eq!(
            c.endpoint.as_str(),
            "http://kb:5601/base/s/ops/api/saved_objects/_import"
        );
        assert!(!format!("{c:?} {}", c.url()).contains("s3cret"));
        assert!(
            c.authorization
                .as_ref()
                .is_some_and(HeaderValue::is_sensitive)
        );
        let c = KibanaClient::new(&config("http://kb:5601", Some("default"))).unwrap();
        assert_eq!(
            c.endpoint.as_str(),
            "http://kb:5601/api/saved_objects/_import"
        );
        assert!(c.authorization.is_none());
        for bad in [
            "ftp://kb",
            "kb:5601",
            "http://kb:5601/?x=1",
            "http://u:p/w@kb",
        ] {
            let e = KibanaClient::new(&config(bad, None)).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}: {e}");
        }
        let e = KibanaClient::new(&config("http://kb", Some("My Space"))).unwrap_err();
        assert!(e.to_string().contains("space id"), "{e}");
        let e = KibanaClient::new(&config("http://u:hidden-pw@", None)).unwrap_err();
        assert!(!e.to_string().contains("hidden-pw"), "{e}");
    }

    #[test]
    fn api_keys_are_sent_encoded_and_bearer_tokens_as_given() {
        let h = authorization(&Auth::ApiKey {
            id: Some("id1".into()),
            key: Secret::new("key1"),
        })
        .unwrap()
        .unwrap();
        assert_eq!(h.to_str().unwrap(), "ApiKey aWQxOmtleTE=");
        let h = authorization(&Auth::ApiKey {
            id: None,
            key: Secret::new("aWQxOmtleTE="),
        })
        .unwrap()
        .unwrap();
        assert_eq!(h.to_str().unwrap(), "ApiKey aWQxOmtleTE=");
        let h = authorization(&Auth::Bearer(Secret::new("tok")))
            .unwrap()
            .unwrap();
        assert_eq!(h.to_str().unwrap(), "Bearer tok");
        assert!(authorization(&Auth::Bearer(Secret::new("a\nb"))).is_err());
    }
}
