//! Merging records (input.md "Merging records into a conversation").

mod common;
use common::*;
use convstats::conversation::Merger;
use convstats::document;
use convstats::metrics::{self, BotIds};
use convstats::office_hours::Schedule;
use convstats::record;
use proptest::prelude::*;
use serde_json::{Value, json};

fn conv_record(id: &str, updated_at: i64, extra: Value) -> Value {
    let mut c = json!({"type": "conversation", "id": id, "created_at": T0, "updated_at": updated_at,
        "source": {"delivered_as": "customer_initiated", "author": {"type": "user", "id": "u1"}}});
    if let (Some(obj), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            obj.insert(k.clone(), v.clone());
        }
    }
    c
}

fn standalone(conversation_id: &str, p: Value) -> Value {
    let mut p = p;
    p["conversation_id"] = json!(conversation_id);
    p
}

/// Every output byte of the merged conversations (both documents and CSV),
/// merged as a run merges them.
fn output_bytes(lines: &[Value]) -> Vec<u8> {
    let mut lines = lines.to_vec();
    // `merge` panics on a rejected line; a test may hold some on purpose.
    lines.retain(|l| record::parse_line(&serde_json::to_vec(l).unwrap()).is_ok());
    render(merge(&lines))
}

fn render(convs: Vec<convstats::conversation::Conversation>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut csv = document::csv_writer(Vec::new());
    for c in convs {
        let mt = metrics::compute(&c, &BotIds::default(), &Schedule::always_open());
        document::write_new_line(&mut out, &c, &mt);
        document::write_legacy_line(&mut out, &c, &mt);
        document::write_csv_row(&mut csv, &c, &mt).unwrap();
    }
    out.extend(csv.into_inner().unwrap());
    out
}

/// The same, each line merged at the read position `positions[i]`.
fn output_bytes_at(lines: &[Value], positions: &[u64]) -> Vec<u8> {
    let mut m = Merger::new();
    for (l, &position) in lines.iter().zip(positions) {
        let text = serde_json::to_vec(l).unwrap();
        if let Ok(Some(r)) = record::parse_line(&text) {
            m.apply(r, position);
        }
    }
    // What a store does: merge at its own positions, finish, sort by key.
    let (mut convs, _) = m.finish();
    convs.sort_by(|a, b| a.key.cmp(&b.key));
    render(convs)
}

#[test]
fn a_stale_part_version_loses() {
    let mut newer = part("1", "comment", 10, "admin");
    newer["updated_at"] = json!(T0 + 100);
    let mut older = bare("1", "note", 10, "admin");
    older["updated_at"] = json!(T0 + 50);
    let m = metrics_of(&[
        standalone("c1", newer.clone()),
        standalone("c1", older.clone()),
        conversation(vec![]),
    ]);
    assert_eq!(m.first_admin_reply_at, at(10), "the newer comment holds");
    assert_eq!(m.count_conversation_parts, 1, "it is still one part");
    let m = metrics_of(&[
        standalone("c1", older),
        standalone("c1", newer),
        conversation(vec![]),
    ]);
    assert_eq!(m.first_admin_reply_at, at(10));
}

#[test]
fn a_part_without_updated_at_ranks_by_created_at() {
    let a = bare("1", "note", 10, "admin");
    let mut b = part("1", "comment", 10, "admin");
    b["updated_at"] = json!(T0 + 5);
    // b's updated_at (T0+5) ranks below a's created_at (T0+10): a wins.
    let m = metrics_of(&[
        conversation(vec![]),
        standalone("c1", a),
        standalone("c1", b),
    ]);
    assert_eq!(m.first_admin_reply_at, None);
}

#[test]
fn on_a_tie_the_part_read_last_holds() {
    let a = bare("1", "note", 10, "admin");
    let b = part("1", "comment", 10, "admin");
    let m = metrics_of(&[
        conversation(vec![]),
        standalone("c1", a.clone()),
        standalone("c1", b.clone()),
    ]);
    assert_eq!(m.first_admin_reply_at, at(10));
    let m = metrics_of(&[
        conversation(vec![]),
        standalone("c1", b),
        standalone("c1", a),
    ]);
    assert_eq!(m.first_admin_reply_at, None);
}

#[test]
fn a_field_carried_as_null_overrides_an_older_value() {
    let old = conv_record(
        "c1",
        T0 + 10,
        json!({"state": "open", "admin_assignee_id": 42}),
    );
    let new = conv_record("c1", T0 + 20, json!({"admin_assignee_id": null}));
    let c = &merge(&[new, old])[0];
    assert_eq!(c.admin_assignee_id, None, "newer null wins");
    assert_eq!(
        c.state.as_deref(),
        Some("open"),
        "a field not carried keeps its value"
    );
}

