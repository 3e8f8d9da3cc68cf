//! One test per rule of metrics.md, named for the sentence it checks.
//! Conversations are written as Intercom records and go through the real
//! parse → merge → metrics path.

mod common;
use common::*;
use convstats::record::MessageType;
use serde_json::json;

// ---- Section 1: elements and order -------------------------------------

#[test]
fn numeric_part_ids_order_by_value_at_equal_times() {
    // An outbound conversation with a customer part "9" and an admin part
    // "10" at the same second: by value "9" comes first.
    let m = metrics_for_parts_outbound(vec![
        part("10", "comment", 60, "admin"),
        part("9", "comment", 60, "user"),
    ]);
    // "9" (customer) precedes "10" (admin): FAR is "10", after FCR.
    assert_eq!(m.first_contact_reply_at, at(60));
    assert_eq!(m.first_admin_reply_at, at(60));
    assert_eq!(m.reply_times, vec![0]);
}

fn metrics_for_parts_outbound(parts: Vec<serde_json::Value>) -> convstats::metrics::Metrics {
    metrics_of(&[outbound(parts)])
}

#[test]
fn byte_wise_order_would_differ_so_numeric_order_is_used() {
    // Byte-wise "10" < "9"; numerically 9 < 10. With the admin as "9" and
    // the customer as "10", the admin reply comes BEFORE the contact reply,
    // so it is not after FCR.
    let m = metrics_for_parts_outbound(vec![
        part("9", "comment", 60, "admin"),
        part("10", "comment", 60, "user"),
    ]);
    assert_eq!(m.first_contact_reply_at, at(60));
    assert_eq!(m.first_admin_reply_at, None);
}

#[test]
fn numeric_ids_sort_before_non_numeric_ones() {
    let m = metrics_for_parts_outbound(vec![
        part("a", "comment", 60, "admin"),
        part("99", "comment", 60, "user"),
    ]);
    assert_eq!(m.first_admin_reply_at, at(60), "\"99\" before \"a\"");
}

#[test]
fn initial_message_comes_first_at_equal_times() {
    // A close at the conversation's created_at: the initial message (a
    // contact reply) is first, so the close is after FCR.
    let m = metrics_for_parts(vec![part("1", "close", 0, "admin")]);
    assert_eq!(m.first_contact_reply_at, at(0));
    assert_eq!(m.first_close_at, at(0));
}

#[test]
fn after_means_later_in_element_order_not_merely_in_time() {
    // Admin reply with a smaller id at the same second as the FCR part: not after.
    let m = metrics_for_parts_outbound(vec![
        part("1", "comment", 10, "admin"),
        part("2", "comment", 10, "user"),
        part("3", "comment", 10, "admin"),
    ]);
    assert_eq!(m.first_contact_reply_at, at(10));
    assert_eq!(m.first_admin_reply_at, at(10));
    assert_eq!(m.reply_times, vec![0], "only part 3 answers the customer");
}

#[test]
fn no_initial_message_without_a_source_author_type() {
    let mut c = conversation(vec![]);
    c["source"]["author"] = json!({"id": "u1"});
    let m = metrics_of(&[c]);
    assert_eq!(m.first_contact_reply_at, None);
}

#[test]
fn message_type_extension_overrides_delivered_as() {
    let mut c = conversation(vec![]);
    c["message_type"] = json!("BotMessage");
    assert_eq!(metrics_of(&[c]).message_type, Some(MessageType::BotMessage));
}

#[test]
fn message_type_extension_with_another_value_is_ignored() {
    let mut c = conversation(vec![]);
    c["message_type"] = json!("Whatever");
    assert_eq!(
        metrics_of(&[c]).message_type,
        Some(MessageType::UserMessage)
    );
}

#[test]
fn delivered_as_maps_to_message_types() {
    for (delivered, expected) in [
        ("customer_initiated", MessageType::UserMessage),
        ("admin_initiated", MessageType::AdminMessage),
        ("automated", MessageType::AutoMessage),
        ("campaigns_initiated", MessageType::AutoMessage),
        ("operator_initiated", MessageType::BotMessage),
    ] {
        let mut c = outbound(vec![]);
        c["source"]["delivered_as"] = json!(delivered);
        assert_eq!(metrics_of(&[c]).message_type, Some(expected), "{delivered}");
    }
}

