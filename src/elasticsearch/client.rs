//! [`EsClient`]: the one way this crate talks to Elasticsearch. It wraps the
//! official client's transport (round robin over the configured URLs, no
//! sniffing), maps [`Auth`] and TLS settings, sends raw requests, and runs the
//! start-up check (`GET /`: product and version).
//!
//! URLs are kept without user info so that errors and logs never show secrets.

use std::time::Duration;

use bytes::Bytes;
use elasticsearch::auth::Credentials;
use elasticsearch::cert::{Certificate, CertificateValidation};
pub use elasticsearch::http::Method;
use elasticsearch::http::headers::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue};
use elasticsearch::http::transport::{MultiNodeConnectionPool, Transport, TransportBuilder};
use serde_json::Value;

use super::bulk::retry::Backoff;
use super::config::{Auth, EsConfig, Secret};
use super::error::EsError;
use super::policy::{self, ControlDecision};
use crate::redact;

/// A connected (not yet checked) client. Cheap to clone.
#[derive(Clone)]
pub struct EsClient {
    transport: Transport,
    urls: String,
    timeout: Duration,
    give_up_after: Option<Duration>,
    backoff_base: Duration,
    backoff_cap: Duration,
}

impl std::fmt::Debug for EsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EsClient")
            .field("urls", &self.urls)
            .finish()
    }
}

/// Status and body of a response.
#[derive(Debug, Clone)]
pub struct RawResponse {
    pub status: u16,
    pub body: Bytes,
}

impl RawResponse {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `error` object of an Elasticsearch (or OpenSearch) error body:
    /// `{"error": {"type": ..., "reason": ...}, "status": N}`.
    pub fn error_body(&self) -> Option<ErrorBody> {
        #[derive(serde::Deserialize)]
        struct Wrapper {
            error: ErrorField,
        }
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum ErrorField {
            Object {
                #[serde(rename = "type", default)]
                kind: Option<String>,
                reason: String,
            },
            Text(String),
        }
        match serde_json::from_slice::<Wrapper>(&self.body).ok()?.error {
            ErrorField::Object { kind, reason } => Some(ErrorBody {
                kind: Some(kind.unwrap_or_else(|| "error".to_string())),
                reason,
            }),
            ErrorField::Text(reason) => Some(ErrorBody { kind: None, reason }),
        }
    }

    /// `error.type: error.reason` of an Elasticsearch error body, else the
    /// start of the body.
    pub fn error_reason(&self) -> String {
        match self.error_body() {
            Some(ErrorBody {
                kind: Some(kind),
                reason,
            }) => return format!("{kind}: {reason}"),
            Some(ErrorBody { kind: None, reason }) => return reason,
            None => {}
        }
        let text = String::from_utf8_lossy(&self.body);
        let text: String = text.chars().take(300).collect();
        if text.is_empty() {
            "(empty body)".to_string()
        } else {
            text
        }
    }
}

/// The `error` of an error response: the engine's error type (`None` when
/// `error` is a plain string, as some routing errors are) and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorBody {
    pub kind: Option<String>,
    pub reason: String,
}

/// The banner `GET /` answers (the fields convstats reads).
#[derive(serde::Deserialize)]
struct Banner {
    #[serde(default)]
    cluster_name: String,
    version: BannerVersion,
}

#[derive(serde::Deserialize)]
struct BannerVersion {
    #[serde(default)]
    number: String,
    /// `opensearch` on OpenSearch; absent on Elasticsearch.
    #[serde(default)]
    distribution: Option<String>,
}

/// What `GET /` told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub cluster_name: String,
    pub version: String,
    /// `elasticsearch` or `opensearch`.
    pub distribution: String,
}

impl ClusterInfo {
    pub fn major(&self) -> u32 {
        self.version
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .unwrap_or(0)
    }
}

/// Headers for a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Ndjson,
    NdjsonGzip,
}

