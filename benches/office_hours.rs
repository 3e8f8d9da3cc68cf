//! Office-hours query cost (office-hours.md, "Speed").
//!
//! A Europe/Dublin schedule with a lunch break and 300 holidays; spans from
//! 1 second to 10 years, log-uniformly distributed, starting anywhere in
//! 2015-2035. Measures `office_seconds` per query, the same on 10-year spans
//! only (to show the cost does not grow with the span), a naive day-by-day
//! walk for the ratio, and one `compile` on its own (TOML parsing and the
//! scan of the zone included).
//!
//! Start-up (the cost of compiling schedules): `compile_per_schedule/*` is
//! the time per schedule of compiling many distinct schedules with one
//! [`Compiler`] whose zones were already scanned (in one zone or across
//! eight, with no holidays or 300 each; TOML already parsed, as
//! `config::parse` has it), `compile_per_schedule/identical` the time for a
//! definition seen before (shared), `compile_first_in_zone/*` the one-off scan
//! of a zone, and `config_parse/*` a whole `convstats.toml` of 20 000
//! workspaces each with its own schedule (`benches/support/many_schedules.rs`).
//!
//! Run: `cargo bench --bench office_hours` (add a filter such as
//! `compile_per_schedule` to run only those).

use std::hint::black_box;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use convstats::office_hours::{Compiler, Schedule, compile};
use criterion::{Criterion, criterion_group, criterion_main};

#[path = "support/many_schedules.rs"]
mod many_schedules;

const DAY: i64 = 86_400;
const YEAR: i64 = 365 * DAY;
const START_2015: i64 = 1_420_070_400;

/// splitmix64: a small deterministic generator, enough for query mixes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// 300 holidays: every 23rd day from 2016-01-01.
fn holidays() -> Vec<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(2016, 1, 1).expect("date");
    (0..300).map(|i| first + Duration::days(i * 23)).collect()
}

const WEEK: [(&str, &[(u32, u32)]); 5] = [
    ("monday", &[(540, 750), (810, 1050)]),
    ("tuesday", &[(540, 750), (810, 1050)]),
    ("wednesday", &[(540, 750), (810, 1050)]),
    ("thursday", &[(540, 750), (810, 1050)]),
    ("friday", &[(540, 750), (810, 1020)]),
];

fn config_text() -> String {
    let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
    let mut s = String::from("timezone = \"Europe/Dublin\"\n");
    for (day, ivs) in WEEK {
        let list: Vec<String> = ivs
            .iter()
            .map(|(a, b)| format!("\"{}-{}\"", hhmm(*a), hhmm(*b)))
            .collect();
        s.push_str(&format!("{day} = [{}]\n", list.join(", ")));
    }
    let hol: Vec<String> = holidays().iter().map(|d| format!("\"{d}\"")).collect();
    s.push_str(&format!("holidays = [{}]\n", hol.join(", ")));
    s
}

/// The naive way: walk local dates from the start's to the end's, and for each
/// open interval of each non-holiday date convert its ends to UTC and clip.
fn naive(tz: Tz, holidays: &[NaiveDate], a: i64, b: i64) -> i64 {
    let to_utc = |d: NaiveDate, minute: u32| -> i64 {
        let local =
            d.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(i64::from(minute));
        tz.from_local_datetime(&local)
            .earliest()
            .map_or(0, |t| t.timestamp())
    };
    let (Some(sa), Some(sb)) = (
        chrono::DateTime::from_timestamp(a, 0),
        chrono::DateTime::from_timestamp(b, 0),
    ) else {
        return 0;
    };
    let mut day = sa.with_timezone(&tz).date_naive();
    let last = sb.with_timezone(&tz).date_naive();
    let mut sum = 0;
    while day <= last {
        if !holidays.contains(&day) {
            let wd = day.weekday().num_days_from_monday() as usize;
            if let Some((_, ivs)) = WEEK.get(wd) {
                for (s, e) in ivs.iter() {
                    let (us, ue) = (to_utc(day, *s).max(a), to_utc(day, *e).min(b));
                    sum += (ue - us).max(0);
                }
            }
        }
        day += Duration::days(1);
    }
    sum
}

fn queries(n: usize, min_len: f64) -> Vec<(i64, i64)> {
    let mut rng = Rng(42);
    (0..n)
        .map(|_| {
            let a = START_2015 + (rng.unit() * (20 * YEAR) as f64) as i64;
            // log-uniform length in [min_len, 10 years]
            let (lo, hi) = (min_len.ln(), ((10 * YEAR) as f64).ln());
            let len = (lo + rng.unit() * (hi - lo)).exp() as i64;
            (a, a + len.max(1))
        })
        .collect()
}

fn schedule() -> Schedule {
    let v: toml::Value = toml::from_str(&config_text()).expect("bench TOML");
    compile("bench", &v).expect("bench schedule compiles")
}

