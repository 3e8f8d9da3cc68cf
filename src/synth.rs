//! Synthetic Intercom conversations (`convstats gen`): deterministic, realistic
//! NDJSON for demos, tests and benchmarks.
//!
//! This module owns the generator and nothing else: it does no argument parsing
//! and reads no configuration. Each output line is one complete conversation
//! object in the shape of Intercom's `GET /conversations/{id}` response (parts
//! nested under `conversation_parts`, integer Unix-second timestamps, string
//! ids), plus the `workspace_id` extension of input.md.
//!
//! # Determinism
//!
//! Conversation `index` is generated from a ChaCha8 stream seeded with
//! `(seed, index)` only, so a line does not depend on the number of
//! conversations requested, on threading, or on the order of generation:
//! [`write_all`] is byte-identical to calling [`write_conversation`] for
//! `0..conversations` in order.
//!
//! # What the data holds
//!
//! - Workspaces `ws-1`, `ws-2`, ... ([`workspace_info`]) each with its own IANA
//!   zone and Monday–Friday office hours, a pool of customers (`user`, `lead`,
//!   `contact`), human admins and teams. Arrivals peak in local weekday
//!   business hours; nights and weekends are quieter.
//! - Message kinds: `customer_initiated` (most), `admin_initiated` and
//!   `automated` outbound messages (answered hours or days later, or never; some
//!   automated ones carry the `source.created_at` extension with the conversation
//!   created when the customer answered), and `operator_initiated`.
//! - Parts: `comment`, `note`, `assignment`, `default_assignment`,
//!   `away_mode_assignment`, `assign_and_reopen`, `note_and_reopen`, `open`
//!   (customer reply after a close, with a body), `close` (mostly by admins,
//!   some by bots, some with a reply body, rarely by the customer), `snoozed`,
//!   `unsnoozed`, `quick_reply`, `attribute_collected`, and part types convstats
//!   does not know (`language_detection_details`,
//!   `conversation_attribute_updated_by_admin`, `call_summary`). Several close /
//!   reopen cycles occur. Reply delays are log-normal, mostly pushed into office
//!   hours, some out of hours and some across weekends.
//! - Bots: the Operator-like admin [`OPERATOR_ADMIN_ID`] (`author.type:
//!   "admin"`, recognisable only when configured as a bot author id), the bot
//!   [`FIN_BOT_ID`] (`author.type: "bot"`), and AI-agent parts by admin
//!   [`AI_AGENT_ADMIN_ID`] carrying `from_ai_agent: true`. The same ids are used
//!   in every workspace.
//!
//! Parts are in time order with increasing numeric string ids (ties in time
//! happen, e.g. a default assignment in the same second as the initial
//! message). The conversation's `updated_at` is its last part's time (its
//! `created_at` when it has no parts); `state` follows the last close, reopen or
//! snooze; `first_contact_reply` is computed by metrics.md section 3.

use std::io::{self, Write};
use std::sync::mpsc;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Id of the Operator-like admin (`author.type: "admin"`, name "Operator"). It
/// routes, auto-replies, snoozes back and closes idle conversations; configure
/// it as a bot author id (`[bots] author_ids = ["990000001"]`) so its parts
/// count as a bot's. Same id in every workspace.
pub const OPERATOR_ADMIN_ID: &str = "990000001";
/// Id of the bot with `author.type: "bot"` (name "Fin").
pub const FIN_BOT_ID: &str = "990000002";
/// Id of the admin that posts AI-agent answers with `from_ai_agent: true`.
pub const AI_AGENT_ADMIN_ID: &str = "990000003";

/// Parameters of a generated data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenParams {
    /// Number of conversations (lines) to generate.
    pub conversations: u64,
    /// Seed: the same parameters always give the same bytes.
    pub seed: u64,
    /// Number of workspaces (`ws-1` ... `ws-K`); at least 1 ([`GenParams::validate`]).
    pub workspaces: u32,
    /// First local date of the arrival window.
    pub start: NaiveDate,
    /// Length of the arrival window in days; at least 1 ([`GenParams::validate`]).
    pub days: u32,
}

impl Default for GenParams {
    /// The CLI defaults: 1,000 conversations, seed 1, 3 workspaces, 28 days
    /// from Monday 2026-01-05.
    fn default() -> Self {
        GenParams {
            conversations: 1000,
            seed: 1,
            workspaces: 3,
            start: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default(),
            days: 28,
        }
    }
}

impl GenParams {
    /// Unix seconds of `start` at 00:00 UTC: no conversation is created earlier.
    pub fn window_start(&self) -> i64 {
        self.start
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp()
    }

    /// Unix seconds of `start + days` at 00:00 UTC: every conversation is
    /// created (and every outbound message sent) before this instant.
    pub fn window_end(&self) -> i64 {
        self.window_start() + i64::from(self.days.max(1)) * DAY
    }

    fn workspace_count(&self) -> u32 {
        self.workspaces.max(1)
    }

    /// Refuses parameters whose output `compute` could not read back, or
    /// that the generator would have to change: no workspace, an empty
    /// window, or timestamps outside 1970-01-01..9999-12-31 UTC (the window
    /// plus [`HORIZON`] must fit). The message names the flag to fix.
    pub fn validate(&self) -> Result<(), String> {
        if self.workspaces == 0 {
            return Err("--workspaces must be at least 1".into());
        }
        if self.days == 0 {
            return Err("--days must be at least 1".into());
        }
        if self.window_start() < 0 {
            return Err(format!(
                "--start {} is before 1970-01-01: input timestamps cannot be earlier (input.md)",
                self.start
            ));
        }
        let last = self.window_end() + HORIZON - 1;
        if last > crate::record::timestamp::MAX_SECONDS {
            let limit = crate::record::timestamp::MAX_SECONDS - HORIZON + 1 - self.window_start();
            return Err(format!(
                "--start {} with --days {} generates timestamps after 9999-12-31, which input timestamps cannot be; from that start, --days can be at most {}",
                self.start,
                self.days,
                (limit / DAY).max(0)
            ));
        }
        Ok(())
    }
}

/// No part is later than `created_at` (or `source.created_at`) plus this many
/// seconds, so every timestamp lies in `[window_start, window_end + HORIZON)`.
pub const HORIZON: i64 = 21 * DAY;

/// Upper bound on the parts of one conversation.
pub const MAX_PARTS: usize = 40;

const MINUTE: i64 = 60;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// A generated workspace: what a `convstats.toml` needs to describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceInfo {
    /// The `workspace_id` written on its conversations (`ws-1`, ...).
    pub name: String,
    /// Its time zone.
    pub zone: Tz,
    /// Local office hours, Monday to Friday: `[open_hour:00, close_hour:00)`.
    pub open_hour: u32,
    /// See `open_hour`.
    pub close_hour: u32,
    /// Ids of its human admins.
    pub admin_ids: Vec<String>,
    /// Ids of its teams.
    pub team_ids: Vec<String>,
}

struct Profile {
    zone: Tz,
    open: u32,
    close: u32,
    weight: f64,
    admins: u8,
}

