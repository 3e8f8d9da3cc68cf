//! Office hours: compiled schedules and `office_seconds`, the one interface
//! through which every `_ooo` duration is measured (office-hours.md).
//!
//! Pure: no I/O, no clock, no globals. A [`Schedule`] is compiled once from its
//! TOML table by [`compile`] and then answers `office_seconds(from, to)` for
//! half-open `[from, to)` spans of Unix seconds in O(log n). A [`Compiler`]
//! compiles the many schedules of one configuration: it scans each zone once
//! and compiles identical definitions once, so that they share one compiled
//! schedule.
//!
//! Layout:
//! - `config`: the TOML syntax, validation and error messages;
//! - `profile`: prefix sums of open seconds over a week or a date;
//! - `zone`: discovery of a zone's offset transitions and the classes of the
//!   wall-clock windows they skip or repeat;
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

use std::borrow::Borrow;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use chrono_tz::Tz;
use rustc_hash::FxHashSet;

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
    /// A configured schedule: its name (for `describe`) and its compiled
    /// tables, shared by every schedule with the same definition.
    Compiled {
        name: Arc<str>,
        tables: Arc<Compiled>,
    },
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

/// A holiday or an overridden date (its date is in `Compiled::special_days`).
#[derive(Debug)]
struct Special {
    /// Sum of the corrections of all earlier special dates.
    corr_before: i64,
    /// `corr_before` plus this date's own correction.
    corr_after: i64,
    /// `None`: holiday (closed); otherwise the override's intervals.
    open: Option<Box<Profile>>,
}

/// The compiled tables of one schedule definition (without its name, so that
/// identical definitions under different names share them).
#[derive(Debug)]
struct Compiled {
    raw: RawSchedule,
    versions: Vec<Version>,
    /// The special dates (days since 1970-01-01, local), sorted; apart from
    /// `specials` so that the search reads only dates.
    special_days: Vec<i64>,
    /// `specials[i]` is the special date `special_days[i]`.
    specials: Vec<Special>,
    /// The zone's transitions, shared by every schedule in the zone: from
    /// `zone.times[j]` the offset is `zone.offsets[j]`.
    zone: Arc<Zone>,
    /// The continuity constant `C` of each transition.
    consts: Consts,
}

/// The continuity constant `C` of each of a zone's transitions, in whichever
/// form is smaller.
#[derive(Debug, PartialEq, Eq)]
enum Consts {
    /// Where it changes: from transition `.0` on it is `.1`; 0 before the
    /// first. Most schedules are closed when clocks change, so this is
    /// usually empty or short.
    Sparse(Vec<(u32, i64)>),
    /// One per transition, when `C` changes at most of them (a schedule open
    /// at night): one read instead of a search.
    Dense(Vec<i64>),
}

impl Consts {
    /// From the changes (`(transition, C from there on)`, in order) of a zone
    /// with `transitions` entries (its first, at `MIN_T`, included).
    fn new(steps: Vec<(u32, i64)>, transitions: usize) -> Consts {
        if steps.len() * 2 < transitions {
            let mut steps = steps;
            steps.shrink_to_fit();
            return Consts::Sparse(steps);
        }
        let mut dense = Vec::with_capacity(transitions);
        let mut k = 0;
        let mut next = steps.iter().peekable();
        for j in 0..transitions {
            if let Some(&(_, v)) = next.next_if(|&&(s, _)| s as usize == j) {
                k = v;
            }
            dense.push(k);
        }
        Consts::Dense(dense)
    }

    /// `C` from transition `j` on.
    #[inline]
    fn at(&self, j: usize) -> i64 {
        match self {
            Consts::Dense(c) => {
                // One constant per transition of the zone (an invariant of
                // `Consts::new`): a miss is a bug, never a zero.
                debug_assert!(j < c.len(), "transition {j} of {}", c.len());
                c.get(j).copied().unwrap_or(0)
            }
            Consts::Sparse(steps) => {
                let m = steps.partition_point(|&(s, _)| s as usize <= j);
                m.checked_sub(1)
                    .and_then(|i| steps.get(i))
                    .map_or(0, |&(_, k)| k)
            }
        }
    }
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
            Kind::Compiled { tables, .. } => tables.f(to) - tables.f(from),
        }
    }

    /// Whether `self` and `other` use one and the same compiled schedule: true
    /// when a [`Compiler`] compiled identical definitions for both (or one is a
    /// clone of the other). The 24/7 schedule has nothing compiled: false.
    pub fn shares_compiled(&self, other: &Schedule) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::Compiled { tables: a, .. }, Kind::Compiled { tables: b, .. }) => {
                Arc::ptr_eq(a, b)
            }
            _ => false,
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
            Kind::Compiled { name, tables } => tables.describe(name),
        }
    }
}