#[test]
fn a_customer_source_author_implies_user_message_otherwise_null() {
    let mut c = conversation(vec![]);
    c["source"]["delivered_as"] = json!("something_new");
    assert_eq!(
        metrics_of(&[c]).message_type,
        Some(MessageType::UserMessage)
    );
    let mut c = outbound(vec![]);
    c["source"]["delivered_as"] = serde_json::Value::Null;
    let m = metrics_of(&[c]);
    assert_eq!(m.message_type, None);
    assert!(!m.inbound, "inbound is false when the type is null");
}

#[test]
fn inbound_is_user_message() {
    assert!(metrics_for_parts(vec![]).inbound);
    assert!(!metrics_for_parts_outbound(vec![]).inbound);
}

// ---- Section 2: authors and parts ----------------------------------------

#[test]
fn user_lead_and_contact_are_customers() {
    for t in ["user", "lead", "contact"] {
        let m = metrics_for_parts_outbound(vec![part("1", "comment", 5, t)]);
        assert_eq!(m.first_contact_reply_at, at(5), "{t}");
    }
}

#[test]
fn an_unknown_author_type_is_neither_customer_admin_nor_bot() {
    let m = metrics_for_parts_outbound(vec![
        part("1", "comment", 5, "user"),
        part("2", "comment", 6, "team"),
    ]);
    assert_eq!(m.last_contact_reply_at, at(5));
    assert_eq!(m.first_admin_reply_at, None);
}

#[test]
fn a_bot_author_type_is_a_bot_not_an_admin_reply() {
    let m = metrics_for_parts(vec![part("1", "comment", 5, "bot")]);
    assert_eq!(m.first_admin_reply_at, None);
}

#[test]
fn an_admin_flagged_from_ai_agent_is_a_bot() {
    let mut p = part("1", "comment", 5, "admin");
    p["author"]["from_ai_agent"] = json!(true);
    assert_eq!(metrics_for_parts(vec![p]).first_admin_reply_at, None);
}

#[test]
fn an_admin_flagged_is_ai_answer_is_a_bot() {
    let mut p = part("1", "comment", 5, "admin");
    p["author"]["is_ai_answer"] = json!(true);
    assert_eq!(metrics_for_parts(vec![p]).first_admin_reply_at, None);
}

#[test]
fn an_ai_flag_that_is_not_true_changes_nothing() {
    let mut p = part("1", "comment", 5, "admin");
    p["author"]["from_ai_agent"] = json!("true");
    p["author"]["is_ai_answer"] = json!(false);
    assert_eq!(metrics_for_parts(vec![p]).first_admin_reply_at, at(5));
}

#[test]
fn an_admin_whose_id_is_configured_as_a_bot_is_a_bot() {
    let parts = vec![part("1", "comment", 5, "admin")];
    let m = metrics_with_bots(&[conversation(parts.clone())], &["a1"]);
    assert_eq!(m.first_admin_reply_at, None);
    let m = metrics_with_bots(&[conversation(parts)], &["someone-else"]);
    assert_eq!(m.first_admin_reply_at, at(5));
}

#[test]
fn a_customer_is_never_a_bot() {
    let mut p = part("1", "comment", 5, "user");
    p["author"]["from_ai_agent"] = json!(true);
    p["author"]["id"] = json!("274");
    let m = metrics_with_bots(&[outbound(vec![p])], &["274"]);
    assert_eq!(m.first_contact_reply_at, at(5));
}

#[test]
fn the_visible_extension_overrides_the_visibility_rule() {
    let mut hidden = part("1", "comment", 5, "admin");
    hidden["visible"] = json!(false);
    assert_eq!(metrics_for_parts(vec![hidden]).first_admin_reply_at, None);
    let mut shown = part("1", "note", 5, "admin");
    shown["visible"] = json!(true);
    assert_eq!(metrics_for_parts(vec![shown]).first_admin_reply_at, at(5));
    let mut ignored = part("1", "note", 5, "admin");
    ignored["visible"] = json!("yes");
    assert_eq!(metrics_for_parts(vec![ignored]).first_admin_reply_at, None);
}

