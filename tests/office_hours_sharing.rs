//! Start-up with many office-hours schedules (office-hours.md; issue: start-up
//! cost 2.5-4.6 ms per schedule). `config::parse` compiles every
//! `[office_hours.NAME]` with one `office_hours::Compiler`: each zone is
//! scanned once and identical definitions share one compiled schedule. These
//! tests check the behaviour (what is shared, and that no answer changes);
//! how long it takes is measured by `cargo bench --bench office_hours` and
//! `examples/oh_startup.rs`, never asserted here.

use std::fmt::Write as _;

use convstats::config;
use convstats::office_hours::{Compiler, Schedule, compile};

/// Unix seconds of an RFC 3339 UTC instant.
fn utc(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad instant {s}: {e}"))
        .timestamp()
}

fn settings(text: &str) -> config::Settings {
    config::parse(text).unwrap_or_else(|e| panic!("config rejected:\n{e}\n{text}"))
}

/// One schedule written three ways (keys, holidays and intervals in another
/// order, a duplicate holiday, a bare TOML date), and a fourth that differs
/// by one minute.
const SAME_THREE_WAYS_AND_ONE_OTHER: &str = r#"
[workspaces.wa]
office_hours = "a"
[workspaces.wb]
office_hours = "b"
[workspaces.wc]
office_hours = "c"
[workspaces.wd]
office_hours = "d"

[office_hours.a]
timezone = "Europe/Dublin"
monday = ["09:00-12:30", "13:30-17:30"]
friday = ["09:00-17:00"]
holidays = ["2026-12-25", "2026-12-26"]

[office_hours.b]
holidays = ["2026-12-26", "2026-12-25", "2026-12-26"]
friday = ["09:00-17:00"]
monday = ["13:30-17:30", "09:00-12:30"]
timezone = "Europe/Dublin"

[office_hours.c]
timezone = "Europe/Dublin"
monday = ["09:00-12:30", "13:30-17:30"]
friday = ["09:00-17:00"]
holidays = [2026-12-25, "2026-12-26"]

[office_hours.d]
timezone = "Europe/Dublin"
monday = ["09:00-12:30", "13:30-17:30"]
friday = ["09:00-17:01"]
holidays = ["2026-12-25", "2026-12-26"]
"#;

#[test]
fn identical_schedule_definitions_share_one_compiled_schedule() {
    let s = settings(SAME_THREE_WAYS_AND_ONE_OTHER);
    let oh = &s.office_hours;
    let (a, b, c, d) = (
        oh.schedule_for("wa"),
        oh.schedule_for("wb"),
        oh.schedule_for("wc"),
        oh.schedule_for("wd"),
    );
    assert!(a.shares_compiled(b), "a and b are the same schedule");
    assert!(a.shares_compiled(c), "a and c are the same schedule");
    assert!(!a.shares_compiled(d), "d opens a minute longer on Fridays");
    assert_eq!(s.schedules.len(), 4, "every name is still configured");
    assert_eq!(oh.distinct_schedules(), 2);
}

#[test]
fn a_shared_schedule_is_described_under_each_name() {
    let s = settings(SAME_THREE_WAYS_AND_ONE_OTHER);
    for (name, schedule) in &s.schedules {
        let d = schedule.describe();
        assert!(
            d.starts_with(&format!("office_hours.{name}: zone Europe/Dublin")),
            "{name}: {d}"
        );
    }
}

#[test]
fn a_shared_schedule_answers_as_each_definition_compiled_alone() {
    let s = settings(SAME_THREE_WAYS_AND_ONE_OTHER);
    let table: toml::Table = SAME_THREE_WAYS_AND_ONE_OTHER.parse().expect("TOML");
    let span = (utc("2026-12-20T00:00:00Z"), utc("2027-01-10T00:00:00Z"));
    for name in ["a", "b", "c", "d"] {
        let alone = compile(name, &table["office_hours"][name]).expect("compiles");
        let shared = s.office_hours.schedule_for(&format!("w{name}"));
        assert_eq!(
            shared.office_seconds(span.0, span.1),
            alone.office_seconds(span.0, span.1),
            "{name}"
        );
    }
}

#[test]
fn workspaces_naming_one_schedule_share_it() {
    let s = settings(
        r#"
[workspaces.default]
office_hours = "emea"
[workspaces.acme]
office_hours = "emea"
[workspaces.globex]
[office_hours.emea]
timezone = "Europe/Dublin"
monday = ["09:00-17:00"]
"#,
    );
    let oh = &s.office_hours;
    assert!(
        oh.schedule_for("acme")
            .shares_compiled(oh.schedule_for("default"))
    );
    assert!(
        oh.schedule_for("globex")
            .shares_compiled(oh.schedule_for("acme"))
    );
    assert!(
        oh.schedule_for("unknown")
            .shares_compiled(oh.schedule_for("acme"))
    );
    assert_eq!(oh.distinct_schedules(), 1);
}

