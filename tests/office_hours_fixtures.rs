//! Named fixtures for office hours (office-hours.md, issue 3). Every expected
//! value is derived by hand in the comment above it from the zone rules and
//! the configured intervals, not copied from the implementation.

use convstats::office_hours::{Schedule, compile};

/// Unix seconds of an RFC 3339 UTC instant.
fn utc(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("bad fixture instant {s}: {e}"))
        .timestamp()
}

fn schedule(toml_text: &str) -> Schedule {
    let v: toml::Value = toml::from_str(toml_text).expect("fixture TOML");
    match compile("t", &v) {
        Ok(s) => s,
        Err(errs) => panic!("fixture does not compile:\n{}", errs.join("\n")),
    }
}

fn errors(toml_text: &str) -> Vec<String> {
    let v: toml::Value = toml::from_str(toml_text).expect("fixture TOML");
    match compile("emea", &v) {
        Ok(_) => panic!("expected errors for:\n{toml_text}"),
        Err(errs) => errs,
    }
}

const H: i64 = 3600;
const M: i64 = 60;

// ---------------------------------------------------------------- Dublin

/// Europe/Dublin 2024-03-31 (a Sunday): at 01:00 GMT (01:00Z) clocks jump to
/// 02:00 IST, so local 01:00-02:00 never happens.
#[test]
fn dublin_2024_03_31_skipped_hour() {
    let span = (utc("2024-03-30T12:00:00Z"), utc("2024-03-31T12:00:00Z"));
    // Open only in the skipped hour: nothing is ever open.
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        sunday = ["01:00-02:00"]"#,
    );
    assert_eq!(s.office_seconds(span.0, span.1), 0);
    // 00:30-02:30: 00:30-01:00 GMT (00:30Z-01:00Z) then 02:00-02:30 IST
    // (01:00Z-01:30Z): 30 + 30 minutes.
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        sunday = ["00:30-02:30"]"#,
    );
    assert_eq!(s.office_seconds(span.0, span.1), H);
    // The two halves are adjacent in real time: [00:30Z, 01:30Z) is all open.
    assert_eq!(
        s.office_seconds(utc("2024-03-31T00:30:00Z"), utc("2024-03-31T01:30:00Z")),
        H
    );
    // Whole local day open: 2024-03-31 00:00 GMT = 00:00Z to 2024-04-01 00:00
    // IST = 2024-03-31T23:00Z, a 23-hour day.
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        sunday = ["00:00-24:00"]"#,
    );
    assert_eq!(s.office_seconds(span.0 - DAY, span.1 + DAY), 23 * H);
}

const DAY: i64 = 24 * H;

/// Europe/Dublin 2024-10-27 (a Sunday): at 02:00 IST (01:00Z) clocks go back
/// to 01:00 GMT, so local 01:00-02:00 happens twice (00:00Z-01:00Z and
/// 01:00Z-02:00Z).
#[test]
fn dublin_2024_10_27_repeated_hour() {
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        sunday = ["01:00-02:00"]"#,
    );
    let day = (utc("2024-10-26T12:00:00Z"), utc("2024-10-27T12:00:00Z"));
    // Both occurrences count: 2 h.
    assert_eq!(s.office_seconds(day.0, day.1), 2 * H);
    // Only the first occurrence (IST) lies in [23:30Z Sat, 01:00Z).
    assert_eq!(
        s.office_seconds(utc("2024-10-26T23:30:00Z"), utc("2024-10-27T01:00:00Z")),
        H
    );
    // Straddling the change: 00:30Z-01:30Z = IST 01:30-02:00 + GMT 01:00-01:30.
    assert_eq!(
        s.office_seconds(utc("2024-10-27T00:30:00Z"), utc("2024-10-27T01:30:00Z")),
        H
    );
    // The whole local day, 00:00 IST (Sat 23:00Z) to Mon 00:00 GMT (00:00Z), is 25 h.
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        sunday = ["00:00-00:00"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2024-10-26T00:00:00Z"), utc("2024-10-29T00:00:00Z")),
        25 * H
    );
}

// -------------------------------------------------------------- New York

