//! `_search` and `_count` over a document snapshot: `match_all`, `term`,
//! `range`, `bool` (must/filter/must_not), sort (fields, `_doc`,
//! `_shard_doc`), `size`, `from`, `search_after`.

use std::cmp::Ordering;

use serde_json::{Value, json};

use super::cluster::{Doc, Reply, error};
use super::mapping;

type Entry = (String, String, Doc);

fn field_type<'a>(mappings: &'a Value, field: &str) -> (&'a str, &'a str) {
    let f = &mappings["properties"][field];
    (
        f["type"].as_str().unwrap_or(""),
        f["format"]
            .as_str()
            .unwrap_or("strict_date_optional_time||epoch_millis"),
    )
}

/// A comparable form of a field value.
#[derive(Debug, Clone, PartialEq)]
enum Key {
    Num(f64),
    Str(String),
    Bool(bool),
}

impl Key {
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Num(a), Key::Num(b)) => a.partial_cmp(b).unwrap_or(Ordering::Equal),
            (Key::Str(a), Key::Str(b)) => a.cmp(b),
            (Key::Bool(a), Key::Bool(b)) => a.cmp(b),
            (Key::Num(_), _) => Ordering::Less,
            (_, Key::Num(_)) => Ordering::Greater,
            (Key::Bool(_), _) => Ordering::Less,
            (_, Key::Bool(_)) => Ordering::Greater,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Key::Num(n) if n.fract() == 0.0 => json!(*n as i64),
            Key::Num(n) => json!(n),
            Key::Str(s) => json!(s),
            Key::Bool(b) => json!(b),
        }
    }
}

fn key_of(mappings: &Value, field: &str, v: &Value) -> Option<Key> {
    let (ty, format) = field_type(mappings, field);
    match ty {
        "date" => mapping::date_millis(format, v).map(|m| Key::Num(m as f64)),
        "long" => match v {
            Value::Number(n) => n.as_f64().map(Key::Num),
            Value::String(s) => s.parse::<f64>().ok().map(Key::Num),
            _ => None,
        },
        "boolean" => match v {
            Value::Bool(b) => Some(Key::Bool(*b)),
            Value::String(s) => Some(Key::Bool(s == "true")),
            _ => None,
        },
        _ => match v {
            Value::String(s) => Some(Key::Str(s.clone())),
            Value::Number(n) => Some(Key::Str(n.to_string())),
            Value::Bool(b) => Some(Key::Str(b.to_string())),
            _ => None,
        },
    }
}

fn values<'a>(src: &'a Value, field: &str) -> Vec<&'a Value> {
    match src.get(field) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter(|v| !v.is_null()).collect(),
        Some(v) => vec![v],
    }
}

