//! Sample documents of both families with every field (the shapes of
//! metrics.md sections 4–6), for tests of the Elasticsearch layer.

use serde_json::{Value, json};

fn ts(i: u64, offset: u64) -> String {
    let base = 1_772_960_000i64 + (i as i64 % 100_000) * 60 + offset as i64;
    chrono::DateTime::from_timestamp(base, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn common(ws: &str, conv: &str, i: u64) -> serde_json::Map<String, Value> {
    let v = json!({
        "conversation_id": conv,
        "workspace_id": ws,
        "message_type": if i.is_multiple_of(3) { Value::Null } else { json!("UserMessage") },
        "inbound": !i.is_multiple_of(3),
        "message_created_at": ts(i, 0),
        "conversation_created_at": ts(i, 0),
        "state": if i.is_multiple_of(2) { "closed" } else { "open" },
        "admin_assignee_id": if i.is_multiple_of(4) { Value::Null } else { json!(format!("a{}", i % 7)) },
        "team_assignee_id": Value::Null,
        "updated_at": ts(i, 900),
    });
    v.as_object().unwrap().clone()
}

/// A new-pipeline document; `rev` changes some values so revisions differ.
pub fn new_doc(ws: &str, conv: &str, i: u64, rev: u64) -> Value {
    let mut m = common(ws, conv, i);
    let extra = json!({
        "started_at": ts(i, 10),
        "first_response_at": ts(i, 70 + rev),
        "last_closed_at": if i.is_multiple_of(2) { json!(ts(i, 600)) } else { Value::Null },
        "last_closed_by_human_at": Value::Null,
        "first_response_time": 60 + rev,
        "first_response_time_ooo": 30 + rev,
        "time_to_last_close": if i.is_multiple_of(2) { json!(590) } else { Value::Null },
        "time_to_last_close_ooo": if i.is_multiple_of(2) { json!(500) } else { Value::Null },
        "time_to_last_close_by_human": Value::Null,
        "time_to_last_close_by_human_ooo": Value::Null,
    });
    m.extend(extra.as_object().unwrap().clone());
    Value::Object(m)
}

/// A legacy-pipeline document.
pub fn legacy_doc(ws: &str, conv: &str, i: u64, rev: u64) -> Value {
    let mut m = common(ws, conv, i);
    let extra = json!({
        "first_contact_reply_at": ts(i, 10),
        "first_assignment_at": ts(i, 20),
        "first_admin_reply_at": ts(i, 70),
        "first_close_at": ts(i, 600),
        "last_assignment_at": ts(i, 20),
        "last_assignment_admin_reply_at": ts(i, 20),
        "last_contact_reply_at": ts(i, 300),
        "last_admin_reply_at": ts(i, 400),
        "last_close_at": ts(i, 600),
        "last_closed_by_id": "a1",
        "count_reopens": rev,
        "count_assignments": 1,
        "count_conversation_parts": 5 + rev,
        "time_to_assignment": 10, "time_to_assignment_ooo": 10,
        "time_to_admin_reply": 60, "time_to_admin_reply_ooo": 60,
        "time_to_first_close": 590, "time_to_first_close_ooo": 400,
        "time_to_last_close": 590, "time_to_last_close_ooo": 400,
        "median_time_to_reply": 60, "median_time_to_reply_ooo": Value::Null,
        "reply_times": [60, 100], "reply_times_ooo": [],
    });
    m.extend(extra.as_object().unwrap().clone());
    Value::Object(m)
}

/// `_id` → document, from one of `compute`'s NDJSON files.
pub fn lines_by_id(path: &std::path::Path) -> std::collections::BTreeMap<String, Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let id = format!(
                "{}:{}",
                v["workspace_id"].as_str().unwrap(),
                v["conversation_id"].as_str().unwrap()
            );
            (id, v)
        })
        .collect()
}