fn bench(c: &mut Criterion) {
    let s = schedule();
    let tz: Tz = "Europe/Dublin".parse().expect("zone");
    let hol = holidays();
    let mixed = queries(4096, 1.0);
    let decade = queries(4096, (10 * YEAR) as f64 - 1.0);

    // The naive walk agrees with the fast path on this schedule (no interval
    // touches a DST change), so the ratio compares like with like.
    for &(a, b) in mixed.iter().take(200) {
        assert_eq!(
            s.office_seconds(a, b),
            naive(tz, &hol, a, b),
            "span {a}..{b}"
        );
    }

    let mut i = 0usize;
    c.bench_function("office_seconds/1s-10y", |bch| {
        bch.iter(|| {
            let (a, b) = mixed[i & 4095];
            i = i.wrapping_add(1);
            black_box(s.office_seconds(black_box(a), black_box(b)))
        })
    });
    let mut i = 0usize;
    c.bench_function("office_seconds/10y", |bch| {
        bch.iter(|| {
            let (a, b) = decade[i & 4095];
            i = i.wrapping_add(1);
            black_box(s.office_seconds(black_box(a), black_box(b)))
        })
    });
    let mut i = 0usize;
    c.bench_function("naive_day_walk/1s-10y", |bch| {
        bch.iter(|| {
            let (a, b) = mixed[i & 4095];
            i = i.wrapping_add(1);
            black_box(naive(tz, &hol, black_box(a), black_box(b)))
        })
    });
    let text = config_text();
    c.bench_function("compile/dublin_300_holidays", |bch| {
        bch.iter(|| {
            let v: toml::Value = toml::from_str(black_box(&text)).expect("bench TOML");
            black_box(compile("bench", &v).is_ok())
        })
    });
}

/// Distinct schedules compiled per timed batch (a fresh [`Compiler`] each).
const POOL: usize = 1000;

fn parsed(text: &str) -> toml::Value {
    toml::from_str(text).expect("bench TOML")
}

fn startup(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile_per_schedule");
    for (label, zones, holidays) in [
        ("one_zone", 1, 0),
        ("one_zone_300_holidays", 1, 300),
        ("8_zones", 8, 0),
        ("8_zones_300_holidays", 8, 300),
    ] {
        let pool: Vec<toml::Value> = (0..POOL as u32)
            .map(|i| parsed(&many_schedules::schedule_toml(i, holidays, zones)))
            .collect();
        // One 24/7 schedule per zone (unlike any in the pool) scans the zones
        // before the clock starts.
        let warm: Vec<toml::Value> = many_schedules::ZONES
            .iter()
            .take(zones)
            .map(|z| parsed(&format!("timezone = \"{z}\"\nmonday = [\"00:00-00:00\"]\n")))
            .collect();
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                let mut total = StdDuration::ZERO;
                let mut left = iters as usize;
                while left > 0 {
                    let mut compiler = Compiler::new();
                    for w in &warm {
                        black_box(compiler.compile("warm", w).is_ok());
                    }
                    let n = left.min(POOL);
                    let t = Instant::now();
                    for v in pool.iter().take(n) {
                        black_box(compiler.compile("s", black_box(v)).is_ok());
                    }
                    total += t.elapsed();
                    assert_eq!(compiler.distinct(), n + warm.len(), "all distinct");
                    left -= n;
                }
                total
            })
        });
    }
    let dublin = parsed(&config_text());
    let mut compiler = Compiler::new();
    let first = compiler.compile("a", &dublin).expect("bench schedule");
    group.bench_function("identical", |b| {
        b.iter(|| {
            let s = compiler
                .compile("b", black_box(&dublin))
                .expect("bench schedule");
            black_box(s.shares_compiled(&first))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("compile_first_in_zone");
    for zone in ["Europe/Dublin", "Asia/Tokyo", "UTC"] {
        let v = parsed(&format!(
            "timezone = \"{zone}\"\nmonday = [\"09:00-17:00\"]\n"
        ));
        group.bench_function(zone.replace('/', "_"), |b| {
            b.iter(|| black_box(compile("s", black_box(&v)).is_ok()))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("config_parse");
    group.sample_size(10);
    group.measurement_time(StdDuration::from_secs(20));
    let text = many_schedules::config(20_000, 10, 8);
    group.bench_function("20000_workspaces_distinct_schedules_8_zones", |b| {
        // The settings are dropped outside the clock, as a process exits.
        b.iter_with_large_drop(|| {
            let s = convstats::config::parse(black_box(&text)).expect("bench config");
            assert_eq!(s.office_hours.distinct_schedules(), 20_000);
            s
        })
    });
    group.finish();
}

criterion_group!(benches, bench, startup);
criterion_main!(benches);
