//! The ES double behaves like Elasticsearch where convstats relies on it:
//! external versions, strict mappings, templates, atomic aliases, 413, gzip,
//! search with PIT and search_after.
mod support;

use bytes::Bytes;
use convstats::elasticsearch::client::{BodyKind, Method};
use convstats::elasticsearch::{EsClient, EsConfig};
use serde_json::{Value, json};
use support::EsDouble;

fn client(d: &EsDouble) -> EsClient {
    // Control calls retry until this give-up time (one test takes the
    // double down and expects `check` to fail).
    EsClient::new(&EsConfig {
        urls: vec![d.url()],
        give_up_after: Some(std::time::Duration::from_millis(300)),
        backoff_base: std::time::Duration::from_millis(1),
        backoff_cap: std::time::Duration::from_millis(20),
        ..Default::default()
    })
    .unwrap()
}

async fn call(c: &EsClient, m: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let (s, v, _) = c.json(m, path, &[], body.as_ref(), "test").await.unwrap();
    (s, v)
}

async fn bulk(c: &EsClient, lines: &[Value]) -> (u16, Value) {
    let mut body = String::new();
    for l in lines {
        body.push_str(&l.to_string());
        body.push('\n');
    }
    let raw = c
        .send(
            Method::Post,
            "/_bulk",
            &[],
            Some((Bytes::from(body), BodyKind::Ndjson)),
            "bulk",
        )
        .await
        .unwrap();
    (
        raw.status,
        serde_json::from_slice(&raw.body).unwrap_or(Value::Null),
    )
}

async fn with_template(c: &EsClient) {
    let t = json!({
        "index_patterns": ["t-*"], "priority": 10,
        "template": {
            "settings": {"index": {"number_of_replicas": 1, "refresh_interval": "1s"}},
            "mappings": {"dynamic": "strict", "properties": {
                "n": {"type": "long"}, "k": {"type": "keyword"},
                "d": {"type": "date", "format": "strict_date_optional_time||epoch_second"},
                "b": {"type": "boolean"}
            }}
        }
    });
    assert_eq!(
        call(c, Method::Put, "/_index_template/t", Some(t)).await.0,
        200
    );
}

fn idx(id: &str, v: u64) -> Value {
    json!({"index": {"_index": "t-1", "_id": id, "version": v, "version_type": "external"}})
}

