//! An in-process Elasticsearch protocol double for tests: an axum server on
//! 127.0.0.1:0 that follows Elasticsearch 9 semantics for what convstats
//! calls, with fault injection and a record of what happened.
//!
//! - `cluster`: state and per-API semantics; `mapping`: strict mapping
//!   validation; `search`: queries, sort, `search_after`, PIT.
//! - This file: the server, routing, `_bulk`, `filter_path`, faults, records.

pub mod cluster;
pub mod mapping;
pub mod search;

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};

use cluster::{Cluster, Reply, error};

/// Injected faults; change them at any time through [`EsDouble::faults`].
#[derive(Debug, Clone)]
pub struct Faults {
    /// The next N `_bulk` requests answer this status (429, 503, ...).
    pub bulk_status: VecDeque<u16>,
    /// The next N requests of any kind answer this status.
    pub any_status: VecDeque<u16>,
    /// Fraction of bulk items answered 429 (deterministic by `seed`).
    pub item_429_fraction: f64,
    pub seed: u64,
    /// The next N `_bulk` requests are applied, then the connection is cut
    /// before the response is complete.
    pub reset_bulk: usize,
    /// Added to every response.
    pub delay: Duration,
    /// While down, connections are dropped at once.
    pub down: bool,
    /// `http.max_content_length` in bytes (default 100 MiB).
    pub max_content_length: usize,
    /// Required `Authorization` header value, when set.
    pub require_authorization: Option<String>,
    /// Changes applied when the N-th `_bulk` request arrives (1-based),
    /// with the phase label set from then on.
    pub on_bulk: Vec<Trigger>,
}

/// A fault change scheduled on the N-th bulk request.
#[derive(Clone)]
pub struct Trigger {
    pub at_bulk: u64,
    pub phase: u32,
    pub change: Arc<dyn Fn(&mut Faults) + Send + Sync>,
}

impl std::fmt::Debug for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Trigger(at_bulk={}, phase={})", self.at_bulk, self.phase)
    }
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            bulk_status: VecDeque::new(),
            any_status: VecDeque::new(),
            item_429_fraction: 0.0,
            seed: 1,
            reset_bulk: 0,
            delay: Duration::ZERO,
            down: false,
            max_content_length: 100 * 1024 * 1024,
            require_authorization: None,
            on_bulk: Vec::new(),
        }
    }
}

impl Faults {
    /// Answers the next `n` bulk requests with `status`.
    pub fn fail_bulk(&mut self, status: u16, n: usize) {
        self.bulk_status.extend(std::iter::repeat_n(status, n));
    }

    /// Schedules `change` (and phase `phase`) for the `at_bulk`-th bulk request.
    pub fn at_bulk(
        &mut self,
        at_bulk: u64,
        phase: u32,
        change: impl Fn(&mut Faults) + Send + Sync + 'static,
    ) {
        self.on_bulk.push(Trigger {
            at_bulk,
            phase,
            change: Arc::new(change),
        });
    }
}

/// One request as the double saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
    /// Bulk: operations in the body.
    pub bulk_items: usize,
    /// Bulk: items answered 429 by injection.
    pub bulk_items_429: usize,
    /// Bulk: `_bulk` requests in flight when this one arrived (itself included).
    pub bulk_in_flight: usize,
    /// Whether a fault answered it (status, reset, down).
    pub faulted: bool,
    /// The test's phase label when it arrived ([`EsDouble::set_phase`]).
    pub phase: u32,
    pub gzip: bool,
    pub body_len: usize,
    /// The `Authorization` header, when present.
    pub authorization: Option<String>,
}

#[derive(Default)]
struct Record {
    requests: Vec<RecordedRequest>,
    bulk_in_flight: usize,
    max_bulk_in_flight: usize,
    /// (seq, bulk requests in flight) at every change.
    timeline: Vec<(u64, usize)>,
    phase: u32,
    seq: u64,
    bulk_counter: u64,
    bulk_arrivals: u64,
}

struct Inner {
    cluster: Mutex<Cluster>,
    faults: Mutex<Faults>,
    record: Mutex<Record>,
    down: AtomicBool,
}

