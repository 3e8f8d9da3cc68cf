//! Reading and validating one `[office_hours.NAME]` TOML table.
//!
//! This module owns the configuration syntax (office-hours.md, "Configuration"):
//! the timezone, the seven day keys with their `HH:MM-HH:MM` intervals,
//! `holidays`, `overrides` and `versions`. It turns the table into a
//! [`RawSchedule`] of plain numbers, or into the list of *all* errors found,
//! one line each, starting with the full offending key and saying what to do.
//! Nothing here knows about prefix sums or zone transitions.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};
use chrono_tz::{TZ_VARIANTS, Tz};
use toml::Value;

/// Seconds in a day.
pub(crate) const DAY: i64 = 86_400;
/// Seconds in a week.
pub(crate) const WEEK: i64 = 7 * DAY;
/// The day keys, Monday first (the weekday index used throughout the module).
pub(crate) const DAY_KEYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
/// Days from 0001-01-01 (day 1 in chrono's count) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// One configured interval of local wall-clock time, relative to the local
/// midnight of the date it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Interval {
    /// Seconds after local midnight, `0..86_400`.
    pub start: i64,
    /// Length in seconds, `1..=86_400`; `start + len > 86_400` runs past midnight.
    pub len: i64,
}

impl Interval {
    /// `HH:MM-HH:MM` as a user would write it.
    pub(crate) fn text(&self) -> String {
        let end = self.start + self.len;
        let end_text = if self.len == DAY {
            hhmm(self.start)
        } else if end == DAY {
            "24:00".to_string()
        } else {
            hhmm(end.rem_euclid(DAY))
        };
        format!("{}-{}", hhmm(self.start), end_text)
    }
}

fn hhmm(secs: i64) -> String {
    format!("{:02}:{:02}", secs / 3600, (secs / 60) % 60)
}

/// The weekly intervals of one version: index 0 is Monday.
pub(crate) type Week = [Vec<Interval>; 7];

/// A set of weekly intervals and the local date from which it holds; each
/// day's intervals sorted by start.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RawVersion {
    /// Days since 1970-01-01 of `effective_from`; `None` for the base day keys.
    pub effective_from: Option<i64>,
    pub week: Week,
}

/// A validated schedule in plain numbers (dates as days since 1970-01-01).
/// Canonical: two tables that mean the same schedule (keys, holidays or
/// versions in another order, duplicate holidays, quoted or bare dates) give
/// equal values, which is how identical schedules are found and shared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct RawSchedule {
    pub tz: Tz,
    /// The base day keys first, then the versions by increasing `effective_from`.
    pub versions: Vec<RawVersion>,
    /// Sorted, without duplicates.
    pub holidays: Vec<i64>,
    /// Sorted by date; each date's intervals sorted, `start + len <= DAY`.
    pub overrides: Vec<(i64, Vec<Interval>)>,
}

/// Days since 1970-01-01 of a chrono date.
pub(crate) fn epoch_days(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAYS_FROM_CE
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (for messages and `describe`).
pub(crate) fn date_text(days: i64) -> String {
    let date = i32::try_from(days + UNIX_EPOCH_DAYS_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt);
    match date {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
        None => format!("day {days}"),
    }
}

/// Quote a TOML key segment when it is not a bare key.
pub(crate) fn key_segment(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        name.to_string()
    } else {
        format!("{name:?}")
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date/time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// Parse `HH:MM` into minutes `0..=1440` (24:00 allowed here; the caller
/// decides where). The error is the parenthesised hint.
fn parse_hhmm(s: &[u8]) -> Result<i64, &'static str> {
    let digit = |b: u8| -> Option<i64> { b.is_ascii_digit().then(|| i64::from(b - b'0')) };
    let (h1, h2, colon, m1, m2) = match s {
        [a, b, c, d, e] => (digit(*a), digit(*b), *c, digit(*d), digit(*e)),
        _ => return Err("e.g. \"09:00-17:30\""),
    };
    let (Some(h1), Some(h2), b':', Some(m1), Some(m2)) = (h1, h2, colon, m1, m2) else {
        return Err("e.g. \"09:00-17:30\"");
    };
    let (h, m) = (h1 * 10 + h2, m1 * 10 + m2);
    if m > 59 {
        return Err("minutes 00-59");
    }
    if h > 24 || (h == 24 && m != 0) {
        return Err("hours 00-24, and 24 only as 24:00");
    }
    Ok(h * 60 + m)
}

/// Parse `HH:MM-HH:MM` into (start, end) seconds after midnight; the error is
/// the whole message after the key.
fn parse_range(text: &str) -> Result<(i64, i64), String> {
    let b = text.as_bytes();
    let parsed = match b {
        [s @ .., b'-', _, _, b':', _, _] if s.len() == 5 => {
            let (start, end) = b.split_at(5);
            let end = end.get(1..).unwrap_or_default();
            parse_hhmm(start).and_then(|s| parse_hhmm(end).map(|e| (s, e)))
        }
        _ => Err("e.g. \"09:00-17:30\""),
    };
    match parsed {
        Err(hint) => Err(format!("{text:?} is not HH:MM-HH:MM ({hint})")),
        Ok((1440, _)) => Err(format!(
            "{text:?} starts at 24:00, which is allowed only as an end; start at 00:00 of the next day instead"
        )),
        Ok((s, e)) => Ok((s * 60, e * 60)),
    }
}

/// Parse a date string `YYYY-MM-DD` (or a TOML local date) into days since 1970-01-01.
fn parse_date_value(v: &Value) -> Result<i64, String> {
    match v {
        Value::String(s) => parse_date_str(s),
        Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
            parse_date_str(&dt.to_string())
        }
        other => Err(format!(
            "expected a date string \"YYYY-MM-DD\", found {}",
            type_name(other)
        )),
    }
}