impl EsClient {
    /// Builds the client. Fails on unparsable URLs or an unreadable CA file.
    pub fn new(config: &EsConfig) -> Result<Self, EsError> {
        if config.urls.is_empty() {
            return Err(EsError::Config(
                "no Elasticsearch URL given; set --es-url (or CONVSTATS_ES_URL)".into(),
            ));
        }
        let mut auth = config.auth.clone();
        let mut urls = Vec::with_capacity(config.urls.len());
        for (i, raw) in config.urls.iter().enumerate() {
            let which = if config.urls.len() == 1 {
                "the Elasticsearch URL".to_string()
            } else {
                format!("Elasticsearch URL #{} of {}", i + 1, config.urls.len())
            };
            let mut url = url::Url::parse(raw.trim()).map_err(|e| {
                EsError::Config(format!(
                    "{which}, {}, is not a valid URL ({e}); write it like https://host:9200, and percent-encode ',', '@', ':', '/' and '#' in a user name or password (or use --es-username and --es-password-file)",
                    redact::url(raw)
                ))
            })?;
            if !matches!(url.scheme(), "http" | "https") || !url.has_host() {
                return Err(EsError::Config(format!(
                    "{which}, {}, must start with http:// or https:// and name a host; write it like https://host:9200",
                    redact::url(raw)
                )));
            }
            if url.path().contains('@') {
                return Err(EsError::Config(format!(
                    "{which}, {}, has an '@' after its host, so part of what looks like a user name or password was read as the host; percent-encode '/', '?', '#' and '@' in a user name or password (or use --es-username and --es-password-file)",
                    redact::url(raw)
                )));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(EsError::Config(format!(
                    "{which}, {}, has a query or fragment (after ? or #); give only scheme, host, port and path, and percent-encode '?' and '#' in a password",
                    redact::url(raw)
                )));
            }
            // Any user info, a password with an empty user name included,
            // moves into the credentials and out of the URL, which is shown.
            if !url.username().is_empty() || url.password().is_some() {
                if matches!(auth, Auth::None) {
                    let username = percent_decode(url.username());
                    let password = Secret::new(percent_decode(url.password().unwrap_or("")));
                    auth = Auth::Basic { username, password };
                }
                // Setting cannot fail for http(s) URLs.
                let _ = url.set_username("");
                let _ = url.set_password(None);
            }
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            urls.push(url);
        }
        let display = urls
            .iter()
            .map(|u| redact::url(u.as_str()).trim_end_matches('/').to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let pool = MultiNodeConnectionPool::round_robin(urls, None);
        let mut builder = TransportBuilder::new(pool)
            .timeout(config.request_timeout)
            .disable_proxy()
            .enable_meta_header(false);
        match &auth {
            Auth::None => {}
            Auth::Basic { username, password } => {
                builder = builder.auth(Credentials::Basic(
                    username.clone(),
                    password.expose().to_string(),
                ));
            }
            Auth::ApiKey { id: Some(id), key } => {
                builder = builder.auth(Credentials::ApiKey(id.clone(), key.expose().to_string()));
            }
            Auth::ApiKey { id: None, key } => {
                builder = builder.auth(Credentials::EncodedApiKey(key.expose().to_string()));
            }
            Auth::Bearer(token) => {
                builder = builder.auth(Credentials::Bearer(token.expose().to_string()));
            }
        }
        if config.insecure {
            builder = builder.cert_validation(CertificateValidation::None);
        } else if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| EsError::io("cannot read the CA certificate file", path, e))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                EsError::Config(format!(
                    "CA certificate file {} is not a valid PEM certificate: {e}",
                    path.display()
                ))
            })?;
            builder = builder.cert_validation(CertificateValidation::Full(cert));
        }
        let transport = builder
            .build()
            .map_err(|e| EsError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(EsClient {
            transport,
            urls: display,
            timeout: config.request_timeout,
            give_up_after: config.give_up_after,
            backoff_base: config.backoff_base,
            backoff_cap: config.backoff_cap,
        })
    }

    /// How long control calls are retried before giving up (`None`: never).
    pub fn give_up_after(&self) -> Option<Duration> {
        self.give_up_after
    }

    /// The configured URLs without credentials, for messages.
    pub fn urls(&self) -> &str {
        &self.urls
    }

    /// Sends one request. `Err` means no HTTP response (connection refused or
    /// reset, timeout, TLS failure, body cut off): [`EsError::Transport`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(Bytes, BodyKind)>,
        what: &str,
    ) -> Result<RawResponse, EsError> {
        self.send_within(method, path, query, body, what, self.timeout)
            .await
    }

    async fn send_within(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(Bytes, BodyKind)>,
        what: &str,
        timeout: Duration,
    ) -> Result<RawResponse, EsError> {
        let mut headers = HeaderMap::new();
        let body = body.map(|(bytes, kind)| {
            match kind {
                BodyKind::Json => {}
                BodyKind::Ndjson => {
                    headers.insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/x-ndjson"),
                    );
                }
                BodyKind::NdjsonGzip => {
                    headers.insert(
                        CONTENT_TYPE,
                        HeaderValue::from_static("application/x-ndjson"),
                    );
                    headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                }
            }
            bytes
        });
        let query = if query.is_empty() { None } else { Some(query) };
        let response = self
            .transport
            .send(method, path, headers, query, body, Some(timeout))
            .await
            .map_err(|e| EsError::Transport {
                what: what.to_string(),
                reason: describe_transport_error(&e),
            })?;
        let status = response.status_code().as_u16();
        let body = response.bytes().await.map_err(|e| EsError::Transport {
            what: what.to_string(),
            reason: format!(
                "reading the response body: {}",
                describe_transport_error(&e)
            ),
        })?;
        Ok(RawResponse { status, body })
    }

    /// A control call (not a bulk request): sent again with capped,
    /// jittered exponential backoff while [`policy::on_control`] says so, until
    /// the give-up time has passed since the first attempt. No attempt waits
    /// past that time either, so a server that accepts connections and never
    /// answers cannot hold a command longer than `give_up_after`. What the
    /// last attempt returned is returned.
    pub async fn send_retrying(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<(Bytes, BodyKind)>,
        what: &str,
    ) -> Result<RawResponse, EsError> {
        let started = std::time::Instant::now();
        let seed = u64::from(std::process::id())
            ^ std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
        let mut backoff = Backoff::new(self.backoff_base, self.backoff_cap, seed);
        let mut attempt = 0u32;
        loop {
            let left = self.give_up_after.map_or(self.timeout, |limit| {
                limit.saturating_sub(started.elapsed())
            });
            let timeout = self.timeout.min(left).max(Duration::from_millis(1));
            let result = self
                .send_within(method, path, query, body.clone(), what, timeout)
                .await;
            let status = match &result {
                Err(EsError::Transport { .. }) => None,
                Ok(raw) => Some(raw.status),
                Err(_) => return result,
            };
            if policy::on_control(method, status) == ControlDecision::Return {
                return result;
            }
            // Described only when it is retried: a successful answer's body
            // (a search page, say) is not parsed a second time.
            let problem = match &result {
                Ok(raw) => format!("HTTP {}: {}", raw.status, raw.error_reason()),
                Err(EsError::Transport { reason, .. }) => reason.clone(),
                Err(e) => e.to_string(),
            };
            let delay = backoff.delay(attempt);
            let elapsed = started.elapsed();
            if self
                .give_up_after
                .is_some_and(|limit| elapsed + delay >= limit)
            {
                tracing::warn!(
                    attempts = attempt + 1,
                    seconds = elapsed.as_secs_f64(),
                    "{what}: giving up ({problem})"
                );
                return result;
            }
            tracing::warn!(
                attempt = attempt + 1,
                retry_in_ms = delay.as_millis() as u64,
                "{what}: {problem}; retrying"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Sends a JSON request and returns status and parsed body (`Null` when
    /// empty). 401/403 become [`EsError::Auth`].
    pub async fn json(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        what: &str,
    ) -> Result<(u16, Value, RawResponse), EsError> {
        let body = match body {
            Some(v) => Some((
                Bytes::from(serde_json::to_vec(v).map_err(|e| EsError::Protocol {
                    what: what.to_string(),
                    reason: e.to_string(),
                })?),
                BodyKind::Json,
            )),
            None => None,
        };
        let raw = self.send_retrying(method, path, query, body, what).await?;
        if raw.status == 401 || raw.status == 403 {
            return Err(EsError::Auth {
                url: self.urls.clone(),
                status: raw.status,
                what: what.to_string(),
            });
        }
        let value = if raw.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&raw.body).unwrap_or(Value::Null)
        };
        Ok((raw.status, value, raw))
    }

    /// Like [`EsClient::json`] but any non-2xx status is an error.
    pub async fn json_ok(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, EsError> {
        let (status, value, raw) = self.json(method, path, query, body, what).await?;
        if (200..300).contains(&status) {
            Ok(value)
        } else {
            Err(EsError::Status {
                what: what.to_string(),
                status,
                reason: raw.error_reason(),
            })
        }
    }

    /// The start-up check: `GET /` must answer with an Elasticsearch (8.x,
    /// 9.x) or OpenSearch (2.x) banner.
    pub async fn check(&self) -> Result<ClusterInfo, EsError> {
        let raw = match self
            .send_retrying(Method::Get, "/", &[], None, "checking the cluster (GET /)")
            .await
        {
            Ok(raw) => raw,
            Err(EsError::Transport { reason, .. }) => {
                return Err(EsError::Unreachable {
                    urls: self.urls.clone(),
                    reason,
                });
            }
            Err(e) => return Err(e),
        };
        if raw.status == 401 || raw.status == 403 {
            return Err(EsError::Auth {
                url: self.urls.clone(),
                status: raw.status,
                what: "checking the cluster (GET /)".into(),
            });
        }
        if !raw.is_success() {
            return Err(EsError::Status {
                what: format!("checking the cluster at {} (GET /)", self.urls),
                status: raw.status,
                reason: raw.error_reason(),
            });
        }
        let banner: Banner =
            serde_json::from_slice(&raw.body).map_err(|_| EsError::NotElasticsearch {
                url: self.urls.clone(),
                detail: "GET / did not return a JSON object with version.number".into(),
            })?;
        if banner.version.number.is_empty() {
            return Err(EsError::NotElasticsearch {
                url: self.urls.clone(),
                detail: "GET / has no version.number".into(),
            });
        }
        let info = ClusterInfo {
            cluster_name: banner.cluster_name,
            version: banner.version.number,
            distribution: banner
                .version
                .distribution
                .unwrap_or_else(|| "elasticsearch".to_string()),
        };
        let supported = match info.distribution.as_str() {
            "opensearch" => info.major() >= 2,
            _ => info.major() >= 8,
        };
        if !supported {
            return Err(EsError::NotElasticsearch {
                url: self.urls.clone(),
                detail: format!(
                    "{} {} is not supported; convstats needs Elasticsearch 8.x/9.x or OpenSearch 2.x",
                    info.distribution, info.version
                ),
            });
        }
        tracing::info!(
            cluster = %info.cluster_name,
            version = %info.version,
            distribution = %info.distribution,
            "connected to {}",
            self.urls
        );
        Ok(info)
    }
}

/// The reason of a failure below HTTP, with any URL in it redacted.
fn describe_transport_error(e: &elasticsearch::Error) -> String {
    redact::text(&transport_error_chain(e))
}

fn transport_error_chain(e: &elasticsearch::Error) -> String {
    use std::error::Error as _;
    let mut text = if e.is_timeout() {
        "timed out".to_string()
    } else {
        e.to_string()
    };
    let mut source = e.source();
    let mut depth = 0;
    while let Some(s) = source {
        if depth >= 4 {
            break;
        }
        let piece = s.to_string();
        if !text.contains(&piece) {
            text.push_str(": ");
            text.push_str(&piece);
        }
        source = s.source();
        depth += 1;
    }
    text
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes.get(i).copied().unwrap_or_default();
        // `get` (not indexing): the two bytes after `%` may cut a multi-byte
        // character of a hostile URL.
        if b == b'%'
            && let Some(hex) = s.get(i + 1..i + 3)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_never_panics_on_hostile_user_info() {
        assert_eq!(percent_decode("p%40ss%3Aword"), "p@ss:word");
        assert_eq!(percent_decode("a%aé"), "a%aé");
        assert_eq!(percent_decode("%é1"), "%é1");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
