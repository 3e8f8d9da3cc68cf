//! Time in a workspace: local wall clock to and from Unix seconds in its zone
//! (spring-forward gaps resolved an hour later), and its office hours (is an
//! instant inside them, when do they next open).

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;

use super::workspace::Profile;

pub(super) fn to_utc(zone: Tz, local: NaiveDateTime) -> Option<i64> {
    match zone.from_local_datetime(&local).earliest() {
        Some(t) => Some(t.timestamp()),
        // In a spring-forward gap: the same wall clock an hour later exists.
        None => zone
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.timestamp()),
    }
}

fn local(zone: Tz, t: i64) -> Option<NaiveDateTime> {
    zone.timestamp_opt(t, 0).single().map(|d| d.naive_local())
}

fn is_workday(d: NaiveDate) -> bool {
    d.weekday().num_days_from_monday() < 5
}

/// `t` when it is inside the workspace's office hours, else the next opening.
pub(super) fn office_from(p: &Profile, t: i64) -> i64 {
    let Some(l) = local(p.zone, t) else {
        return t;
    };
    let mut date = l.date();
    for first in [true, false, false, false, false, false, false, false] {
        if is_workday(date) {
            let hour = l.hour();
            if first && hour >= p.open && hour < p.close {
                return t;
            }
            if !first || hour < p.open {
                let open = date.and_hms_opt(p.open, 0, 0);
                return open.and_then(|o| to_utc(p.zone, o)).unwrap_or(t).max(t);
            }
        }
        match date.succ_opt() {
            Some(d) => date = d,
            None => return t,
        }
    }
    t
}

pub(super) fn in_office(p: &Profile, t: i64) -> bool {
    office_from(p, t) == t
}
