//! Reading `kibana/convstats.ndjson` as Kibana would: its data views and
//! the Lens layers of its dashboards (`Panel`), checked offline against the
//! mappings (`check`), and turned into the Elasticsearch aggregation Kibana
//! would send for each layer (`Panel::search`).
//!
//! Written from the saved-object format (../shared/notes/kibana-saved-objects.md),
//! independently of scripts/kibana-objects.py which writes the file.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

/// The shipped saved objects.
pub fn shipped() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/kibana/convstats.ndjson"
    ))
    .expect("kibana/convstats.ndjson")
}

/// Field name → mapping type of each alias's template in `mappings/`.
pub fn shipped_mappings() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for alias in ["convstats-legacy", "convstats-new"] {
        let text = std::fs::read_to_string(format!(
            "{}/mappings/{alias}.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        out.insert(alias.to_string(), mapping_fields(&text));
    }
    out
}

/// Field name → type of one template file.
pub fn mapping_fields(template: &str) -> BTreeMap<String, String> {
    let v: Value = serde_json::from_str(template).expect("a mapping template");
    v["template"]["mappings"]["properties"]
        .as_object()
        .expect("template.mappings.properties")
        .iter()
        .map(|(k, f)| {
            (
                k.clone(),
                f["type"].as_str().unwrap_or("object").to_string(),
            )
        })
        .collect()
}

/// A data view of the file.
#[derive(Debug, Clone)]
pub struct DataView {
    pub id: String,
    /// The index pattern or alias.
    pub title: String,
    pub time_field: String,
}

/// One Lens column.
#[derive(Debug, Clone)]
pub struct Column {
    pub id: String,
    pub op: String,
    pub field: String,
    pub bucketed: bool,
    /// The column's KQL filter.
    pub filter: Option<String>,
    pub params: Value,
}

/// One Lens panel of a dashboard (one layer each, as the file has).
#[derive(Debug, Clone)]
pub struct Panel {
    pub dashboard: String,
    pub id: String,
    pub title: String,
    pub vis: String,
    pub view: DataView,
    /// In `columnOrder`.
    pub columns: Vec<Column>,
}

/// Everything the file holds, parsed; `Err` lists what does not hold.
pub struct Objects {
    pub views: BTreeMap<String, DataView>,
    pub panels: Vec<Panel>,
}

const DASHBOARD_KEYS: [&str; 12] = [
    "title",
    "description",
    "kibanaSavedObjectMeta",
    "timeRestore",
    "timeFrom",
    "timeTo",
    "refreshInterval",
    "controlGroupInput",
    "panelsJSON",
    "optionsJSON",
    "hits",
    "version",
];

/// The mapping types an operation can aggregate.
pub fn aggregatable(op: &str, ty: &str) -> bool {
    const NUMBERS: [&str; 7] = [
        "long",
        "integer",
        "short",
        "byte",
        "double",
        "float",
        "scaled_float",
    ];
    match op {
        "date_histogram" => ty == "date",
        "median" | "percentile" | "average" | "sum" | "min" | "max" => NUMBERS.contains(&ty),
        "terms" => ty == "keyword" || ty == "boolean" || NUMBERS.contains(&ty) || ty == "ip",
        _ => false,
    }
}

/// The fields a KQL filter of the subset the file uses names (`f: value`,
/// `f: *`, joined by `and`, each maybe after `not`).
pub fn kql_fields(kql: &str) -> Vec<String> {
    kql.split(" and ")
        .filter_map(|clause| {
            let clause = clause.trim().trim_start_matches("not ").trim();
            clause.split_once(':').map(|(f, _)| f.trim().to_string())
        })
        .collect()
}

/// The Elasticsearch query of a KQL filter of that subset.
pub fn kql_query(kql: &str) -> Value {
    let mut must = Vec::new();
    let mut must_not = Vec::new();
    for clause in kql.split(" and ") {
        let clause = clause.trim();
        let (negated, clause) = match clause.strip_prefix("not ") {
            Some(c) => (true, c.trim()),
            None => (false, clause),
        };
        let (field, value) = clause.split_once(':').expect("field: value");
        let (field, value) = (field.trim(), value.trim());
        let q = if value == "*" {
            json!({"exists": {"field": field}})
        } else {
            let v: Value = serde_json::from_str(value).unwrap_or(Value::String(value.into()));
            json!({"term": {field: v}})
        };
        if negated {
            must_not.push(q)
        } else {
            must.push(q)
        }
    }
    json!({"bool": {"filter": must, "must_not": must_not}})
}

fn string_json(v: &Value, what: &str, errors: &mut Vec<String>) -> Value {
    match v.as_str().map(serde_json::from_str::<Value>) {
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            errors.push(format!("{what} is not JSON: {e}"));
            Value::Null
        }
        None => {
            errors.push(format!("{what} is not a JSON string"));
            Value::Null
        }
    }
}