#[test]
fn the_24_7_schedule_shares_nothing() {
    let s = settings("");
    let always = s.office_hours.schedule_for("any");
    assert!(!always.shares_compiled(&Schedule::always_open()));
    assert_eq!(s.office_hours.distinct_schedules(), 0);
}

#[test]
fn a_compiler_reports_errors_under_each_name_even_for_a_known_definition() {
    let good: toml::Value =
        toml::from_str("timezone = \"UTC\"\nmonday = [\"09:00-17:00\"]").expect("TOML");
    let bad: toml::Value =
        toml::from_str("timezone = \"UTC\"\nmonday = [\"09:00-17:60\"]").expect("TOML");
    let mut compiler = Compiler::new();
    let first = compiler.compile("first", &good).expect("compiles");
    let second = compiler.compile("second", &good).expect("compiles");
    assert!(first.shares_compiled(&second));
    let errs = compiler.compile("third", &bad).expect_err("rejected");
    assert!(
        errs.iter()
            .any(|e| e.starts_with("office_hours.third.monday[0]")),
        "{errs:?}"
    );
    assert_eq!(compiler.distinct(), 1);
}

// ------------------------------------------- many distinct schedules

const ZONES: [&str; 8] = [
    "UTC",
    "Europe/Dublin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Antarctica/Troll",
    "Pacific/Apia",
    "America/Santiago",
    "Asia/Kathmandu",
];

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Schedule `i`: distinct hours for every `i`, an overnight Sunday shift
/// that meets the zones' DST changes, holidays on DST dates, an override and
/// (for odd `i`) a version from 2026.
fn schedule_text(i: u32) -> String {
    let zone = ZONES[i as usize % ZONES.len()];
    let open = 6 * 60 + i % 180;
    let close = 15 * 60 + (i / 180) % 180;
    let week = format!("[\"{}-{}\"]", hhmm(open), hhmm(close));
    let mut s = format!(
        "timezone = \"{zone}\"\nmonday = {week}\ntuesday = {week}\nwednesday = {week}\n\
         thursday = {week}\nfriday = {week}\nsunday = [\"22:00-03:30\"]\n\
         holidays = [\"2024-03-31\", \"2024-10-27\", \"2024-11-03\", \"2024-04-07\", \"2024-12-25\"]\n\
         overrides = {{ \"2024-12-24\" = [\"09:00-13:00\"] }}\n"
    );
    if i % 2 == 1 {
        s.push_str(
            "versions = [{ effective_from = \"2026-01-05\", monday = [\"08:00-16:00\"], \
             saturday = [\"00:00-00:00\"] }]\n",
        );
    }
    s
}

#[test]
fn many_distinct_schedules_answer_as_each_compiled_alone() {
    const N: u32 = 400;
    let mut text = String::new();
    for i in 0..N {
        let _ = write!(
            text,
            "[workspaces.ws{i}]\noffice_hours = \"s{i}\"\n[office_hours.s{i}]\n{}\n",
            schedule_text(i)
        );
    }
    let s = settings(&text);
    assert_eq!(s.office_hours.distinct_schedules(), N as usize);
    let spans = [
        ("2024-03-30T00:00:00Z", "2024-04-01T00:00:00Z"),
        ("2024-10-26T12:00:00Z", "2024-11-04T12:00:00Z"),
        ("2011-12-29T00:00:00Z", "2012-01-02T00:00:00Z"),
        ("2025-12-20T00:00:00Z", "2026-01-20T00:00:00Z"),
        ("2019-01-01T00:00:00Z", "2029-01-01T00:00:00Z"),
        ("1970-01-01T00:00:00Z", "2200-01-01T00:00:00Z"),
    ];
    // Spot checks: every 7th schedule (all zones, both with and without a
    // version) against the same table compiled on its own.
    for i in (0..N).step_by(7) {
        let table: toml::Value = toml::from_str(&schedule_text(i)).expect("TOML");
        let alone = compile(&format!("s{i}"), &table).expect("compiles");
        let shared = s.office_hours.schedule_for(&format!("ws{i}"));
        assert_eq!(shared.describe(), alone.describe(), "s{i}");
        for (a, b) in spans {
            let (a, b) = (utc(a), utc(b));
            assert_eq!(
                shared.office_seconds(a, b),
                alone.office_seconds(a, b),
                "s{i} {a}..{b}"
            );
        }
    }
}