fn matches(entry: &Entry, query: &Value, mappings: &Value) -> Result<bool, Reply> {
    let Some((kind, spec)) = query.as_object().and_then(|o| o.iter().next()) else {
        return Err(error(
            400,
            "parsing_exception",
            "query malformed, empty clause found",
        ));
    };
    let src = entry
        .2
        .source
        .as_ref()
        .expect("searchable docs have a source")
        .as_ref();
    match kind.as_str() {
        "match_all" => Ok(true),
        "term" | "range" => {
            let Some((field, cond)) = spec.as_object().and_then(|o| o.iter().next()) else {
                return Err(error(
                    400,
                    "parsing_exception",
                    &format!("[{kind}] query malformed, no field"),
                ));
            };
            let vals: Vec<Key> = if field == "_id" {
                vec![Key::Str(entry.1.clone())]
            } else {
                values(src, field)
                    .into_iter()
                    .filter_map(|v| key_of(mappings, field, v))
                    .collect()
            };
            if kind == "term" {
                let target = cond.get("value").unwrap_or(cond);
                let Some(t) = (if field == "_id" {
                    target.as_str().map(|s| Key::Str(s.into()))
                } else {
                    key_of(mappings, field, target)
                }) else {
                    return Ok(false);
                };
                Ok(vals.iter().any(|v| v.cmp(&t) == Ordering::Equal))
            } else {
                let bound = |name: &str| cond.get(name).and_then(|b| key_of(mappings, field, b));
                let (gte, gt, lte, lt) = (bound("gte"), bound("gt"), bound("lte"), bound("lt"));
                Ok(vals.iter().any(|v| {
                    gte.as_ref().is_none_or(|b| v.cmp(b) != Ordering::Less)
                        && gt.as_ref().is_none_or(|b| v.cmp(b) == Ordering::Greater)
                        && lte.as_ref().is_none_or(|b| v.cmp(b) != Ordering::Greater)
                        && lt.as_ref().is_none_or(|b| v.cmp(b) == Ordering::Less)
                }))
            }
        }
        "bool" => {
            let list = |name: &str| -> Vec<Value> {
                match spec.get(name) {
                    Some(Value::Array(a)) => a.clone(),
                    Some(v @ Value::Object(_)) => vec![v.clone()],
                    _ => Vec::new(),
                }
            };
            for q in list("must").iter().chain(list("filter").iter()) {
                if !matches(entry, q, mappings)? {
                    return Ok(false);
                }
            }
            for q in &list("must_not") {
                if matches(entry, q, mappings)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        other => Err(error(
            400,
            "parsing_exception",
            &format!("unknown query [{other}]"),
        )),
    }
}

pub fn count(docs: &[Entry], query: &Value, mappings: &Value) -> Result<usize, Reply> {
    let mut n = 0;
    for d in docs {
        if matches(d, query, mappings)? {
            n += 1;
        }
    }
    Ok(n)
}

enum SortSpec {
    Field { name: String, desc: bool },
    Doc { desc: bool },
}

fn parse_sort(sort: &Value) -> Result<Vec<SortSpec>, Reply> {
    let items: Vec<Value> = match sort {
        Value::Null => Vec::new(),
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    let mut out = Vec::new();
    for item in items {
        let (name, desc) = match &item {
            Value::String(s) => (s.clone(), false),
            Value::Object(o) => {
                let Some((k, v)) = o.iter().next() else {
                    return Err(error(400, "parsing_exception", "malformed sort"));
                };
                let order = v.as_str().or_else(|| v["order"].as_str()).unwrap_or("asc");
                (k.clone(), order == "desc")
            }
            _ => return Err(error(400, "parsing_exception", "malformed sort")),
        };
        if name == "_doc" || name == "_shard_doc" {
            out.push(SortSpec::Doc { desc });
        } else {
            out.push(SortSpec::Field { name, desc });
        }
    }
    Ok(out)
}

fn sort_values(entry: &Entry, specs: &[SortSpec], mappings: &Value) -> Vec<Value> {
    let src: &Value = entry.2.source.as_deref().expect("source");
    specs
        .iter()
        .map(|s| match s {
            SortSpec::Doc { .. } => json!(entry.2.seq_no),
            SortSpec::Field { name, desc } => {
                let mut keys: Vec<Key> = values(src, name)
                    .into_iter()
                    .filter_map(|v| key_of(mappings, name, v))
                    .collect();
                keys.sort_by(|a, b| a.cmp(b));
                let k = if *desc { keys.last() } else { keys.first() };
                match k {
                    Some(k) => k.to_json(),
                    // missing values sort last: ES returns Long.MAX/MIN for longs
                    None => {
                        if *desc {
                            json!(i64::MIN)
                        } else {
                            json!(i64::MAX)
                        }
                    }
                }
            }
        })
        .collect()
}

fn cmp_values(a: &[Value], b: &[Value], specs: &[SortSpec]) -> Ordering {
    for (i, s) in specs.iter().enumerate() {
        let desc = match s {
            SortSpec::Doc { desc } | SortSpec::Field { desc, .. } => *desc,
        };
        let o = match (&a[i], &b[i]) {
            (Value::Number(x), Value::Number(y)) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (Value::Number(_), _) => Ordering::Less,
            (_, Value::Number(_)) => Ordering::Greater,
            _ => Ordering::Equal,
        };
        let o = if desc { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

pub fn search(docs: Vec<Entry>, body: &Value, mappings: &Value, pit: bool) -> Result<Value, Reply> {
    let query = body
        .get("query")
        .cloned()
        .unwrap_or(json!({"match_all": {}}));
    let size = body["size"].as_u64().unwrap_or(10) as usize;
    let from = body["from"].as_u64().unwrap_or(0) as usize;
    if size > 10_000 || from + size > 10_000 {
        return Err(error(
            400,
            "illegal_argument_exception",
            "Result window is too large, from + size must be less than or equal to: [10000]",
        ));
    }
    let mut specs = parse_sort(&body["sort"])?;
    let sorted = !specs.is_empty();
    if pit && !specs.iter().any(|s| matches!(s, SortSpec::Doc { .. })) && sorted {
        // implicit _shard_doc tiebreaker with a point in time
        specs.push(SortSpec::Doc { desc: false });
    }
    let mut hits = Vec::new();
    for d in docs {
        if matches(&d, &query, mappings)? {
            hits.push(d);
        }
    }
    let total = hits.len();
    let mut keyed: Vec<(Vec<Value>, Entry)> = hits
        .into_iter()
        .map(|d| (sort_values(&d, &specs, mappings), d))
        .collect();
    if sorted {
        keyed.sort_by(|a, b| cmp_values(&a.0, &b.0, &specs));
    } else {
        keyed.sort_by(|a, b| a.1.0.cmp(&b.1.0).then(a.1.2.seq_no.cmp(&b.1.2.seq_no)));
    }
    if let Some(after) = body.get("search_after") {
        let Some(after) = after.as_array() else {
            return Err(error(
                400,
                "parsing_exception",
                "[search_after] must be an array",
            ));
        };
        if !sorted {
            return Err(error(
                400,
                "illegal_argument_exception",
                "Sort must contain at least one field.",
            ));
        }
        if after.len() != specs.len() {
            return Err(error(
                400,
                "illegal_argument_exception",
                &format!(
                    "search_after has {} value(s) but sort has {}.",
                    after.len(),
                    specs.len()
                ),
            ));
        }
        keyed.retain(|(k, _)| cmp_values(k, after, &specs) == Ordering::Greater);
    }
    let page: Vec<Value> = keyed
        .into_iter()
        .skip(from)
        .take(size)
        .map(|(k, (index, id, doc))| {
            let mut h = json!({"_index": index, "_id": id, "_score": if sorted { Value::Null } else { json!(1.0) }, "_source": doc.source.as_deref()});
            if sorted {
                h["sort"] = json!(k);
            }
            // `"version": true` adds each hit's version, as the engine does.
            if body["version"] == json!(true) {
                h["_version"] = json!(doc.version);
            }
            h
        })
        .collect();
    Ok(json!({
        "took": 1,
        "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": total, "relation": "eq"}, "max_score": if sorted { Value::Null } else { json!(1.0) }, "hits": page},
    }))
}