#[test]
fn comment_and_quick_reply_are_visible_even_without_a_body() {
    for t in ["comment", "quick_reply"] {
        let m = metrics_for_parts(vec![bare("1", t, 5, "admin")]);
        assert_eq!(m.first_admin_reply_at, at(5), "{t}");
    }
}

#[test]
fn note_and_note_and_reopen_are_never_visible() {
    for t in ["note", "note_and_reopen"] {
        let m = metrics_for_parts(vec![part("1", t, 5, "admin")]);
        assert_eq!(m.first_admin_reply_at, None, "{t}");
    }
}

#[test]
fn other_part_types_are_visible_exactly_when_the_body_is_non_empty() {
    let m = metrics_for_parts(vec![part("1", "some_future_type", 5, "admin")]);
    assert_eq!(m.first_admin_reply_at, at(5));
    for body in [
        json!(""),
        json!("  \n\t\u{a0}"),
        json!(null),
        json!(7),
        json!(["x"]),
    ] {
        let mut p = part("1", "some_future_type", 5, "admin");
        p["body"] = body.clone();
        assert_eq!(
            metrics_for_parts(vec![p]).first_admin_reply_at,
            None,
            "{body}"
        );
    }
}

#[test]
fn html_is_not_stripped_so_an_empty_paragraph_is_a_body() {
    let mut p = part("1", "open", 5, "admin");
    p["body"] = json!("<p></p>");
    assert_eq!(metrics_for_parts(vec![p]).first_admin_reply_at, at(5));
}

#[test]
fn an_assignment_or_close_with_a_body_is_a_visible_admin_reply() {
    for t in ["assignment", "close"] {
        let m = metrics_for_parts(vec![part("1", t, 5, "admin")]);
        assert_eq!(m.first_admin_reply_at, at(5), "{t} with body");
        let m = metrics_for_parts(vec![bare("1", t, 5, "admin")]);
        assert_eq!(m.first_admin_reply_at, None, "{t} without body");
    }
}

#[test]
fn the_initial_message_of_a_user_message_is_a_contact_reply() {
    let m = metrics_for_parts(vec![]);
    assert_eq!(m.first_contact_reply_at, at(0));
    assert_eq!(m.last_contact_reply_at, at(0));
    // Not for an outbound message authored by an admin.
    assert_eq!(
        metrics_for_parts_outbound(vec![]).first_contact_reply_at,
        None
    );
}

#[test]
fn a_customer_open_part_with_a_body_is_a_contact_reply() {
    let m = metrics_for_parts_outbound(vec![part("1", "open", 3600, "user")]);
    assert_eq!(m.first_contact_reply_at, at(3600));
}

#[test]
fn an_invisible_customer_part_is_not_a_contact_reply() {
    let m = metrics_for_parts_outbound(vec![bare("1", "open", 3600, "user")]);
    assert_eq!(m.first_contact_reply_at, None);
}

#[test]
fn any_attribute_collected_part_is_a_contact_reply() {
    let m = metrics_for_parts_outbound(vec![bare("1", "attribute_collected", 60, "bot")]);
    assert_eq!(m.first_contact_reply_at, at(60));
}

#[test]
fn an_admin_reply_is_a_visible_part_by_a_human_admin() {
    let m = metrics_for_parts(vec![
        part("1", "note", 10, "admin"),
        part("2", "comment", 20, "bot"),
        part("3", "comment", 30, "admin"),
    ]);
    assert_eq!(m.first_admin_reply_at, at(30));
    assert_eq!(m.last_admin_reply_at, at(30));
}

#[test]
fn every_assignment_type_counts_including_unassignment() {
    let mut unassign = bare("4", "assignment", 40, "admin");
    unassign["assigned_to"] = json!({"type": "nobody_admin", "id": null});
    let m = metrics_for_parts(vec![
        bare("1", "assignment", 10, "admin"),
        bare("2", "default_assignment", 20, "bot"),
        bare("3", "away_mode_assignment", 30, "bot"),
        unassign,
        bare("5", "assign_and_reopen", 50, "admin"),
    ]);
    assert_eq!(m.count_assignments, 5);
    assert_eq!(m.first_assignment_at, at(10));
    assert_eq!(m.last_assignment_at, at(50));
}