/// Compile one `[office_hours.NAME]` TOML table. Collects all errors; each is
/// one line starting with the full offending key and saying what to do.
///
/// This scans the schedule's zone (about 1-3 ms); to compile many schedules
/// use a [`Compiler`], which scans each zone once.
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
    Ok(Schedule::compiled(name, Arc::new(Compiled::new(raw, zone))))
}

/// Compiles the schedules of one configuration, sharing the work between
/// them: each zone's transitions are found once (the cost of a first schedule
/// in a zone), and schedules whose definitions are identical once validated
/// (same zone, weekly hours, versions, holidays and overrides, however
/// written) are compiled once and share one compiled schedule
/// ([`Schedule::shares_compiled`]). A plain value owned by the caller, for
/// compile time only; drop it when done.
#[derive(Debug, Default)]
pub struct Compiler {
    zones: ZoneCache,
    compiled: FxHashSet<Shared>,
}

impl Compiler {
    /// A compiler that has seen no schedule yet.
    pub fn new() -> Compiler {
        Compiler::default()
    }

    /// Compile one `[office_hours.NAME]` table as [`compile`] does, reusing
    /// the compiled schedule of an identical definition seen before.
    pub fn compile(&mut self, name: &str, table: &toml::Value) -> Result<Schedule, Vec<String>> {
        let raw = config::parse(name, table)?;
        let tables = match self.compiled.get(&raw) {
            Some(Shared(c)) => Arc::clone(c),
            None => {
                let zone = self.zones.get(raw.tz);
                let c = Arc::new(Compiled::new(raw, zone));
                self.compiled.insert(Shared(Arc::clone(&c)));
                c
            }
        };
        Ok(Schedule::compiled(name, tables))
    }

    /// Number of distinct compiled schedules so far (identical definitions
    /// count once).
    pub fn distinct(&self) -> usize {
        self.compiled.len()
    }
}

/// A compiled schedule in the [`Compiler`]'s set, identified by its
/// validated definition.
#[derive(Debug)]
struct Shared(Arc<Compiled>);

impl PartialEq for Shared {
    fn eq(&self, other: &Shared) -> bool {
        self.0.raw == other.0.raw
    }
}

impl Eq for Shared {}

impl Hash for Shared {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.raw.hash(state);
    }
}

impl Borrow<RawSchedule> for Shared {
    fn borrow(&self) -> &RawSchedule {
        &self.0.raw
    }
}

impl Schedule {
    fn compiled(name: &str, tables: Arc<Compiled>) -> Schedule {
        Schedule {
            kind: Kind::Compiled {
                name: Arc::from(name),
                tables,
            },
        }
    }
}

/// Weekly count of a version's own profile: open seconds of local time in
/// `[monday 1969-12-29 00:00, l)`.
#[inline]
fn weekly_count(week: &Profile, l: i64) -> i64 {
    let p = l + EPOCH_WEEKDAY * DAY;
    p.div_euclid(WEEK) * week.total + week.cum(p.rem_euclid(WEEK))
}

