//! The double's cluster state (templates, indices, aliases, documents, points
//! in time) and the Elasticsearch semantics of each API convstats calls.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::mapping;
use super::search;

/// A status and a JSON body.
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub fn ok(body: Value) -> Self {
        Reply { status: 200, body }
    }
}

/// An Elasticsearch error body.
pub fn error(status: u16, kind: &str, reason: &str) -> Reply {
    Reply {
        status,
        body: json!({
            "error": {
                "root_cause": [{"type": kind, "reason": reason}],
                "type": kind,
                "reason": reason,
            },
            "status": status,
        }),
    }
}

fn index_not_found(name: &str) -> Reply {
    let mut r = error(
        404,
        "index_not_found_exception",
        &format!("no such index [{name}]"),
    );
    r.body["error"]["index"] = json!(name);
    r.body["error"]["resource.id"] = json!(name);
    r.body["error"]["resource.type"] = json!("index_or_alias");
    r
}

#[derive(Clone, Debug)]
pub struct Doc {
    pub version: u64,
    pub seq_no: u64,
    /// `None`: a delete tombstone (kept for external versioning).
    pub source: Option<Arc<Value>>,
}

#[derive(Clone, Debug, Default)]
pub struct Index {
    pub uuid: String,
    /// Flat `index.*` settings, values as strings (as ES returns them).
    pub settings: BTreeMap<String, Value>,
    pub mappings: Value,
    pub docs: BTreeMap<String, Doc>,
    /// What search and count see (updated by refresh).
    pub searchable: BTreeMap<String, Doc>,
    /// alias name → is_write_index (None when not given).
    pub aliases: BTreeMap<String, Option<bool>>,
    pub created_order: u64,
}

impl Index {
    fn refresh_disabled(&self) -> bool {
        self.settings
            .get("index.refresh_interval")
            .and_then(Value::as_str)
            .is_some_and(|v| v == "-1")
    }

    pub fn refresh(&mut self) {
        self.searchable = self
            .docs
            .iter()
            .filter(|(_, d)| d.source.is_some())
            .map(|(k, d)| (k.clone(), d.clone()))
            .collect();
    }

    fn after_write(&mut self, id: &str) {
        // refresh_interval -1: only an explicit refresh publishes; otherwise
        // the double publishes at once (a real cluster does within 1 s).
        if !self.refresh_disabled() {
            match self.docs.get(id) {
                Some(d) if d.source.is_some() => {
                    self.searchable.insert(id.to_string(), d.clone());
                }
                _ => {
                    self.searchable.remove(id);
                }
            }
        }
    }

    pub fn live_count(&self) -> usize {
        self.docs.values().filter(|d| d.source.is_some()).count()
    }
}

#[derive(Clone, Debug)]
pub struct Pit {
    pub indices: Vec<String>,
    pub docs: Vec<(String, String, Doc)>,
}

/// The whole state.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    pub templates: BTreeMap<String, Value>,
    pub indices: BTreeMap<String, Index>,
    pub pits: HashMap<String, Pit>,
    pub counter: u64,
    pub seq_no: u64,
    pub parse_error_type: String,
}

/// Flattens settings (`{"index":{"refresh_interval":"-1"}}`,
/// `{"index.refresh_interval":-1}`, `{"refresh_interval":"-1"}`) into
/// `index.*` keys with string values.
pub fn flatten_settings(v: &Value) -> BTreeMap<String, Value> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, Value>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            Value::Null => {
                out.insert(prefix.to_string(), Value::Null);
            }
            Value::String(s) => {
                out.insert(prefix.to_string(), Value::String(s.clone()));
            }
            other => {
                out.insert(prefix.to_string(), Value::String(other.to_string()));
            }
        }
    }
    let mut raw = BTreeMap::new();
    walk("", v, &mut raw);
    raw.into_iter()
        .map(|(k, v)| {
            let k = if k.starts_with("index.") {
                k
            } else {
                format!("index.{k}")
            };
            (k, v)
        })
        .collect()
}

