//! Zone transitions: when the UTC offset of an IANA zone changes.
//!
//! chrono-tz does not expose its transition lists, so [`Zone::discover`]
//! finds them by sampling the offset and bisecting each change down to the
//! second. The sampling is dense (daily) up to [`DENSE_UNTIL`], past the
//! last transition chrono-tz materialises (it generates the yearly rules up
//! to 2100 and keeps the last offset afterwards), and sparse (twice a year)
//! from there to year 9999, which still catches any change chrono-tz could
//! report there. A [`ZoneCache`] lets several schedules in one zone share the
//! work; it is a plain value owned by the caller, not a global.
//!
//! Each transition skips or repeats a window of wall-clock time; the windows
//! are grouped by their position in the week and their length
//! ([`Zone::classes`]), so that a schedule can weigh a class once rather than
//! every transition (`Compiled::transition_steps`).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;

use super::config::{DAY, WEEK};

/// First instant a query is answered for (1970-01-01T00:00:00Z).
pub(crate) const MIN_T: i64 = 0;
/// Last instant a query is answered for (9999-12-31T23:59:59Z).
pub(crate) const MAX_T: i64 = 253_402_300_799;
/// Queries clamp their ends to `[MIN_T, END_T]`, so that the second starting
/// at `MAX_T` still counts (END_T is 10000-01-01T00:00:00Z).
pub(crate) const END_T: i64 = MAX_T + 1;
/// 2101-01-01T00:00:00Z: daily sampling up to here, sparse after.
pub(crate) const DENSE_UNTIL: i64 = 4_133_980_800;
/// Sampling step past [`DENSE_UNTIL`] (about half a year).
const SPARSE_STEP: i64 = 182 * DAY;

/// The offsets of one zone over `[MIN_T, MAX_T]`.
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    /// Instants at which an offset starts; `times[0] == MIN_T`.
    pub(crate) times: Vec<i64>,
    /// `offsets[i]` (seconds east of UTC) holds on `[times[i], times[i + 1])`.
    pub(crate) offsets: Vec<i64>,
    /// `windows[i]`: the wall-clock time that transition `i + 1` skips or
    /// repeats.
    pub(crate) windows: Vec<Window>,
    /// The distinct shapes of the windows: one representative `(lo, len)`
    /// per distinct (position in the week, length). A zone changes its
    /// clocks at a few fixed local weekdays and times, so there are a handful
    /// (two for Europe/Dublin), whatever the number of transitions.
    pub(crate) classes: Vec<(i64, i64)>,
}

/// The local wall-clock time `[lo, hi)` between the readings just before
/// and just after a transition: skipped when clocks go forward, repeated
/// when they go back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub(crate) lo: i64,
    pub(crate) hi: i64,
    /// Clocks go back (the window is repeated).
    pub(crate) fold: bool,
    /// Index into [`Zone::classes`]: the same position in the week and length.
    pub(crate) class: u32,
}

/// The zone's UTC offset at `t` (seconds east), by chrono-tz.
pub(crate) fn offset_at(tz: Tz, t: i64) -> i64 {
    match DateTime::from_timestamp(t, 0) {
        Some(dt) => i64::from(
            tz.offset_from_utc_datetime(&dt.naive_utc())
                .fix()
                .local_minus_utc(),
        ),
        None => 0,
    }
}

impl Zone {
    /// Find every offset change of `tz` in `[MIN_T, MAX_T]`.
    pub(crate) fn discover(tz: Tz) -> Zone {
        let mut times = vec![MIN_T];
        let mut offsets = vec![offset_at(tz, MIN_T)];
        let mut a = MIN_T;
        let mut oa = offset_at(tz, a);
        while a < MAX_T {
            let step = if a < DENSE_UNTIL { DAY } else { SPARSE_STEP };
            let b = (a + step).min(MAX_T);
            let ob = offset_at(tz, b);
            if ob == oa {
                a = b;
                continue;
            }
            // Bisect: offset(lo) == oa, offset(hi) != oa.
            let (mut lo, mut hi) = (a, b);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if offset_at(tz, mid) == oa {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let oh = offset_at(tz, hi);
            times.push(hi);
            offsets.push(oh);
            a = hi;
            oa = oh;
        }
        let mut windows = Vec::with_capacity(times.len().saturating_sub(1));
        let mut classes = Vec::new();
        let mut class_of: HashMap<(i64, i64), u32> = HashMap::new();
        for (pair, &t) in offsets.windows(2).zip(times.iter().skip(1)) {
            let &[before, after] = pair else { continue };
            let (lo, hi) = (t + before.min(after), t + before.max(after));
            let next = u32::try_from(classes.len()).unwrap_or(u32::MAX);
            let class = *class_of
                .entry((lo.rem_euclid(WEEK), hi - lo))
                .or_insert_with(|| {
                    classes.push((lo, hi - lo));
                    next
                });
            windows.push(Window {
                lo,
                hi,
                fold: before > after,
                class,
            });
        }
        Zone {
            times,
            offsets,
            windows,
            classes,
        }
    }

    /// Number of offset changes found.
    #[cfg(test)]
    pub(crate) fn transitions(&self) -> usize {
        self.times.len().saturating_sub(1)
    }
}

/// Discovered zones by name, so that compiling many schedules in one zone
/// scans it once. Owned by the caller; compile-time only.
#[derive(Debug, Default, Clone)]
pub struct ZoneCache {
    zones: HashMap<Tz, Arc<Zone>>,
}

impl ZoneCache {
    /// An empty cache.
    pub fn new() -> ZoneCache {
        ZoneCache::default()
    }

    /// The transitions of `tz`, discovered on first use.
    pub(crate) fn get(&mut self, tz: Tz) -> Arc<Zone> {
        self.zones
            .entry(tz)
            .or_insert_with(|| Arc::new(Zone::discover(tz)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dublin_2024() {
        let z = Zone::discover(chrono_tz::Europe::Dublin);
        // 2024-03-31T01:00Z to +1h, 2024-10-27T01:00Z back to +0.
        let i = z.times.iter().position(|&t| t == 1_711_846_800);
        assert!(i.is_some());
        assert!(z.times.contains(&1_729_990_800));
        assert!(z.transitions() > 200);
    }

    /// Daily sampling finds every change: against hourly sampling, for every
    /// zone chrono-tz knows, over 1970-2101. Slow (minutes unoptimised):
    /// `cargo test --release --lib -- --ignored daily_sampling`.
    #[test]
    #[ignore]
    fn daily_sampling_misses_nothing() {
        let mut missed = Vec::new();
        for tz in chrono_tz::TZ_VARIANTS {
            let z = Zone::discover(tz);
            let mut t = MIN_T;
            let mut j = 0;
            while t < DENSE_UNTIL {
                while z.times.get(j + 1).is_some_and(|&x| x <= t) {
                    j += 1;
                }
                if z.offsets.get(j) != Some(&offset_at(tz, t)) {
                    missed.push((tz.name(), t));
                    break;
                }
                t += 3600;
            }
        }
        assert!(missed.is_empty(), "{missed:?}");
    }

    #[test]
    fn utc_has_none() {
        assert_eq!(Zone::discover(chrono_tz::UTC).transitions(), 0);
    }
}
