//! An in-process Kibana protocol double for tests: an axum server on
//! 127.0.0.1:0 answering `POST /api/saved_objects/_import` and
//! `POST /s/<space>/api/saved_objects/_import` as Kibana 8.x does
//! (`../shared/notes/kibana-saved-objects.md`, and Kibana's import routes:
//! `import_saved_objects.ts`, `create_saved_objects.ts`), with the saved
//! objects it stored per space and a record of every request.
//!
//! In the order Kibana checks them:
//! - a route other than the two import routes, or a method other than POST:
//!   404 `Not Found`;
//! - [`KibanaDouble::require_authorization`] set and another (or no)
//!   `Authorization` header: 401 (a `security_exception`);
//! - no `kbn-xsrf` header: 400 `Request must contain a kbn-xsrf header.`;
//! - a space that does not exist ([`KibanaDouble::add_space`]): 404
//!   `Saved object [space/<id>] not found`;
//! - a query key other than `overwrite`, `createNewCopies`,
//!   `compatibilityMode`, a value other than `true`/`false`, or both
//!   `overwrite` and `createNewCopies`: 400;
//! - a body that is not `multipart/form-data`: 415; a multipart body that
//!   does not parse: 400; no `file` field: 400 `[request body.file]:
//!   expected value of type [Stream] but got [undefined]`; a file name not
//!   ending in `.ndjson`: 400 `Invalid file extension <ext>`;
//! - a line that is not JSON: 400; a repeated `type:id`: 400
//!   `Non-unique import objects detected: [type:id]`;
//! - then per object: `unsupported_type` for types outside
//!   [`IMPORTABLE_TYPES`]; `missing_references` for a reference (the
//!   top-level `references` array) to a `type:id` neither in the file nor
//!   stored in the space; `conflict` when the object is stored and
//!   `overwrite` is not `true`.
//!
//! Objects with an error are not stored; the others are, and are listed in
//! `successResults` (Kibana's `createSavedObjects` filters out only the
//! objects that had errors). `success` is `false` whenever any object had an
//! error, whatever `successCount` says.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

/// The saved-object types the double imports.
pub const IMPORTABLE_TYPES: &[&str] = &[
    "index-pattern",
    "dashboard",
    "lens",
    "visualization",
    "search",
    "tag",
    "config",
];

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: Option<String>,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub body: String,
}

/// One request as the double saw it.
#[derive(Debug, Clone)]
pub struct KibanaRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Every header, names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The parts of a multipart body (empty for other bodies).
    pub parts: Vec<Part>,
    pub status: u16,
    /// The answer's body.
    pub answer: Value,
}

impl KibanaRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A query parameter (the last of its name).
    pub fn query_param(&self, key: &str) -> Option<String> {
        query_pairs(&self.query)
            .into_iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// The part named `file`.
    pub fn file(&self) -> Option<&Part> {
        self.parts
            .iter()
            .find(|p| p.name.as_deref() == Some("file"))
    }
}

#[derive(Default)]
struct DoubleState {
    spaces: BTreeSet<String>,
    /// space → (type, id) → object.
    stored: BTreeMap<String, BTreeMap<(String, String), Value>>,
    required_authorization: Option<String>,
    requests: Vec<KibanaRequest>,
    /// The next requests answer these (status, body) before any check.
    fail_next: VecDeque<(u16, Value)>,
    delay: Duration,
}

/// A running double. Dropping it stops the server.
pub struct KibanaDouble {
    addr: SocketAddr,
    state: Arc<Mutex<DoubleState>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for KibanaDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl KibanaDouble {
    /// Starts a double with only the default space.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(DoubleState {
            spaces: BTreeSet::from(["default".to_string()]),
            ..DoubleState::default()
        }));
        let app = axum::Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::max(64 * 1024 * 1024))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        KibanaDouble { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Creates a space.
    pub fn add_space(&self, id: &str) {
        self.state.lock().unwrap().spaces.insert(id.to_string());
    }

    /// Requires this exact `Authorization` header value (`None`: no auth).
    pub fn require_authorization(&self, value: Option<String>) {
        self.state.lock().unwrap().required_authorization = value;
    }

    /// Answers the next request with `status` and `body`, before any check.
    pub fn fail_next(&self, status: u16, body: Value) {
        self.state
            .lock()
            .unwrap()
            .fail_next
            .push_back((status, body));
    }

    /// Waits this long before answering each request.
    pub fn set_delay(&self, delay: Duration) {
        self.state.lock().unwrap().delay = delay;
    }

    /// Stores an object in a space, as if imported earlier.
    pub fn seed(&self, space: &str, object: Value) {
        let key = (
            object["type"].as_str().unwrap_or_default().to_string(),
            object["id"].as_str().unwrap_or_default().to_string(),
        );
        self.state
            .lock()
            .unwrap()
            .stored
            .entry(space.to_string())
            .or_default()
            .insert(key, object);
    }

    /// The objects stored in a space: (type, id) → object.
    pub fn stored(&self, space: &str) -> BTreeMap<(String, String), Value> {
        self.state
            .lock()
            .unwrap()
            .stored
            .get(space)
            .cloned()
            .unwrap_or_default()
    }

    pub fn requests(&self) -> Vec<KibanaRequest> {
        self.state.lock().unwrap().requests.clone()
    }
}