#[tokio::test]
async fn external_versions_reject_stale_writes_with_409() {
    let d = EsDouble::start().await;
    let c = client(&d);
    with_template(&c).await;
    let (s, r) = bulk(&c, &[idx("a", 5), json!({"n": 5}), idx("a", 3), json!({"n": 3}), idx("a", 5), json!({"n": 55}),
        json!({"delete": {"_index": "t-1", "_id": "a", "version": 4, "version_type": "external"}})]).await;
    assert_eq!(s, 200);
    assert_eq!(r["errors"], true);
    let statuses: Vec<u64> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i.as_object().unwrap().values().next().unwrap()["status"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(statuses, vec![201, 409, 409, 409]);
    assert_eq!(
        r["items"][1]["index"]["error"]["type"],
        "version_conflict_engine_exception"
    );
    assert_eq!(d.docs("t-1")["a"], (5, json!({"n": 5})));
    // a newer delete wins; deleting a missing doc is 404 not_found
    let (_, r) = bulk(&c, &[json!({"delete": {"_index": "t-1", "_id": "a", "version": 6, "version_type": "external"}}),
        json!({"delete": {"_index": "t-1", "_id": "zz", "version": 1, "version_type": "external"}})]).await;
    assert_eq!(r["items"][0]["delete"]["status"], 200);
    assert_eq!(r["items"][1]["delete"]["status"], 404);
    assert_eq!(r["errors"], false);
    assert!(d.docs("t-1").is_empty());
    // the tombstone keeps its version
    let (_, r) = bulk(&c, &[idx("a", 6), json!({"n": 1})]).await;
    assert_eq!(r["items"][0]["index"]["status"], 409);
}

#[tokio::test]
async fn strict_mapping_rejects_unknown_fields_and_bad_values() {
    let d = EsDouble::start().await;
    let c = client(&d);
    with_template(&c).await;
    let (_, r) = bulk(
        &c,
        &[
            idx("ok", 1),
            json!({"n": 1, "k": "x", "d": "2026-03-08T09:15:00Z", "b": true}),
            idx("unknown", 1),
            json!({"n": 1, "extra": 2}),
            idx("badlong", 1),
            json!({"n": "abc"}),
            idx("baddate", 1),
            json!({"d": "yesterday"}),
            idx("epoch", 1),
            json!({"d": 1772961300, "n": "7"}),
        ],
    )
    .await;
    let items = r["items"].as_array().unwrap();
    assert_eq!(items[0]["index"]["status"], 201);
    assert_eq!(items[1]["index"]["status"], 400);
    assert_eq!(
        items[1]["index"]["error"]["type"],
        "strict_dynamic_mapping_exception"
    );
    assert!(
        items[1]["index"]["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("dynamic introduction of [extra]")
    );
    assert_eq!(
        items[2]["index"]["error"]["type"],
        "document_parsing_exception"
    );
    assert!(
        items[2]["index"]["error"]["reason"]
            .as_str()
            .unwrap()
            .contains("failed to parse field [n] of type [long]")
    );
    assert_eq!(
        items[3]["index"]["error"]["type"],
        "document_parsing_exception"
    );
    assert_eq!(items[4]["index"]["status"], 201);
    assert_eq!(d.docs("t-1").len(), 2);
    // older clusters name it mapper_parsing_exception
    let old = EsDouble::start_with("mapper_parsing_exception").await;
    let c2 = client(&old);
    with_template(&c2).await;
    let (_, r) = bulk(&c2, &[idx("badlong", 1), json!({"n": "abc"})]).await;
    assert_eq!(
        r["items"][0]["index"]["error"]["type"],
        "mapper_parsing_exception"
    );
}

#[tokio::test]
async fn templates_apply_by_pattern_and_priority_and_requests_override_settings() {
    let d = EsDouble::start().await;
    let c = client(&d);
    with_template(&c).await;
    let low = json!({"index_patterns": ["t-*"], "priority": 10, "template": {}});
    assert_eq!(
        call(&c, Method::Put, "/_index_template/clash", Some(low))
            .await
            .0,
        400,
        "same priority, overlapping patterns"
    );
    let (s, _) = call(
        &c,
        Method::Put,
        "/t-2",
        Some(json!({"settings": {"index": {"refresh_interval": "-1", "number_of_replicas": 0}}})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        d.setting("t-2", "index.refresh_interval").as_deref(),
        Some("-1")
    );
    assert_eq!(
        d.setting("t-2", "index.number_of_replicas").as_deref(),
        Some("0")
    );
    assert_eq!(
        call(&c, Method::Put, "/t-2", None).await.0,
        400,
        "already exists"
    );
    let (_, v) = call(&c, Method::Get, "/t-2", None).await;
    assert_eq!(v["t-2"]["mappings"]["dynamic"], "strict");
    // refresh -1: not searchable until refreshed
    let (_, _) = bulk(&c, &[json!({"index": {"_index": "t-2", "_id": "x", "version": 1, "version_type": "external"}}), json!({"n": 1})]).await;
    assert_eq!(
        call(&c, Method::Get, "/t-2/_count", None).await.1["count"],
        0
    );
    assert_eq!(call(&c, Method::Post, "/t-2/_refresh", None).await.0, 200);
    assert_eq!(
        call(&c, Method::Get, "/t-2/_count", None).await.1["count"],
        1
    );
    assert_eq!(
        call(&c, Method::Get, "/t-2/_doc/x", None).await.1["_source"],
        json!({"n": 1})
    );
    assert_eq!(call(&c, Method::Get, "/t-2/_doc/y", None).await.0, 404);
    assert_eq!(call(&c, Method::Head, "/t-9", None).await.0, 404);
    assert_eq!(call(&c, Method::Delete, "/t-2", None).await.0, 200);
    assert_eq!(call(&c, Method::Get, "/t-2", None).await.0, 404);
}

#[tokio::test]
async fn alias_actions_are_atomic_and_writes_follow_the_write_index() {
    let d = EsDouble::start().await;
    let c = client(&d);
    with_template(&c).await;
    for i in ["t-a", "t-b"] {
        call(&c, Method::Put, &format!("/{i}"), None).await;
    }
    let (s, _) = call(
        &c,
        Method::Post,
        "/_aliases",
        Some(json!({"actions": [{"add": {"index": "t-a", "alias": "t", "is_write_index": true}}]})),
    )
    .await;
    assert_eq!(s, 200);
    // a failing action (missing index) leaves everything as it was
    let (s, v) = call(
        &c,
        Method::Post,
        "/_aliases",
        Some(json!({"actions": [
            {"remove": {"index": "t-a", "alias": "t"}},
            {"add": {"index": "t-missing", "alias": "t", "is_write_index": true}}
        ]})),
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["type"], "index_not_found_exception");
    assert_eq!(d.alias_targets("t"), vec!["t-a"]);
    // two write indices are refused
    let (s, _) = call(
        &c,
        Method::Post,
        "/_aliases",
        Some(json!({"actions": [{"add": {"index": "t-b", "alias": "t", "is_write_index": true}}]})),
    )
    .await;
    assert_eq!(s, 400);
    // swap in one call
    let (s, _) = call(
        &c,
        Method::Post,
        "/_aliases",
        Some(json!({"actions": [
            {"remove": {"index": "t-a", "alias": "t"}},
            {"add": {"index": "t-b", "alias": "t", "is_write_index": true}}
        ]})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(d.alias_targets("t"), vec!["t-b"]);
    let (_, v) = call(&c, Method::Get, "/_alias/t", None).await;
    assert_eq!(
        v,
        json!({"t-b": {"aliases": {"t": {"is_write_index": true}}}})
    );
    assert_eq!(call(&c, Method::Get, "/_alias/nope", None).await.0, 404);
    let (_, r) = bulk(
        &c,
        &[
            json!({"index": {"_index": "t", "_id": "w", "version": 1, "version_type": "external"}}),
            json!({"n": 1}),
        ],
    )
    .await;
    assert_eq!(r["items"][0]["index"]["_index"], "t-b");
    assert_eq!(
        call(&c, Method::Delete, "/t", None).await.0,
        400,
        "deleting an alias by name is refused"
    );
    // a write to a missing name auto-creates it from the template
    let (_, r) = bulk(&c, &[json!({"index": {"_index": "t-auto", "_id": "w", "version": 1, "version_type": "external"}}), json!({"zzz": 1})]).await;
    assert_eq!(
        r["items"][0]["index"]["error"]["type"],
        "strict_dynamic_mapping_exception"
    );
    assert!(d.index_names().contains(&"t-auto".to_string()));
}

#[tokio::test]
async fn oversized_requests_get_413_and_gzip_bodies_are_accepted() {
    let d = EsDouble::start().await;
    d.faults(|f| f.max_content_length = 200);
    let c = client(&d);
    let mut body = String::new();
    for i in 0..10 {
        body.push_str(&format!(
            "{}\n{{\"n\":{i}}}\n",
            json!({"index": {"_index": "x", "_id": i.to_string()}})
        ));
    }
    let raw = c
        .send(
            Method::Post,
            "/_bulk",
            &[],
            Some((Bytes::from(body.clone()), BodyKind::Ndjson)),
            "bulk",
        )
        .await
        .unwrap();
    assert_eq!(raw.status, 413);
    d.faults(|f| f.max_content_length = 100_000);
    let gz = convstats::elasticsearch::bulk::batch::gzip(body.as_bytes()).unwrap();
    let raw = c
        .send(
            Method::Post,
            "/_bulk",
            &[("filter_path", "errors,items.*.status")],
            Some((gz, BodyKind::NdjsonGzip)),
            "bulk",
        )
        .await
        .unwrap();
    assert_eq!(raw.status, 200);
    let v: Value = serde_json::from_slice(&raw.body).unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 10);
    assert_eq!(v["items"][0], json!({"index": {"status": 201}}));
    assert!(d.bulk_requests().iter().any(|r| r.gzip));
}

#[tokio::test]
async fn search_with_pit_sort_and_search_after_pages_through_everything() {
    let d = EsDouble::start().await;
    let c = client(&d);
    with_template(&c).await;
    let mut lines = Vec::new();
    for i in 0..25u64 {
        lines.push(idx(&format!("d{i:02}"), 1));
        lines.push(json!({"n": i % 5, "d": format!("2026-03-{:02}T00:00:00Z", i + 1), "k": "x"}));
    }
    bulk(&c, &lines).await;
    let (_, pit) = call(&c, Method::Post, "/t-1/_pit?keep_alive=1m", None).await;
    let pit_id = pit["id"].as_str().unwrap().to_string();
    // a write after the PIT is not seen through it
    bulk(
        &c,
        &[idx("late", 1), json!({"n": 1, "d": "2026-03-10T00:00:00Z"})],
    )
    .await;
    let mut seen = Vec::new();
    let mut after: Option<Value> = None;
    for _ in 0..10 {
        let mut q = json!({"size": 4, "pit": {"id": pit_id, "keep_alive": "1m"}, "sort": [{"n": "asc"}],
            "query": {"range": {"d": {"gte": "2026-03-01", "lt": "2026-03-21T00:00:00Z"}}}});
        if let Some(a) = &after {
            q["search_after"] = a.clone();
        }
        let (s, r) = call(&c, Method::Post, "/_search", Some(q)).await;
        assert_eq!(s, 200, "{r}");
        let hits = r["hits"]["hits"].as_array().unwrap().clone();
        if hits.is_empty() {
            break;
        }
        after = Some(hits.last().unwrap()["sort"].clone());
        seen.extend(hits.iter().map(|h| {
            (
                h["_source"]["n"].as_u64().unwrap(),
                h["_id"].as_str().unwrap().to_string(),
            )
        }));
    }
    assert_eq!(seen.len(), 20);
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(!seen.iter().any(|(_, id)| id == "late"));
    let (_, r) = call(
        &c,
        Method::Post,
        "/t-1/_search",
        Some(json!({"query": {"term": {"n": 3}}, "size": 100})),
    )
    .await;
    assert_eq!(r["hits"]["total"]["value"], 5);
    let (s, _) = call(&c, Method::Delete, "/_pit", Some(json!({"id": pit_id}))).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn faults_are_injected_and_recorded() {
    let d = EsDouble::start().await;
    let c = client(&d);
    d.faults(|f| f.fail_bulk(429, 2));
    let line = [
        json!({"index": {"_index": "x", "_id": "1"}}),
        json!({"n": 1}),
    ];
    assert_eq!(bulk(&c, &line).await.0, 429);
    assert_eq!(bulk(&c, &line).await.0, 429);
    assert_eq!(bulk(&c, &line).await.0, 200);
    d.faults(|f| f.reset_bulk = 1);
    let mut body = String::new();
    for l in &line {
        body.push_str(&l.to_string());
        body.push('\n');
    }
    assert!(
        c.send(
            Method::Post,
            "/_bulk",
            &[],
            Some((Bytes::from(body), BodyKind::Ndjson)),
            "bulk"
        )
        .await
        .is_err()
    );
    d.faults(|f| f.down = true);
    assert!(c.check().await.is_err());
    d.faults(|f| f.down = false);
    assert_eq!(c.check().await.unwrap().version, "9.1.0");
    let recorded = d.bulk_requests();
    assert_eq!(recorded.len(), 4);
    assert!(
        recorded[0].faulted && recorded[1].faulted && !recorded[2].faulted && recorded[3].faulted
    );
    assert_eq!(d.max_bulk_in_flight(), 1);
}
