//! Office hours: compiled schedules and `office_seconds`, the one interface
//! through which every `_ooo` duration is measured (office-hours.md).
//!
//! Pure: no I/O, no clock, no globals. A [`Schedule`] is compiled once from its
//! TOML table by [`compile`] and then answers `office_seconds(from, to)` for
//! half-open `[from, to)` spans of Unix seconds in O(log n).
//!
//! Layout:
//! - `config`: the TOML syntax, validation and error messages;
//! - `profile`: prefix sums of open seconds over a week or a date;
//! - `zone`: discovery of a zone's offset transitions;
//! - this file: the compiled cumulative function `F` and the public API.
//!
//! The algorithm (docs/office-hours.md): with `L = t + offset(t)` the local
//! wall-clock reading, membership depends on `L` only, so within a stretch of
//! constant offset the office seconds are `G(L_b) - G(L_a)`, where `G` counts
//! open seconds of local time (weekly prefix sums per version, plus the
//! prefix-summed corrections of holidays and overrides). Each zone transition
//! adds the constant that keeps `F(t) = G(t + offset(t)) + C(t)` continuous, so
//! `office(a, b) = F(b) - F(a)`: a DST gap subtracts the skipped wall time, a
//! fold adds the repeated wall time again.

mod config;
mod profile;
mod zone;

use std::fmt::Write as _;
use std::sync::Arc;

use chrono_tz::Tz;

use config::{DAY, DAY_KEYS, RawSchedule, WEEK, date_text, key_segment};
use profile::Profile;
use zone::Zone;
pub use zone::ZoneCache;
use zone::{END_T, MIN_T};

/// Days from the Monday before the Unix epoch (1969-12-29) to 1970-01-01.
const EPOCH_WEEKDAY: i64 = 3;

/// A compiled office-hours schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Every second is office time (no schedule configured).
    AlwaysOpen,
    /// A configured schedule.
    Compiled(Arc<Compiled>),
}

/// One set of weekly intervals as used by `G`.
#[derive(Debug)]
struct Version {
    /// Local second (days since epoch × 86 400) from which it holds;
    /// `i64::MIN` for the base day keys.
    from_local: i64,
    /// `G_weekly(from_local)`, carried over from the previous version.
    base: i64,
    /// `W(from_local)` of this version's own weekly count (0 for the base).
    anchor: i64,
    week: Profile,
}

/// A holiday or an overridden date.
#[derive(Debug)]
struct Special {
    /// Days since 1970-01-01 (local date).
    day: i64,
    /// Sum of the corrections of all earlier special dates.
    corr_before: i64,
    /// `corr_before` plus this date's own correction.
    corr_after: i64,
    /// `None`: holiday (closed); otherwise the override's intervals.
    open: Option<Profile>,
}

#[derive(Debug)]
struct Compiled {
    name: String,
    raw: RawSchedule,
    versions: Vec<Version>,
    specials: Vec<Special>,
    /// Zone transitions: from `times[i]` the offset is `offsets[i]` and the
    /// continuity constant is `consts[i]`.
    times: Vec<i64>,
    offsets: Vec<i64>,
    consts: Vec<i64>,
}

impl Schedule {
    /// The 24/7 schedule: every second is office time, so `_ooo == plain`.
    pub fn always_open() -> Schedule {
        Schedule {
            kind: Kind::AlwaysOpen,
        }
    }

    /// Office seconds in `[from, to)` of Unix seconds; negative when
    /// `to < from` (`office(a, b) == -office(b, a)`).
    ///
    /// For configured schedules both ends are clamped to
    /// 1970-01-01T00:00:00Z ..= 10000-01-01T00:00:00Z, so every second of the
    /// years 1970 to 9999 can be counted and nothing outside; never panics.
    pub fn office_seconds(&self, from: i64, to: i64) -> i64 {
        match &self.kind {
            Kind::AlwaysOpen => to.saturating_sub(from),
            Kind::Compiled(c) => c.f(to) - c.f(from),
        }
    }

    /// Human text for `convstats check-config`: the zone, each version with
    /// its weekly open hours per day and in total, and the number of holidays
    /// and overrides.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::AlwaysOpen => {
                "24/7 (no office hours configured): _ooo equals the plain duration\n".to_string()
            }
            Kind::Compiled(c) => c.describe(),
        }
    }
}

/// Compile one `[office_hours.NAME]` TOML table. Collects all errors; each is
/// one line starting with the full offending key and saying what to do.
pub fn compile(name: &str, table: &toml::Value) -> Result<Schedule, Vec<String>> {
    compile_with_cache(name, table, &mut ZoneCache::new())
}

/// [`compile`], sharing zone transition discovery between schedules through
/// `cache` (useful when compiling many schedules in the same zones).
pub fn compile_with_cache(
    name: &str,
    table: &toml::Value,
    cache: &mut ZoneCache,
) -> Result<Schedule, Vec<String>> {
    let raw = config::parse(name, table)?;
    let zone = cache.get(raw.tz);
    Ok(Schedule {
        kind: Kind::Compiled(Arc::new(Compiled::new(name, raw, &zone))),
    })
}

/// Weekly count of a version's own profile: open seconds of local time in
/// `[monday 1969-12-29 00:00, l)`.
#[inline]
fn weekly_count(week: &Profile, l: i64) -> i64 {
    let p = l + EPOCH_WEEKDAY * DAY;
    p.div_euclid(WEEK) * week.total + week.cum(p.rem_euclid(WEEK))
}