/// A running double. Dropping it stops the server.
pub struct EsDouble {
    addr: SocketAddr,
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EsDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct DownableListener {
    inner: tokio::net::TcpListener,
    state: Arc<Inner>,
}

impl axum::serve::Listener for DownableListener {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
            if self.state.down.load(Ordering::SeqCst) {
                drop(io);
                continue;
            }
            return (io, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

impl EsDouble {
    /// Starts a double (ES 9 behaviour: `document_parsing_exception`).
    pub async fn start() -> Self {
        Self::start_with("document_parsing_exception").await
    }

    /// Starts a double reporting bad values with `parse_error_type`
    /// (`mapper_parsing_exception` for clusters before 8.8).
    pub async fn start_with(parse_error_type: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let inner = Arc::new(Inner {
            cluster: Mutex::new(Cluster::new(parse_error_type)),
            faults: Mutex::new(Faults::default()),
            record: Mutex::new(Record::default()),
            down: AtomicBool::new(false),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .layer(DefaultBodyLimit::disable())
            .with_state(inner.clone());
        let listener = DownableListener {
            inner: listener,
            state: inner.clone(),
        };
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        EsDouble { addr, inner, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes faults.
    pub fn faults<R>(&self, f: impl FnOnce(&mut Faults) -> R) -> R {
        let mut faults = self.inner.faults.lock().unwrap();
        let r = f(&mut faults);
        self.inner.down.store(faults.down, Ordering::SeqCst);
        r
    }

    /// Reads or changes the cluster state directly.
    pub fn cluster<R>(&self, f: impl FnOnce(&mut Cluster) -> R) -> R {
        f(&mut self.inner.cluster.lock().unwrap())
    }

    /// Labels the requests arriving from now on.
    pub fn set_phase(&self, phase: u32) {
        self.inner.record.lock().unwrap().phase = phase;
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.record.lock().unwrap().requests.clone()
    }

    pub fn bulk_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("_bulk"))
            .collect()
    }

    pub fn max_bulk_in_flight(&self) -> usize {
        self.inner.record.lock().unwrap().max_bulk_in_flight
    }

    pub fn bulk_in_flight_now(&self) -> usize {
        self.inner.record.lock().unwrap().bulk_in_flight
    }

    /// (request seq, bulk requests in flight) at every change.
    pub fn bulk_timeline(&self) -> Vec<(u64, usize)> {
        self.inner.record.lock().unwrap().timeline.clone()
    }

    /// Live documents of an index or alias: id → (version, source).
    pub fn docs(&self, expr: &str) -> std::collections::BTreeMap<String, (u64, Value)> {
        let c = self.inner.cluster.lock().unwrap();
        let mut out = std::collections::BTreeMap::new();
        if let Ok(names) = c.resolve(expr) {
            for n in names {
                for (id, d) in &c.indices[&n].docs {
                    if let Some(src) = &d.source {
                        out.insert(id.clone(), (d.version, (**src).clone()));
                    }
                }
            }
        }
        out
    }

    /// Concrete indices an alias points to.
    pub fn alias_targets(&self, alias: &str) -> Vec<String> {
        let c = self.inner.cluster.lock().unwrap();
        c.indices
            .iter()
            .filter(|(_, i)| i.aliases.contains_key(alias))
            .map(|(n, _)| n.clone())
            .collect()
    }

    pub fn index_names(&self) -> Vec<String> {
        self.inner
            .cluster
            .lock()
            .unwrap()
            .indices
            .keys()
            .cloned()
            .collect()
    }

    /// A flat `index.*` setting of a concrete index.
    pub fn setting(&self, index: &str, key: &str) -> Option<String> {
        let c = self.inner.cluster.lock().unwrap();
        c.indices
            .get(index)?
            .settings
            .get(key)
            .and_then(|v| v.as_str().map(str::to_string))
    }
}

fn json_response(status: u16, body: &Value, head: bool) -> Response {
    let bytes = if head {
        Vec::new()
    } else {
        serde_json::to_vec(body).expect("json")
    };
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = StatusCode::from_u16(status).expect("status");
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert(
        "x-elastic-product",
        HeaderValue::from_static("Elasticsearch"),
    );
    r
}

fn reset_response() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"took\":1,\"errors\":")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        )),
    ];
    let mut r = Response::new(Body::from_stream(futures::stream::iter(chunks)));
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then_some(v)
    })
}

fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 3 <= b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Keeps only the parts of `v` matching `filter_path` patterns.
pub fn filter_path(v: &Value, patterns: &[Vec<String>]) -> Option<Value> {
    if patterns.iter().any(|p| p.is_empty()) {
        return Some(v.clone());
    }
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, child) in m {
                let sub: Vec<Vec<String>> = patterns
                    .iter()
                    .filter(|p| p[0] == "*" || p[0] == *k || p[0] == "**")
                    .flat_map(|p| {
                        let mut v = vec![p[1..].to_vec()];
                        if p[0] == "**" {
                            v.push(p.clone());
                        }
                        v
                    })
                    .collect();
                if sub.is_empty() {
                    continue;
                }
                if let Some(f) = filter_path(child, &sub) {
                    out.insert(k.clone(), f);
                }
            }
            if out.is_empty() {
                None
            } else {
                Some(Value::Object(out))
            }
        }
        Value::Array(a) => {
            let items: Vec<Value> = a.iter().filter_map(|x| filter_path(x, patterns)).collect();
            if items.is_empty() {
                None
            } else {
                Some(Value::Array(items))
            }
        }
        _ => None,
    }
}

fn apply_filter(body: Value, query: &str) -> Value {
    match query_param(query, "filter_path") {
        None => body,
        Some(fp) => {
            let fp = url_decode(fp);
            let patterns: Vec<Vec<String>> = fp
                .split(',')
                .map(|p| p.split('.').map(str::to_string).collect())
                .collect();
            filter_path(&body, &patterns).unwrap_or(json!({}))
        }
    }
}

fn hash01(seed: u64, a: u64, b: u64) -> f64 {
    let mut z =
        seed ^ a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or("").to_string();
    let is_bulk = path.ends_with("/_bulk") && method == Method::POST
        || path.ends_with("/_bulk") && method == Method::PUT;
    let gzip = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (seq, phase, in_flight) = {
        let mut r = inner.record.lock().unwrap();
        r.seq += 1;
        let seq = r.seq;
        if is_bulk {
            r.bulk_arrivals += 1;
            let n = r.bulk_arrivals;
            let mut f = inner.faults.lock().unwrap();
            let due: Vec<Trigger> = f
                .on_bulk
                .iter()
                .filter(|t| t.at_bulk == n)
                .cloned()
                .collect();
            for t in due {
                (t.change)(&mut f);
                r.phase = t.phase;
            }
            inner.down.store(f.down, Ordering::SeqCst);
            r.bulk_in_flight += 1;
            r.max_bulk_in_flight = r.max_bulk_in_flight.max(r.bulk_in_flight);
            let now = r.bulk_in_flight;
            r.timeline.push((seq, now));
        }
        (seq, r.phase, r.bulk_in_flight)
    };
    let faults = inner.faults.lock().unwrap().clone();
    let mut rec = RecordedRequest {
        seq,
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        status: 0,
        bulk_items: 0,
        bulk_items_429: 0,
        bulk_in_flight: if is_bulk { in_flight } else { 0 },
        faulted: false,
        phase,
        gzip,
        body_len: body.len(),
        authorization: authorization.clone(),
    };
    if !faults.delay.is_zero() {
        tokio::time::sleep(faults.delay).await;
    }
    let response = respond(
        &inner,
        &faults,
        &method,
        &path,
        &query,
        gzip,
        authorization.as_deref(),
        body,
        is_bulk,
        &mut rec,
    );
    {
        let mut r = inner.record.lock().unwrap();
        if is_bulk {
            r.bulk_in_flight -= 1;
            let now = r.bulk_in_flight;
            r.timeline.push((seq, now));
        }
        rec.status = response.status().as_u16();
        r.requests.push(rec);
    }
    response
}

