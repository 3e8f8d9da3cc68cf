//! Property tests for office hours (office-hours.md, "Proof of correctness").
//!
//! The fast path (`Schedule::office_seconds`) is compared with a brute-force
//! oracle written here, independently of the implementation: it walks the span
//! minute by minute (offsets, transitions and schedule boundaries are all
//! whole minutes, so each minute is either wholly open or wholly closed; the
//! partial first and last minutes are weighed exactly) and decides each minute
//! by a linear scan of the *raw* configuration it generated, with the wall-clock
//! reading taken from chrono-tz. Nothing compiled is reused.
//!
//! Case counts: a default `cargo test` runs
//! `ORACLE_CASES + ALGEBRA_CASES + ALWAYS_OPEN_CASES` = 50 000 + 30 000 + 30 000
//! = 110 000 cases. To run more, set a multiplier:
//!
//! ```sh
//! CONVSTATS_PROPTEST_MULTIPLIER=10 cargo test --release --test office_hours_props
//! ```
//!
//! (`PROPTEST_CASES` is ignored here since each test sets its own count.)

use std::cell::RefCell;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use convstats::office_hours::{Schedule, ZoneCache, compile_with_cache};
use proptest::prelude::*;
use proptest::test_runner::Config;

const ORACLE_CASES: u32 = 50_000;
const ALGEBRA_CASES: u32 = 30_000;
const ALWAYS_OPEN_CASES: u32 = 30_000;

fn cases(base: u32) -> Config {
    let mult = std::env::var("CONVSTATS_PROPTEST_MULTIPLIER")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1);
    Config {
        cases: base.saturating_mul(mult),
        failure_persistence: None,
        ..Config::default()
    }
}

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

const MAX_T: i64 = 253_402_300_799;
const DAY: i64 = 86_400;

// ------------------------------------------------------------ raw config

/// An interval exactly as written: minutes of `HH:MM-HH:MM` (end may be 1440).
#[derive(Debug, Clone, Copy)]
struct Iv {
    start: u32,
    end: u32,
}

type RawWeek = [Vec<Iv>; 7];

#[derive(Debug, Clone)]
struct RawCfg {
    zone: &'static str,
    base: RawWeek,
    versions: Vec<(NaiveDate, RawWeek)>,
    holidays: Vec<NaiveDate>,
    overrides: Vec<(NaiveDate, Vec<Iv>)>,
}

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

fn week_toml(out: &mut String, week: &RawWeek) {
    const NAMES: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    for (name, ivs) in NAMES.iter().zip(week) {
        let list: Vec<String> = ivs
            .iter()
            .map(|iv| format!("\"{}-{}\"", hhmm(iv.start), hhmm(iv.end)))
            .collect();
        let _ = writeln!(out, "{name} = [{}]", list.join(", "));
    }
}

impl RawCfg {
    fn to_toml(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "timezone = \"{}\"", self.zone);
        week_toml(&mut s, &self.base);
        let hol: Vec<String> = self.holidays.iter().map(|d| format!("\"{d}\"")).collect();
        let _ = writeln!(s, "holidays = [{}]", hol.join(", "));
        let _ = writeln!(s, "[overrides]");
        for (d, ivs) in &self.overrides {
            let list: Vec<String> = ivs
                .iter()
                .map(|iv| format!("\"{}-{}\"", hhmm(iv.start), hhmm(iv.end)))
                .collect();
            let _ = writeln!(s, "\"{d}\" = [{}]", list.join(", "));
        }
        for (d, w) in &self.versions {
            let _ = writeln!(s, "[[versions]]\neffective_from = \"{d}\"");
            week_toml(&mut s, w);
        }
        s
    }

    fn compile(&self) -> Schedule {
        let text = self.to_toml();
        let value: toml::Value = toml::from_str(&text).expect("generated TOML parses");
        CACHE.with(
            |c| match compile_with_cache("p", &value, &mut c.borrow_mut()) {
                Ok(s) => s,
                Err(e) => panic!("generated config rejected:\n{text}\n{}", e.join("\n")),
            },
        )
    }
}

thread_local! {
    static CACHE: RefCell<ZoneCache> = RefCell::new(ZoneCache::new());
}

// ---------------------------------------------------------------- oracle

