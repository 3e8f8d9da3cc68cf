//! The shipped examples (`examples/conversations.ndjson` with
//! `examples/convstats.toml`): the documents `compute` writes equal the
//! checked-in expected documents, and the values below were derived by hand
//! from the records and the schedules (see examples/README.md).

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn run_examples(out: &Path) {
    Command::cargo_bin("convstats")
        .unwrap()
        .env_remove("CONVSTATS_OUT")
        .args([
            "compute",
            "examples/conversations.ndjson",
            "--config",
            "examples/convstats.toml",
            "--out",
        ])
        .arg(out)
        .assert()
        .success();
}

fn docs(path: &Path) -> BTreeMap<String, Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                format!(
                    "{}:{}",
                    v["workspace_id"].as_str().unwrap(),
                    v["conversation_id"].as_str().unwrap()
                ),
                v,
            )
        })
        .collect()
}

#[test]
fn compute_output_equals_the_checked_in_expected_documents() {
    let dir = tempfile::tempdir().unwrap();
    run_examples(dir.path());
    for f in [
        "conversations-new.ndjson",
        "conversations-legacy.ndjson",
        "conversations.csv",
        "rejected.ndjson",
    ] {
        let got = std::fs::read_to_string(dir.path().join(f)).unwrap();
        let want =
            std::fs::read_to_string(Path::new("tests/fixtures/examples-expected").join(f)).unwrap();
        assert_eq!(
            got, want,
            "{f} differs from tests/fixtures/examples-expected/{f}"
        );
    }
}

