//! Bad input (input.md "Bad input"): each invalid form rejects its whole
//! line with a reason a person understands; nothing panics.

use convstats::record::{Record, parse_line};
use proptest::prelude::*;

fn reason(line: &str) -> String {
    match parse_line(line.as_bytes()) {
        Err(r) => r,
        Ok(r) => panic!("accepted {line}: {r:?}"),
    }
}

const CONV: &str = r#""type":"conversation","id":"1""#;

#[test]
fn a_bad_timestamp_string_is_rejected_with_its_field() {
    for bad in [
        "\"2026-03-08T09:15:00\"",
        "\"2026-03-08T09:15:60Z\"",
        "\"1772961300\"",
        "\"yesterday\"",
        "\"2026-02-30T00:00:00Z\"",
    ] {
        let r = reason(&format!("{{{CONV},\"created_at\":{bad}}}"));
        assert!(r.starts_with("created_at: bad timestamp"), "{bad}: {r}");
    }
}

#[test]
fn out_of_range_and_float_timestamps_are_rejected() {
    for bad in [
        "-1",
        "253402300800",
        "1e3",
        "1700000000.5",
        "99999999999999999999",
    ] {
        let r = reason(&format!("{{{CONV},\"created_at\":{bad}}}"));
        assert!(r.contains("created_at"), "{bad}: {r}");
    }
    let r = reason(&format!("{{{CONV},\"created_at\":1,\"updated_at\":-5}}"));
    assert!(r.starts_with("updated_at:"), "{r}");
}

#[test]
fn a_bad_timestamp_in_an_optional_field_rejects_the_line() {
    let r = reason(&format!(
        "{{{CONV},\"created_at\":1,\"source\":{{\"created_at\":\"soon\"}}}}"
    ));
    assert!(r.starts_with("source.created_at"), "{r}");
}

#[test]
fn float_ids_are_rejected() {
    let r = reason(r#"{"type":"conversation","id":1.5,"created_at":1}"#);
    assert!(r.starts_with("id:") && r.contains("never floats"), "{r}");
    let r = reason(r#"{"type":"conversation","id":1,"created_at":1,"admin_assignee_id":2.0}"#);
    assert!(r.starts_with("admin_assignee_id:"), "{r}");
    let r = reason(r#"{"type":"conversation","id":true,"created_at":1}"#);
    assert!(r.starts_with("id:"), "{r}");
}

#[test]
fn a_bad_embedded_part_rejects_the_whole_line_and_names_the_part() {
    let r = reason(
        r#"{"type":"conversation","id":1,"created_at":1,"conversation_parts":{"conversation_parts":[
        {"id":1,"part_type":"comment","created_at":2,"author":{"type":"user"}},
        {"id":2,"part_type":"comment","created_at":2.5,"author":{"type":"user"}}]}}"#
            .replace('\n', "")
            .as_str(),
    );
    assert!(
        r.starts_with("conversation_parts.conversation_parts[1].created_at"),
        "{r}"
    );
    let r = reason(
        r#"{"type":"conversation","id":1,"created_at":1,"conversation_parts":{"conversation_parts":[{"id":1,"part_type":"comment","created_at":2,"author":{"id":"5"}}]}}"#,
    );
    assert_eq!(
        r,
        "conversation_parts.conversation_parts[0]: missing required field `author.type`"
    );
}