#[allow(clippy::too_many_arguments)]
fn respond(
    inner: &Inner,
    faults: &Faults,
    method: &Method,
    path: &str,
    query: &str,
    gzip: bool,
    authorization: Option<&str>,
    body: Bytes,
    is_bulk: bool,
    rec: &mut RecordedRequest,
) -> Response {
    let head = *method == Method::HEAD;
    if faults.down {
        rec.faulted = true;
        return reset_response();
    }
    {
        let mut f = inner.faults.lock().unwrap();
        if let Some(status) = f.any_status.pop_front() {
            rec.faulted = true;
            return json_response(
                status,
                &error(status, "injected_fault", "injected by the test").body,
                head,
            );
        }
        // A forced 413 models a request that is too large, which a single
        // document never is here: it waits for a request with several
        // operations (an index is 2 lines, a delete 1; gzip bodies count
        // as several).
        let single_op = !gzip && body.iter().filter(|&&b| b == b'\n').count() <= 2;
        let skip_413 = single_op && f.bulk_status.front() == Some(&413);
        if is_bulk
            && !skip_413
            && let Some(status) = f.bulk_status.pop_front()
        {
            rec.faulted = true;
            let body = if status == 429 {
                error(429, "es_rejected_execution_exception", "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=0, max_coordinating_and_primary_bytes=0]").body
            } else {
                error(
                    status,
                    "unavailable_shards_exception",
                    "injected by the test",
                )
                .body
            };
            return json_response(status, &body, head);
        }
    }
    if let Some(want) = &faults.require_authorization
        && authorization != Some(want.as_str())
    {
        let reason = if authorization.is_none() {
            format!("missing authentication credentials for REST request [{path}]")
        } else {
            format!("unable to authenticate user for REST request [{path}]")
        };
        let mut r = json_response(401, &error(401, "security_exception", &reason).body, head);
        r.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Basic realm=\"security\", charset=\"UTF-8\""),
        );
        return r;
    }
    if body.len() > faults.max_content_length {
        rec.faulted = true;
        return json_response(413, &Value::Null, true);
    }
    let body = if gzip {
        let mut out = Vec::new();
        let mut dec =
            flate2::read::GzDecoder::new(&body[..]).take(faults.max_content_length as u64 + 1);
        if dec.read_to_end(&mut out).is_err() {
            return json_response(
                400,
                &error(
                    400,
                    "illegal_argument_exception",
                    "failed to decompress the request body",
                )
                .body,
                head,
            );
        }
        if out.len() > faults.max_content_length {
            rec.faulted = true;
            return json_response(413, &Value::Null, true);
        }
        Bytes::from(out)
    } else {
        body
    };
    if is_bulk {
        let default_index = path
            .trim_start_matches('/')
            .strip_suffix("/_bulk")
            .map(str::to_string);
        let (reply, items, items_429) =
            bulk(inner, faults, default_index.as_deref(), &body, rec.seq);
        rec.bulk_items = items;
        rec.bulk_items_429 = items_429;
        let mut take_reset = false;
        {
            let mut f = inner.faults.lock().unwrap();
            if f.reset_bulk > 0 {
                f.reset_bulk -= 1;
                take_reset = true;
            }
        }
        if take_reset {
            rec.faulted = true;
            return reset_response();
        }
        return json_response(reply.status, &apply_filter(reply.body, query), head);
    }
    let json_body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return json_response(
                    400,
                    &error(
                        400,
                        "x_content_parse_exception",
                        &format!("[1:1] failed to parse request body: {e}"),
                    )
                    .body,
                    head,
                );
            }
        }
    };
    let reply = route(inner, method, path, query, &json_body);
    json_response(reply.status, &apply_filter(reply.body, query), head)
}