/// Open during the minute starting at UTC instant `t`? Linear scan of the raw config.
fn oracle_open(cfg: &RawCfg, tz: Tz, t: i64) -> bool {
    let Some(dt) = DateTime::from_timestamp(t, 0) else {
        return false;
    };
    let local = dt.with_timezone(&tz).naive_local();
    let date = local.date();
    let tod = local.hour() * 60 + local.minute();
    if cfg.holidays.contains(&date) {
        return false;
    }
    if let Some((_, ivs)) = cfg.overrides.iter().find(|(d, _)| *d == date) {
        return ivs.iter().any(|iv| iv.start <= tod && tod < iv.end);
    }
    let mut week = &cfg.base;
    let mut best: Option<NaiveDate> = None;
    for (from, w) in &cfg.versions {
        if *from <= date && best.is_none_or(|b| *from > b) {
            best = Some(*from);
            week = w;
        }
    }
    let wd = date.weekday().num_days_from_monday() as usize;
    let prev = (wd + 6) % 7;
    let same_day = week[wd].iter().any(|iv| {
        if iv.end > iv.start {
            iv.start <= tod && tod < iv.end
        } else {
            // runs past midnight (end < start) or 24 hours (end == start)
            tod >= iv.start
        }
    });
    let after_midnight = week[prev].iter().any(|iv| {
        if iv.end > iv.start {
            false
        } else if iv.end == iv.start {
            tod < iv.start
        } else {
            tod < iv.end
        }
    });
    same_day || after_midnight
}

/// Office seconds in [a, b) by walking minutes.
fn oracle(cfg: &RawCfg, a: i64, b: i64) -> i64 {
    if b < a {
        return -oracle(cfg, b, a);
    }
    let tz: Tz = cfg.zone.parse().expect("zone");
    let mut sum = 0;
    let mut m = a.div_euclid(60) * 60;
    while m < b {
        let lo = a.max(m);
        let hi = b.min(m + 60);
        if hi > lo && oracle_open(cfg, tz, m) {
            sum += hi - lo;
        }
        m += 60;
    }
    sum
}

// ------------------------------------------------------------ generators

fn offset_at(tz: Tz, t: i64) -> i32 {
    DateTime::from_timestamp(t, 0)
        .map(|d| {
            tz.offset_from_utc_datetime(&d.naive_utc())
                .fix()
                .local_minus_utc()
        })
        .unwrap_or(0)
}

/// Instants where each zone's offset changed, 1970-2040 and 2095-2100, found
/// by a daily scan and bisection (only to place test instants near them).
fn transitions(zone: &str) -> Vec<i64> {
    let tz: Tz = zone.parse().expect("zone");
    let mut out = Vec::new();
    for (from, to) in [(0, 2_208_988_800), (3_944_678_400, 4_102_444_800)] {
        let mut a = from;
        while a < to {
            let b = a + DAY;
            if offset_at(tz, a) != offset_at(tz, b) {
                let (mut lo, mut hi) = (a, b);
                while hi - lo > 1 {
                    let mid = (lo + hi) / 2;
                    if offset_at(tz, mid) == offset_at(tz, a) {
                        lo = mid
                    } else {
                        hi = mid
                    }
                }
                out.push(hi);
            }
            a = b;
        }
    }
    out
}

thread_local! {
    static TRANSITIONS: Vec<Vec<i64>> = ZONES.iter().map(|z| transitions(z)).collect();
}

/// Notable instants: Feb 29s, the Apia jump, the ends of the range.
const NOTABLE: [i64; 9] = [
    951_782_400,     // 2000-02-29
    1_330_473_600,   // 2012-02-29
    1_709_164_800,   // 2024-02-29
    4_107_542_400,   // 2100-03-01 (2100 is not a leap year)
    1_325_239_200,   // 2011-12-30T10:00Z, Apia skips a day
    253_402_214_400, // 9999-12-31
    86_400,          // 1970-01-02
    4_102_444_800,   // 2100-01-01
    1_798_761_600,   // 2027-01-01
];

/// An anchor instant: a transition of the zone, a notable date, a local
/// midnight, or anywhere.
fn anchor(zone_idx: usize, kind: u8, pick: u64, random: i64) -> i64 {
    match kind % 5 {
        0 | 1 => TRANSITIONS.with(|t| {
            let list = &t[zone_idx];
            if list.is_empty() {
                random
            } else {
                list[(pick % list.len() as u64) as usize]
            }
        }),
        2 => NOTABLE[(pick % NOTABLE.len() as u64) as usize],
        3 => local_midnight(ZONES[zone_idx], random),
        _ => random,
    }
}

/// The instant of the zone's local midnight starting the local date of `t`
/// (or the first instant of that date, when midnight was skipped).
fn local_midnight(zone: &str, t: i64) -> i64 {
    let tz: Tz = zone.parse().expect("zone");
    let Some(dt) = DateTime::from_timestamp(t.clamp(DAY, MAX_T - DAY), 0) else {
        return t;
    };
    let date = dt.with_timezone(&tz).date_naive();
    (0..24 * 60)
        .find_map(|m| {
            let local = date.and_hms_opt(0, 0, 0)? + chrono::Duration::minutes(m);
            tz.from_local_datetime(&local).earliest()
        })
        .map_or(t, |d| d.timestamp())
}