impl Compiled {
    fn new(name: &str, raw: RawSchedule, zone: &Zone) -> Compiled {
        let mut c = Compiled {
            name: name.to_string(),
            versions: Vec::new(),
            specials: Vec::new(),
            times: Vec::new(),
            offsets: Vec::new(),
            consts: Vec::new(),
            raw,
        };
        // Versions: each continues the count where the previous one stopped.
        for rv in &c.raw.versions {
            let week = Profile::week(&rv.week);
            let v = match rv.effective_from {
                None => Version {
                    from_local: i64::MIN,
                    base: 0,
                    anchor: 0,
                    week,
                },
                Some(d) => {
                    let from_local = d * DAY;
                    let base = c.g_weekly(from_local);
                    let anchor = weekly_count(&week, from_local);
                    Version {
                        from_local,
                        base,
                        anchor,
                        week,
                    }
                }
            };
            c.versions.push(v);
        }
        // Special dates: holidays win over overrides on the same date.
        let mut days: Vec<(i64, Option<Profile>)> = c
            .raw
            .holidays
            .iter()
            .map(|&d| (d, None))
            .chain(
                c.raw
                    .overrides
                    .iter()
                    .filter(|(d, _)| c.raw.holidays.binary_search(d).is_err())
                    .map(|(d, ivs)| (*d, Some(Profile::day(ivs)))),
            )
            .collect();
        days.sort_by_key(|(d, _)| *d);
        let mut corr = 0;
        for (day, open) in days {
            let weekly = c.g_weekly((day + 1) * DAY) - c.g_weekly(day * DAY);
            let special = open.as_ref().map_or(0, |p| p.total);
            c.specials.push(Special {
                day,
                corr_before: corr,
                corr_after: corr + special - weekly,
                open,
            });
            corr += special - weekly;
        }
        // Zone transitions: keep F continuous across each offset change.
        let mut k = 0;
        for (i, (&t, &o)) in zone.times.iter().zip(&zone.offsets).enumerate() {
            if let Some(&prev) = i.checked_sub(1).and_then(|j| zone.offsets.get(j)) {
                k += c.g(t + prev) - c.g(t + o);
            }
            c.times.push(t);
            c.offsets.push(o);
            c.consts.push(k);
        }
        c
    }

    /// Open seconds of local time before `l` by the weekly intervals alone.
    #[inline]
    fn g_weekly(&self, l: i64) -> i64 {
        let n = self.versions.partition_point(|v| v.from_local <= l);
        match n.checked_sub(1).and_then(|j| self.versions.get(j)) {
            Some(v) => v.base + weekly_count(&v.week, l) - v.anchor,
            None => 0,
        }
    }

    /// Open seconds of local time before `l`, holidays and overrides included.
    #[inline]
    fn g(&self, l: i64) -> i64 {
        let day = l.div_euclid(DAY);
        let n = self.specials.partition_point(|s| s.day < day);
        if let Some(s) = self.specials.get(n)
            && s.day == day
        {
            let inside = s.open.as_ref().map_or(0, |p| p.cum(l - day * DAY));
            return self.g_weekly(day * DAY) + s.corr_before + inside;
        }
        let corr = n
            .checked_sub(1)
            .and_then(|j| self.specials.get(j))
            .map_or(0, |prev| prev.corr_after);
        self.g_weekly(l) + corr
    }

    /// `F(t)`: office seconds before `t`, up to a constant.
    #[inline]
    fn f(&self, t: i64) -> i64 {
        let t = t.clamp(MIN_T, END_T);
        let n = self.times.partition_point(|&x| x <= t);
        let j = n.saturating_sub(1);
        let o = self.offsets.get(j).copied().unwrap_or(0);
        let k = self.consts.get(j).copied().unwrap_or(0);
        self.g(t + o) + k
    }

    fn describe(&self) -> String {
        let mut out = String::new();
        let tz: Tz = self.raw.tz;
        let _ = writeln!(
            out,
            "office_hours.{}: zone {}",
            key_segment(&self.name),
            tz.name()
        );
        let versions = &self.raw.versions;
        for (i, v) in versions.iter().enumerate() {
            let next = versions.get(i + 1).and_then(|n| n.effective_from);
            let title = match (v.effective_from, next) {
                (None, None) => "weekly hours".to_string(),
                (None, Some(n)) => format!("weekly hours before {}", date_text(n)),
                (Some(d), _) => format!("weekly hours from {}", date_text(d)),
            };
            let _ = writeln!(out, "  {title}:");
            let mut total = 0;
            for (day, ivs) in DAY_KEYS.iter().zip(v.week.iter()) {
                let secs: i64 = ivs.iter().map(|iv| iv.len).sum();
                total += secs;
                let list: Vec<String> = ivs.iter().map(|iv| iv.text()).collect();
                let list = if list.is_empty() {
                    "closed".to_string()
                } else {
                    list.join(", ")
                };
                let _ = writeln!(out, "    {day:<9} {:>6}  {list}", hours(secs));
            }
            let _ = writeln!(out, "    {:<9} {:>6}", "total", hours(total));
        }
        let _ = writeln!(
            out,
            "  {} holiday{}, {} override{}",
            self.raw.holidays.len(),
            if self.raw.holidays.len() == 1 {
                ""
            } else {
                "s"
            },
            self.raw.overrides.len(),
            if self.raw.overrides.len() == 1 {
                ""
            } else {
                "s"
            },
        );
        out
    }
}

/// `7h30` for 27 000 seconds.
fn hours(secs: i64) -> String {
    format!("{}h{:02}", secs / 3600, (secs / 60) % 60)
}