async fn handle(
    State(state): State<Arc<Mutex<DoubleState>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let delay = state.lock().unwrap().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let parts = multipart_parts(&headers, &body).unwrap_or_default();
    let (status, answer) = {
        let mut st = state.lock().unwrap();
        let (status, answer) = answer(&mut st, &method, &uri, &headers, &body);
        st.requests.push(KibanaRequest {
            method: method.to_string(),
            path: uri.path().to_string(),
            query: uri.query().unwrap_or_default().to_string(),
            headers: headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            parts,
            status,
            answer: answer.clone(),
        });
        (status, answer)
    };
    let mut r = Response::new(Body::from(serde_json::to_vec(&answer).expect("json")));
    *r.status_mut() = StatusCode::from_u16(status).expect("status");
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

fn error_body(status: u16, error: &str, message: &str) -> (u16, Value) {
    (
        status,
        json!({"statusCode": status, "error": error, "message": message}),
    )
}

fn bad_request(message: &str) -> (u16, Value) {
    error_body(400, "Bad Request", message)
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The whole import protocol: (status, body).
fn answer(
    st: &mut DoubleState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (u16, Value) {
    if let Some(fault) = st.fail_next.pop_front() {
        return fault;
    }
    let path = uri.path();
    let space = if path == "/api/saved_objects/_import" {
        Some("default".to_string())
    } else {
        path.strip_prefix("/s/")
            .and_then(|rest| rest.strip_suffix("/api/saved_objects/_import"))
            .filter(|s| !s.is_empty() && !s.contains('/'))
            .map(str::to_string)
    };
    let not_found = error_body(404, "Not Found", "Not Found");
    let Some(space) = space else {
        return not_found;
    };
    if let Some(required) = &st.required_authorization {
        let given = headers.get("authorization").map(HeaderValue::as_bytes);
        if given != Some(required.as_bytes()) {
            return error_body(
                401,
                "Unauthorized",
                "[security_exception\n\tRoot causes:\n\t\tsecurity_exception: unable to authenticate user for REST request [/_security/_authenticate]]: unable to authenticate user for REST request [/_security/_authenticate]",
            );
        }
    }
    if method != Method::POST {
        return not_found;
    }
    if !headers.contains_key("kbn-xsrf") {
        return bad_request("Request must contain a kbn-xsrf header.");
    }
    if !st.spaces.contains(&space) {
        return error_body(
            404,
            "Not Found",
            &format!("Saved object [space/{space}] not found"),
        );
    }
    let mut overwrite = false;
    let mut create_new_copies = false;
    let mut compatibility_mode = false;
    for (k, v) in query_pairs(uri.query().unwrap_or_default()) {
        let flag = match k.as_str() {
            "overwrite" => &mut overwrite,
            "createNewCopies" => &mut create_new_copies,
            "compatibilityMode" => &mut compatibility_mode,
            _ => {
                return bad_request(&format!(
                    "[request query.{k}]: definition for this key is missing"
                ));
            }
        };
        *flag = match v.as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return bad_request(&format!(
                    "[request query.{k}]: expected value of type [boolean] but got [string]"
                ));
            }
        };
    }
    if (overwrite || compatibility_mode) && create_new_copies {
        return bad_request(if overwrite {
            "cannot use [overwrite] with [createNewCopies]"
        } else {
            "cannot use [createNewCopies] with [compatibilityMode]"
        });
    }
    let is_multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        return error_body(415, "Unsupported Media Type", "Unsupported Media Type");
    }
    let Some(parts) = multipart_parts(headers, body) else {
        return bad_request("Invalid multipart payload format");
    };
    let Some(file) = parts.iter().find(|p| p.name.as_deref() == Some("file")) else {
        return bad_request(
            "[request body.file]: expected value of type [Stream] but got [undefined]",
        );
    };
    let file_name = file.file_name.clone().unwrap_or_default();
    if !file_name.ends_with(".ndjson") {
        let ext = file_name
            .rfind('.')
            .map_or(String::new(), |i| file_name[i..].to_string());
        return bad_request(&format!("Invalid file extension {ext}"));
    }

    // The objects, in file order.
    let mut objects: Vec<Value> = Vec::new();
    for line in file.body.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return bad_request(&format!("Unexpected token in JSON: {e}")),
        };
        if v.get("exportedCount").is_some() {
            continue;
        }
        objects.push(v);
    }
    let key = |o: &Value| {
        (
            o["type"].as_str().unwrap_or_default().to_string(),
            o["id"].as_str().unwrap_or_default().to_string(),
        )
    };
    let mut seen = BTreeSet::new();
    let mut repeated = Vec::new();
    for o in &objects {
        let k = key(o);
        if !seen.insert(k.clone()) && !repeated.contains(&k) {
            repeated.push(k);
        }
    }
    if !repeated.is_empty() {
        let list: Vec<String> = repeated.iter().map(|(t, i)| format!("{t}:{i}")).collect();
        return bad_request(&format!(
            "Non-unique import objects detected: [{}]",
            list.join(",")
        ));
    }

    let title = |o: &Value| o["attributes"]["title"].as_str().map(str::to_string);
    let stored = st.stored.entry(space).or_default();
    let mut errors: Vec<Value> = Vec::new();
    let supported: Vec<&Value> = objects
        .iter()
        .filter(|o| {
            let (t, id) = key(o);
            let ok = IMPORTABLE_TYPES.contains(&t.as_str());
            if !ok {
                errors.push(json!({
                    "id": id, "type": t, "title": title(o), "meta": {"title": title(o)},
                    "error": {"type": "unsupported_type"}
                }));
            }
            ok
        })
        .collect();
    let in_file: BTreeSet<(String, String)> = supported.iter().map(|o| key(o)).collect();
    let mut to_store = Vec::new();
    for o in supported {
        let (t, id) = key(o);
        let mut missing: Vec<Value> = Vec::new();
        for r in o["references"].as_array().into_iter().flatten() {
            let rk = key(r);
            if !in_file.contains(&rk)
                && !stored.contains_key(&rk)
                && !missing.iter().any(|m| key(m) == rk)
            {
                missing.push(json!({"type": rk.0, "id": rk.1}));
            }
        }
        if !missing.is_empty() {
            errors.push(json!({
                "id": id, "type": t, "title": title(o), "meta": {"title": title(o)},
                "error": {"type": "missing_references", "references": missing}
            }));
            continue;
        }
        if stored.contains_key(&(t.clone(), id.clone())) && !overwrite {
            errors.push(json!({
                "id": id, "type": t, "title": title(o), "meta": {"title": title(o)},
                "error": {"type": "conflict"}
            }));
            continue;
        }
        to_store.push(o.clone());
    }
    let mut results = Vec::new();
    for o in to_store {
        let k = key(&o);
        let existed = stored.contains_key(&k);
        let mut r = json!({"type": k.0, "id": k.1, "meta": {"title": title(&o)}});
        if existed {
            r["overwrite"] = json!(true);
        }
        results.push(r);
        stored.insert(k, o);
    }
    let mut answer = json!({
        "successCount": results.len(),
        "success": errors.is_empty(),
        "warnings": [],
    });
    if !results.is_empty() {
        answer["successResults"] = json!(results);
    }
    if !errors.is_empty() {
        answer["errors"] = json!(errors);
    }
    (200, answer)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A `key="value"` (or `key=value`) parameter of a header value.