fn parse_date_str(text: &str) -> Result<i64, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    let date = shaped
        .then(|| {
            let num = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<u32>().ok());
            let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
            NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
        })
        .flatten();
    match date {
        Some(d) => Ok(epoch_days(d)),
        None => Err(format!(
            "{text:?} is not a valid date YYYY-MM-DD (e.g. \"2026-12-25\")"
        )),
    }
}

/// Collects error lines, each prefixed by its key.
struct Errors(Vec<String>);

impl Errors {
    fn push(&mut self, key: &str, msg: impl AsRef<str>) {
        self.0.push(format!("{key}: {}", msg.as_ref()));
    }
}

/// An interval with where it came from, for overlap messages.
struct Placed {
    /// Start on the axis being checked (week or day), seconds.
    start: i64,
    end: i64,
    key: String,
    text: String,
}

/// Report every interval that overlaps an earlier one (touching is fine).
/// `period` is `Some(WEEK)` for the cyclic week, `None` for a single date.
fn check_overlaps(mut placed: Vec<Placed>, period: Option<i64>, errors: &mut Errors) {
    placed.sort_by_key(|p| (p.start, p.end));
    let mut reach: Option<(i64, usize)> = None; // furthest end so far and who reaches it
    for i in 0..placed.len() {
        let Some(p) = placed.get(i) else { break };
        if let Some((end, who)) = reach
            && p.start < end
            && let Some(q) = placed.get(who)
        {
            errors.push(
                &p.key,
                format!(
                    "{:?} overlaps {} {:?}; merge them into one interval or make them only touch",
                    p.text, q.key, q.text
                ),
            );
        }
        if reach.is_none_or(|(end, _)| p.end > end) {
            reach = Some((p.end, i));
        }
    }
    // Past the end of the week the intervals wrap onto Monday.
    if let (Some(period), Some((end, who))) = (period, reach)
        && end > period
    {
        for p in &placed {
            if p.start >= end - period {
                break;
            }
            if let Some(q) = placed.get(who)
                && !std::ptr::eq(p, q)
            {
                errors.push(
                    &p.key,
                    format!(
                        "{:?} overlaps {} {:?} (which runs past midnight into it); merge them into one interval or make them only touch",
                        p.text, q.key, q.text
                    ),
                );
            }
        }
    }
}

/// One well-formed item of an interval array: its key, text and ends in
/// seconds after midnight (end may be 86 400).
struct Item {
    key: String,
    text: String,
    start: i64,
    end: i64,
}

/// The well-formed items of an array of `"HH:MM-HH:MM"` strings under `key`;
/// every malformed item is reported. `None` (reported) when `v` is no array.
fn parse_items(v: &Value, key: &str, array_hint: &str, errors: &mut Errors) -> Option<Vec<Item>> {
    let Some(items) = v.as_array() else {
        errors.push(
            key,
            format!(
                "expected an array of \"HH:MM-HH:MM\" strings ({array_hint}), found {}",
                type_name(v)
            ),
        );
        return None;
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ikey = format!("{key}[{i}]");
        let Some(text) = item.as_str() else {
            errors.push(
                &ikey,
                format!(
                    "expected a string \"HH:MM-HH:MM\", found {}",
                    type_name(item)
                ),
            );
            continue;
        };
        match parse_range(text) {
            Err(msg) => errors.push(&ikey, msg),
            Ok((start, end)) => out.push(Item {
                key: ikey,
                text: text.to_string(),
                start,
                end,
            }),
        }
    }
    Some(out)
}