/// Parses and checks the file against `mappings` (alias → field → type).
pub fn check(
    ndjson: &str,
    mappings: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Objects, Vec<String>> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    let mut views = BTreeMap::new();
    let mut dashboards = Vec::new();
    for (n, line) in ndjson.lines().enumerate() {
        let obj: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                errors.push(format!("line {}: not JSON: {e}", n + 1));
                continue;
            }
        };
        let (ty, id) = (
            obj["type"].as_str().unwrap_or_default().to_string(),
            obj["id"].as_str().unwrap_or_default().to_string(),
        );
        if id.is_empty() || !seen.insert(format!("{ty}:{id}")) {
            errors.push(format!(
                "line {}: {ty}:{id} has no id or is repeated",
                n + 1
            ));
        }
        if obj["coreMigrationVersion"] != "8.8.0" {
            errors.push(format!("{ty}:{id}: coreMigrationVersion is not 8.8.0"));
        }
        match ty.as_str() {
            "index-pattern" => {
                if obj["typeMigrationVersion"] != "8.0.0" {
                    errors.push(format!("{id}: typeMigrationVersion is not 8.0.0"));
                }
                let a = &obj["attributes"];
                let view = DataView {
                    id: id.clone(),
                    title: a["title"].as_str().unwrap_or_default().to_string(),
                    time_field: a["timeFieldName"].as_str().unwrap_or_default().to_string(),
                };
                match mappings.get(&view.title) {
                    None => errors.push(format!("data view {id}: no mapping for {}", view.title)),
                    Some(m) => {
                        if m.get(&view.time_field).map(String::as_str) != Some("date") {
                            errors.push(format!(
                                "data view {id}: time field {} is not a date of {}",
                                view.time_field, view.title
                            ));
                        }
                    }
                }
                for k in [
                    "fields",
                    "fieldFormatMap",
                    "runtimeFieldMap",
                    "sourceFilters",
                    "typeMeta",
                ] {
                    string_json(&a[k], &format!("{id}.{k}"), &mut errors);
                }
                views.insert(id, view);
            }
            "dashboard" => dashboards.push(obj),
            other => errors.push(format!("{id}: unexpected type {other}")),
        }
    }
    let mut panels = Vec::new();
    for d in &dashboards {
        let did = d["id"].as_str().unwrap_or_default().to_string();
        if d["typeMigrationVersion"] != "8.9.0" {
            errors.push(format!(
                "dashboard {did}: typeMigrationVersion is not 8.9.0"
            ));
        }
        let a = &d["attributes"];
        for k in a.as_object().into_iter().flat_map(|o| o.keys()) {
            if !DASHBOARD_KEYS.contains(&k.as_str()) {
                errors.push(format!("dashboard {did}: attribute {k} is not allowed"));
            }
        }
        string_json(
            &a["optionsJSON"],
            &format!("{did}.optionsJSON"),
            &mut errors,
        );
        string_json(
            &a["kibanaSavedObjectMeta"]["searchSourceJSON"],
            &format!("{did}.searchSourceJSON"),
            &mut errors,
        );
        let refs: BTreeMap<String, String> = d["references"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["name"].as_str().unwrap_or_default().to_string(),
                    format!(
                        "{}:{}",
                        r["type"].as_str().unwrap_or_default(),
                        r["id"].as_str().unwrap_or_default()
                    ),
                )
            })
            .collect();
        for target in refs.values() {
            if !seen.contains(target) {
                errors.push(format!(
                    "dashboard {did}: reference {target} is not in the file"
                ));
            }
        }
        let list = string_json(&a["panelsJSON"], &format!("{did}.panelsJSON"), &mut errors);
        let mut panel_ids = BTreeSet::new();
        for p in list.as_array().into_iter().flatten() {
            let pid = p["panelIndex"].as_str().unwrap_or_default().to_string();
            if !panel_ids.insert(pid.clone()) {
                errors.push(format!("{did}: panel {pid} repeated"));
            }
            let g = &p["gridData"];
            if g["i"].as_str() != Some(&pid) {
                errors.push(format!("{did}/{pid}: gridData.i is not the panelIndex"));
            }
            if g["x"].as_u64().unwrap_or(99) + g["w"].as_u64().unwrap_or(99) > 48 {
                errors.push(format!("{did}/{pid}: x + w is over 48"));
            }
            let attrs = &p["embeddableConfig"]["attributes"];
            let state = &attrs["state"];
            let layers = state["datasourceStates"]["formBased"]["layers"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            if layers.len() != 1 {
                errors.push(format!(
                    "{did}/{pid}: {} layers (this check reads one)",
                    layers.len()
                ));
            }
            for (lid, layer) in layers {
                let name = format!("indexpattern-datasource-layer-{lid}");
                let inner = attrs["references"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|r| r["name"] == name.as_str())
                    .and_then(|r| r["id"].as_str())
                    .map(str::to_string);
                let outer = refs
                    .get(&format!("{pid}:{name}"))
                    .and_then(|t| t.strip_prefix("index-pattern:"))
                    .map(str::to_string);
                let view = match (&inner, &outer) {
                    (Some(i), Some(o)) if i == o => views.get(i).cloned(),
                    _ => None,
                };
                let Some(view) = view else {
                    errors.push(format!(
                        "{did}/{pid}: layer {lid} references ({inner:?} in the panel, {outer:?} on the dashboard) do not name one data view of the file"
                    ));
                    continue;
                };
                let cols = layer["columns"].as_object().cloned().unwrap_or_default();
                let order: Vec<String> = layer["columnOrder"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str().map(str::to_string))
                    .collect();
                let keys: BTreeSet<&String> = cols.keys().collect();
                if order.iter().collect::<BTreeSet<_>>() != keys || order.len() != keys.len() {
                    errors.push(format!("{did}/{pid}: columnOrder is not the columns"));
                }
                let fields = mappings.get(&view.title).cloned().unwrap_or_default();
                let mut columns = Vec::new();
                let mut bucketed_done = false;
                for cid in &order {
                    let Some(c) = cols.get(cid) else { continue };
                    let col = Column {
                        id: cid.clone(),
                        op: c["operationType"].as_str().unwrap_or_default().to_string(),
                        field: c["sourceField"].as_str().unwrap_or_default().to_string(),
                        bucketed: c["isBucketed"].as_bool().unwrap_or(false),
                        filter: c["filter"]["query"].as_str().map(str::to_string),
                        params: c["params"].clone(),
                    };
                    if col.bucketed && bucketed_done {
                        errors.push(format!("{did}/{pid}: bucket column {cid} after a metric"));
                    }
                    bucketed_done |= !col.bucketed;
                    if col.op == "count" {
                        if col.field != "___records___" {
                            errors.push(format!("{did}/{pid}/{cid}: count of {}", col.field));
                        }
                    } else {
                        match fields.get(&col.field) {
                            None => errors.push(format!(
                                "{did}/{pid}/{cid}: field {} is not in the mapping of {}",
                                col.field, view.title
                            )),
                            Some(ty) if !aggregatable(&col.op, ty) => errors.push(format!(
                                "{did}/{pid}/{cid}: {} cannot aggregate {} ({ty})",
                                col.op, col.field
                            )),
                            Some(_) => {}
                        }
                    }
                    if let Some(f) = &col.filter {
                        for name in kql_fields(f) {
                            if !fields.contains_key(&name) {
                                errors.push(format!(
                                    "{did}/{pid}/{cid}: filter field {name} is not in the mapping of {}",
                                    view.title
                                ));
                            }
                        }
                    }
                    columns.push(col);
                }
                let vis = attrs["visualizationType"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let v = &state["visualization"];
                let mut accessors: Vec<String> = Vec::new();
                match vis.as_str() {
                    "lnsXY" => {
                        for l in v["layers"].as_array().into_iter().flatten() {
                            if l["layerId"] != lid.as_str() {
                                errors
                                    .push(format!("{did}/{pid}: visualization layer is not {lid}"));
                            }
                            for k in ["xAccessor", "splitAccessor"] {
                                if let Some(a) = l[k].as_str() {
                                    accessors.push(a.into());
                                }
                            }
                            accessors.extend(
                                l["accessors"]
                                    .as_array()
                                    .into_iter()
                                    .flatten()
                                    .filter_map(|a| a.as_str().map(str::to_string)),
                            );
                        }
                    }
                    "lnsDatatable" => accessors.extend(
                        v["columns"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|c| c["columnId"].as_str().map(str::to_string)),
                    ),
                    other => errors.push(format!(
                        "{did}/{pid}: visualization {other} is not read by this check"
                    )),
                }
                if accessors.is_empty() {
                    errors.push(format!("{did}/{pid}: the visualization shows no column"));
                }
                for a in &accessors {
                    if !cols.contains_key(a) {
                        errors.push(format!("{did}/{pid}: accessor {a} names no column"));
                    }
                }
                panels.push(Panel {
                    dashboard: did.clone(),
                    id: pid.clone(),
                    title: attrs["title"].as_str().unwrap_or_default().to_string(),
                    vis,
                    view,
                    columns,
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(Objects { views, panels })
    } else {
        Err(errors)
    }
}

impl Panel {
    pub fn column(&self, id: &str) -> &Column {
        self.columns
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("{}: no column {id}", self.id))
    }

    /// The search Kibana sends for this layer: the data view's time field
    /// must exist (the time picker's range filter), bucket columns nest in
    /// order, metric columns sit in the innermost bucket (or at the top when
    /// there is none). `interval` replaces `auto` date histograms. Metric
    /// aggregations are named by column id; filtered ones are wrapped in a
    /// `filter` aggregation of the same name with the metric inside as `m`.
    pub fn search(&self, interval: &str) -> Value {
        let mut metrics = serde_json::Map::new();
        for c in self.columns.iter().filter(|c| !c.bucketed) {
            let inner = match c.op.as_str() {
                "count" => None,
                "median" => Some(json!({"percentiles": {"field": c.field, "percents": [50]}})),
                "percentile" => Some(
                    json!({"percentiles": {"field": c.field, "percents": [c.params["percentile"]]}}),
                ),
                other => panic!("{}: operation {other} not translated", self.id),
            };
            let agg = match (&c.filter, inner) {
                (Some(f), inner) => {
                    let mut a = json!({"filter": kql_query(f)});
                    if let Some(i) = inner {
                        a["aggs"] = json!({"m": i});
                    }
                    Some(a)
                }
                (None, Some(i)) => Some(i),
                // An unfiltered count is the bucket's doc_count.
                (None, None) => None,
            };
            if let Some(a) = agg {
                metrics.insert(c.id.clone(), a);
            }
        }
        let mut aggs = Value::Object(metrics);
        for c in self.columns.iter().filter(|c| c.bucketed).rev() {
            let mut a = match c.op.as_str() {
                "date_histogram" => json!({"date_histogram": {
                    "field": c.field, "calendar_interval": interval, "time_zone": "UTC", "min_doc_count": 0
                }}),
                "terms" => {
                    let p = &c.params;
                    let order = match p["orderBy"]["type"].as_str() {
                        Some("alphabetical") => json!({"_key": p["orderDirection"]}),
                        Some("column") => {
                            let target = p["orderBy"]["columnId"].as_str().unwrap_or_default();
                            let tc = self.column(target);
                            assert!(
                                tc.op == "count" && tc.filter.is_none(),
                                "{}: order by {target}",
                                self.id
                            );
                            json!([{"_count": p["orderDirection"]}, {"_key": "asc"}])
                        }
                        other => panic!("{}: terms order {other:?}", self.id),
                    };
                    let mut t = json!({"field": c.field, "size": p["size"], "order": order});
                    if p["missingBucket"] == true {
                        t["missing"] = json!("(missing value)");
                    }
                    json!({"terms": t})
                }
                other => panic!("{}: bucket operation {other} not translated", self.id),
            };
            if aggs.as_object().is_some_and(|o| !o.is_empty()) {
                a["aggs"] = aggs;
            }
            aggs = json!({c.id.clone(): a});
        }
        json!({
            "size": 0,
            "track_total_hits": true,
            "query": {"bool": {"filter": [{"exists": {"field": self.view.time_field}}]}},
            "aggs": aggs,
        })
    }
}

/// The value of metric column `c` in an aggregation bucket of the answer.
pub fn metric(bucket: &Value, c: &Column) -> Option<f64> {
    let (node, name) = match &c.filter {
        Some(_) => (&bucket[&c.id], "m"),
        None => (bucket, c.id.as_str()),
    };
    match c.op.as_str() {
        "count" => match &c.filter {
            Some(_) => node["doc_count"].as_f64(),
            None => bucket["doc_count"].as_f64(),
        },
        "median" | "percentile" => {
            let values = &node[name]["values"];
            values.as_object()?.values().next()?.as_f64()
        }
        _ => None,
    }
}