fn header_param(value: &str, key: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.trim().trim_matches('"').to_string())
    })
}

/// The parts of a `multipart/form-data` body (RFC 7578); `None` when the
/// content type is not multipart or the body does not parse.
pub fn multipart_parts(headers: &HeaderMap, body: &[u8]) -> Option<Vec<Part>> {
    let content_type = headers.get("content-type")?.to_str().ok()?;
    if !content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        return None;
    }
    let boundary = header_param(content_type, "boundary")?;
    let delimiter = format!("--{boundary}");
    let next_delimiter = format!("\r\n--{boundary}");
    let mut at = find(body, delimiter.as_bytes(), 0)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Some(parts);
        }
        if body.get(at..at + 2) != Some(b"\r\n") {
            return None;
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at)?;
        let head = std::str::from_utf8(&body[at..head_end]).ok()?;
        let content_start = head_end + 4;
        let content_end = find(body, next_delimiter.as_bytes(), content_start)?;
        let mut part = Part {
            name: None,
            file_name: None,
            content_type: None,
            body: String::from_utf8_lossy(&body[content_start..content_end]).into_owned(),
        };
        for line in head.split("\r\n") {
            let (name, value) = line.split_once(':')?;
            let value = value.trim();
            if name.trim().eq_ignore_ascii_case("content-disposition") {
                part.name = header_param(value, "name");
                part.file_name = header_param(value, "filename");
            } else if name.trim().eq_ignore_ascii_case("content-type") {
                part.content_type = Some(value.to_string());
            }
        }
        parts.push(part);
        at = content_end + next_delimiter.len();
    }
}