#[test]
fn a_close_by_any_author_is_a_close_but_only_a_human_admin_s_is_a_human_close() {
    let m = metrics_for_parts(vec![bare("1", "close", 100, "bot")]);
    assert_eq!(m.last_close_at, at(100));
    assert_eq!(m.last_closed_by_id.as_deref(), Some("b1"));
    assert_eq!(m.last_closed_by_human_at, None);
    let m = metrics_for_parts(vec![
        bare("1", "close", 100, "admin"),
        bare("2", "close", 200, "bot"),
    ]);
    assert_eq!(m.last_close_at, at(200));
    assert_eq!(m.last_closed_by_human_at, at(100));
    assert_eq!(m.time_to_last_close_by_human.plain, Some(100));
}

// ---- Reopen walk -------------------------------------------------------

#[test]
fn open_after_close_is_a_reopen() {
    let m = metrics_for_parts(vec![
        bare("1", "close", 10, "admin"),
        bare("2", "open", 20, "admin"),
    ]);
    assert_eq!(m.count_reopens, 1);
}

#[test]
fn assign_and_reopen_after_close_is_a_reopen() {
    let m = metrics_for_parts(vec![
        bare("1", "close", 10, "admin"),
        bare("2", "assign_and_reopen", 20, "admin"),
    ]);
    assert_eq!(m.count_reopens, 1);
}

#[test]
fn note_and_reopen_after_close_is_a_reopen() {
    let m = metrics_for_parts(vec![
        bare("1", "close", 10, "admin"),
        part("2", "note_and_reopen", 20, "admin"),
    ]);
    assert_eq!(m.count_reopens, 1);
}

#[test]
fn a_contact_reply_after_close_is_a_reopen() {
    let m = metrics_for_parts(vec![
        bare("1", "close", 10, "admin"),
        part("2", "comment", 20, "user"),
    ]);
    assert_eq!(m.count_reopens, 1);
}

#[test]
fn reopening_parts_only_reopen_while_closed() {
    let m = metrics_for_parts(vec![
        bare("1", "open", 10, "admin"),
        bare("2", "assign_and_reopen", 20, "admin"),
        part("3", "comment", 30, "user"),
        bare("4", "close", 40, "admin"),
        part("5", "comment", 50, "user"),
        part("6", "comment", 60, "user"),
        bare("7", "open", 70, "admin"),
    ]);
    assert_eq!(m.count_reopens, 1, "only part 5 reopens");
}

#[test]
fn a_close_is_never_a_reopen_even_when_it_is_a_contact_reply() {
    let m = metrics_for_parts(vec![
        bare("1", "close", 10, "admin"),
        part("2", "close", 20, "user"),
    ]);
    assert_eq!(m.count_reopens, 0);
    assert_eq!(m.last_contact_reply_at, at(20));
}

#[test]
fn snoozing_is_not_closing() {
    let m = metrics_for_parts(vec![
        bare("1", "snoozed", 10, "admin"),
        part("2", "comment", 20, "user"),
        bare("3", "unsnoozed", 30, "admin"),
    ]);
    assert_eq!(m.count_reopens, 0);
    assert_eq!(m.first_close_at, None);
}

#[test]
fn reopens_are_counted_only_after_fcr() {
    // Outbound: the admin closes, then the customer answers (FCR, which is
    // itself a reopen but not after FCR), then closes and reopens again.
    let m = metrics_for_parts_outbound(vec![
        bare("1", "close", 10, "admin"),
        part("2", "open", 20, "user"),
        bare("3", "close", 30, "admin"),
        part("4", "open", 40, "user"),
    ]);
    assert_eq!(m.first_contact_reply_at, at(20));
    assert_eq!(m.count_reopens, 1);
}

// ---- Section 3: the anchor -------------------------------------------------