const PROFILES: [Profile; 6] = [
    Profile {
        zone: chrono_tz::Europe::Dublin,
        open: 9,
        close: 17,
        weight: 5.0,
        admins: 8,
    },
    Profile {
        zone: chrono_tz::America::New_York,
        open: 8,
        close: 18,
        weight: 3.0,
        admins: 10,
    },
    Profile {
        zone: chrono_tz::Australia::Sydney,
        open: 9,
        close: 17,
        weight: 2.0,
        admins: 6,
    },
    Profile {
        zone: chrono_tz::America::Los_Angeles,
        open: 9,
        close: 17,
        weight: 2.0,
        admins: 6,
    },
    Profile {
        zone: chrono_tz::Europe::Berlin,
        open: 8,
        close: 16,
        weight: 1.5,
        admins: 5,
    },
    Profile {
        zone: chrono_tz::Asia::Tokyo,
        open: 9,
        close: 18,
        weight: 1.0,
        admins: 5,
    },
];

const TEAMS: u8 = 3;

fn profile(ws: u32) -> &'static Profile {
    &PROFILES[ws as usize % PROFILES.len()]
}

fn admin_number(ws: u32, j: u8) -> u64 {
    1_000_000 + (u64::from(ws) + 1) * 1000 + 100 + u64::from(j)
}

fn team_number(ws: u32, t: u8) -> u64 {
    5_000_000 + (u64::from(ws) + 1) * 100 + u64::from(t)
}

/// Workspace of a conversation, drawn by the profiles' volume weights (the
/// weights cycle with the profiles; O(1) in the number of workspaces).
fn pick_workspace(rng: &mut Rnd, k: u32) -> u32 {
    let len = PROFILES.len() as u32;
    let cycle: f64 = PROFILES.iter().map(|p| p.weight).sum();
    let (full, rest) = (k / len, k % len);
    let partial: f64 = PROFILES.iter().take(rest as usize).map(|p| p.weight).sum();
    let x = rng.f64() * (f64::from(full) * cycle + partial);
    let c = ((x / cycle) as u32).min(full);
    let mut y = x - f64::from(c) * cycle;
    let limit = if c == full { rest } else { len };
    for (i, p) in PROFILES.iter().enumerate().take(limit as usize) {
        if y < p.weight {
            return c * len + i as u32;
        }
        y -= p.weight;
    }
    (c * len + limit.saturating_sub(1)).min(k.saturating_sub(1))
}

/// Workspace `k` (0-based) of a generated data set: `ws-{k+1}`. Zones cycle
/// through Europe/Dublin, America/New_York, Australia/Sydney,
/// America/Los_Angeles, Europe/Berlin, Asia/Tokyo.
pub fn workspace_info(k: u32) -> WorkspaceInfo {
    let p = profile(k);
    WorkspaceInfo {
        name: format!("ws-{}", u64::from(k) + 1),
        zone: p.zone,
        open_hour: p.open,
        close_hour: p.close,
        admin_ids: (0..p.admins)
            .map(|j| admin_number(k, j).to_string())
            .collect(),
        team_ids: (0..TEAMS).map(|t| team_number(k, t).to_string()).collect(),
    }
}

/// A `convstats.toml` (office-hours.md) describing the workspaces of a data
/// set generated with `workspaces` workspaces, with the Operator-like admin
/// configured as a bot author id.
pub fn sample_config(workspaces: u32) -> String {
    let mut s = String::from("# Office hours of the workspaces written by `convstats gen`.\n");
    s.push_str(&format!("[bots]\nauthor_ids = [\"{OPERATOR_ADMIN_ID}\"]\n"));
    for k in 0..workspaces.max(1) {
        let w = workspace_info(k);
        let hours = format!("[\"{:02}:00-{:02}:00\"]", w.open_hour, w.close_hour);
        s.push_str(&format!(
            "\n[workspaces.{name}]\noffice_hours = \"{name}\"\n\n[office_hours.{name}]\n\
             timezone = \"{zone}\"\nmonday = {h}\ntuesday = {h}\nwednesday = {h}\n\
             thursday = {h}\nfriday = {h}\nsaturday = []\nsunday = []\n",
            name = w.name,
            zone = w.zone.name(),
            h = hours,
        ));
    }
    s
}

// ---------------------------------------------------------------------------
// Randomness

struct Rnd(ChaCha8Rng);

impl Rnd {
    fn new(seed: u64, index: u64) -> Rnd {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&index.to_le_bytes());
        key[16..24].copy_from_slice(b"convstat");
        key[24..].copy_from_slice(b"gen-v1\0\0");
        Rnd(ChaCha8Rng::from_seed(key))
    }

    fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `[0, 1)`.
    fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)`; 0 when `n == 0`.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[lo, hi]` (`lo` when `hi < lo`).
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    fn pick<T: Copy>(&mut self, xs: &[T], fallback: T) -> T {
        let i = self.below(xs.len() as u64) as usize;
        xs.get(i).copied().unwrap_or(fallback)
    }

    /// Index drawn with the given relative weights.
    fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.f64();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Log-normal seconds with the given median, clamped to `[lo, hi]`.
    fn lognormal(&mut self, median: f64, sigma: f64, lo: i64, hi: i64) -> i64 {
        let x = median * (sigma * self.normal()).exp();
        if x.is_finite() {
            (x as i64).clamp(lo, hi.max(lo))
        } else {
            hi.max(lo)
        }
    }
}

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

// ---------------------------------------------------------------------------
// Time

