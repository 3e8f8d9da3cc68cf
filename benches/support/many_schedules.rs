//! Many distinct office-hours schedules, as a multi-tenant deployment has
//! them: one per workspace, each with its own opening hours and holidays,
//! zones rotating through a list. Shared by `benches/office_hours.rs` and
//! `examples/oh_startup.rs` (included with `#[path]`).

use std::fmt::Write as _;

use chrono::{Duration, NaiveDate};

/// Zones the schedules rotate through (the first `zones` of them).
pub const ZONES: [&str; 16] = [
    "Europe/Dublin",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/Los_Angeles",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Europe/London",
    "America/Chicago",
    "Africa/Cairo",
    "Pacific/Auckland",
    "America/Santiago",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "UTC",
];

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// The body of `[office_hours.NAME]` for schedule `i`: weekdays open from
/// 07:00 + (i mod 120) minutes to 12:00 and from 13:00 + (i / 14 400 mod 60)
/// minutes to 16:00 + (i / 120 mod 120) minutes, so that no two schedules
/// below 864 000 are the same; `holidays` holidays every 37 days from
/// 2024-01-01 + (i mod 37) days; zone `i mod zones` of [`ZONES`].
pub fn schedule_toml(i: u32, holidays: u32, zones: usize) -> String {
    let open = 7 * 60 + i % 120;
    let back = 13 * 60 + (i / 14_400) % 60;
    let close = 16 * 60 + (i / 120) % 120;
    let week = format!(
        "[\"{}-12:00\", \"{}-{}\"]",
        hhmm(open),
        hhmm(back),
        hhmm(close)
    );
    let first =
        NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default() + Duration::days(i64::from(i % 37));
    let hol: Vec<String> = (0..holidays)
        .map(|k| format!("\"{}\"", first + Duration::days(i64::from(k) * 37)))
        .collect();
    let zone = ZONES
        .get(i as usize % zones.clamp(1, ZONES.len()))
        .copied()
        .unwrap_or("UTC");
    format!(
        "timezone = \"{zone}\"\nmonday = {week}\ntuesday = {week}\nwednesday = {week}\n\
         thursday = {week}\nfriday = {week}\nholidays = [{}]\n",
        hol.join(", ")
    )
}

/// A whole `convstats.toml`: `n` workspaces `ws0..`, workspace `wsI` with its
/// own schedule `wsI` = [`schedule_toml`]`(I, ..)`.
pub fn config(n: u32, holidays: u32, zones: usize) -> String {
    let mut s = String::with_capacity(n as usize * (400 + 15 * holidays as usize));
    s.push_str("[bots]\nauthor_ids = [\"274\"]\n");
    for i in 0..n {
        let _ = write!(
            s,
            "\n[workspaces.ws{i}]\noffice_hours = \"ws{i}\"\n[office_hours.ws{i}]\n{}",
            schedule_toml(i, holidays, zones)
        );
    }
    s
}