#[test]
fn hand_derived_values_hold() {
    let dir = tempfile::tempdir().unwrap();
    run_examples(dir.path());
    let legacy = docs(&dir.path().join("conversations-legacy.ndjson"));
    let new = docs(&dir.path().join("conversations-new.ndjson"));
    let l = |id: &str, f: &str| legacy[id][f].clone();
    let n = |id: &str, f: &str| new[id][f].clone();
    let j = |s: &str| -> Value { serde_json::from_str(s).unwrap() };

    assert_eq!(legacy.len(), 19, "20 conversations, 1016 deleted");
    assert!(!legacy.contains_key("globex:1016"));

    // 1002: Mon 22:00 → Tue 09:30 (Dublin = UTC in early March): 11.5 h
    // plain, office time only Tue 09:00-09:30.
    assert_eq!(l("acme:1002", "time_to_admin_reply"), j("41400"));
    assert_eq!(l("acme:1002", "time_to_admin_reply_ooo"), j("1800"));
    assert_eq!(n("acme:1002", "first_response_time_ooo"), j("1800"));

    // 1005: replies at +20 min and 12:00 → 14:00 across the 12:30-13:30 lunch.
    assert_eq!(l("acme:1005", "reply_times"), j("[1200, 7200]"));
    assert_eq!(l("acme:1005", "reply_times_ooo"), j("[1200, 3600]"));
    assert_eq!(l("acme:1005", "median_time_to_reply_ooo"), j("2400"));
    assert_eq!(l("acme:1005", "count_reopens"), j("1"));

    // 1006: the Operator (274, configured as a bot) answers first: FAR is the
    // human at 10:20; the Operator's assignment at 10:01 precedes FAR; the
    // human's reply follows the Operator's visible message: no reply time.
    assert_eq!(
        l("acme:1006", "first_admin_reply_at"),
        j("\"2026-03-04T10:20:00Z\"")
    );
    assert_eq!(
        l("acme:1006", "last_assignment_admin_reply_at"),
        j("\"2026-03-04T10:01:00Z\"")
    );
    assert_eq!(l("acme:1006", "time_to_assignment"), j("60"));
    assert_eq!(l("acme:1006", "reply_times"), j("[]"));

    // 1007: the AI agent's answer is a bot's: no admin reply; a human closes.
    assert_eq!(l("acme:1007", "first_admin_reply_at"), Value::Null);
    assert_eq!(
        n("acme:1007", "last_closed_by_human_at"),
        j("\"2026-03-04T12:05:00Z\"")
    );

    // 1008: "9" (customer) before "10" (admin) at the same second.
    assert_eq!(
        l("acme:1008", "first_contact_reply_at"),
        j("\"2026-03-05T10:05:00Z\"")
    );
    assert_eq!(l("acme:1008", "time_to_admin_reply"), j("0"));

    // 1011: Fri 16:50 → Mon 09:05: 10 min on Friday, 5 on Monday.
    assert_eq!(l("acme:1011", "time_to_admin_reply"), j("231300"));
    assert_eq!(l("acme:1011", "time_to_admin_reply_ooo"), j("900"));

    // 1012: the customer's closing message is the last close, not a reopen.
    assert_eq!(l("acme:1012", "last_closed_by_id"), j("\"u-100\""));
    assert_eq!(l("acme:1012", "count_reopens"), j("0"));

    // 1013: FCR is attribute_collected Mon 16 09:02; FAR Wed 18 09:03;
    // Tue 17 is a holiday. Office: Mon 09:02-12:30 (12480) + 13:30-17:30
    // (14400) + Wed 09:00-09:03 (180) = 27060; the reply from Mon 09:03:
    // 12420 + 14400 + 180 = 27000.
    assert_eq!(l("acme:1013", "message_type"), j("\"BotMessage\""));
    assert_eq!(l("acme:1013", "time_to_admin_reply"), j("172860"));
    assert_eq!(l("acme:1013", "time_to_admin_reply_ooo"), j("27060"));
    assert_eq!(l("acme:1013", "reply_times_ooo"), j("[27000]"));

    // 1004: outbound sent Friday (source.created_at), conversation Monday.
    assert_eq!(
        l("acme:1004", "message_created_at"),
        j("\"2026-03-06T16:00:00Z\"")
    );
    assert_eq!(
        l("acme:1004", "conversation_created_at"),
        j("\"2026-03-09T08:00:00Z\"")
    );
    assert_eq!(l("acme:1004", "inbound"), j("false"));

    // 1014: the stale comment version of part 33 loses to the note.
    assert_eq!(
        l("acme:1014", "first_admin_reply_at"),
        j("\"2026-03-11T15:20:00Z\"")
    );
    assert_eq!(l("acme:1014", "count_conversation_parts"), j("2"));

    // 1015 (New York, DST from Sun 8 March): Fri 17:00 EST → Mon 09:30 EDT.
    // Office: Fri 17:00-18:00 (3600) + Sat 10:00-14:00 (14400) + Mon
    // 08:00-09:30 (5400) = 23400. Merged from three webhook deliveries.
    assert_eq!(l("globex:1015", "time_to_admin_reply"), j("228600"));
    assert_eq!(l("globex:1015", "time_to_admin_reply_ooo"), j("23400"));
    assert_eq!(l("globex:1015", "state"), j("\"closed\""));
    assert_eq!(l("globex:1015", "count_conversation_parts"), j("2"));

    // 1017: AutoMessage by extension: the customer's initial message is not a
    // contact reply, yet the admin's answer to it is a reply time.
    assert_eq!(l("globex:1017", "first_contact_reply_at"), Value::Null);
    assert_eq!(l("globex:1017", "reply_times"), j("[1800]"));

    // 1018: Sat 11:00 EST → Mon 09:00 EDT: Sat 11:00-14:00 + Mon 08:00-09:00.
    assert_eq!(l("globex:1018", "time_to_admin_reply_ooo"), j("14400"));
    assert_eq!(l("globex:1018", "count_reopens"), j("2"));
    assert_eq!(l("globex:1018", "last_closed_by_id"), j("\"g-2\""));

    // 1019: parts only, default workspace (24/7): _ooo equals plain.
    assert_eq!(l("default:1019", "message_type"), Value::Null);
    assert_eq!(l("default:1019", "conversation_created_at"), Value::Null);
    assert_eq!(l("default:1019", "time_to_admin_reply_ooo"), j("1800"));

    // 1020: the unknown part type with a body is the first admin reply; the
    // bodiless quick_reply still counts.
    assert_eq!(l("default:1020", "reply_times"), j("[15300, 300]"));
    assert_eq!(l("default:1020", "median_time_to_reply"), j("7800"));
    assert_eq!(l("default:1020", "count_assignments"), j("1"));
}

#[test]
fn the_readmes_configuration_reference_is_a_valid_configuration() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("#### Configuration reference")
        .nth(1)
        .expect("README has a configuration reference");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a toml block");
    let settings = convstats::config::parse(toml).unwrap_or_else(|e| panic!("{:?}", e.0));
    // Its schedules are the ones it names, and the fallback is used.
    assert_eq!(settings.office_hours.distinct_schedules(), 2);
}