#[test]
fn without_a_contact_reply_every_after_fcr_field_is_null_and_counts_are_0() {
    let m = metrics_for_parts_outbound(vec![
        bare("1", "assignment", 10, "admin"),
        part("2", "comment", 20, "admin"),
        bare("3", "close", 30, "admin"),
        bare("4", "open", 40, "admin"),
        bare("5", "close", 50, "admin"),
    ]);
    assert_eq!(m.first_contact_reply_at, None);
    assert_eq!(m.first_assignment_at, None);
    assert_eq!(m.first_admin_reply_at, None);
    assert_eq!(m.first_close_at, None);
    assert_eq!(m.last_assignment_at, None);
    assert_eq!(m.last_assignment_admin_reply_at, None);
    assert_eq!(m.last_contact_reply_at, None);
    assert_eq!(m.last_admin_reply_at, None);
    assert_eq!(m.last_close_at, None);
    assert_eq!(m.last_closed_by_id, None);
    assert_eq!(m.last_closed_by_human_at, None);
    assert_eq!(m.count_reopens, 0);
    assert_eq!(m.count_assignments, 0);
    assert_eq!(
        m.count_conversation_parts, 5,
        "parts are counted whatever FCR is"
    );
    for d in [
        m.time_to_assignment,
        m.time_to_admin_reply,
        m.time_to_first_close,
        m.time_to_last_close,
        m.time_to_last_close_by_human,
    ] {
        assert_eq!(d.plain, None);
        assert_eq!(d.ooo, None);
    }
}

#[test]
fn events_before_fcr_are_not_after_fcr() {
    let m = metrics_for_parts_outbound(vec![
        bare("1", "assignment", 10, "admin"),
        part("2", "comment", 20, "admin"),
        bare("3", "close", 30, "admin"),
        part("4", "open", 40, "user"),
        part("5", "comment", 50, "admin"),
    ]);
    assert_eq!(m.first_contact_reply_at, at(40));
    assert_eq!(m.first_assignment_at, None);
    assert_eq!(m.first_close_at, None);
    assert_eq!(m.first_admin_reply_at, at(50));
    assert_eq!(m.time_to_admin_reply.plain, Some(10));
}

// ---- Section 4: legacy fields ----------------------------------------------

#[test]
fn last_assignment_admin_reply_at_is_the_last_assignment_before_far() {
    let m = metrics_for_parts(vec![
        bare("1", "assignment", 10, "bot"),
        bare("2", "assignment", 20, "admin"),
        part("3", "comment", 30, "admin"),
        bare("4", "assignment", 40, "admin"),
    ]);
    assert_eq!(m.first_admin_reply_at, at(30));
    assert_eq!(m.last_assignment_admin_reply_at, at(20));
    assert_eq!(m.last_assignment_at, at(40));
    assert_eq!(m.time_to_assignment.plain, Some(20));
}

#[test]
fn last_assignment_admin_reply_at_is_null_without_far() {
    let m = metrics_for_parts(vec![bare("1", "assignment", 10, "admin")]);
    assert_eq!(m.first_admin_reply_at, None);
    assert_eq!(m.last_assignment_at, at(10));
    assert_eq!(m.last_assignment_admin_reply_at, None);
    assert_eq!(m.time_to_assignment.plain, None);
}

#[test]
fn last_contact_reply_at_counts_any_time() {
    let m = metrics_for_parts(vec![part("1", "comment", 99, "lead")]);
    assert_eq!(m.last_contact_reply_at, at(99));
}

#[test]
fn last_closed_by_id_is_the_author_of_the_last_close() {
    let mut c = bare("2", "close", 20, "admin");
    c["author"]["id"] = json!(991267645);
    let m = metrics_for_parts(vec![bare("1", "close", 10, "bot"), c]);
    assert_eq!(m.last_closed_by_id.as_deref(), Some("991267645"));
}

#[test]
fn count_conversation_parts_counts_every_part_but_not_the_initial_message() {
    let m = metrics_for_parts(vec![
        bare("1", "note", 10, "admin"),
        bare("2", "mystery", 20, "whoever"),
        bare("3", "close", 30, "bot"),
    ]);
    assert_eq!(m.count_conversation_parts, 3);
}

#[test]
fn durations_run_from_fcr() {
    let m = metrics_for_parts(vec![
        part("1", "comment", 100, "admin"),
        bare("2", "close", 250, "admin"),
        part("3", "comment", 300, "user"),
        bare("4", "close", 900, "admin"),
    ]);
    assert_eq!(m.time_to_admin_reply.plain, Some(100));
    assert_eq!(m.time_to_first_close.plain, Some(250));
    assert_eq!(m.time_to_last_close.plain, Some(900));
    // With 24/7 office hours every _ooo equals its plain value.
    assert_eq!(m.time_to_admin_reply.ooo, Some(100));
    assert_eq!(m.time_to_last_close.ooo, Some(900));
}