#[test]
fn an_absent_field_is_not_carried() {
    let old = conv_record("c1", T0 + 10, json!({"team_assignee_id": "7"}));
    let new = conv_record("c1", T0 + 20, json!({}));
    assert_eq!(merge(&[old, new])[0].team_assignee_id.as_deref(), Some("7"));
}

#[test]
fn each_field_takes_the_value_of_the_newest_record_carrying_it() {
    let a = conv_record("c1", T0 + 30, json!({"state": "closed"}));
    let b = conv_record(
        "c1",
        T0 + 20,
        json!({"state": "open", "admin_assignee_id": "9"}),
    );
    for order in [[a.clone(), b.clone()], [b, a]] {
        let c = &merge(&order)[0];
        assert_eq!(c.state.as_deref(), Some("closed"));
        assert_eq!(c.admin_assignee_id.as_deref(), Some("9"));
    }
}

#[test]
fn a_record_without_updated_at_ranks_below_every_record_that_has_one() {
    let mut no_update = conv_record("c1", 0, json!({"state": "snoozed"}));
    no_update.as_object_mut().unwrap().remove("updated_at");
    let old = conv_record("c1", 1, json!({"state": "open"}));
    assert_eq!(
        merge(&[old.clone(), no_update.clone()])[0].state.as_deref(),
        Some("open")
    );
    assert_eq!(merge(&[no_update, old])[0].state.as_deref(), Some("open"));
}

#[test]
fn on_a_tie_the_record_read_last_wins() {
    let a = conv_record("c1", T0, json!({"state": "open"}));
    let b = conv_record("c1", T0, json!({"state": "closed"}));
    assert_eq!(
        merge(&[a.clone(), b.clone()])[0].state.as_deref(),
        Some("closed")
    );
    assert_eq!(merge(&[b, a])[0].state.as_deref(), Some("open"));
}

#[test]
fn a_newer_source_without_created_at_keeps_the_older_source_created_at() {
    let mut old = conv_record("c1", T0 + 10, json!({}));
    old["source"]["created_at"] = json!(T0 - 3600);
    let mut new = conv_record("c1", T0 + 20, json!({}));
    new["source"]["delivered_as"] = json!("admin_initiated");
    new["source"]["author"] = json!({"type": "admin", "id": "a1"});
    let m = metrics_of(&[new, old]);
    assert_eq!(m.message_created_at, Some(T0 - 3600));
    assert_eq!(
        m.message_type,
        Some(convstats::record::MessageType::AdminMessage)
    );
}

#[test]
fn parts_before_any_conversation_record_leave_conversation_fields_null() {
    let m = metrics_of(&[standalone("c1", part("1", "comment", 10, "user"))]);
    assert_eq!(m.conversation_created_at, None);
    assert_eq!(m.message_created_at, None);
    assert_eq!(m.message_type, None);
    assert_eq!(m.first_contact_reply_at, at(10));
    assert_eq!(m.updated_at, at(10));
}

#[test]
fn conversation_deleted_is_final_for_records_before_and_after_it() {
    let deleted = json!({"type": "notification_event", "topic": "conversation.deleted",
        "data": {"item": {"type": "conversation", "id": "c1"}}});
    let lines = [
        conversation(vec![part("1", "comment", 10, "admin")]),
        deleted,
        standalone("c1", part("2", "comment", 20, "user")),
        conv_record("c1", T0 + 999, json!({})),
        conv_record("c2", T0, json!({})),
    ];
    let convs = merge(&lines);
    assert_eq!(convs.len(), 1);
    assert_eq!(convs[0].key.id, "c2");
}

#[test]
fn a_notification_item_merges_like_a_conversation_record_with_its_own_workspace() {
    let event = json!({"type": "notification_event", "topic": "conversation.admin.replied",
        "app_id": "app1", "created_at": T0 + 50,
        "data": {"item": conv_record("c1", T0 + 40, json!({"state": "open"}))}});
    let convs = merge(&[event]);
    assert_eq!(
        convs[0].key.workspace_id, "app1",
        "the event's workspace when the item names none"
    );
    let mut item = conv_record("c1", T0 + 40, json!({}));
    item["workspace_id"] = json!("ws9");
    let event = json!({"type": "notification_event", "topic": "conversation.user.created",
        "app_id": "app1", "data": {"item": item}});
    assert_eq!(merge(&[event])[0].key.workspace_id, "ws9");
}

