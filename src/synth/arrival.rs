//! When a conversation arrives: an instant in the window drawn from local
//! day-of-week and hour-of-day weights per message kind (customers peak in
//! weekday business hours, outbound sends stay in them).

use chrono::{Datelike, Days};

use super::HOUR;
use super::params::GenParams;
use super::rnd::Rnd;
use super::time::to_utc;
use super::workspace::Profile;

/// Local-hour weights of customer-written conversations on a workday.
const HOURS_WORKDAY: [f64; 24] = [
    0.15, 0.10, 0.08, 0.07, 0.08, 0.15, 0.35, 0.80, 1.60, 2.50, 2.80, 2.70, 2.20, 2.50, 2.70, 2.50,
    2.10, 1.50, 1.00, 0.80, 0.70, 0.60, 0.45, 0.30,
];
/// Local-hour weights on a weekend day (flatter; volume comes from the day weight).
const HOURS_WEEKEND: [f64; 24] = [
    0.30, 0.20, 0.15, 0.10, 0.10, 0.15, 0.25, 0.40, 0.60, 0.80, 0.90, 0.90, 0.90, 0.90, 0.90, 0.85,
    0.80, 0.75, 0.70, 0.70, 0.65, 0.55, 0.45, 0.35,
];
/// Local-hour weights of outbound sends (business hours).
const HOURS_OUTBOUND: [f64; 24] = [
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.2, 1.0, 2.0, 2.0, 1.5, 1.0, 1.5, 2.0, 2.0, 1.5, 0.5, 0.2,
    0.05, 0.0, 0.0, 0.0, 0.0,
];
/// Day weights, Monday first.
const DAYS_CUSTOMER: [f64; 7] = [1.15, 1.05, 1.0, 1.0, 0.9, 0.3, 0.25];
const DAYS_ADMIN: [f64; 7] = [1.0, 1.0, 1.0, 1.0, 0.9, 0.03, 0.02];
const DAYS_AUTOMATED: [f64; 7] = [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5];

/// The day and hour weights of one kind of arrival.
pub(super) struct Weights {
    /// Day weights, Monday first.
    days: &'static [f64; 7],
    /// Local-hour weights on Monday to Friday.
    workday: &'static [f64; 24],
    /// Local-hour weights on Saturday and Sunday.
    weekend: &'static [f64; 24],
}

/// Customer-written conversations.
pub(super) const CUSTOMER: Weights = Weights {
    days: &DAYS_CUSTOMER,
    workday: &HOURS_WORKDAY,
    weekend: &HOURS_WEEKEND,
};
/// Messages sent by an admin.
pub(super) const ADMIN_INITIATED: Weights = Weights {
    days: &DAYS_ADMIN,
    workday: &HOURS_OUTBOUND,
    weekend: &HOURS_OUTBOUND,
};
/// Automated and Operator-initiated messages.
pub(super) const AUTOMATED: Weights = Weights {
    days: &DAYS_AUTOMATED,
    workday: &HOURS_OUTBOUND,
    weekend: &HOURS_WEEKEND,
};

/// An arrival instant inside the window, shaped by local day and hour weights.
pub(super) fn arrival(rng: &mut Rnd, params: &GenParams, p: &Profile, w: &Weights) -> i64 {
    let (lo, hi) = (params.window_start(), params.window_end());
    let days = u64::from(params.days.max(1));
    for _ in 0..32 {
        let Some(date) = params.start.checked_add_days(Days::new(rng.below(days))) else {
            continue;
        };
        let wd = date.weekday().num_days_from_monday() as usize;
        if rng.f64() * 1.2 >= w.days.get(wd).copied().unwrap_or(1.0) {
            continue;
        }
        let hours = if wd < 5 { w.workday } else { w.weekend };
        let hour = rng.weighted(hours) as u32;
        let Some(at) = date.and_hms_opt(hour, 0, 0) else {
            continue;
        };
        let Some(t) = to_utc(p.zone, at) else {
            continue;
        };
        let t = t + rng.range(0, HOUR - 1);
        if (lo..hi).contains(&t) {
            return t;
        }
    }
    lo + rng.below((hi - lo).max(1) as u64) as i64
}