#[test]
fn a_reply_time_needs_the_previous_visible_element_to_be_a_customer_s() {
    let m = metrics_for_parts(vec![
        part("1", "comment", 60, "admin"), // previous visible: initial message (customer) → 60
        part("2", "comment", 120, "admin"), // previous visible: admin → none
        part("3", "comment", 200, "user"),
        bare("4", "note", 230, "admin"),    // invisible: skipped
        part("5", "comment", 260, "admin"), // previous visible: part 3 → 60
        part("6", "comment", 300, "user"),
        part("7", "comment", 310, "bot"), // visible bot message in between
        part("8", "comment", 400, "admin"), // previous visible: bot → none
    ]);
    assert_eq!(m.reply_times, vec![60, 60]);
    assert_eq!(m.reply_times_ooo, vec![60, 60]);
}

#[test]
fn the_initial_message_counts_as_a_customer_s_visible_element_for_reply_times() {
    let m = metrics_for_parts(vec![part("1", "comment", 42, "admin")]);
    assert_eq!(m.reply_times, vec![42]);
}

#[test]
fn reply_times_are_empty_not_null_when_there_are_none() {
    let m = metrics_for_parts(vec![]);
    assert!(m.reply_times.is_empty());
    assert_eq!(m.median_time_to_reply, None);
    assert_eq!(m.median_time_to_reply_ooo, None);
}

#[test]
fn median_of_an_odd_count_is_the_middle_value() {
    assert_eq!(convstats::metrics::median(&[30, 10, 20]), Some(20));
}

#[test]
fn median_of_an_even_count_is_the_mean_of_the_middle_two_rounded_down() {
    assert_eq!(convstats::metrics::median(&[10, 21]), Some(15));
    assert_eq!(convstats::metrics::median(&[1, 2, 3, 4]), Some(2));
    let m = metrics_for_parts(vec![
        part("1", "comment", 11, "admin"),
        part("2", "comment", 20, "user"),
        part("3", "comment", 40, "admin"),
    ]);
    assert_eq!(m.reply_times, vec![11, 20]);
    assert_eq!(m.median_time_to_reply, Some(15));
}

// ---- Section 5: new pipeline ---------------------------------------------

#[test]
fn new_pipeline_fields_mirror_the_legacy_anchors() {
    let m = metrics_for_parts(vec![
        part("1", "comment", 100, "admin"),
        bare("2", "close", 200, "admin"),
    ]);
    assert_eq!(m.first_contact_reply_at, at(0)); // started_at
    assert_eq!(m.first_admin_reply_at, at(100)); // first_response_at
    assert_eq!(m.time_to_admin_reply.plain, Some(100)); // first_response_time
    assert_eq!(m.last_closed_by_human_at, at(200));
}

// ---- Section 6: fields on every document -----------------------------------

#[test]
fn message_created_at_is_source_created_at_else_conversation_created_at() {
    let mut c = outbound(vec![]);
    c["source"]["created_at"] = json!(T0 - 86_400);
    let m = metrics_of(&[c]);
    assert_eq!(m.message_created_at, Some(T0 - 86_400));
    assert_eq!(m.conversation_created_at, at(0));
    assert_eq!(metrics_of(&[outbound(vec![])]).message_created_at, at(0));
}

#[test]
fn updated_at_is_the_latest_of_created_at_element_times_part_updates_and_record_updates() {
    let mut p = part("1", "comment", 50, "admin");
    p["updated_at"] = json!(T0 + 500);
    let mut c = conversation(vec![p, part("2", "comment", 700, "user")]);
    c["updated_at"] = json!(T0 + 600);
    assert_eq!(metrics_of(&[c.clone()]).updated_at, at(700));
    c["updated_at"] = json!(T0 + 900);
    assert_eq!(metrics_of(&[c]).updated_at, at(900));
    let mut p = part("1", "comment", 50, "admin");
    p["updated_at"] = json!(T0 + 5000);
    assert_eq!(metrics_for_parts(vec![p]).updated_at, at(5000));
}