#[test]
fn other_notification_topics_are_accepted_and_ignored() {
    let event = json!({"type": "notification_event", "topic": "contact.created",
        "data": {"item": {"type": "contact", "id": 5, "created_at": "not even a timestamp"}}});
    assert!(merge(&[event]).is_empty());
}

#[test]
fn workspace_id_wins_over_app_id_and_default_is_the_fallback() {
    let mut c = conv_record("c1", T0, json!({"app_id": "a", "workspace_id": "w"}));
    assert_eq!(merge(&[c.clone()])[0].key.workspace_id, "w");
    c.as_object_mut().unwrap().remove("workspace_id");
    assert_eq!(merge(&[c.clone()])[0].key.workspace_id, "a");
    c.as_object_mut().unwrap().remove("app_id");
    assert_eq!(merge(&[c])[0].key.workspace_id, "default");
}

#[test]
fn the_same_id_in_two_workspaces_is_two_conversations() {
    let a = conv_record("c1", T0, json!({"workspace_id": "w1"}));
    let b = conv_record("c1", T0, json!({"workspace_id": "w2"}));
    assert_eq!(merge(&[a, b]).len(), 2);
}

#[test]
fn integer_and_string_ids_name_the_same_conversation() {
    let a = conv_record("274", T0, json!({}));
    let mut b = conv_record("x", T0, json!({}));
    b["id"] = json!(274);
    assert_eq!(merge(&[a, b]).len(), 1);
}

/// A varied set of records about a few conversations, with distinct
/// `updated_at` values so that no two records tie.
fn record_set() -> Vec<Value> {
    let mut lines = Vec::new();
    for c in 0..4 {
        let id = format!("c{c}");
        let mut parts = Vec::new();
        for p in 0..6 {
            let kinds = ["comment", "note", "close", "open", "assignment", "comment"];
            let who = ["user", "admin", "admin", "user", "bot", "admin"];
            let mut x = part(
                &format!("{}", p * 7 % 10),
                kinds[p],
                (p as i64) * 60,
                who[p],
            );
            x["updated_at"] = json!(T0 + (p as i64) * 60 + c * 1000 + 1);
            parts.push(x);
        }
        let mut rec = conv_record(
            &id,
            T0 + 100 + c,
            json!({"state": "open", "admin_assignee_id": c}),
        );
        rec["conversation_parts"] = json!({"conversation_parts": parts[..3]});
        lines.push(rec);
        let mut rec2 = conv_record(&id, T0 + 5000 + c, json!({"state": "closed"}));
        rec2["conversation_parts"] = json!({"conversation_parts": parts[2..]});
        lines.push(rec2);
        let mut stale = parts[1].clone();
        stale["part_type"] = json!("comment");
        stale["updated_at"] = json!(T0);
        lines.push(standalone(&id, stale));
    }
    lines
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn shuffled_or_repeated_records_give_byte_identical_output(
        order in Just((0..12usize).collect::<Vec<_>>()).prop_shuffle(),
        repeats in proptest::collection::vec(0..12usize, 0..8),
    ) {
        let base = record_set();
        let expected = output_bytes(&base);
        let mut lines: Vec<Value> = order.iter().map(|&i| base[i].clone()).collect();
        for r in repeats {
            lines.push(base[r].clone());
        }
        prop_assert_eq!(output_bytes(&lines), expected);
    }

    /// A read position is opaque: only its order counts, so a store may
    /// number accepted lines its own way (a sequence number) and merge with
    /// this same code.
    #[test]
    fn any_increasing_read_positions_give_the_same_output_as_file_and_line(
        order in Just((0..12usize).collect::<Vec<_>>()).prop_shuffle(),
        repeats in proptest::collection::vec(0..12usize, 0..8),
        first in 0u64..1 << 50,
        gaps in proptest::collection::vec(1u64..1 << 20, 20),
    ) {
        let base = record_set();
        let mut lines: Vec<Value> = order.iter().map(|&i| base[i].clone()).collect();
        for r in repeats {
            lines.push(base[r].clone());
        }
        let positions: Vec<u64> = gaps[..lines.len()]
            .iter()
            .scan(first, |p, g| {
                *p += g;
                Some(*p)
            })
            .collect();
        prop_assert_eq!(output_bytes_at(&lines, &positions), output_bytes(&lines));
    }
}