fn nest_settings(flat: &BTreeMap<String, Value>) -> Value {
    let mut root = Map::new();
    for (k, v) in flat {
        let parts: Vec<&str> = k.split('.').collect();
        let mut cur = &mut root;
        for p in &parts[..parts.len() - 1] {
            let entry = cur
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            cur = entry.as_object_mut().expect("object");
        }
        cur.insert(parts[parts.len() - 1].to_string(), v.clone());
    }
    Value::Object(root)
}

fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !rest.starts_with(part) {
                return false;
            }
            rest = &rest[part.len()..];
        } else if i == parts.len() - 1 {
            return rest.ends_with(part) && rest.len() >= part.len();
        } else if let Some(pos) = rest.find(part) {
            rest = &rest[pos + part.len()..];
        } else {
            return false;
        }
    }
    true
}

fn merge_properties(base: &mut Value, over: &Value) {
    if let (Some(b), Some(o)) = (base.as_object_mut(), over.as_object()) {
        for (k, v) in o {
            if k == "properties" {
                let entry = b.entry("properties").or_insert_with(|| json!({}));
                if let (Some(bp), Some(op)) = (entry.as_object_mut(), v.as_object()) {
                    for (f, def) in op {
                        bp.insert(f.clone(), def.clone());
                    }
                }
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
}

impl Cluster {
    pub fn new(parse_error_type: &str) -> Self {
        Cluster {
            parse_error_type: parse_error_type.to_string(),
            ..Default::default()
        }
    }

    fn next_id(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    // ---------- templates ----------

    pub fn put_template(&mut self, name: &str, body: &Value) -> Reply {
        let patterns: Vec<String> = match &body["index_patterns"] {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        if patterns.is_empty() {
            return error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: index patterns are missing;",
            );
        }
        if let Some(other) = body.as_object().and_then(|o| {
            o.keys().find(|k| {
                ![
                    "index_patterns",
                    "template",
                    "priority",
                    "version",
                    "_meta",
                    "composed_of",
                    "data_stream",
                    "allow_auto_create",
                    "ignore_missing_component_templates",
                    "deprecated",
                ]
                .contains(&k.as_str())
            })
        }) {
            return error(
                400,
                "x_content_parse_exception",
                &format!("[1:2] [index_template] unknown field [{other}]"),
            );
        }
        if let Some(t) = body["template"].as_object()
            && let Some(other) = t
                .keys()
                .find(|k| !["settings", "mappings", "aliases", "lifecycle"].contains(&k.as_str()))
        {
            return error(
                400,
                "x_content_parse_exception",
                &format!("[1:2] [template] unknown field [{other}]"),
            );
        }
        let priority = body["priority"].as_i64().unwrap_or(0);
        for (other, t) in &self.templates {
            if other == name {
                continue;
            }
            let other_priority = t["priority"].as_i64().unwrap_or(0);
            let overlap = t["index_patterns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .any(|p| patterns.iter().any(|q| q == p || glob(p, q) || glob(q, p)));
            if overlap && other_priority == priority {
                return error(
                    400,
                    "illegal_argument_exception",
                    &format!(
                        "index template [{name}] has index patterns {patterns:?} matching patterns from existing templates [{other}] with patterns ({other} => {}) that have the same priority [{priority}], multiple index templates may not match during index creation, please use a different priority",
                        t["index_patterns"]
                    ),
                );
            }
        }
        let mut stored = body.clone();
        stored["index_patterns"] = json!(patterns);
        self.templates.insert(name.to_string(), stored);
        Reply::ok(json!({"acknowledged": true}))
    }

    pub fn get_template(&self, name: Option<&str>) -> Reply {
        let list: Vec<Value> = self
            .templates
            .iter()
            .filter(|(n, _)| name.is_none_or(|want| glob(want, n)))
            .map(|(n, t)| json!({"name": n, "index_template": t}))
            .collect();
        if list.is_empty()
            && let Some(n) = name
        {
            return error(
                404,
                "resource_not_found_exception",
                &format!("index template matching [{n}] not found"),
            );
        }
        Reply::ok(json!({"index_templates": list}))
    }

    pub fn delete_template(&mut self, name: &str) -> Reply {
        if self.templates.remove(name).is_none() {
            return error(
                404,
                "resource_not_found_exception",
                &format!("index_template [{name}] missing"),
            );
        }
        Reply::ok(json!({"acknowledged": true}))
    }

    fn matching_template(&self, index: &str) -> Option<&Value> {
        self.templates
            .values()
            .filter(|t| {
                t["index_patterns"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .any(|p| glob(p, index))
            })
            .max_by_key(|t| t["priority"].as_i64().unwrap_or(0))
    }

    // ---------- indices ----------

    fn alias_exists(&self, name: &str) -> bool {
        self.indices.values().any(|i| i.aliases.contains_key(name))
    }

    pub fn create_index(&mut self, name: &str, body: &Value) -> Reply {
        if name.is_empty()
            || name.starts_with(['_', '-', '+'])
            || name != name.to_lowercase()
            || name.contains(['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':'])
        {
            return error(
                400,
                "invalid_index_name_exception",
                &format!(
                    "Invalid index name [{name}], must be lowercase and must not start with '_', '-', or '+' or contain special characters"
                ),
            );
        }
        if let Some(idx) = self.indices.get(name) {
            let mut r = error(
                400,
                "resource_already_exists_exception",
                &format!("index [{name}/{}] already exists", idx.uuid),
            );
            r.body["error"]["index"] = json!(name);
            return r;
        }
        if self.alias_exists(name) {
            return error(
                400,
                "invalid_index_name_exception",
                &format!("Invalid index name [{name}], already exists as alias"),
            );
        }
        if let Some(other) = body.as_object().and_then(|o| {
            o.keys()
                .find(|k| !["settings", "mappings", "aliases"].contains(&k.as_str()))
        }) {
            return error(
                400,
                "parse_exception",
                &format!("unknown key [{other}] for create index"),
            );
        }
        let mut settings =
            flatten_settings(&json!({"number_of_shards": "1", "number_of_replicas": "1"}));
        let mut mappings = json!({});
        let mut aliases = BTreeMap::new();
        if let Some(t) = self.matching_template(name).cloned() {
            settings.extend(flatten_settings(&t["template"]["settings"]));
            merge_properties(&mut mappings, &t["template"]["mappings"]);
            if let Some(a) = t["template"]["aliases"].as_object() {
                for (k, v) in a {
                    aliases.insert(k.clone(), v["is_write_index"].as_bool());
                }
            }
        }
        settings.extend(flatten_settings(&body["settings"]));
        if !body["mappings"].is_null() {
            merge_properties(&mut mappings, &body["mappings"]);
        }
        if let Some(a) = body["aliases"].as_object() {
            for (k, v) in a {
                aliases.insert(k.clone(), v["is_write_index"].as_bool());
            }
        }
        for a in aliases.keys() {
            if self.indices.contains_key(a) {
                return error(
                    400,
                    "invalid_alias_name_exception",
                    &format!(
                        "Invalid alias name [{a}]: an index or data stream exists with the same name as the alias"
                    ),
                );
            }
        }
        let order = self.next_id();
        let uuid = format!("uuid{order:08}");
        settings.insert("index.uuid".into(), json!(uuid));
        settings.insert("index.provided_name".into(), json!(name));
        settings.insert(
            "index.creation_date".into(),
            json!(format!("{}", 1_700_000_000_000u64 + order)),
        );
        self.indices.insert(
            name.to_string(),
            Index {
                uuid,
                settings,
                mappings,
                aliases,
                created_order: order,
                ..Default::default()
            },
        );
        Reply::ok(json!({"acknowledged": true, "shards_acknowledged": true, "index": name}))
    }

    /// `PUT <index>/_mapping`: new fields are added to every index behind
    /// `expr`; a field mapped with another type is refused (400
    /// `illegal_argument_exception`), as the engine refuses it.
    pub fn put_mapping(&mut self, expr: &str, body: &Value) -> Reply {
        let names = match self.resolve(expr) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let new_props = body["properties"].as_object().cloned().unwrap_or_default();
        for name in &names {
            let Some(idx) = self.indices.get(name) else {
                continue;
            };
            for (field, def) in &new_props {
                let old = &idx.mappings["properties"][field]["type"];
                if !old.is_null() && old != &def["type"] {
                    return error(
                        400,
                        "illegal_argument_exception",
                        &format!(
                            "mapper [{field}] cannot be changed from type [{}] to [{}]",
                            old.as_str().unwrap_or_default(),
                            def["type"].as_str().unwrap_or_default()
                        ),
                    );
                }
            }
        }
        for name in &names {
            if let Some(idx) = self.indices.get_mut(name) {
                merge_properties(&mut idx.mappings, &json!({"properties": new_props}));
            }
        }
        Reply::ok(json!({"acknowledged": true}))
    }

    /// `GET _cluster/health/<index>`: the double is one data node, so an
    /// index with replicas is yellow (they cannot be placed) and one without
    /// is green. A `wait_for_status` that is not met answers 408 with
    /// `timed_out`, as the engine does when its wait times out.
    pub fn health(&self, expr: &str, wait_for_status: Option<&str>) -> Reply {
        let names = match self.resolve(expr) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let replicas: u64 = names
            .iter()
            .filter_map(|n| self.indices.get(n))
            .map(|i| {
                i.settings
                    .get("index.number_of_replicas")
                    .and_then(|v| v.as_str().and_then(|s| s.parse().ok()).or(v.as_u64()))
                    .unwrap_or(1)
            })
            .sum();
        let status = if replicas > 0 { "yellow" } else { "green" };
        let timed_out = wait_for_status == Some("green") && status != "green";
        let mut r = Reply::ok(json!({
            "cluster_name": "double", "status": status, "timed_out": timed_out,
            "number_of_nodes": 1, "number_of_data_nodes": 1,
            "active_primary_shards": names.len(), "active_shards": names.len(),
            "relocating_shards": 0, "initializing_shards": 0,
            "unassigned_shards": replicas,
        }));
        if timed_out {
            r.status = 408;
        }
        r
    }

    /// Concrete indices behind a comma list of names, aliases and wildcards.
    pub fn resolve(&self, expr: &str) -> Result<Vec<String>, Reply> {
        let mut out: Vec<String> = Vec::new();
        for part in expr.split(',').filter(|p| !p.is_empty()) {
            if part == "_all" || part == "*" {
                out.extend(self.indices.keys().cloned());
            } else if part.contains('*') {
                for (n, idx) in &self.indices {
                    if glob(part, n) || idx.aliases.keys().any(|a| glob(part, a)) {
                        out.push(n.clone());
                    }
                }
            } else if self.indices.contains_key(part) {
                out.push(part.to_string());
            } else if self.alias_exists(part) {
                out.extend(
                    self.indices
                        .iter()
                        .filter(|(_, i)| i.aliases.contains_key(part))
                        .map(|(n, _)| n.clone()),
                );
            } else {
                return Err(index_not_found(part));
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The index a write to `name` lands in; `Ok(None)` when nothing exists
    /// by that name (auto-create).
    pub fn write_index(&self, name: &str) -> Result<Option<String>, Reply> {
        if self.indices.contains_key(name) {
            return Ok(Some(name.to_string()));
        }
        let members: Vec<(&String, Option<bool>)> = self
            .indices
            .iter()
            .filter_map(|(n, i)| i.aliases.get(name).map(|w| (n, *w)))
            .collect();
        if members.is_empty() {
            return Ok(None);
        }
        if let Some((n, _)) = members.iter().find(|(_, w)| *w == Some(true)) {
            return Ok(Some((*n).clone()));
        }
        if members.len() == 1 && members[0].1 != Some(false) {
            return Ok(Some(members[0].0.clone()));
        }
        Err(error(
            400,
            "illegal_argument_exception",
            &format!(
                "no write index is defined for alias [{name}]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index"
            ),
        ))
    }

    pub fn delete_index(&mut self, expr: &str) -> Reply {
        let mut names = Vec::new();
        for part in expr.split(',') {
            if part.contains('*') || part == "_all" {
                return error(
                    400,
                    "illegal_argument_exception",
                    "Wildcard expressions or all indices are not allowed",
                );
            }
            if !self.indices.contains_key(part) {
                if self.alias_exists(part) {
                    return error(
                        400,
                        "illegal_argument_exception",
                        &format!(
                            "The provided expression [{part}] matches an alias, specify the corresponding concrete indices instead."
                        ),
                    );
                }
                return index_not_found(part);
            }
            names.push(part.to_string());
        }
        for n in names {
            self.indices.remove(&n);
        }
        Reply::ok(json!({"acknowledged": true}))
    }

    pub fn get_index(&self, expr: &str) -> Reply {
        match self.resolve(expr) {
            Err(r) => r,
            Ok(names) => {
                let mut out = Map::new();
                for n in names {
                    let i = &self.indices[&n];
                    out.insert(
                        n.clone(),
                        json!({
                            "aliases": alias_json(&i.aliases),
                            "mappings": i.mappings,
                            "settings": nest_settings(&i.settings),
                        }),
                    );
                }
                Reply::ok(Value::Object(out))
            }
        }
    }

    pub fn get_settings(&self, expr: &str) -> Reply {
        match self.resolve(expr) {
            Err(r) => r,
            Ok(names) => {
                let mut out = Map::new();
                for n in names {
                    out.insert(
                        n.clone(),
                        json!({"settings": nest_settings(&self.indices[&n].settings)}),
                    );
                }
                Reply::ok(Value::Object(out))
            }
        }
    }

    pub fn put_settings(&mut self, expr: &str, body: &Value) -> Reply {
        let names = match self.resolve(expr) {
            Err(r) => return r,
            Ok(n) => n,
        };
        let settings = body.get("settings").unwrap_or(body);
        let flat = flatten_settings(settings);
        for k in flat.keys() {
            if k == "index.number_of_shards" {
                return error(
                    400,
                    "illegal_argument_exception",
                    "can't change the number of shards for an index",
                );
            }
        }
        for n in names {
            let idx = self.indices.get_mut(&n).expect("resolved");
            for (k, v) in &flat {
                if v.is_null() {
                    idx.settings.remove(k);
                } else {
                    idx.settings.insert(k.clone(), v.clone());
                }
            }
            if !idx.refresh_disabled() {
                idx.refresh();
            }
        }
        Reply::ok(json!({"acknowledged": true}))
    }

    pub fn refresh(&mut self, expr: Option<&str>) -> Reply {
        let names = match expr {
            None => self.indices.keys().cloned().collect(),
            Some(e) => match self.resolve(e) {
                Err(r) => return r,
                Ok(n) => n,
            },
        };
        for n in &names {
            if let Some(i) = self.indices.get_mut(n) {
                i.refresh();
            }
        }
        Reply::ok(
            json!({"_shards": {"total": names.len(), "successful": names.len(), "failed": 0}}),
        )
    }

    // ---------- aliases ----------

    pub fn update_aliases(&mut self, body: &Value) -> Reply {
        let Some(actions) = body["actions"].as_array() else {
            return error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: no actions specified;",
            );
        };
        let mut next_aliases: BTreeMap<String, BTreeMap<String, Option<bool>>> = self
            .indices
            .iter()
            .map(|(n, i)| (n.clone(), i.aliases.clone()))
            .collect();
        let mut removed: std::collections::BTreeSet<String> = Default::default();
        for action in actions {
            let Some((kind, spec)) = action.as_object().and_then(|o| o.iter().next()) else {
                return error(
                    400,
                    "parsing_exception",
                    "[aliases] failed to parse field [actions]",
                );
            };
            let indices: Vec<String> = match (&spec["index"], &spec["indices"]) {
                (Value::String(s), _) => vec![s.clone()],
                (_, Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            let aliases: Vec<String> = match (&spec["alias"], &spec["aliases"]) {
                (Value::String(s), _) => vec![s.clone()],
                (_, Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            if indices.is_empty() {
                return error(
                    400,
                    "action_request_validation_exception",
                    "Validation Failed: 1: One of [index/indices] is required;",
                );
            }
            let mut concrete = Vec::new();
            for i in &indices {
                match self.resolve(i) {
                    Ok(v) => concrete.extend(v.into_iter().filter(|n| !removed.contains(n))),
                    Err(r) => return r,
                }
            }
            match kind.as_str() {
                "add" => {
                    if aliases.is_empty() {
                        return error(
                            400,
                            "action_request_validation_exception",
                            "Validation Failed: 1: One of [alias/aliases] is required;",
                        );
                    }
                    for a in &aliases {
                        if next_aliases.contains_key(a) {
                            return error(
                                400,
                                "invalid_alias_name_exception",
                                &format!(
                                    "Invalid alias name [{a}]: an index or data stream exists with the same name as the alias"
                                ),
                            );
                        }
                        for i in &concrete {
                            let w = spec["is_write_index"].as_bool();
                            next_aliases
                                .get_mut(i)
                                .expect("resolved")
                                .insert(a.clone(), w);
                        }
                    }
                }
                "remove" => {
                    for a in &aliases {
                        let mut found = false;
                        for i in &concrete {
                            found |= next_aliases
                                .get_mut(i)
                                .expect("resolved")
                                .remove(a)
                                .is_some();
                        }
                        if !found && spec["must_exist"].as_bool() != Some(false) {
                            return error(
                                404,
                                "aliases_not_found_exception",
                                &format!("aliases [{a}] missing"),
                            );
                        }
                    }
                }
                "remove_index" => {
                    for i in &concrete {
                        next_aliases.remove(i);
                        removed.insert(i.clone());
                    }
                }
                other => {
                    return error(
                        400,
                        "parsing_exception",
                        &format!("[aliases] unknown action [{other}]"),
                    );
                }
            }
        }
        // at most one write index per alias
        let mut writes: BTreeMap<&String, Vec<&String>> = BTreeMap::new();
        for (n, aliases) in &next_aliases {
            for (a, w) in aliases {
                if *w == Some(true) {
                    writes.entry(a).or_default().push(n);
                }
            }
        }
        if let Some((a, list)) = writes.iter().find(|(_, l)| l.len() > 1) {
            return error(
                400,
                "illegal_state_exception",
                &format!(
                    "alias [{a}] has more than one write index [{}]",
                    list.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(",")
                ),
            );
        }
        for n in &removed {
            self.indices.remove(n);
        }
        for (n, aliases) in next_aliases {
            if let Some(i) = self.indices.get_mut(&n) {
                i.aliases = aliases;
            }
        }
        Reply::ok(json!({"acknowledged": true, "errors": false}))
    }

    pub fn get_alias(&self, index_expr: Option<&str>, name: Option<&str>) -> Reply {
        let names = match index_expr {
            Some(e) => match self.resolve(e) {
                Ok(n) => n,
                Err(r) => return r,
            },
            None => self.indices.keys().cloned().collect(),
        };
        let mut out = Map::new();
        for n in names {
            let i = &self.indices[&n];
            let matching: BTreeMap<String, Option<bool>> = i
                .aliases
                .iter()
                .filter(|(a, _)| name.is_none_or(|want| want.split(',').any(|w| glob(w, a))))
                .map(|(a, w)| (a.clone(), *w))
                .collect();
            if name.is_none() || !matching.is_empty() {
                out.insert(n.clone(), json!({"aliases": alias_json(&matching)}));
            }
        }
        if out.is_empty()
            && let Some(want) = name
        {
            return Reply {
                status: 404,
                body: json!({"error": format!("alias [{want}] missing"), "status": 404}),
            };
        }
        Reply::ok(Value::Object(out))
    }

    // ---------- documents ----------

    /// Applies one bulk item to `index` (a concrete index that exists).
    #[allow(clippy::too_many_arguments)]
    pub fn apply_item(
        &mut self,
        op: &str,
        index: &str,
        id: &str,
        version: Option<u64>,
        external: bool,
        source: Option<Value>,
    ) -> (u16, Value) {
        let pet = self.parse_error_type.clone();
        self.seq_no += 1;
        let seq = self.seq_no;
        let idx = self.indices.get_mut(index).expect("index exists");
        let current = idx.docs.get(id).map(|d| (d.version, d.source.is_some()));
        let live = current.is_some_and(|(_, live)| live);
        let base = json!({"_index": index, "_id": id});
        let fail = |status: u16, kind: &str, reason: String, caused: Option<(String, String)>| {
            let mut item = base.clone();
            item["status"] = json!(status);
            item["error"] = json!({"type": kind, "reason": reason, "index_uuid": "", "shard": "0", "index": index});
            if let Some((t, r)) = caused {
                item["error"]["caused_by"] = json!({"type": t, "reason": r});
            }
            (status, item)
        };
        if external {
            let Some(v) = version else {
                return fail(
                    400,
                    "action_request_validation_exception",
                    "Validation Failed: 1: an external version is required;".into(),
                    None,
                );
            };
            if let Some((cur_version, _)) = current
                && v <= cur_version
            {
                return fail(
                    409,
                    "version_conflict_engine_exception",
                    format!(
                        "[{id}]: version conflict, current version [{}] is higher or equal to the one provided [{v}]",
                        cur_version
                    ),
                    None,
                );
            }
        }
        if op == "create" && live {
            return fail(
                409,
                "version_conflict_engine_exception",
                format!(
                    "[{id}]: version conflict, document already exists (current version [{}])",
                    current.map_or(0, |c| c.0)
                ),
                None,
            );
        }
        let new_version = if external {
            version.unwrap_or(1)
        } else {
            current.map_or(1, |c| c.0 + 1)
        };
        match op {
            "delete" => {
                idx.docs.insert(
                    id.to_string(),
                    Doc {
                        version: new_version,
                        seq_no: seq,
                        source: None,
                    },
                );
                idx.after_write(id);
                let mut item = base.clone();
                let (status, result) = if live {
                    (200, "deleted")
                } else {
                    (404, "not_found")
                };
                item["_version"] = json!(new_version);
                item["result"] = json!(result);
                item["_shards"] = json!({"total": 2, "successful": 1, "failed": 0});
                item["_seq_no"] = json!(seq);
                item["_primary_term"] = json!(1);
                item["status"] = json!(status);
                (status, item)
            }
            _ => {
                let Some(src) = source else {
                    return fail(
                        400,
                        "action_request_validation_exception",
                        "Validation Failed: 1: source is missing;".into(),
                        None,
                    );
                };
                if let Err(e) = mapping::validate(&idx.mappings, &src, id, &pet) {
                    return fail(400, &e.kind, e.reason, e.caused_by);
                }
                idx.docs.insert(
                    id.to_string(),
                    Doc {
                        version: new_version,
                        seq_no: seq,
                        source: Some(Arc::new(src)),
                    },
                );
                idx.after_write(id);
                let mut item = base.clone();
                let (status, result) = if live {
                    (200, "updated")
                } else {
                    (201, "created")
                };
                item["_version"] = json!(new_version);
                item["result"] = json!(result);
                item["_shards"] = json!({"total": 2, "successful": 1, "failed": 0});
                item["_seq_no"] = json!(seq);
                item["_primary_term"] = json!(1);
                item["status"] = json!(status);
                (status, item)
            }
        }
    }

    pub fn get_doc(&self, expr: &str, id: &str) -> Reply {
        let names = match self.resolve(expr) {
            Ok(n) => n,
            Err(r) => return r,
        };
        if names.len() != 1 {
            return error(
                400,
                "illegal_argument_exception",
                &format!(
                    "alias [{expr}] has more than one index associated with it [{}], can't execute a single index op",
                    names.join(", ")
                ),
            );
        }
        let n = &names[0];
        match self.indices[n].docs.get(id) {
            Some(Doc {
                version,
                seq_no,
                source: Some(src),
            }) => Reply::ok(json!({
                "_index": n, "_id": id, "_version": version, "_seq_no": seq_no,
                "_primary_term": 1, "found": true, "_source": **src,
            })),
            _ => Reply {
                status: 404,
                body: json!({"_index": n, "_id": id, "found": false}),
            },
        }
    }

    // ---------- search ----------

    fn snapshot(&self, names: &[String]) -> Vec<(String, String, Doc)> {
        let mut docs = Vec::new();
        for n in names {
            for (id, d) in &self.indices[n].searchable {
                docs.push((n.clone(), id.clone(), d.clone()));
            }
        }
        docs
    }

    fn mappings_of(&self, names: &[String]) -> Value {
        let mut merged = json!({});
        for n in names {
            if let Some(i) = self.indices.get(n) {
                merge_properties(&mut merged, &i.mappings);
            }
        }
        merged
    }

    pub fn count(&self, expr: &str, body: &Value) -> Reply {
        let names = match self.resolve(expr) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let mappings = self.mappings_of(&names);
        let query = body
            .get("query")
            .cloned()
            .unwrap_or(json!({"match_all": {}}));
        let docs = self.snapshot(&names);
        match search::count(&docs, &query, &mappings) {
            Ok(n) => Reply::ok(
                json!({"count": n, "_shards": {"total": names.len(), "successful": names.len(), "skipped": 0, "failed": 0}}),
            ),
            Err(r) => r,
        }
    }

    pub fn open_pit(&mut self, expr: &str, keep_alive: Option<&str>) -> Reply {
        if keep_alive.is_none() {
            return error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: [keep_alive] is not specified;",
            );
        }
        let names = match self.resolve(expr) {
            Ok(n) => n,
            Err(r) => return r,
        };
        let id = format!("pit-{}", self.next_id());
        let docs = self.snapshot(&names);
        self.pits.insert(
            id.clone(),
            Pit {
                indices: names,
                docs,
            },
        );
        Reply::ok(
            json!({"id": id, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0}}),
        )
    }

    pub fn close_pit(&mut self, body: &Value) -> Reply {
        let Some(id) = body["id"].as_str() else {
            return error(
                400,
                "action_request_validation_exception",
                "Validation Failed: 1: no pit ids specified;",
            );
        };
        let freed = self.pits.remove(id).is_some();
        Reply {
            status: if freed { 200 } else { 404 },
            body: json!({"succeeded": true, "num_freed": u32::from(freed)}),
        }
    }

    pub fn search(&self, expr: Option<&str>, body: &Value) -> Reply {
        let (docs, names, pit_id) = if let Some(pit) = body.get("pit") {
            if expr.is_some() {
                return error(
                    400,
                    "action_request_validation_exception",
                    "Validation Failed: 1: [indices] cannot be used with point in time. Do not specify any index with point in time.;",
                );
            }
            let Some(id) = pit["id"].as_str() else {
                return error(400, "parsing_exception", "[pit] requires [id]");
            };
            match self.pits.get(id) {
                Some(p) => (p.docs.clone(), p.indices.clone(), Some(id.to_string())),
                None => {
                    return error(
                        404,
                        "search_context_missing_exception",
                        &format!("No search context found for id [{id}]"),
                    );
                }
            }
        } else {
            let names = match self.resolve(expr.unwrap_or("_all")) {
                Ok(n) => n,
                Err(r) => return r,
            };
            (self.snapshot(&names), names, None)
        };
        let mappings = self.mappings_of(&names);
        match search::search(docs, body, &mappings, pit_id.is_some()) {
            Ok(mut result) => {
                if let Some(id) = pit_id {
                    result["pit_id"] = json!(id);
                }
                Reply::ok(result)
            }
            Err(r) => r,
        }
    }
}

fn alias_json(aliases: &BTreeMap<String, Option<bool>>) -> Value {
    let mut out = Map::new();
    for (a, w) in aliases {
        out.insert(
            a.clone(),
            match w {
                Some(w) => json!({"is_write_index": w}),
                None => json!({}),
            },
        );
    }
    Value::Object(out)
}