/// Parse the seven day keys of `table` (base or a version) under `prefix`.
fn parse_week(table: &toml::Table, prefix: &str, errors: &mut Errors) -> Week {
    let mut week: Week = Default::default();
    let mut placed = Vec::new();
    for (wd, day) in DAY_KEYS.iter().enumerate() {
        let Some(v) = table.get(*day) else { continue };
        let key = format!("{prefix}.{day}");
        let items = parse_items(v, &key, "e.g. [\"09:00-17:30\"]", errors);
        for Item {
            key,
            text,
            start,
            end,
        } in items.unwrap_or_default()
        {
            let len = if end > start {
                end - start
            } else {
                DAY - start + end
            };
            if let Some(slot) = week.get_mut(wd) {
                slot.push(Interval { start, len });
            }
            let ws = wd as i64 * DAY + start;
            placed.push(Placed {
                start: ws,
                end: ws + len,
                key,
                text,
            });
        }
    }
    check_overlaps(placed, Some(WEEK), errors);
    // Canonical order (no two intervals of a valid day start together).
    for day in &mut week {
        day.sort_by_key(|iv| iv.start);
    }
    week
}

fn suggest_zone(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if let Some(tz) = TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().to_ascii_lowercase() == lower)
    {
        return Some(tz.name());
    }
    TZ_VARIANTS
        .iter()
        .map(|tz| {
            (
                edit_distance(&lower, &tz.name().to_ascii_lowercase()),
                tz.name(),
            )
        })
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Levenshtein distance (for "did you mean" hints only).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

const TOP_KEYS: &str = "timezone, monday..sunday, holidays, overrides, versions";
const VERSION_KEYS: &str = "effective_from, monday..sunday";