fn date_of(t: i64) -> NaiveDate {
    DateTime::from_timestamp(t.clamp(0, MAX_T), 0)
        .expect("in range")
        .date_naive()
}

/// Minutes from a mixture that favours midnight and round hours.
fn minute_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![
        2 => Just(0u32),
        3 => (0u32..24).prop_map(|h| h * 60),
        3 => (0u32..48).prop_map(|h| h * 30),
        2 => 0u32..1440,
    ]
}

/// A candidate weekly interval: (weekday, start, end-kind, end minute).
fn candidate() -> impl Strategy<Value = (usize, u32, u8, u32)> {
    (0usize..7, minute_strategy(), 0u8..6, minute_strategy())
}

/// Turn candidates into a valid week: end kinds give 24 h (start == end),
/// `24:00`, `00:00`, or a free end (which may run past midnight). Candidates
/// overlapping earlier ones on the cyclic week are dropped.
fn build_week(cands: &[(usize, u32, u8, u32)]) -> RawWeek {
    const W: i64 = 7 * 1440;
    let mut week: RawWeek = Default::default();
    let mut taken: Vec<(i64, i64)> = Vec::new();
    for &(wd, start, kind, free) in cands {
        let end = match kind {
            0 => start,
            1 => 1440,
            2 => 0,
            _ => free,
        };
        let len = if end > start {
            end - start
        } else {
            1440 - start + end
        } as i64;
        let s = wd as i64 * 1440 + start as i64;
        let e = s + len;
        // pieces on the cyclic week
        let pieces = if e <= W {
            vec![(s, e)]
        } else {
            vec![(s, W), (0, e - W)]
        };
        let clash = pieces
            .iter()
            .any(|&(ps, pe)| taken.iter().any(|&(ts, te)| ps < te && ts < pe));
        if !clash {
            taken.extend(pieces);
            week[wd].push(Iv { start, end });
        }
    }
    week
}

/// Override intervals: sorted cut points paired up, start < end.
fn build_override(cuts: &[u32]) -> Vec<Iv> {
    let mut c: Vec<u32> = cuts.iter().map(|m| (*m).min(1440)).collect();
    c.sort_unstable();
    c.dedup();
    c.chunks_exact(2)
        .map(|p| Iv {
            start: p[0],
            end: p[1],
        })
        .collect()
}

prop_compose! {
    /// A random schedule around `center`, with its queries' anchor.
    fn raw_cfg(zone_idx: usize, center: i64)(
        base in prop::collection::vec(candidate(), 0..8),
        versions in prop::collection::vec((-4i64..5, prop::collection::vec(candidate(), 0..6)), 0..3),
        holidays in prop::collection::vec(-3i64..4, 0..4),
        overrides in prop::collection::vec(
            (-3i64..4, prop::collection::vec(prop_oneof![Just(0u32), Just(1440u32), 0u32..1441], 0..6)),
            0..3),
    ) -> RawCfg {
        let day0 = date_of(center);
        let shift = |d: i64| day0 + chrono::Duration::days(d);
        let mut vs: Vec<(NaiveDate, RawWeek)> = Vec::new();
        for (d, c) in &versions {
            let date = shift(*d);
            if vs.iter().all(|(x, _)| *x != date) {
                vs.push((date, build_week(c)));
            }
        }
        let mut ovs: Vec<(NaiveDate, Vec<Iv>)> = Vec::new();
        for (d, cuts) in &overrides {
            let date = shift(*d);
            if ovs.iter().all(|(x, _)| *x != date) {
                ovs.push((date, build_override(cuts)));
            }
        }
        RawCfg {
            zone: ZONES[zone_idx],
            base: build_week(&base),
            versions: vs,
            holidays: holidays.iter().map(|d| shift(*d)).collect(),
            overrides: ovs,
        }
    }
}

/// An offset from the anchor: seconds, minutes around, or whole days plus noise.
fn offset_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => -7_200i64..7_200,
        2 => (-3i64..4, -120i64..121).prop_map(|(d, m)| d * DAY + m * 60),
        2 => (-3i64..4, -3_600i64..3_600).prop_map(|(d, s)| d * DAY + s),
        1 => -4 * DAY..4 * DAY,
    ]
}

/// (zone, config, a, b) with a and b clustered around an anchor.
fn oracle_case() -> impl Strategy<Value = (RawCfg, i64, i64)> {
    (0usize..ZONES.len(), any::<u8>(), any::<u64>(), 0i64..=MAX_T).prop_flat_map(
        |(z, kind, pick, random)| {
            let center = anchor(z, kind, pick, random).clamp(5 * DAY, MAX_T - 5 * DAY);
            (raw_cfg(z, center), offset_strategy(), offset_strategy()).prop_map(
                move |(cfg, da, db)| {
                    let a = (center + da).clamp(0, MAX_T);
                    let b = (center + db).clamp(0, MAX_T);
                    (cfg, a, b)
                },
            )
        },
    )
}