impl Compiled {
    fn new(raw: RawSchedule, zone: Arc<Zone>) -> Compiled {
        let mut c = Compiled {
            versions: Vec::with_capacity(raw.versions.len()),
            special_days: Vec::new(),
            specials: Vec::new(),
            zone,
            consts: Consts::Sparse(Vec::new()),
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
        let mut days: Vec<(i64, Option<Box<Profile>>)> = c
            .raw
            .holidays
            .iter()
            .map(|&d| (d, None))
            .chain(
                c.raw
                    .overrides
                    .iter()
                    .filter(|(d, _)| c.raw.holidays.binary_search(d).is_err())
                    .map(|(d, ivs)| (*d, Some(Box::new(Profile::day(ivs))))),
            )
            .collect();
        days.sort_by_key(|(d, _)| *d);
        c.special_days.reserve_exact(days.len());
        c.specials.reserve_exact(days.len());
        // Open seconds of each weekday (whole local dates, Monday first) by
        // each version. A version starts at a local midnight, so a date lies
        // within one: its weekly count is `G_weekly(next midnight) -
        // G_weekly(midnight)`, one of these.
        let day_open: Vec<[i64; 7]> = c
            .versions
            .iter()
            .map(|v| {
                std::array::from_fn(|wd| {
                    v.week.cum((wd as i64 + 1) * DAY) - v.week.cum(wd as i64 * DAY)
                })
            })
            .collect();
        let mut corr = 0;
        for (day, open) in days {
            let n = c.versions.partition_point(|v| v.from_local <= day * DAY);
            let wd = (day + EPOCH_WEEKDAY).rem_euclid(7) as usize;
            let weekly = n
                .checked_sub(1)
                .and_then(|v| day_open.get(v))
                .and_then(|row| row.get(wd))
                .copied()
                .unwrap_or(0);
            let special = open.as_ref().map_or(0, |p| p.total);
            c.special_days.push(day);
            c.specials.push(Special {
                corr_before: corr,
                corr_after: corr + special - weekly,
                open,
            });
            corr += special - weekly;
        }
        c.consts = Consts::new(c.transition_steps(), c.zone.times.len());
        c
    }

    /// The continuity constants of the zone's transitions, where they
    /// change. Transition `j` changes `C` by `G(T + before) - G(T + after)`:
    /// minus the open seconds of the wall-clock window it skips, plus those
    /// of the window it repeats. Away from special dates and version changes
    /// those open seconds depend only on the window's position in the week
    /// and its length, which the zone has only a few of ([`Zone::classes`]):
    /// they are computed once per class and version, and `G` is evaluated
    /// only for the windows that touch a special date or a version change.
    fn transition_steps(&self) -> Vec<(u32, i64)> {
        let zone = &*self.zone;
        let by_class: Vec<Vec<i64>> = self
            .versions
            .iter()
            .map(|v| {
                zone.classes
                    .iter()
                    .map(|&(lo, len)| weekly_count(&v.week, lo + len) - weekly_count(&v.week, lo))
                    .collect()
            })
            .collect();
        let days = &self.special_days;
        let mut k = 0;
        let mut steps = Vec::new();
        // First special date not before the current window's date; the
        // windows are in time order, so this only moves forward (a search
        // puts it back if a window ever starts earlier than the previous).
        let mut next_special: usize = 0;
        for (j, w) in zone.windows.iter().enumerate() {
            let (first_day, last_day) = (w.lo.div_euclid(DAY), w.hi.div_euclid(DAY));
            if next_special.checked_sub(1).and_then(|i| days.get(i)) >= Some(&first_day) {
                next_special = days.partition_point(|&d| d < first_day);
            }
            while days.get(next_special).is_some_and(|&d| d < first_day) {
                next_special += 1;
            }
            let special = days.get(next_special).is_some_and(|&d| d <= last_day);
            let n = self.versions.partition_point(|v| v.from_local <= w.lo);
            let version_change = self.versions.get(n).is_some_and(|v| v.from_local <= w.hi);
            let open = match n.checked_sub(1).and_then(|v| by_class.get(v)) {
                Some(row) if !special && !version_change => {
                    debug_assert!((w.class as usize) < row.len(), "window class out of range");
                    row.get(w.class as usize).copied().unwrap_or(0)
                }
                _ => self.g(w.hi) - self.g(w.lo),
            };
            if open != 0 {
                k += if w.fold { open } else { -open };
                // A zone has far fewer than 2^32 transitions (hundreds).
                steps.push((u32::try_from(j + 1).unwrap_or(u32::MAX), k));
            }
        }
        steps
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
        self.g_at(l, day, self.special_days.partition_point(|&d| d < day))
    }

    /// `G(l)` given `l`'s date `day` and the number `n` of special dates
    /// before it.
    #[inline]
    fn g_at(&self, l: i64, day: i64, n: usize) -> i64 {
        if self.special_days.get(n) == Some(&day)
            && let Some(s) = self.specials.get(n)
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
        let n = self.zone.times.partition_point(|&x| x <= t);
        let j = n.saturating_sub(1);
        debug_assert!(
            j < self.zone.offsets.len(),
            "a zone has an offset per transition"
        );
        let o = self.zone.offsets.get(j).copied().unwrap_or(0);
        self.g(t + o) + self.consts.at(j)
    }

    fn describe(&self, name: &str) -> String {
        let mut out = String::new();
        let tz: Tz = self.raw.tz;
        let _ = writeln!(
            out,
            "office_hours.{}: zone {}",
            key_segment(name),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// `C` of every transition by its definition: at transition `j` it
    /// changes by `G(T + before) - G(T + after)`, evaluated for each.
    fn consts_by_definition(c: &Compiled) -> Vec<i64> {
        let z = &c.zone;
        let mut k = 0;
        let mut consts = vec![0];
        for j in 1..z.times.len() {
            k += c.g(z.times[j] + z.offsets[j - 1]) - c.g(z.times[j] + z.offsets[j]);
            consts.push(k);
        }
        consts
    }

    fn tables(s: &Schedule) -> &Compiled {
        match &s.kind {
            Kind::Compiled { tables, .. } => tables,
            Kind::AlwaysOpen => panic!("not compiled"),
        }
    }

    /// Schedules whose hours, holidays, overrides and versions fall on the
    /// zone's own transition dates, where the shortcut by window class does
    /// not apply, and around them, where it does.
    fn schedules_around_transitions(zone: &str, z: &Zone) -> Vec<String> {
        let date = |w: &zone::Window| date_text(w.lo.div_euclid(DAY));
        let list = |step: usize, from: usize| -> Vec<String> {
            z.windows
                .iter()
                .skip(from)
                .step_by(step)
                .map(|w| format!("\"{}\"", date(w)))
                .collect()
        };
        let holidays = format!("holidays = [{}]", list(7, 0).join(", "));
        let overrides: Vec<String> = list(5, 2)
            .iter()
            .filter(|d| !holidays.contains(d.as_str()))
            .map(|d| format!("{d} = [\"00:30-02:30\", \"03:00-24:00\"]"))
            .collect();
        // A version from the date a window ends on: from midnight inside
        // the window when it spans midnight (America/Santiago, Pacific/Apia).
        let spans_midnight = z
            .windows
            .iter()
            .find(|w| w.lo.div_euclid(DAY) != w.hi.div_euclid(DAY));
        let version = spans_midnight
            .or(z.windows.get(z.windows.len() / 2))
            .map_or(String::new(), |w| {
                format!(
                    "[[versions]]\neffective_from = \"{}\"\nmonday = [\"09:00-17:00\"]\n",
                    date_text(w.hi.div_euclid(DAY))
                )
            });
        let tz = format!("timezone = \"{zone}\"\n");
        vec![
            format!(
                "{tz}monday = [\"00:00-00:00\"]\ntuesday = [\"00:00-00:00\"]\nwednesday = [\"00:00-00:00\"]\nthursday = [\"00:00-00:00\"]\nfriday = [\"00:00-00:00\"]\nsaturday = [\"00:00-00:00\"]\nsunday = [\"00:00-00:00\"]\n"
            ),
            format!(
                "{tz}sunday = [\"03:00-05:00\"]\nsaturday = [\"22:00-03:00\"]\nfriday = [\"09:00-17:00\"]\n"
            ),
            format!("{tz}monday = [\"09:00-17:00\"]\nsunday = [\"01:30-02:30\"]\n{holidays}\n"),
            format!(
                "{tz}sunday = [\"22:00-03:00\"]\nsaturday = [\"00:00-00:00\"]\n{holidays}\n[overrides]\n{}\n{version}",
                overrides.join("\n")
            ),
        ]
    }

    #[test]
    fn transition_constants_by_window_class_equal_their_definition() {
        let zones = [
            "UTC",
            "Europe/Dublin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Antarctica/Troll",
            "Pacific/Apia",
            "America/Santiago",
            "Asia/Kathmandu",
            "Asia/Tehran",
            "Africa/Casablanca",
            "Asia/Jerusalem",
            "America/Havana",
        ];
        let mut compiler = Compiler::new();
        let (mut dense, mut sparse) = (0, 0);
        for zone in zones {
            let tz: Tz = zone.parse().expect("zone");
            let z = compiler.zones.get(tz);
            for text in schedules_around_transitions(zone, &z) {
                let value: toml::Value = toml::from_str(&text).expect("test TOML");
                let s = compiler
                    .compile("t", &value)
                    .unwrap_or_else(|e| panic!("{text}\n{}", e.join("\n")));
                let c = tables(&s);
                let expected = consts_by_definition(c);
                let got: Vec<i64> = (0..expected.len()).map(|j| c.consts.at(j)).collect();
                assert_eq!(got, expected, "{text}");
                match &c.consts {
                    Consts::Dense(_) => dense += 1,
                    Consts::Sparse(steps) if !steps.is_empty() => sparse += 1,
                    Consts::Sparse(_) => {}
                }
            }
        }
        assert!(
            dense > 0 && sparse > 0,
            "both forms: {dense} dense, {sparse} sparse"
        );
    }

    #[test]
    fn a_zone_has_few_window_classes() {
        let z = Zone::discover(chrono_tz::Europe::Dublin);
        assert!(z.windows.len() > 200);
        assert!(z.classes.len() <= 4, "{:?}", z.classes);
    }
}
