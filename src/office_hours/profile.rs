//! Prefix sums over one period of local time (a week, or one overridden date).
//!
//! A [`Profile`] is a sorted set of disjoint open intervals inside
//! `[0, period)` with the open seconds before each interval precomputed, so
//! that the open seconds in `[0, x)` cost one binary search.

use super::config::{DAY, Interval, WEEK, Week};

/// Sorted disjoint open intervals in `[0, period)` with prefix sums.
#[derive(Debug, Clone)]
pub(crate) struct Profile {
    starts: Vec<i64>,
    ends: Vec<i64>,
    /// Open seconds before interval `i`.
    before: Vec<i64>,
    /// Open seconds in the whole period.
    pub total: i64,
}

impl Profile {
    /// Build from pieces already known to be disjoint (validated by `config`).
    fn from_pieces(mut pieces: Vec<(i64, i64)>) -> Profile {
        pieces.retain(|(s, e)| e > s);
        pieces.sort_unstable();
        let mut before = Vec::with_capacity(pieces.len());
        let mut total = 0;
        for (s, e) in &pieces {
            before.push(total);
            total += e - s;
        }
        Profile {
            starts: pieces.iter().map(|p| p.0).collect(),
            ends: pieces.iter().map(|p| p.1).collect(),
            before,
            total,
        }
    }

    /// One date's intervals (an override): `start + len <= DAY`.
    pub(crate) fn day(intervals: &[Interval]) -> Profile {
        Profile::from_pieces(
            intervals
                .iter()
                .map(|iv| (iv.start, (iv.start + iv.len).min(DAY)))
                .collect(),
        )
    }

    /// The weekly intervals laid on the Monday-00:00-based week, the parts
    /// past midnight in the next day (Sunday's into Monday).
    pub(crate) fn week(week: &Week) -> Profile {
        let mut pieces = Vec::new();
        for (wd, day) in (0i64..).zip(week.iter()) {
            for iv in day {
                let s = wd * DAY + iv.start;
                let e = s + iv.len;
                if e <= WEEK {
                    pieces.push((s, e));
                } else {
                    pieces.push((s, WEEK));
                    pieces.push((0, e - WEEK));
                }
            }
        }
        Profile::from_pieces(pieces)
    }

    /// Open seconds in `[0, x)`, for `x` in `[0, period]`.
    #[inline]
    pub(crate) fn cum(&self, x: i64) -> i64 {
        let n = self.starts.partition_point(|&s| s <= x);
        match n.checked_sub(1) {
            None => 0,
            Some(k) => match (self.starts.get(k), self.ends.get(k), self.before.get(k)) {
                (Some(&s), Some(&e), Some(&b)) => b + x.min(e) - s,
                // k < n <= starts.len(), and the three lists are built
                // together: a miss is a bug, never a count of 0.
                _ => unreachable!("office-hours profile lists of different lengths"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cum_week_with_wrap() {
        let mut week: Week = Default::default();
        week[0].push(Interval {
            start: 9 * 3600,
            len: 3600,
        });
        week[6].push(Interval {
            start: 22 * 3600,
            len: 4 * 3600,
        });
        let p = Profile::week(&week);
        assert_eq!(p.total, 5 * 3600);
        assert_eq!(p.cum(0), 0);
        assert_eq!(p.cum(3600), 3600);
        assert_eq!(p.cum(2 * 3600), 2 * 3600);
        assert_eq!(p.cum(9 * 3600 + 1800), 2 * 3600 + 1800);
        assert_eq!(p.cum(WEEK - 3600), 4 * 3600);
        assert_eq!(p.cum(WEEK), 5 * 3600);
    }
}