fn to_utc(zone: Tz, local: NaiveDateTime) -> Option<i64> {
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
fn office_from(p: &Profile, t: i64) -> i64 {
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

fn in_office(p: &Profile, t: i64) -> bool {
    office_from(p, t) == t
}

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

/// An arrival instant inside the window, shaped by local day and hour weights.
fn arrival(
    rng: &mut Rnd,
    params: &GenParams,
    p: &Profile,
    days_w: &[f64; 7],
    workday: &[f64; 24],
    weekend: &[f64; 24],
) -> i64 {
    let (lo, hi) = (params.window_start(), params.window_end());
    let days = u64::from(params.days.max(1));
    for _ in 0..32 {
        let Some(date) = params.start.checked_add_days(Days::new(rng.below(days))) else {
            continue;
        };
        let wd = date.weekday().num_days_from_monday() as usize;
        if rng.f64() * 1.2 >= days_w.get(wd).copied().unwrap_or(1.0) {
            continue;
        }
        let hours = if wd < 5 { workday } else { weekend };
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

// ---------------------------------------------------------------------------
// The conversation model

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Who {
    Customer,
    Admin(u8),
    Operator,
    Fin,
    AiAgent,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    None,
    Admin(u8),
    Team(u8),
    Nobody,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Open,
    Closed,
    Snoozed,
}

struct Part {
    kind: &'static str,
    t: i64,
    updated: i64,
    who: Who,
    body: Option<&'static str>,
    target: Target,
    attachment: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Customer,
    AdminInitiated,
    Automated,
    OperatorInitiated,
}

/// Stops the story: the part cap or the horizon was reached.
struct Stop;

struct Story<'a> {
    rng: &'a mut Rnd,
    p: &'static Profile,
    parts: Vec<Part>,
    t: i64,
    horizon: i64,
    state: State,
    admin: Option<u8>,
    team: Option<u8>,
    owner: u8,
    waiting_since: Option<i64>,
    snoozed_until: Option<i64>,
    fcr: Option<i64>,
}

type Step = Result<(), Stop>;

impl Story<'_> {
    fn add(
        &mut self,
        kind: &'static str,
        t: i64,
        who: Who,
        body: Option<&'static str>,
        target: Target,
    ) -> Step {
        let t = t.max(self.t);
        if self.parts.len() >= MAX_PARTS || t > self.horizon {
            return Err(Stop);
        }
        self.t = t;
        let attachment = body.is_some() && who != Who::Fin && self.rng.chance(0.03);
        self.parts.push(Part {
            kind,
            t,
            updated: t,
            who,
            body,
            target,
            attachment,
        });
        let customer = who == Who::Customer;
        let visible = match kind {
            "comment" | "quick_reply" => true,
            "note" | "note_and_reopen" => false,
            _ => body.is_some(),
        };
        let contact_reply = (customer && visible) || kind == "attribute_collected";
        match kind {
            "close" => {
                self.state = State::Closed;
                self.waiting_since = None;
                self.snoozed_until = None;
            }
            "snoozed" => self.state = State::Snoozed,
            "unsnoozed" => {
                self.state = State::Open;
                self.snoozed_until = None;
            }
            "open" | "assign_and_reopen" | "note_and_reopen" => self.state = State::Open,
            _ if contact_reply && self.state == State::Closed => self.state = State::Open,
            _ => {}
        }
        if matches!(
            kind,
            "assignment" | "default_assignment" | "assign_and_reopen" | "away_mode_assignment"
        ) {
            match target {
                Target::Admin(a) => {
                    self.admin = Some(a);
                    self.owner = a;
                }
                Target::Team(tm) => {
                    self.team = Some(tm);
                    self.admin = None;
                }
                Target::Nobody => self.admin = None,
                Target::None => {}
            }
        }
        if contact_reply {
            self.fcr.get_or_insert(t);
            if self.state != State::Closed {
                self.waiting_since.get_or_insert(t);
            }
        } else if visible && matches!(who, Who::Admin(_)) {
            // A human admin's visible reply ends the wait; bots' do not.
            self.waiting_since = None;
        }
        Ok(())
    }

    fn other_admin(&mut self) -> u8 {
        let n = u64::from(self.p.admins.max(2));
        let step = 1 + self.rng.below(n - 1) as u8;
        (self.owner + step) % self.p.admins.max(2)
    }

    /// When a human admin acts after `after`: log-normal delay, usually moved
    /// into office hours (weekend messages get a Monday answer).
    fn admin_time(&mut self, after: i64) -> i64 {
        let mut t = after + self.rng.lognormal(18.0 * 60.0, 1.3, 15, 2 * DAY);
        if self.rng.chance(0.88) && !in_office(self.p, t) {
            t = office_from(self.p, t) + self.rng.lognormal(20.0 * 60.0, 1.0, 30, 4 * HOUR);
        }
        t
    }

    fn customer_time(&mut self, after: i64) -> i64 {
        after + self.rng.lognormal(35.0 * 60.0, 1.6, 10, 5 * DAY)
    }

    fn bot_time(&mut self, after: i64) -> i64 {
        after + self.rng.range(1, 20)
    }

    /// Bots at the door of a customer-written conversation.
    fn reception(&mut self) -> Step {
        let t0 = self.t;
        if self.rng.chance(0.62) {
            let team = self.rng.below(u64::from(TEAMS)) as u8;
            let at = t0 + self.rng.range(0, 2);
            self.add(
                "default_assignment",
                at,
                Who::Operator,
                None,
                Target::Team(team),
            )?;
        }
        if self.rng.chance(0.08) {
            let at = self.bot_time(self.t);
            self.add(
                "language_detection_details",
                at,
                Who::Fin,
                None,
                Target::None,
            )?;
        }
        if self.rng.chance(0.3) {
            let body = if in_office(self.p, t0) {
                BOT_GREETING
            } else {
                BOT_AWAY
            };
            let at = self.bot_time(self.t);
            self.add("comment", at, Who::Operator, Some(body), Target::None)?;
        }
        if self.rng.chance(0.18) {
            // AI agent answers first.
            let at = self.t + self.rng.range(5, 40);
            let answer = self.rng.pick(AI_ANSWERS, AI_ANSWERS_FALLBACK);
            self.add("comment", at, Who::AiAgent, Some(answer), Target::None)?;
            if self.rng.chance(0.5) {
                let at = self.bot_time(self.t);
                self.add("quick_reply", at, Who::AiAgent, None, Target::None)?;
                let at = self.customer_time(self.t).min(self.t + 10 * MINUTE);
                let choice = self.rng.pick(QUICK_CHOICES, QUICK_CHOICES_FALLBACK);
                self.add("quick_reply", at, Who::Customer, Some(choice), Target::None)?;
            }
            if self.rng.chance(0.38) {
                // Resolved by the AI agent.
                if self.rng.chance(0.6) {
                    let at = self.customer_time(self.t).min(self.t + HOUR);
                    self.add(
                        "comment",
                        at,
                        Who::Customer,
                        Some(CUSTOMER_THANKS),
                        Target::None,
                    )?;
                }
                let at = self.t + self.rng.range(3 * MINUTE, 2 * HOUR);
                self.add("close", at, Who::Fin, None, Target::None)?;
                return Err(Stop);
            }
            let at = self.bot_time(self.t);
            let team = self.rng.below(u64::from(TEAMS)) as u8;
            self.add("assignment", at, Who::Operator, None, Target::Team(team))?;
        } else if self.rng.chance(0.15) {
            // Operator collects an attribute before routing.
            let at = self.bot_time(self.t);
            self.add(
                "comment",
                at,
                Who::Operator,
                Some(BOT_ASK_EMAIL),
                Target::None,
            )?;
            let at = self.t + self.rng.range(10, 5 * MINUTE);
            self.add("attribute_collected", at, Who::Customer, None, Target::None)?;
        }
        if self.rng.chance(0.1) {
            let at = self.bot_time(self.t);
            let who = if self.rng.chance(0.5) {
                Who::Operator
            } else {
                Who::Fin
            };
            self.add(
                "conversation_attribute_updated_by_admin",
                at,
                who,
                None,
                Target::None,
            )?;
        }
        Ok(())
    }

    /// `rounds` exchanges after a customer message: an admin answers (maybe
    /// assigning, noting, snoozing), then the customer writes again except after
    /// the last round.
    fn exchange(&mut self, rounds: u32) -> Step {
        for r in 0..rounds {
            let at = self.admin_time(self.t);
            let mut replied = false;
            if (self.admin.is_none() && self.rng.chance(0.75)) || self.rng.chance(0.06) {
                let to = if self.admin.is_none() {
                    self.rng.below(u64::from(self.p.admins)) as u8
                } else {
                    self.other_admin()
                };
                let roll = self.rng.f64();
                if roll < 0.03 {
                    let who = Who::Admin(self.owner);
                    self.add("assignment", at, who, None, Target::Nobody)?;
                } else if roll < 0.06 {
                    self.add(
                        "away_mode_assignment",
                        at,
                        Who::Operator,
                        None,
                        Target::Admin(to),
                    )?;
                } else {
                    let with_body = self.rng.chance(0.18);
                    let body = with_body.then(|| self.rng.pick(ADMIN_REPLIES, ADMIN_FALLBACK));
                    let by = if self.rng.chance(0.7) { to } else { self.owner };
                    self.add("assignment", at, Who::Admin(by), body, Target::Admin(to))?;
                    replied = with_body;
                }
            }
            if self.rng.chance(0.16) {
                let by = if self.rng.chance(0.8) {
                    self.owner
                } else {
                    self.other_admin()
                };
                let at = at + self.rng.range(0, 3 * MINUTE);
                let note = self.rng.pick(NOTES, NOTES_FALLBACK);
                self.add("note", at, Who::Admin(by), Some(note), Target::None)?;
            }
            if !replied {
                let body = self.rng.pick(ADMIN_REPLIES, ADMIN_FALLBACK);
                let at = at.max(self.t);
                self.add(
                    "comment",
                    at,
                    Who::Admin(self.owner),
                    Some(body),
                    Target::None,
                )?;
                if self.rng.chance(0.15) {
                    let at = self.t + self.rng.range(20, 10 * MINUTE);
                    let body = self.rng.pick(ADMIN_FOLLOWUPS, ADMIN_FALLBACK);
                    self.add(
                        "comment",
                        at,
                        Who::Admin(self.owner),
                        Some(body),
                        Target::None,
                    )?;
                }
            }
            if self.rng.chance(0.01) {
                let at = self.bot_time(self.t);
                self.add(
                    "call_summary",
                    at,
                    Who::Fin,
                    Some(CALL_SUMMARY),
                    Target::None,
                )?;
            }
            if self.rng.chance(0.07) {
                let at = self.t + self.rng.range(5, 2 * MINUTE);
                self.add("snoozed", at, Who::Admin(self.owner), None, Target::None)?;
                let until = office_from(self.p, self.t + self.rng.range(4 * HOUR, 3 * DAY));
                self.snoozed_until = Some(until);
                if self.rng.chance(0.15) {
                    return Err(Stop); // still snoozed
                }
                if self.rng.chance(0.8) {
                    self.add("unsnoozed", until, Who::Operator, None, Target::None)?;
                } else {
                    let at = self.admin_time(self.t + HOUR).min(until);
                    self.add("unsnoozed", at, Who::Admin(self.owner), None, Target::None)?;
                }
            }
            if r + 1 < rounds {
                let at = self.customer_time(self.t);
                let body = self.rng.pick(CUSTOMER_REPLIES, CUSTOMER_FALLBACK);
                self.add("comment", at, Who::Customer, Some(body), Target::None)?;
            }
        }
        Ok(())
    }

    fn rounds(&mut self) -> u32 {
        let mut n = 1;
        while n < 9 && self.rng.chance(0.68) {
            n += 1;
        }
        n
    }

    /// Close, then maybe reopen and close again, a few times.
    fn resolve(&mut self) -> Step {
        let mut cycles = 0u32;
        loop {
            if self.rng.chance(0.07) {
                return Ok(()); // left open
            }
            let roll = self.rng.f64();
            if roll < 0.80 {
                let at = self
                    .admin_time(self.t)
                    .min(self.t + self.rng.range(0, 3 * HOUR));
                let body = self
                    .rng
                    .chance(0.25)
                    .then(|| self.rng.pick(CLOSE_BODIES, CLOSE_FALLBACK));
                self.add("close", at, Who::Admin(self.owner), body, Target::None)?;
            } else if roll < 0.99 {
                // Idle conversation closed by a bot.
                let who = if roll < 0.90 { Who::Operator } else { Who::Fin };
                let at = self.t + self.rng.range(DAY, 3 * DAY);
                let body = (who == Who::Operator && self.rng.chance(0.4)).then_some(BOT_IDLE_CLOSE);
                self.add("close", at, who, body, Target::None)?;
            } else {
                let at = self.customer_time(self.t);
                self.add(
                    "close",
                    at,
                    Who::Customer,
                    Some(CUSTOMER_CLOSE),
                    Target::None,
                )?;
            }
            cycles += 1;
            let again = if cycles == 1 { 0.3 } else { 0.2 };
            if cycles >= 4 || !self.rng.chance(again) {
                return Ok(());
            }
            let at = self.t
                + self
                    .rng
                    .lognormal(1.5 * DAY as f64, 1.0, 10 * MINUTE, 10 * DAY);
            let roll = self.rng.f64();
            if roll < 0.62 {
                let body = self.rng.pick(CUSTOMER_REOPENS, CUSTOMER_FALLBACK);
                self.add("open", at, Who::Customer, Some(body), Target::None)?;
                let rounds = self.rounds().min(3);
                self.exchange(rounds)?;
            } else if roll < 0.72 {
                let body = self.rng.pick(CUSTOMER_REOPENS, CUSTOMER_FALLBACK);
                self.add("comment", at, Who::Customer, Some(body), Target::None)?;
                self.exchange(1)?;
            } else {
                let at = office_from(self.p, at);
                let by = if self.rng.chance(0.8) {
                    self.owner
                } else {
                    self.other_admin()
                };
                if roll < 0.88 {
                    self.add(
                        "assign_and_reopen",
                        at,
                        Who::Admin(by),
                        None,
                        Target::Admin(by),
                    )?;
                } else {
                    let note = self.rng.pick(NOTES, NOTES_FALLBACK);
                    self.add(
                        "note_and_reopen",
                        at,
                        Who::Admin(by),
                        Some(note),
                        Target::None,
                    )?;
                }
                let at = self.t + self.rng.range(10, 10 * MINUTE);
                let body = self.rng.pick(ADMIN_FOLLOWUPS, ADMIN_FALLBACK);
                self.add(
                    "comment",
                    at,
                    Who::Admin(self.owner),
                    Some(body),
                    Target::None,
                )?;
                if self.rng.chance(0.6) {
                    let at = self.customer_time(self.t);
                    let body = self.rng.pick(CUSTOMER_REPLIES, CUSTOMER_FALLBACK);
                    self.add("comment", at, Who::Customer, Some(body), Target::None)?;
                    self.exchange(1)?;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Text

const FIRST: [(&str, &str); 32] = [
    ("Aoife", "aoife"),
    ("Liam", "liam"),
    ("Siobhán", "siobhan"),
    ("Noah", "noah"),
    ("Olivia", "olivia"),
    ("Mateo", "mateo"),
    ("Zoë", "zoe"),
    ("Ethan", "ethan"),
    ("Priya", "priya"),
    ("Kenji", "kenji"),
    ("Amara", "amara"),
    ("Lucas", "lucas"),
    ("Chloé", "chloe"),
    ("Jonas", "jonas"),
    ("Mei", "mei"),
    ("Oisín", "oisin"),
    ("Sofia", "sofia"),
    ("Ravi", "ravi"),
    ("Hannah", "hannah"),
    ("Diego", "diego"),
    ("Grace", "grace"),
    ("Tomás", "tomas"),
    ("Ingrid", "ingrid"),
    ("Samir", "samir"),
    ("Charlotte", "charlotte"),
    ("Yusuf", "yusuf"),
    ("Emily", "emily"),
    ("Felix", "felix"),
    ("Nia", "nia"),
    ("Hiro", "hiro"),
    ("Ada", "ada"),
    ("Ben", "ben"),
];

const LAST: [(&str, &str); 24] = [
    ("Byrne", "byrne"),
    ("O'Brien", "obrien"),
    ("Smith", "smith"),
    ("Nuñez", "nunez"),
    ("Kowalski", "kowalski"),
    ("Tanaka", "tanaka"),
    ("Murphy", "murphy"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("Okafor", "okafor"),
    ("Chen", "chen"),
    ("Patel", "patel"),
    ("Johnson", "johnson"),
    ("Kelly", "kelly"),
    ("Rossi", "rossi"),
    ("Nguyen", "nguyen"),
    ("Walsh", "walsh"),
    ("Larsen", "larsen"),
    ("Dubois", "dubois"),
    ("Silva", "silva"),
    ("Brown", "brown"),
    ("Ivanova", "ivanova"),
    ("Lee", "lee"),
    ("Doyle", "doyle"),
];

const CUSTOMER_OPENERS: &[&str] = &[
    "<p>I was charged twice this month, can you refund one?</p>",
    "<p>The CSV export button does nothing (Chrome).</p>",
    "<p>Where is the \"Invite\" option for teammates?</p>",
    "<p>Our webhook stopped firing yesterday at 3pm.</p>",
    "<p>Is there a way to change the billing email on our account?</p>",
    "<p>I can't log in and the reset email never arrives.</p>",
    "<p>Do you support Okta SSO on Growth?</p>",
    "<p>The app crashes when I open an image.</p>",
    "<p>Can you quote 25 seats on the annual plan?</p>",
    "<p>Bonjour, l'application est très lente ce matin.</p>",
    "<p>The API returns 429 under the limit.</p>",
    "<p>Can I get an invoice with our VAT number on it?</p>",
];
const CUSTOMER_FALLBACK: &str = "<p>Any update on this?</p>";
const CUSTOMER_REPLIES: &[&str] = &[
    "<p>Thanks, that worked!</p>",
    "<p>Still failing with the same error.</p>",
    "<p>Here's a screenshot of what I see.</p>",
    "<p>Any update on this?</p>",
    "<p>Account #48213, this email.</p>",
    "<p>OK, I'll retry tomorrow.</p>",
    "<p>Yes please go ahead.</p>",
    "<p>Not quite – it's still there.</p>",
];
const CUSTOMER_REOPENS: &[&str] = &[
    "<p>Sorry, the problem is back again 😕</p>",
    "<p>Hi again, one more question about this.</p>",
    "<p>Thanks again :)</p>",
    "<p>This happened again today, can you reopen?</p>",
];
const CUSTOMER_THANKS: &str = "<p>Perfect, thank you!</p>";
const CUSTOMER_CLOSE: &str = "<p>All sorted on my side, closing this.</p>";
const QUICK_CHOICES: &[&str] = &[
    "<p>That helped 👍</p>",
    "<p>Talk to a person</p>",
    "<p>Something else</p>",
];
const QUICK_CHOICES_FALLBACK: &str = "<p>Talk to a person</p>";
const ADMIN_REPLIES: &[&str] = &[
    "<p>I've refunded the duplicate charge; allow 5–10 days.</p>",
    "<p>Could you clear your cache and reload?</p>",
    "<p>Settings → Teammates → Invite.</p>",
    "<p>I see the failures in our logs; engineering is on it.</p>",
    "<p>Sure, I've updated the billing email for you.</p>",
    "<p>Could you send me the request id from the response headers?</p>",
    "<p>Yes: <a href=\"https://example.com/sso\">SSO guide</a></p>",
    "<p>I've attached the invoice with your VAT number.</p>",
];
const ADMIN_FALLBACK: &str = "<p>Thanks, looking into it now.</p>";
const ADMIN_FOLLOWUPS: &[&str] = &[
    "<p>Did that solve it?</p>",
    "<p>Also fixed in the latest release.</p>",
    "<p>We shipped a fix, could you check?</p>",
];
const CLOSE_BODIES: &[&str] = &[
    "<p>Goodbye :)</p>",
    "<p>Closing for now – reply to reopen.</p>",
];
const CLOSE_FALLBACK: &str = "<p>Closing this out, thanks!</p>";
const NOTES: &[&str] = &[
    "<p>Same as the billing bug, see Jira.</p>",
    "<p>@billing did the refund go through?</p>",
    "<p>VIP customer, please prioritise.</p>",
    "<h2>Checklist</h2>\n<ul>\n<li>Logs checked</li>\n<li>Repro on staging</li>\n</ul>",
];
const NOTES_FALLBACK: &str = "<p>Escalated.</p>";
const AI_ANSWERS: &[&str] = &[
    "<p>Invoices are under Billing → History.</p>",
    "<p>This article explains password resets.</p>",
    "<p>Growth includes SSO and 10 seats.</p>",
];
const AI_ANSWERS_FALLBACK: &str = "<p>Let me find that for you.</p>";
const BOT_GREETING: &str = "<p>The team typically replies in under an hour.</p>";
const BOT_AWAY: &str = "<p>We're away; we'll reply in office hours.</p>";
const BOT_ASK_EMAIL: &str = "<p>What's your email?</p>";
const BOT_IDLE_CLOSE: &str = "<p>Closed after no reply.</p>";
const CALL_SUMMARY: &str =
    "<p>The customer asked about a failed payment and was advised to retry.</p>";
const OUTBOUND: &[(&str, &str)] = &[
    (
        "Your trial ends in 3 days",
        "<p>Hi! Your trial ends soon. Reply to this message if you have questions about plans.</p>",
    ),
    (
        "How is it going?",
        "<p>Hey, just checking in – how are you finding the product so far?</p>",
    ),
    (
        "New: scheduled exports",
        "<p>You can now schedule exports to run every week. Want a quick demo?</p>",
    ),
    (
        "About your renewal",
        "<p>Your renewal is coming up next month. Shall we review your seats together?</p>",
    ),
];
const OUTBOUND_FALLBACK: (&str, &str) = ("Hello", "<p>Hello!</p>");
const OUTBOUND_REPLIES: &[&str] = &[
    "<p>Yes, I'd love a demo. Does Thursday work?</p>",
    "<p>Can you tell me more about the pricing?</p>",
    "<p>Please unsubscribe me from these emails.</p>",
    "<p>All good so far, thanks!</p>",
];
const BOT_MESSAGE: &str =
    "<p>👋 Need help getting started? I can answer most questions right away.</p>";
const EMAIL_SUBJECTS: &[&str] = &[
    "Refund request",
    "Problem with export",
    "Question about \"Growth\" plan",
    "Login issue",
];
const TAGS: &[&str] = &[
    "billing",
    "bug",
    "feature-request",
    "vip",
    "onboarding",
    "api",
];

// ---------------------------------------------------------------------------
// JSON writing

fn raw(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
}

fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match esc {
            Some(e) => out.extend_from_slice(e),
            None => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn int(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn uint(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

fn id_string(out: &mut Vec<u8>, v: u64) {
    out.push(b'"');
    uint(out, v);
    out.push(b'"');
}

fn opt_int(out: &mut Vec<u8>, v: Option<i64>) {
    match v {
        Some(v) => int(out, v),
        None => raw(out, "null"),
    }
}

fn hex(out: &mut Vec<u8>, v: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for k in (0..digits).rev() {
        out.push(HEX[((v >> (4 * k)) & 0xf) as usize]);
    }
}

/// A customer of the pool of workspace `ws`.
#[derive(Clone, Copy)]
struct Customer {
    ws: u32,
    n: u64,
    h: u64,
}

const CUSTOMERS_PER_WORKSPACE: u64 = 6000;

impl Customer {
    fn new(seed: u64, ws: u32, n: u64) -> Customer {
        Customer {
            ws,
            n,
            h: mix(mix(seed ^ 0xC057_0000) ^ (u64::from(ws) << 40) ^ n),
        }
    }

    fn kind(&self) -> &'static str {
        match self.h % 100 {
            0..=61 => "user",
            62..=89 => "lead",
            _ => "contact",
        }
    }

    fn names(&self) -> ((&'static str, &'static str), (&'static str, &'static str)) {
        let f = FIRST[((self.h >> 8) % FIRST.len() as u64) as usize];
        let l = LAST[((self.h >> 20) % LAST.len() as u64) as usize];
        (f, l)
    }

    fn write_id(&self, out: &mut Vec<u8>) {
        out.push(b'"');
        // 24 hex digits like Intercom's contact ids.
        hex(
            out,
            0x6762_0000 + u64::from(self.ws) * 0x100 + (self.h >> 56),
            8,
        );
        hex(out, mix(self.h ^ self.n), 16);
        out.push(b'"');
    }

    fn write_author(&self, out: &mut Vec<u8>) {
        raw(out, "{\"type\":");
        string(out, self.kind());
        raw(out, ",\"id\":");
        self.write_id(out);
        let ((first, fs), (last, ls)) = self.names();
        if self.kind() == "lead" && self.h & 0x300 == 0 {
            raw(out, ",\"name\":null,\"email\":\"\"}");
            return;
        }
        raw(out, ",\"name\":\"");
        raw(out, first);
        raw(out, " ");
        // The name tables hold no character that JSON needs escaped.
        raw(out, last);
        raw(out, "\",\"email\":\"");
        raw(out, fs);
        raw(out, ".");
        raw(out, ls);
        uint(out, self.n);
        raw(out, "@example.com\"}");
    }
}

fn write_admin_author(out: &mut Vec<u8>, ws: u32, j: u8) {
    let n = admin_number(ws, j);
    let h = mix(n);
    let (first, fs) = FIRST[(h % FIRST.len() as u64) as usize];
    let (last, _) = LAST[((h >> 16) % LAST.len() as u64) as usize];
    raw(out, "{\"type\":\"admin\",\"id\":");
    id_string(out, n);
    raw(out, ",\"name\":\"");
    raw(out, first);
    raw(out, " ");
    raw(out, last);
    raw(out, "\",\"email\":\"");
    raw(out, fs);
    uint(out, u64::from(j));
    raw(out, "@ws-");
    uint(out, u64::from(ws) + 1);
    raw(out, ".example.com\"}");
}

fn write_author(out: &mut Vec<u8>, who: Who, ws: u32, customer: &Customer, ai_answer: bool) {
    match who {
        Who::Customer => customer.write_author(out),
        Who::Admin(j) => write_admin_author(out, ws, j),
        Who::Operator => {
            raw(out, "{\"type\":\"admin\",\"id\":\"");
            raw(out, OPERATOR_ADMIN_ID);
            raw(out, "\",\"name\":\"Operator\",\"email\":\"operator+ws-");
            uint(out, u64::from(ws) + 1);
            raw(out, "@intercom.io\"}");
        }
        Who::Fin => {
            raw(out, "{\"type\":\"bot\",\"id\":\"");
            raw(out, FIN_BOT_ID);
            raw(out, "\",\"name\":\"Fin\",\"email\":\"operator+ws-");
            uint(out, u64::from(ws) + 1);
            raw(out, "@intercom.io\"}");
        }
        Who::AiAgent => {
            raw(out, "{\"type\":\"admin\",\"id\":\"");
            raw(out, AI_AGENT_ADMIN_ID);
            raw(out, "\",\"name\":\"Fin AI Agent\",\"email\":\"fin+ws-");
            uint(out, u64::from(ws) + 1);
            raw(
                out,
                "@intercom.io\",\"from_ai_agent\":true,\"is_ai_answer\":",
            );
            raw(out, if ai_answer { "true" } else { "false" });
            raw(out, "}");
        }
    }
}

fn write_attachment(out: &mut Vec<u8>, id: u64) {
    raw(out, "[{\"type\":\"upload\",\"name\":\"screenshot-");
    uint(out, id % 1000);
    raw(out, ".png\",\"url\":\"https://downloads.example.com/att/");
    uint(out, id);
    raw(
        out,
        "/screenshot.png\",\"content_type\":\"image/png\",\"filesize\":",
    );
    uint(out, 20_000 + (mix(id) % 400_000));
    raw(out, ",\"width\":1280,\"height\":800}]");
}

// ---------------------------------------------------------------------------
// One conversation

/// Conversation ids: globally unique, so unique per workspace too.
const CONVERSATION_ID_BASE: u64 = 100_000_000;
/// Part ids of conversation `i` are `PART_ID_STRIDE * i + 1 ..`: unique, and
/// increasing in time order within a conversation.
const PART_ID_STRIDE: u64 = 64;
/// `source.id` of conversation `i` is `SOURCE_ID_BASE + i`.
const SOURCE_ID_BASE: u64 = 400_000_000;

/// Writes conversation `index` (0-based) as one NDJSON line (with trailing
/// `'\n'`) into `out`. Depends only on `params` (not on
/// `params.conversations`) and `index`.
pub fn write_conversation(params: &GenParams, index: u64, out: &mut Vec<u8>) {
    let mut rng = Rnd::new(params.seed, index);
    let ws = pick_workspace(&mut rng, params.workspace_count());
    let p = profile(ws);

    // A skewed pick from the pool: some customers write often.
    let u = rng.f64();
    let customer = Customer::new(
        params.seed,
        ws,
        (u * u * CUSTOMERS_PER_WORKSPACE as f64) as u64,
    );

    let kind = match rng.f64() {
        x if x < 0.74 => Kind::Customer,
        x if x < 0.85 => Kind::AdminInitiated,
        x if x < 0.96 => Kind::Automated,
        _ => Kind::OperatorInitiated,
    };
    let sent = match kind {
        Kind::Customer => arrival(
            &mut rng,
            params,
            p,
            &DAYS_CUSTOMER,
            &HOURS_WORKDAY,
            &HOURS_WEEKEND,
        ),
        Kind::AdminInitiated => arrival(
            &mut rng,
            params,
            p,
            &DAYS_ADMIN,
            &HOURS_OUTBOUND,
            &HOURS_OUTBOUND,
        ),
        Kind::Automated | Kind::OperatorInitiated => arrival(
            &mut rng,
            params,
            p,
            &DAYS_AUTOMATED,
            &HOURS_OUTBOUND,
            &HOURS_WEEKEND,
        ),
    };
    let owner = rng.below(u64::from(p.admins)) as u8;
    let mut story = Story {
        rng: &mut rng,
        p,
        parts: Vec::with_capacity(24),
        t: sent,
        horizon: sent + HORIZON,
        state: State::Open,
        admin: None,
        team: None,
        owner,
        waiting_since: None,
        snoozed_until: None,
        fcr: None,
    };

    // The initial message's author, and when the conversation was created.
    let mut created = sent;
    let mut source_created: Option<i64> = None;
    let source_author: Who;
    match kind {
        Kind::Customer => {
            source_author = Who::Customer;
            story.fcr = Some(sent);
            story.waiting_since = Some(sent);
            let _ = story.reception().and_then(|()| {
                if story.rng.chance(0.04) {
                    // Nobody answers: still waiting, or closed as idle by Operator.
                    if story.rng.chance(0.5) {
                        let at = story.t + story.rng.range(DAY, 3 * DAY);
                        let body = Some(BOT_IDLE_CLOSE);
                        story.add("close", at, Who::Operator, body, Target::None)?;
                    }
                    return Ok(());
                }
                let rounds = story.rounds();
                story.exchange(rounds)?;
                story.resolve()
            });
        }
        Kind::AdminInitiated | Kind::Automated | Kind::OperatorInitiated => {
            source_author = match kind {
                Kind::OperatorInitiated => Who::Fin,
                Kind::Automated if story.rng.chance(0.3) => Who::Operator,
                _ => Who::Admin(owner),
            };
            story.state = State::Closed;
            let answered = story.rng.chance(match kind {
                Kind::AdminInitiated => 0.7,
                Kind::Automated => 0.55,
                _ => 0.6,
            });
            if answered {
                let delay = if story.rng.chance(0.4) {
                    story.rng.lognormal(3.0 * HOUR as f64, 1.0, 2 * MINUTE, DAY)
                } else {
                    story
                        .rng
                        .lognormal(2.0 * DAY as f64, 0.8, 6 * HOUR, 12 * DAY)
                };
                let at = sent + delay;
                if kind == Kind::Automated && story.rng.chance(0.35) {
                    // Created when the customer answered; the extension keeps the send time.
                    created = at;
                    source_created = Some(sent);
                    story.t = at;
                }
                let body = story.rng.pick(OUTBOUND_REPLIES, CUSTOMER_FALLBACK);
                let part = if kind != Kind::OperatorInitiated && story.rng.chance(0.8) {
                    "open"
                } else {
                    "comment"
                };
                let _ = story
                    .add(part, at, Who::Customer, Some(body), Target::None)
                    .and_then(|()| {
                        if story.rng.chance(0.4) {
                            let team = story.rng.below(u64::from(TEAMS)) as u8;
                            let at = story.t + story.rng.range(0, 2);
                            story.add(
                                "default_assignment",
                                at,
                                Who::Operator,
                                None,
                                Target::Team(team),
                            )?;
                        }
                        if story.rng.chance(0.15) {
                            // Nobody answers; an idle close later, or nothing.
                            if story.rng.chance(0.5) {
                                let at = story.t + story.rng.range(DAY, 3 * DAY);
                                story.add("close", at, Who::Operator, None, Target::None)?;
                            }
                            return Ok(());
                        }
                        let rounds = story.rounds().min(4);
                        story.exchange(rounds)?;
                        story.resolve()
                    });
            }
        }
    }

    // Occasional edits: a part updated after it was created, never after the
    // last part.
    let last = story.parts.last().map_or(created, |p| p.t);
    let edits: Vec<usize> = (0..story.parts.len())
        .filter(|_| story.rng.chance(0.03))
        .collect();
    for i in edits {
        let bump = story.rng.range(5, 30 * MINUTE);
        if let Some(part) = story.parts.get_mut(i)
            && part.body.is_some()
        {
            part.updated = (part.t + bump).min(last);
        }
    }
    let read = story.rng.chance(0.7);
    let priority = story.rng.chance(0.1);
    let ntags = story.rng.weighted(&[0.55, 0.3, 0.15]);
    let tag_a = story.rng.below(TAGS.len() as u64) as usize;
    let tag_step = 1 + story.rng.below(TAGS.len() as u64 - 1) as usize;
    let email = kind == Kind::Customer && story.rng.chance(0.3);
    let source_attachment = kind == Kind::Customer && story.rng.chance(0.05);
    let (subject, source_body) = match kind {
        Kind::Customer => (
            if email {
                story.rng.pick(EMAIL_SUBJECTS, "Help")
            } else {
                ""
            },
            story.rng.pick(CUSTOMER_OPENERS, CUSTOMER_FALLBACK),
        ),
        Kind::OperatorInitiated => ("", BOT_MESSAGE),
        Kind::AdminInitiated | Kind::Automated => story.rng.pick(OUTBOUND, OUTBOUND_FALLBACK),
    };
    let ai_answer = story.rng.chance(0.5);

    let state = story.state;
    let (admin, team) = (story.admin, story.team);
    let waiting_since = story.waiting_since.filter(|_| state != State::Closed);
    let snoozed_until = story.snoozed_until.filter(|_| state == State::Snoozed);
    let fcr = story.fcr;
    let parts = story.parts;
    let updated = parts
        .iter()
        .map(|p| p.t.max(p.updated))
        .max()
        .unwrap_or(created)
        .max(created);
    let conv_id = CONVERSATION_ID_BASE.wrapping_add(index);

    // --- serialise
    out.reserve(4096);
    raw(out, "{\"type\":\"conversation\",\"id\":");
    id_string(out, conv_id);
    raw(out, ",\"created_at\":");
    int(out, created);
    raw(out, ",\"updated_at\":");
    int(out, updated);
    raw(out, ",\"waiting_since\":");
    opt_int(out, waiting_since);
    raw(out, ",\"snoozed_until\":");
    opt_int(out, snoozed_until);

    raw(out, ",\"source\":{\"type\":");
    string(out, if email { "email" } else { "conversation" });
    raw(out, ",\"id\":");
    id_string(out, SOURCE_ID_BASE.wrapping_add(index));
    raw(out, ",\"delivered_as\":");
    string(
        out,
        match kind {
            Kind::Customer => "customer_initiated",
            Kind::AdminInitiated => "admin_initiated",
            Kind::Automated => "automated",
            Kind::OperatorInitiated => "operator_initiated",
        },
    );
    raw(out, ",\"subject\":");
    string(out, subject);
    raw(out, ",\"body\":");
    string(out, source_body);
    raw(out, ",\"author\":");
    write_author(out, source_author, ws, &customer, false);
    raw(out, ",\"attachments\":");
    if source_attachment {
        write_attachment(out, SOURCE_ID_BASE.wrapping_add(index));
    } else {
        raw(out, "[]");
    }
    raw(out, ",\"url\":null,\"redacted\":false");
    if let Some(sc) = source_created {
        raw(out, ",\"created_at\":");
        int(out, sc);
    }
    raw(out, "}");

    raw(
        out,
        ",\"contacts\":{\"type\":\"contact.list\",\"contacts\":[{\"type\":\"contact\",\"id\":",
    );
    customer.write_id(out);
    raw(out, ",\"external_id\":");
    if customer.kind() == "user" {
        raw(out, "\"user-");
        uint(out, customer.n);
        raw(out, "\"");
    } else {
        raw(out, "null");
    }
    raw(out, "}]}");

    raw(out, ",\"first_contact_reply\":");
    match fcr {
        Some(t) => {
            raw(out, "{\"created_at\":");
            int(out, t);
            raw(out, ",\"type\":");
            string(out, if email { "email" } else { "conversation" });
            raw(out, ",\"url\":null}");
        }
        None => raw(out, "null"),
    }
    raw(out, ",\"admin_assignee_id\":");
    match admin {
        Some(a) => uint(out, admin_number(ws, a)),
        None => raw(out, "null"),
    }
    raw(out, ",\"team_assignee_id\":");
    match team {
        Some(t) => uint(out, team_number(ws, t)),
        None => raw(out, "null"),
    }
    raw(out, ",\"open\":");
    raw(
        out,
        if state == State::Closed {
            "false"
        } else {
            "true"
        },
    );
    raw(out, ",\"state\":");
    string(
        out,
        match state {
            State::Open => "open",
            State::Closed => "closed",
            State::Snoozed => "snoozed",
        },
    );
    raw(out, ",\"read\":");
    raw(out, if read { "true" } else { "false" });
    raw(out, ",\"tags\":{\"type\":\"tag.list\",\"tags\":[");
    for k in 0..ntags {
        if k > 0 {
            raw(out, ",");
        }
        let i = (tag_a + k * tag_step) % TAGS.len();
        raw(out, "{\"type\":\"tag\",\"id\":");
        id_string(out, 7_000_000 + u64::from(ws) * 100 + i as u64);
        raw(out, ",\"name\":");
        string(out, TAGS[i]);
        raw(out, "}");
    }
    raw(out, "]},\"priority\":");
    string(out, if priority { "priority" } else { "not_priority" });
    raw(out, ",\"statistics\":null");

    raw(
        out,
        ",\"conversation_parts\":{\"type\":\"conversation_part.list\",\"conversation_parts\":[",
    );
    let part_base = PART_ID_STRIDE.wrapping_mul(index).wrapping_add(1);
    for (k, part) in parts.iter().enumerate() {
        if k > 0 {
            raw(out, ",");
        }
        let pid = part_base.wrapping_add(k as u64);
        raw(out, "{\"type\":\"conversation_part\",\"id\":");
        id_string(out, pid);
        raw(out, ",\"part_type\":");
        string(out, part.kind);
        raw(out, ",\"body\":");
        match part.body {
            Some(b) => string(out, b),
            None => raw(out, "null"),
        }
        raw(out, ",\"created_at\":");
        int(out, part.t);
        raw(out, ",\"updated_at\":");
        int(out, part.updated);
        raw(out, ",\"notified_at\":");
        int(out, part.t);
        raw(out, ",\"assigned_to\":");
        match part.target {
            Target::None => raw(out, "null"),
            Target::Admin(a) => {
                raw(out, "{\"type\":\"admin\",\"id\":");
                id_string(out, admin_number(ws, a));
                raw(out, "}");
            }
            Target::Team(t) => {
                raw(out, "{\"type\":\"team\",\"id\":");
                id_string(out, team_number(ws, t));
                raw(out, "}");
            }
            Target::Nobody => raw(out, "{\"type\":\"nobody_admin\",\"id\":null}"),
        }
        raw(out, ",\"author\":");
        write_author(out, part.who, ws, &customer, ai_answer);
        raw(out, ",\"attachments\":");
        if part.attachment {
            write_attachment(out, pid);
        } else {
            raw(out, "[]");
        }
        raw(out, ",\"external_id\":null,\"redacted\":false}");
    }
    raw(out, "],\"total_count\":");
    uint(out, parts.len() as u64);
    raw(out, "},\"workspace_id\":\"ws-");
    uint(out, u64::from(ws) + 1);
    raw(out, "\"}\n");
}

// ---------------------------------------------------------------------------
// Streaming

/// Conversations per unit of parallel work.
const CHUNK: u64 = 512;

/// Streams all conversations in index order to `w`. Generation runs on the
/// rayon pool in batches of chunks while the calling thread writes the
/// previous batch; at most three batches (a few MB each) are in memory, so
/// any number of conversations streams. The output equals writing
/// [`write_conversation`] for every index in order, whatever the threading.
pub fn write_all(params: &GenParams, w: &mut dyn Write) -> io::Result<()> {
    let n = params.conversations;
    if n == 0 {
        return w.flush();
    }
    let per_batch = CHUNK * (rayon::current_num_threads().max(1) as u64) * 2;
    if rayon::current_thread_index().is_some() {
        // Called on a rayon worker: blocking it on a channel could starve the
        // pool, so generate each batch in the pool and write it here.
        let mut start = 0u64;
        while start < n {
            let end = start.saturating_add(per_batch).min(n);
            for chunk in generate_batch(params, start, end) {
                w.write_all(&chunk)?;
            }
            start = end;
        }
        return w.flush();
    }
    let result = std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Vec<Vec<u8>>>(1);
        let producer = scope.spawn(move || {
            let mut start = 0u64;
            while start < n {
                let end = start.saturating_add(per_batch).min(n);
                let batch = generate_batch(params, start, end);
                if tx.send(batch).is_err() {
                    return; // the writer stopped
                }
                start = end;
            }
        });
        let mut result = Ok(());
        'recv: for batch in rx.iter() {
            for chunk in &batch {
                if let Err(e) = w.write_all(chunk) {
                    result = Err(e);
                    break 'recv;
                }
            }
        }
        drop(rx);
        if producer.join().is_err() && result.is_ok() {
            result = Err(io::Error::other("the generator thread failed"));
        }
        result
    });
    result?;
    w.flush()
}

/// Conversations `start..end`, generated in parallel chunks, in order.
fn generate_batch(params: &GenParams, start: u64, end: u64) -> Vec<Vec<u8>> {
    let chunks: Vec<(u64, u64)> = (start..end)
        .step_by(CHUNK as usize)
        .map(|a| (a, a.saturating_add(CHUNK).min(end)))
        .collect();
    chunks
        .into_par_iter()
        .map(|(a, b)| {
            let mut buf = Vec::with_capacity((b - a) as usize * 4608);
            for i in a..b {
                write_conversation(params, i, &mut buf);
            }
            buf
        })
        .collect()
}