proptest! {
    #![proptest_config(cases(ORACLE_CASES))]

    /// The fast path equals the minute-stepping oracle.
    #[test]
    fn fast_path_matches_oracle((cfg, a, b) in oracle_case()) {
        let s = cfg.compile();
        let fast = s.office_seconds(a, b);
        let slow = oracle(&cfg, a, b);
        prop_assert_eq!(fast, slow, "zone {} a={} b={}\n{}", cfg.zone, a, b, cfg.to_toml());
    }
}

// ------------------------------------------------------ algebraic properties

/// Three instants anywhere from seconds to decades apart, clustered or not.
fn three_instants() -> impl Strategy<Value = (usize, i64, i64, i64)> {
    (
        0usize..ZONES.len(),
        any::<u8>(),
        any::<u64>(),
        0i64..=MAX_T,
        prop_oneof![offset_strategy(), -400 * DAY..400 * DAY, -MAX_T..MAX_T,],
        prop_oneof![offset_strategy(), 0..20 * 365 * DAY],
    )
        .prop_map(|(z, kind, pick, random, d1, d2)| {
            let c = anchor(z, kind, pick, random);
            let a = c.saturating_add(d1).clamp(-DAY, MAX_T + DAY);
            let b = c;
            let c2 = c.saturating_add(d2).clamp(-DAY, MAX_T + DAY);
            (z, a, b, c2)
        })
}

proptest! {
    #![proptest_config(cases(ALGEBRA_CASES))]

    /// Bounds, additivity and antisymmetry on random schedules and spans of
    /// any length (no oracle: spans may be centuries long).
    #[test]
    fn bounds_additivity_antisymmetry(
        (z, a, b, c) in three_instants(),
        cfg_seed in (0usize..ZONES.len()).prop_flat_map(|z| raw_cfg(z, 1_711_846_800)),
    ) {
        let cfg = RawCfg { zone: ZONES[z], ..cfg_seed };
        let s = cfg.compile();
        let (ab, bc, ac) = (s.office_seconds(a, b), s.office_seconds(b, c), s.office_seconds(a, c));
        prop_assert_eq!(ab + bc, ac);
        prop_assert_eq!(s.office_seconds(b, a), -ab);
        for (x, y) in [(a, b), (b, c), (a, c)] {
            let (lo, hi) = (x.min(y), x.max(y));
            let ooo = s.office_seconds(lo, hi);
            let plain = hi.clamp(0, MAX_T + 1) - lo.clamp(0, MAX_T + 1);
            prop_assert!(0 <= ooo && ooo <= plain, "ooo {} plain {}", ooo, plain);
        }
    }
}

/// The ways of writing "open all week".
fn always_open_cfg(zone: &'static str, form: u8, minute: u32) -> RawCfg {
    let week: RawWeek = match form % 4 {
        0 => std::array::from_fn(|_| vec![Iv { start: 0, end: 0 }]),
        1 => std::array::from_fn(|_| {
            vec![Iv {
                start: 0,
                end: 1440,
            }]
        }),
        // 24 hours from the same time every day, e.g. 09:00-09:00
        2 => std::array::from_fn(|_| {
            vec![Iv {
                start: minute,
                end: minute,
            }]
        }),
        // split at `minute`: 00:00-MM:MM and MM:MM-24:00 (or -00:00), touching
        _ if minute == 0 => std::array::from_fn(|_| vec![Iv { start: 0, end: 0 }]),
        _ => std::array::from_fn(|d| {
            vec![
                Iv {
                    start: 0,
                    end: minute,
                },
                Iv {
                    start: minute,
                    end: if d % 2 == 0 { 1440 } else { 0 },
                },
            ]
        }),
    };
    RawCfg {
        zone,
        base: week,
        versions: Vec::new(),
        holidays: Vec::new(),
        overrides: Vec::new(),
    }
}

proptest! {
    #![proptest_config(cases(ALWAYS_OPEN_CASES))]

    /// 24/7 equals plain in every zone, however it is written, across any DST change.
    #[test]
    fn always_open_equals_plain(
        (z, a, _, c) in three_instants(),
        form in any::<u8>(),
        minute in 0u32..1440,
    ) {
        let cfg = always_open_cfg(ZONES[z], form, minute);
        let s = cfg.compile();
        let (lo, hi) = (a.clamp(0, MAX_T + 1), c.clamp(0, MAX_T + 1));
        prop_assert_eq!(s.office_seconds(lo, hi), hi - lo);
        prop_assert_eq!(Schedule::always_open().office_seconds(lo, hi), hi - lo);
    }
}