#[test]
fn a_workspace_id_containing_a_colon_is_rejected() {
    let r = reason(r#"{"type":"conversation","id":1,"created_at":1,"workspace_id":"a:b"}"#);
    assert!(r.contains("workspace_id \"a:b\" contains ':'"), "{r}");
    let r = reason(r#"{"type":"conversation","id":1,"created_at":1,"app_id":"x:y"}"#);
    assert!(r.contains("app_id"), "{r}");
}

#[test]
fn missing_required_fields_are_named() {
    let cases = [
        (
            r#"{"id":1,"created_at":1}"#,
            "missing required field `type`",
        ),
        (
            r#"{"type":"conversation","created_at":1}"#,
            "missing required field `id`",
        ),
        (
            r#"{"type":"conversation","id":1}"#,
            "missing required field `created_at`",
        ),
        (
            r#"{"type":"conversation","id":1,"created_at":null}"#,
            "missing required field `created_at`",
        ),
        (
            r#"{"type":"conversation_part","id":1,"part_type":"note","created_at":1,"author":{"type":"admin"}}"#,
            "missing required field `conversation_id`",
        ),
        (
            r#"{"type":"conversation_part","conversation_id":1,"part_type":"note","created_at":1,"author":{"type":"admin"}}"#,
            "missing required field `id`",
        ),
        (
            r#"{"type":"conversation_part","conversation_id":1,"id":1,"created_at":1,"author":{"type":"admin"}}"#,
            "missing required field `part_type`",
        ),
        (
            r#"{"type":"conversation_part","conversation_id":1,"id":1,"part_type":"note","author":{"type":"admin"}}"#,
            "missing required field `created_at`",
        ),
        (
            r#"{"type":"conversation_part","conversation_id":1,"id":1,"part_type":"note","created_at":1}"#,
            "missing required field `author.type`",
        ),
        (
            r#"{"type":"notification_event","data":{}}"#,
            "missing required field `topic`",
        ),
        (
            r#"{"type":"notification_event","topic":"conversation.user.created","data":{}}"#,
            "missing required field `data.item`",
        ),
        (
            r#"{"type":"notification_event","topic":"conversation.user.created","data":{"item":{"id":1}}}"#,
            "data.item.missing required field `created_at`",
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(reason(line), expected, "{line}");
    }
}

#[test]
fn a_deleted_notification_needs_only_the_item_id() {
    let r = parse_line(br#"{"type":"notification_event","topic":"conversation.deleted","data":{"item":{"id":"5"}}}"#);
    assert!(matches!(r, Ok(Some(Record::Deleted(_)))), "{r:?}");
    let r = reason(
        r#"{"type":"notification_event","topic":"conversation.deleted","data":{"item":{}}}"#,
    );
    assert_eq!(r, "data.item.missing required field `id`");
}

#[test]
fn unknown_types_and_non_objects_are_rejected() {
    assert!(reason(r#"{"type":"ticket","id":1}"#).starts_with("unknown record type \"ticket\""));
    assert_eq!(reason("[1,2]"), "not a JSON object");
    assert_eq!(reason("42"), "not a JSON object");
    assert!(reason(r#"{"type":"conversation""#).contains("EOF"));
    assert!(
        reason(r#"{"type":"conversation","id":1,"created_at":1} trailing"#).contains("trailing")
    );
    assert!(reason(r#"{"type":5}"#).starts_with("type:"));
}

#[test]
fn a_non_string_state_is_rejected() {
    assert!(
        reason(r#"{"type":"conversation","id":1,"created_at":1,"state":5}"#).starts_with("state:")
    );
}

#[test]
fn blank_lines_are_skipped() {
    for blank in ["", "   ", "\r", "\t \r"] {
        assert_eq!(parse_line(blank.as_bytes()), Ok(None), "{blank:?}");
    }
}

#[test]
fn crlf_and_a_byte_order_mark_are_removed() {
    let line = "\u{feff}{\"type\":\"conversation\",\"id\":1,\"created_at\":1}\r";
    assert!(matches!(
        parse_line(line.as_bytes()),
        Ok(Some(Record::Conversation(_)))
    ));
}

#[test]
fn invalid_utf8_is_rejected_not_panicked_on() {
    let mut line = br#"{"type":"conversation","id":"x"#.to_vec();
    line.extend([0xff, 0xfe]);
    line.extend(br#"","created_at":1}"#);
    assert!(parse_line(&line).is_err());
}

#[test]
fn a_line_over_16_mib_is_rejected_without_being_parsed() {
    let line = vec![b' '; 16 * 1024 * 1024 + 1];
    let r = parse_line(&line).unwrap_err();
    assert!(r.contains("over the 16 MiB limit"), "{r}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse_line(&bytes);
    }

    #[test]
    fn mutated_records_never_panic(cut in 0usize..400, byte in any::<u8>()) {
        let good = br#"{"type":"conversation","id":7,"created_at":"2026-03-08T09:15:00Z","source":{"author":{"type":"user","id":1},"created_at":5},"conversation_parts":{"conversation_parts":[{"id":1,"part_type":"comment","created_at":9,"author":{"type":"admin","id":"2"},"body":"hi"}]}}"#;
        let mut line = good.to_vec();
        let i = cut % line.len();
        line[i] = byte;
        let _ = parse_line(&line);
        line.truncate(i);
        let _ = parse_line(&line);
    }
}

#[test]
fn a_reason_quotes_a_long_bad_value_only_in_part() {
    let long_float = format!("1.{}", "0".repeat(100_000));
    let long_text = "x".repeat(100_000);
    let long_int = "9".repeat(100_000);
    let ws = format!("{}:x", "w".repeat(10_000));
    for line in [
        format!(r#"{{"type":"conversation","id":{long_float},"created_at":1}}"#),
        format!(r#"{{"type":"conversation","id":1,"created_at":{long_float}}}"#),
        format!(r#"{{"type":"conversation","id":1,"created_at":{long_int}}}"#),
        format!(r#"{{"type":"conversation","id":{long_int},"created_at":1}}"#),
        format!(r#"{{"type":"conversation","id":1,"created_at":"{long_text}"}}"#),
        format!(r#"{{"type":"{long_text}","id":1,"created_at":1}}"#),
        format!(r#"{{"type":"conversation","id":1,"created_at":1,"state":["{long_text}"]}}"#),
        // values of the wrong type, and a workspace id with ':'
        format!(r#"{{"type":"conversation","id":1,"created_at":1,"source":{long_int}}}"#),
        format!(r#"{{"type":{long_int}.5}}"#),
        format!(
            r#"{{"type":"conversation","id":1,"created_at":1,"conversation_parts":{{"conversation_parts":-{long_int}}}}}"#
        ),
        format!(r#"{{"type":"conversation","id":1,"created_at":1,"workspace_id":"{ws}"}}"#),
    ] {
        let r = reason(&line);
        let start: String = r.chars().take(300).collect();
        assert!(r.len() < 300, "{} bytes: {start}", r.len());
    }
}

#[test]
fn a_reason_is_one_line_whatever_the_value_holds() {
    for line in [
        r#"{"type":"a\nb"}"#,
        r#"{"type":"conversation","id":1,"created_at":1,"source":"x\ny"}"#,
        r#"{"type":"conversation","id":1,"created_at":"x\ny\r\"z"}"#,
        r#"{"type":"conversation","id":1,"created_at":1,"workspace_id":"a\nb:"}"#,
    ] {
        let r = reason(line);
        assert!(!r.chars().any(char::is_control), "{r:?}");
    }
}

#[test]
fn a_long_list_of_invalid_parts_is_rejected_without_being_kept() {
    // 2 MB of empty part objects: rejected for the first one.
    let parts = vec!["{}"; 1_000_000].join(",");
    let line = format!(
        r#"{{"type":"conversation","id":1,"created_at":1,"conversation_parts":{{"conversation_parts":[{parts}]}}}}"#
    );
    assert_eq!(
        reason(&line),
        "conversation_parts.conversation_parts[0]: missing required field `id`"
    );
}

#[test]
fn a_syntax_error_after_an_invalid_part_is_still_found() {
    let r = reason(
        r#"{"type":"conversation","id":1,"created_at":1,"conversation_parts":{"conversation_parts":[{},{"x":tru}]}}"#,
    );
    assert!(r.contains("expected value"), "{r}");
}

#[test]
fn a_line_of_only_a_form_feed_is_not_blank() {
    assert!(parse_line(b"\x0c").is_err());
}