/// Validate one `[office_hours.NAME]` table, collecting every error.
pub(crate) fn parse(name: &str, value: &Value) -> Result<RawSchedule, Vec<String>> {
    let prefix = format!("office_hours.{}", key_segment(name));
    let mut errors = Errors(Vec::new());
    let Some(table) = value.as_table() else {
        errors.push(
            &prefix,
            format!(
                "expected a table with timezone and day keys, found {}",
                type_name(value)
            ),
        );
        return Err(errors.0);
    };

    for key in table.keys() {
        let known = key == "timezone"
            || key == "holidays"
            || key == "overrides"
            || key == "versions"
            || DAY_KEYS.contains(&key.as_str());
        if !known {
            errors.push(
                &format!("{prefix}.{}", key_segment(key)),
                format!("unknown key; expected one of {TOP_KEYS}"),
            );
        }
    }

    // timezone
    let tz_key = format!("{prefix}.timezone");
    let tz = match table.get("timezone") {
        None => {
            errors.push(
                &tz_key,
                "missing; set it to an IANA zone name such as \"Europe/Dublin\"",
            );
            None
        }
        Some(Value::String(s)) => match s.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                let mut msg = format!("unknown IANA zone {s:?}; ");
                match suggest_zone(s) {
                    Some(n) => {
                        let _ = write!(msg, "did you mean {n:?}?");
                    }
                    None => msg.push_str("use a tz database name such as \"Europe/Dublin\""),
                }
                errors.push(&tz_key, msg);
                None
            }
        },
        Some(other) => {
            errors.push(
                &tz_key,
                format!(
                    "expected an IANA zone name string such as \"Europe/Dublin\", found {}",
                    type_name(other)
                ),
            );
            None
        }
    };

    // base week
    let base = parse_week(table, &prefix, &mut errors);
    let mut versions = vec![RawVersion {
        effective_from: None,
        week: base,
    }];

    // holidays
    let mut holidays = Vec::new();
    if let Some(v) = table.get("holidays") {
        let key = format!("{prefix}.holidays");
        match v.as_array() {
            None => errors.push(
                &key,
                format!(
                    "expected an array of dates (e.g. [\"2026-12-25\"]), found {}",
                    type_name(v)
                ),
            ),
            Some(items) => {
                holidays.reserve_exact(items.len());
                for (i, item) in items.iter().enumerate() {
                    match parse_date_value(item) {
                        Ok(d) => holidays.push(d),
                        Err(msg) => errors.push(&format!("{key}[{i}]"), msg),
                    }
                }
            }
        }
    }
    holidays.sort_unstable();
    holidays.dedup();

    // overrides
    let mut overrides = Vec::new();
    if let Some(v) = table.get("overrides") {
        let key = format!("{prefix}.overrides");
        match v.as_table() {
            None => errors.push(
                &key,
                format!(
                    "expected a table of date = [\"HH:MM-HH:MM\", ...] (e.g. \"2026-12-24\" = [\"09:00-13:00\"]), found {}",
                    type_name(v)
                ),
            ),
            Some(t) => {
                for (date_text, iv) in t {
                    let dkey = format!("{key}.{}", key_segment(date_text));
                    let date = match parse_date_str(date_text) {
                        Ok(d) => Some(d),
                        Err(msg) => {
                            errors.push(&dkey, msg);
                            None
                        }
                    };
                    let Some(items) = parse_items(iv, &dkey, "use [] for closed", &mut errors)
                    else {
                        continue;
                    };
                    let mut ivs = Vec::new();
                    let mut placed = Vec::new();
                    for Item { key, text, start, end } in items {
                        if end <= start {
                            errors.push(
                                &key,
                                format!(
                                    "{text:?}: override intervals need start < end and stay inside their date (24:00 allowed as the end); put the part after midnight under the next date"
                                ),
                            );
                            continue;
                        }
                        ivs.push(Interval { start, len: end - start });
                        placed.push(Placed { start, end, key, text });
                    }
                    check_overlaps(placed, None, &mut errors);
                    ivs.sort_by_key(|iv| iv.start);
                    if let Some(d) = date {
                        overrides.push((d, ivs));
                    }
                }
            }
        }
    }
    overrides.sort_by_key(|(d, _)| *d);

    // versions
    if let Some(v) = table.get("versions") {
        let key = format!("{prefix}.versions");
        match v.as_array() {
            None => errors.push(
                &key,
                format!(
                    "expected an array of tables ([[{key}]] with effective_from and day keys), found {}",
                    type_name(v)
                ),
            ),
            Some(items) => {
                let mut seen: Vec<(i64, usize)> = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let vkey = format!("{key}[{i}]");
                    let Some(vt) = item.as_table() else {
                        errors.push(
                            &vkey,
                            format!(
                                "expected a table with effective_from and day keys, found {}",
                                type_name(item)
                            ),
                        );
                        continue;
                    };
                    for k in vt.keys() {
                        if k != "effective_from" && !DAY_KEYS.contains(&k.as_str()) {
                            let hint = if matches!(k.as_str(), "timezone" | "holidays" | "overrides") {
                                format!(
                                    "a version replaces only the weekly intervals; move {k} to {prefix}, where it holds for all versions"
                                )
                            } else {
                                format!("unknown key; expected one of {VERSION_KEYS}")
                            };
                            errors.push(&format!("{vkey}.{}", key_segment(k)), hint);
                        }
                    }
                    let ekey = format!("{vkey}.effective_from");
                    let eff = match vt.get("effective_from") {
                        None => {
                            errors.push(
                                &ekey,
                                "missing; set the local date (\"YYYY-MM-DD\") from which these weekly hours hold",
                            );
                            None
                        }
                        Some(ev) => match parse_date_value(ev) {
                            Ok(d) => Some(d),
                            Err(msg) => {
                                errors.push(&ekey, msg);
                                None
                            }
                        },
                    };
                    let week = parse_week(vt, &vkey, &mut errors);
                    if let Some(d) = eff {
                        if let Some((_, j)) = seen.iter().find(|(sd, _)| *sd == d) {
                            errors.push(
                                &ekey,
                                format!(
                                    "{:?} is also the effective_from of {key}[{j}]; two versions cannot start on the same date, merge them",
                                    date_text(d)
                                ),
                            );
                        } else {
                            seen.push((d, i));
                            versions.push(RawVersion {
                                effective_from: Some(d),
                                week,
                            });
                        }
                    }
                }
            }
        }
    }
    versions.sort_by_key(|v| v.effective_from);

    match tz {
        Some(tz) if errors.0.is_empty() => Ok(RawSchedule {
            tz,
            versions,
            holidays,
            overrides,
        }),
        _ => Err(errors.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("09:00-17:30"), Ok((9 * 3600, 17 * 3600 + 1800)));
        assert_eq!(parse_range("22:00-24:00"), Ok((22 * 3600, DAY)));
        assert!(parse_range("24:00-02:00").is_err());
        assert!(parse_range("13:00-12:61").is_err());
        assert!(parse_range("9:00-17:00").is_err());
        assert!(parse_range("24:01-24:00").is_err());
        assert!(parse_range("09:00–17:00").is_err()); // en dash
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date_str("1970-01-01"), Ok(0));
        assert_eq!(parse_date_str("2024-02-29"), Ok(19_782));
        assert!(parse_date_str("2026-02-29").is_err());
        assert!(parse_date_str("2026-1-01").is_err());
        assert_eq!(date_text(19_782), "2024-02-29");
    }

    #[test]
    fn interval_text() {
        assert_eq!(Interval { start: 0, len: DAY }.text(), "00:00-00:00");
        assert_eq!(
            Interval {
                start: 79_200,
                len: 7_200
            }
            .text(),
            "22:00-24:00"
        );
        assert_eq!(
            Interval {
                start: 79_200,
                len: 14_400
            }
            .text(),
            "22:00-02:00"
        );
    }
}