fn route(inner: &Inner, method: &Method, path: &str, query: &str, body: &Value) -> Reply {
    let segs: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(url_decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let mut c = inner.cluster.lock().unwrap();
    let m = method.as_str();
    match (m, segs.as_slice()) {
        ("GET" | "HEAD", []) => Reply::ok(json!({
            "name": "es-double",
            "cluster_name": "convstats-double",
            "cluster_uuid": "double-cluster-uuid",
            "version": {
                "number": "9.1.0",
                "build_flavor": "default",
                "build_type": "docker",
                "build_hash": "double",
                "build_date": "2026-01-01T00:00:00.000Z",
                "build_snapshot": false,
                "lucene_version": "10.2.2",
                "minimum_wire_compatibility_version": "8.19.0",
                "minimum_index_compatibility_version": "8.0.0"
            },
            "tagline": "You Know, for Search"
        })),
        ("PUT" | "POST", ["_index_template", name]) => c.put_template(name, body),
        ("GET", ["_index_template"]) => c.get_template(None),
        ("GET", ["_index_template", name]) => c.get_template(Some(name)),
        ("DELETE", ["_index_template", name]) => c.delete_template(name),
        ("POST", ["_aliases"]) => c.update_aliases(body),
        ("GET", ["_cluster", "health", index]) => {
            c.health(index, query_param(query, "wait_for_status"))
        }
        ("GET", ["_alias"]) => c.get_alias(None, None),
        ("GET", ["_alias", name]) => c.get_alias(None, Some(name)),
        ("GET", [index, "_alias"]) => c.get_alias(Some(index), None),
        ("GET", [index, "_alias", name]) => c.get_alias(Some(index), Some(name)),
        ("POST" | "GET", ["_refresh"]) => c.refresh(None),
        ("POST" | "GET", [index, "_refresh"]) => c.refresh(Some(index)),
        ("GET", [index, "_settings"]) => c.get_settings(index),
        ("PUT", [index, "_settings"]) => c.put_settings(index, body),
        ("PUT" | "POST", [index, "_mapping"]) => c.put_mapping(index, body),
        ("GET" | "POST", [index, "_count"]) => c.count(index, body),
        ("GET" | "POST", ["_count"]) => c.count("_all", body),
        ("GET" | "POST", ["_search"]) => c.search(None, body),
        ("GET" | "POST", [index, "_search"]) => c.search(Some(index), body),
        ("POST", [index, "_pit"]) => {
            let keep_alive = query_param(query, "keep_alive").map(str::to_string);
            c.open_pit(index, keep_alive.as_deref())
        }
        ("DELETE", ["_pit"]) => c.close_pit(body),
        ("GET", [index, "_doc", id]) => c.get_doc(index, id),
        ("PUT", [index]) => c.create_index(index, body),
        ("DELETE", [index]) => c.delete_index(index),
        ("GET", [index]) => c.get_index(index),
        ("HEAD", [index]) => match c.resolve(index) {
            Ok(_) => Reply::ok(Value::Null),
            Err(r) => r,
        },
        _ => error(
            405,
            "illegal_argument_exception",
            &format!("Incorrect HTTP method for uri [{path}] and method [{m}]"),
        ),
    }
}

/// Runs a bulk body: (reply, number of items, injected item 429s).
fn bulk(
    inner: &Inner,
    faults: &Faults,
    default_index: Option<&str>,
    body: &[u8],
    seq: u64,
) -> (Reply, usize, usize) {
    if !body.is_empty() && !body.ends_with(b"\n") {
        return (
            error(
                400,
                "illegal_argument_exception",
                "The bulk request must be terminated by a newline [\\n]",
            ),
            0,
            0,
        );
    }
    let mut lines = body.split(|b| *b == b'\n').filter(|l| !l.is_empty());
    // parse everything first: a malformed body fails the whole request
    let mut ops: Vec<(String, Value, Option<Value>)> = Vec::new();
    while let Some(line) = lines.next() {
        let action: Value = match serde_json::from_slice(line) {
            Ok(v) => v,
            Err(e) => {
                return (
                    error(
                        400,
                        "x_content_parse_exception",
                        &format!(
                            "[1:1] Malformed action/metadata line [{}]: {e}",
                            ops.len() + 1
                        ),
                    ),
                    0,
                    0,
                );
            }
        };
        let Some((op, meta)) = action
            .as_object()
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next())
            .map(|(k, v)| (k.clone(), v.clone()))
        else {
            return (
                error(
                    400,
                    "illegal_argument_exception",
                    &format!(
                        "Malformed action/metadata line [{}], expected START_OBJECT or END_OBJECT",
                        ops.len() + 1
                    ),
                ),
                0,
                0,
            );
        };
        if !["index", "create", "delete", "update"].contains(&op.as_str()) {
            return (
                error(
                    400,
                    "illegal_argument_exception",
                    &format!(
                        "Malformed action/metadata line [{}], expected field [create], [delete], [index] or [update] but found [{op}]",
                        ops.len() + 1
                    ),
                ),
                0,
                0,
            );
        }
        let source = if op == "delete" {
            None
        } else {
            match lines.next() {
                None => {
                    return (
                        error(
                            400,
                            "action_request_validation_exception",
                            "Validation Failed: 1: no requests added;",
                        ),
                        0,
                        0,
                    );
                }
                Some(src) => match serde_json::from_slice::<Value>(src) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        // ES reports a bad source per item; keep it simple and per item too
                        Some(json!({"__unparsable__": e.to_string()}))
                    }
                },
            }
        };
        ops.push((op, meta, source));
    }
    if ops.is_empty() {
        return (
            error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: no requests added;",
            ),
            0,
            0,
        );
    }
    let bulk_no = {
        let mut r = inner.record.lock().unwrap();
        r.bulk_counter += 1;
        r.bulk_counter
    };
    let _ = seq;
    let mut c = inner.cluster.lock().unwrap();
    let mut items = Vec::with_capacity(ops.len());
    let mut errors = false;
    let mut injected = 0;
    for (pos, (op, meta, source)) in ops.into_iter().enumerate() {
        let op = op.as_str();
        let target = meta["_index"]
            .as_str()
            .or(default_index)
            .unwrap_or("")
            .to_string();
        let id = meta["_id"].as_str().map(str::to_string);
        let external = meta["version_type"]
            .as_str()
            .is_some_and(|t| t == "external" || t == "external_gt");
        let version = meta["version"].as_u64();
        let wrap = |v: Value| json!({ op: v });
        if faults.item_429_fraction > 0.0
            && hash01(faults.seed, bulk_no, pos as u64) < faults.item_429_fraction
        {
            injected += 1;
            errors = true;
            items.push(wrap(json!({"_index": target, "_id": id, "status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "rejected execution of primary operation [injected]"}})));
            continue;
        }
        if target.is_empty() {
            errors = true;
            items.push(wrap(json!({"_index": null, "_id": id, "status": 400, "error": {"type": "action_request_validation_exception", "reason": "Validation Failed: 1: index is missing;"}})));
            continue;
        }
        let Some(id) = id else {
            errors = true;
            items.push(wrap(json!({"_index": target, "status": 400, "error": {"type": "action_request_validation_exception", "reason": "Validation Failed: 1: an id is required;"}})));
            continue;
        };
        if op == "create" && external {
            errors = true;
            items.push(wrap(json!({"_index": target, "_id": id, "status": 400, "error": {"type": "action_request_validation_exception", "reason": "Validation Failed: 1: create operations only support internal versioning. use index instead;"}})));
            continue;
        }
        let index = match c.write_index(&target) {
            Err(reply) => {
                errors = true;
                items.push(wrap(json!({"_index": target, "_id": id, "status": reply.status, "error": reply.body["error"].clone()})));
                continue;
            }
            Ok(Some(i)) => i,
            Ok(None) => {
                let created = c.create_index(&target, &Value::Null);
                if created.status != 200 {
                    errors = true;
                    items.push(wrap(json!({"_index": target, "_id": id, "status": created.status, "error": created.body["error"].clone()})));
                    continue;
                }
                target.clone()
            }
        };
        if op == "update" {
            errors = true;
            items.push(wrap(json!({"_index": index, "_id": id, "status": 400, "error": {"type": "illegal_argument_exception", "reason": "the double does not implement update"}})));
            continue;
        }
        let (status, item) = c.apply_item(op, &index, &id, version, external, source);
        if status >= 300 && !(op == "delete" && status == 404) {
            errors = true;
        }
        items.push(wrap(item));
    }
    let n = items.len();
    (
        Reply::ok(json!({"errors": errors, "took": 1, "items": items})),
        n,
        injected,
    )
}