/// America/New_York 2026-03-08 (Sunday): 02:00 EST (07:00Z) jumps to 03:00 EDT.
/// An interval 02:30-04:00 loses its skipped half hour: only 03:00-04:00 EDT
/// (07:00Z-08:00Z) is open.
#[test]
fn new_york_2026_03_08_0230_0400() {
    let s = schedule(
        r#"timezone = "America/New_York"
        sunday = ["02:30-04:00"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2026-03-08T00:00:00Z"), utc("2026-03-09T00:00:00Z")),
        H
    );
    assert_eq!(
        s.office_seconds(utc("2026-03-08T07:00:00Z"), utc("2026-03-08T08:00:00Z")),
        H
    );
    // 06:59Z is 01:59 EST: closed. 07:30Z is 03:30 EDT: the first 30 min are open.
    assert_eq!(
        s.office_seconds(utc("2026-03-08T06:59:00Z"), utc("2026-03-08T07:30:00Z")),
        30 * M
    );
    // A 24/7 schedule over the local span "02:30-04:00" (which starts in the
    // gap, so from 07:00Z) counts the plain 1 h.
    let all = schedule(
        r#"timezone = "America/New_York"
        sunday = ["00:00-00:00"]"#,
    );
    assert_eq!(
        all.office_seconds(utc("2026-03-08T07:00:00Z"), utc("2026-03-08T08:00:00Z")),
        H
    );
}

/// America/New_York 2026-11-01 (Sunday): 02:00 EDT (06:00Z) goes back to 01:00
/// EST. The interval 01:30-03:00 is open 01:30-02:00 EDT (05:30Z-06:00Z),
/// 01:30-02:00 EST (06:30Z-07:00Z) and 02:00-03:00 EST (07:00Z-08:00Z): 2 h.
#[test]
fn new_york_2026_11_01_0130_0300() {
    let s = schedule(
        r#"timezone = "America/New_York"
        sunday = ["01:30-03:00"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2026-11-01T00:00:00Z"), utc("2026-11-02T00:00:00Z")),
        2 * H
    );
    // 06:00Z-06:30Z is 01:00-01:30 EST (closed), 06:30Z-06:45Z is open: 15 min.
    assert_eq!(
        s.office_seconds(utc("2026-11-01T06:00:00Z"), utc("2026-11-01T06:45:00Z")),
        15 * M
    );
    // Real span 05:30Z-08:00Z (2.5 h) minus the closed 30 min: 2 h.
    assert_eq!(
        s.office_seconds(utc("2026-11-01T05:30:00Z"), utc("2026-11-01T08:00:00Z")),
        2 * H
    );
    // Antisymmetry.
    assert_eq!(
        s.office_seconds(utc("2026-11-01T08:00:00Z"), utc("2026-11-01T05:30:00Z")),
        -2 * H
    );
}

// ----------------------------------------------------------------- Apia

/// Pacific/Apia skipped Friday 2011-12-30: at 2011-12-30T10:00Z local time
/// went from Thursday 29th 24:00 (UTC-10) to Saturday 31st 00:00 (UTC+14).
#[test]
fn apia_2011_12_30_skipped_date() {
    // Open every day 09:00-17:00. Span 2011-12-29T00:00Z (local Wed 28th 14:00,
    // -10) to 2012-01-01T00:00Z (local Sun 1st 14:00, +14):
    // 28th 14:00-17:00 = 3 h; 29th 8 h (19:00Z-03:00Z, before the change);
    // 30th never exists = 0; 31st 8 h; 1st 09:00-14:00 = 5 h. Total 24 h.
    let s = schedule(
        r#"timezone = "Pacific/Apia"
        monday = ["09:00-17:00"]
        tuesday = ["09:00-17:00"]
        wednesday = ["09:00-17:00"]
        thursday = ["09:00-17:00"]
        friday = ["09:00-17:00"]
        saturday = ["09:00-17:00"]
        sunday = ["09:00-17:00"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2011-12-29T00:00:00Z"), utc("2012-01-01T00:00:00Z")),
        24 * H
    );
    // Open only on Fridays: the week of 26 Dec 2011 has no Friday at all.
    let fri = schedule(
        r#"timezone = "Pacific/Apia"
        friday = ["00:00-24:00"]"#,
    );
    assert_eq!(
        fri.office_seconds(utc("2011-12-26T00:00:00Z"), utc("2012-01-02T00:00:00Z")),
        0
    );
    // Thursday's overnight shift 22:00-02:00 would run into Friday 30th, which
    // never exists: only Thursday 22:00-24:00 (-10: 08:00Z-10:00Z) counts.
    let night = schedule(
        r#"timezone = "Pacific/Apia"
        thursday = ["22:00-02:00"]"#,
    );
    assert_eq!(
        night.office_seconds(utc("2011-12-29T00:00:00Z"), utc("2011-12-31T00:00:00Z")),
        2 * H
    );
}

// ------------------------------------------- 30-minute and 2-hour DST

/// Australia/Lord_Howe 2024-04-07 (Sunday): at 02:00 daylight time (+11,
/// 15:00Z on the 6th) clocks go back 30 minutes to 01:30 (+10:30). Local
/// 01:30-02:00 happens twice: 14:30Z-15:00Z and 15:00Z-15:30Z.
#[test]
fn lord_howe_half_hour_fold() {
    let s = schedule(
        r#"timezone = "Australia/Lord_Howe"
        sunday = ["01:30-02:00"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2024-04-06T00:00:00Z"), utc("2024-04-07T12:00:00Z")),
        H
    );
    assert_eq!(
        s.office_seconds(utc("2024-04-06T14:30:00Z"), utc("2024-04-06T15:30:00Z")),
        H
    );
}

/// Antarctica/Troll 2024-03-31 (Sunday): at 01:00Z clocks go from +00 to +02,
/// so local 01:00-03:00 is skipped. Sunday 00:00-04:00 is open 00:00-01:00
/// (00:00Z-01:00Z) and 03:00-04:00 (01:00Z-02:00Z): 2 h.
#[test]
fn troll_two_hour_gap() {
    let s = schedule(
        r#"timezone = "Antarctica/Troll"
        sunday = ["00:00-04:00"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2024-03-30T12:00:00Z"), utc("2024-03-31T12:00:00Z")),
        2 * H
    );
    assert_eq!(
        s.office_seconds(utc("2024-03-31T00:00:00Z"), utc("2024-03-31T02:00:00Z")),
        2 * H
    );
}

// ------------------------------------------------------------- holidays

/// Friday 2026-12-25 22:00 to Saturday 06:00, Saturday 2026-12-26 a holiday:
/// the after-midnight part belongs to the holiday and closes. Dublin is on GMT
/// (= UTC) in December, so local times read as UTC: only Fri 22:00-24:00.
#[test]
fn overnight_shift_next_day_holiday() {
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        friday = ["22:00-06:00"]
        holidays = ["2026-12-26"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2026-12-25T00:00:00Z"), utc("2026-12-27T00:00:00Z")),
        2 * H
    );
    // Conversely, a holiday on the Friday closes Friday 22:00-24:00 but the
    // part after midnight, dated Saturday, stays open: 00:00-06:00 = 6 h.
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        friday = ["22:00-06:00"]
        holidays = ["2026-12-25"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2026-12-25T00:00:00Z"), utc("2026-12-27T00:00:00Z")),
        6 * H
    );
    // An override on the Saturday also replaces the after-midnight part:
    // Fri 22:00-24:00 (2 h) + the override 10:00-11:00 (1 h).
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        friday = ["22:00-06:00"]
        [overrides]
        "2026-12-26" = ["10:00-11:00"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2026-12-25T00:00:00Z"), utc("2026-12-27T00:00:00Z")),
        3 * H
    );
    // A span entirely inside the holiday: 0, not an error.
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        saturday = ["09:00-17:00"]
        holidays = ["2026-12-26"]"#,
    );
    assert_eq!(
        s.office_seconds(utc("2026-12-26T08:00:00Z"), utc("2026-12-26T18:00:00Z")),
        0
    );
}

// -------------------------------------------------------------- versions

/// A version starting Monday 2027-01-04 at local midnight. Dublin in January
/// is GMT (= UTC). Base: Sunday 22:00-02:00 and Monday 08:00-16:00; the new
/// version keeps Monday 08:00-16:00 and drops Sunday. The after-midnight part
/// of Sunday 3 Jan's shift is dated Monday 4 Jan and so follows the new
/// version, where no Sunday interval runs past midnight: closed.
/// Sun 22:00-24:00 (2 h) + Mon 08:00-16:00 (8 h) = 10 h.
#[test]
fn version_change_at_midnight() {
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        sunday = ["22:00-02:00"]
        monday = ["08:00-16:00"]
        [[versions]]
        effective_from = "2027-01-04"
        monday = ["08:00-16:00"]"#,
    );
    let (sun, tue) = (utc("2027-01-03T00:00:00Z"), utc("2027-01-05T00:00:00Z"));
    assert_eq!(s.office_seconds(sun, tue), 10 * H);
    // The week before (Sun 27 Dec 2026 - Tue 29 Dec), under the base: 2 + 2 + 8.
    assert_eq!(
        s.office_seconds(utc("2026-12-27T00:00:00Z"), utc("2026-12-29T00:00:00Z")),
        12 * H
    );
    // The converse: a version from Monday whose Sunday runs to 02:00 opens
    // Monday 00:00-02:00 although the old Sunday had no evening shift.
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        monday = ["08:00-16:00"]
        [[versions]]
        effective_from = "2027-01-04"
        sunday = ["22:00-02:00"]
        monday = ["08:00-16:00"]"#,
    );
    assert_eq!(s.office_seconds(sun, tue), 10 * H);
    assert_eq!(
        s.office_seconds(utc("2027-01-04T00:00:00Z"), utc("2027-01-04T02:00:00Z")),
        2 * H
    );
}

/// `start == end` is 24 hours from start: Monday 09:00-09:00 is open until
/// Tuesday 09:00 (UTC zone).
#[test]
fn start_equals_end_is_24_hours() {
    let s = schedule(
        r#"timezone = "UTC"
        monday = ["09:00-09:00"]"#,
    );
    // 2026-01-05 is a Monday.
    assert_eq!(
        s.office_seconds(utc("2026-01-05T00:00:00Z"), utc("2026-01-07T00:00:00Z")),
        24 * H
    );
    assert_eq!(
        s.office_seconds(utc("2026-01-06T08:00:00Z"), utc("2026-01-06T10:00:00Z")),
        H
    );
}

/// Out-of-range and extreme inputs are clamped, never panic.
#[test]
fn extreme_inputs() {
    let s = schedule(
        r#"timezone = "UTC"
        monday = ["00:00-24:00"]"#,
    );
    assert_eq!(s.office_seconds(i64::MIN, i64::MIN), 0);
    assert_eq!(s.office_seconds(i64::MAX, i64::MAX), 0);
    let whole = s.office_seconds(i64::MIN, i64::MAX);
    assert!(whole > 0);
    assert_eq!(s.office_seconds(i64::MAX, i64::MIN), -whole);
    // 9999-12-31 is a Friday; the Monday before, 9999-12-27, is open 24 h.
    assert_eq!(
        s.office_seconds(utc("9999-12-27T00:00:00Z"), i64::MAX),
        24 * H
    );
    assert_eq!(
        Schedule::always_open().office_seconds(i64::MIN, i64::MAX),
        i64::MAX
    );
}

#[test]
fn schedule_is_clone_debug_send_sync() {
    fn check<T: Clone + std::fmt::Debug + Send + Sync>() {}
    check::<Schedule>();
}

#[test]
fn describe_lists_versions_and_hours() {
    let s = schedule(
        r#"timezone = "Europe/Dublin"
        monday = ["09:00-12:30", "13:30-17:30"]
        sunday = ["22:00-02:00"]
        holidays = ["2026-12-25", "2026-12-26"]
        [overrides]
        "2026-12-24" = ["09:00-13:00"]
        [[versions]]
        effective_from = "2027-01-04"
        monday = ["08:00-16:00"]"#,
    );
    let d = s.describe();
    assert!(d.contains("Europe/Dublin"), "{d}");
    assert!(d.contains("before 2027-01-04"), "{d}");
    assert!(d.contains("from 2027-01-04"), "{d}");
    // Monday 3h30 + 4h00 = 7h30; Sunday 4h; total 11h30.
    assert!(d.contains("7h30"), "{d}");
    assert!(d.contains("11h30"), "{d}");
    assert!(d.contains("2 holidays, 1 override"), "{d}");
}

// ------------------------------------------------------- compile errors

#[test]
fn error_malformed_interval() {
    let e = errors(
        r#"timezone = "Europe/Dublin"
        monday = ["09:00-12:30", "13:00-12:61"]"#,
    );
    assert_eq!(
        e,
        vec![r#"office_hours.emea.monday[1]: "13:00-12:61" is not HH:MM-HH:MM (minutes 00-59)"#]
    );
}

#[test]
fn error_unknown_zone() {
    let e = errors(r#"timezone = "Europe/Dubln""#);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(r#"office_hours.emea.timezone: unknown IANA zone "Europe/Dubln""#),
        "{e:?}"
    );
    assert!(e[0].contains("Europe/Dublin"), "suggests the fix: {e:?}");
}

#[test]
fn error_missing_zone() {
    let e = errors(r#"monday = ["09:00-17:00"]"#);
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("office_hours.emea.timezone: missing"),
        "{e:?}"
    );
}

#[test]
fn error_24_00_as_start() {
    let e = errors(
        r#"timezone = "UTC"
        tuesday = ["24:00-02:00"]"#,
    );
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("office_hours.emea.tuesday[0]: "), "{e:?}");
    assert!(e[0].contains("24:00"), "{e:?}");
}

#[test]
fn error_overlap_same_day_and_past_midnight() {
    let e = errors(
        r#"timezone = "UTC"
        monday = ["01:00-03:00", "09:00-12:00", "11:00-13:00"]
        sunday = ["22:00-02:00"]"#,
    );
    // monday[2] overlaps monday[1]; monday[0] overlaps Sunday's part past midnight.
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e.iter()
            .any(|l| l.starts_with("office_hours.emea.monday[2]: ")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|l| l.starts_with("office_hours.emea.monday[0]: ")
                && l.contains("office_hours.emea.sunday[0]")),
        "{e:?}"
    );
    // Touching is fine.
    schedule(
        r#"timezone = "UTC"
        monday = ["02:00-03:00", "09:00-12:00", "12:00-13:00"]
        sunday = ["22:00-02:00"]"#,
    );
}

#[test]
fn error_override_interval_and_date() {
    let e = errors(
        r#"timezone = "UTC"
        [overrides]
        "2026-12-24" = ["13:00-09:00"]
        "2026-13-01" = ["09:00-10:00"]"#,
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e.iter()
            .any(|l| l.starts_with("office_hours.emea.overrides.2026-12-24[0]: ")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|l| l.starts_with("office_hours.emea.overrides.2026-13-01: ")),
        "{e:?}"
    );
}

#[test]
fn error_bad_holiday() {
    let e = errors(
        r#"timezone = "UTC"
        holidays = ["2026-12-25", "2026-02-30", 7]"#,
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e[0].starts_with("office_hours.emea.holidays[1]: \"2026-02-30\""),
        "{e:?}"
    );
    assert!(e[1].starts_with("office_hours.emea.holidays[2]: "), "{e:?}");
}

#[test]
fn error_duplicate_version_date() {
    let e = errors(
        r#"timezone = "UTC"
        [[versions]]
        effective_from = "2027-01-04"
        monday = ["08:00-16:00"]
        [[versions]]
        effective_from = "2027-01-04"
        timezone = "UTC""#,
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e.iter()
            .any(|l| l.starts_with("office_hours.emea.versions[1].effective_from: ")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|l| l.starts_with("office_hours.emea.versions[1].timezone: ")),
        "{e:?}"
    );
}

#[test]
fn error_unknown_key_and_wrong_types() {
    let e = errors(
        r#"timezone = "UTC"
        mondy = ["09:00-17:00"]
        friday = "09:00-17:00""#,
    );
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(
        e.iter()
            .any(|l| l.starts_with("office_hours.emea.mondy: unknown key")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|l| l.starts_with("office_hours.emea.friday: expected an array")),
        "{e:?}"
    );
}

#[test]
fn several_errors_give_several_lines() {
    let e = errors(
        r#"timezone = "Mars/Olympus"
        monday = ["9-5", "13:00-12:61"]
        holidays = ["2026-12-32"]
        [[versions]]
        monday = ["08:00-16:00"]"#,
    );
    // bad zone, monday[0], monday[1], holidays[0], versions[0].effective_from missing
    assert_eq!(e.len(), 5, "{e:#?}");
    assert!(
        e.iter().all(|l| l.starts_with("office_hours.emea.")),
        "{e:#?}"
    );
    assert!(e.iter().all(|l| !l.contains('\n')));
}

#[test]
fn error_not_a_table_and_quoted_name() {
    let e = match compile("emea", &toml::Value::String("Europe/Dublin".into())) {
        Ok(_) => panic!("a string is not a schedule"),
        Err(e) => e,
    };
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("office_hours.emea: expected a table"),
        "{e:?}"
    );
    // A name that is not a bare TOML key is quoted in the key.
    let v: toml::Value = toml::from_str(r#"timezone = "Nowhere/Town""#).expect("TOML");
    let e = match compile("eu west", &v) {
        Ok(_) => panic!("unknown zone"),
        Err(e) => e,
    };
    assert!(
        e[0].starts_with(r#"office_hours."eu west".timezone: "#),
        "{e:?}"
    );
}
