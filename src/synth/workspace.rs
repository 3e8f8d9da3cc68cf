//! The generated workspaces: their profiles (zone, Monday–Friday office
//! hours, number of admins, volume weight), the ids of their admins and teams,
//! the weighted draw of a conversation's workspace, and [`workspace_info`].

use chrono_tz::Tz;

use super::rnd::Rnd;

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

pub(super) struct Profile {
    pub(super) zone: Tz,
    pub(super) open: u32,
    pub(super) close: u32,
    pub(super) weight: f64,
    pub(super) admins: u8,
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

pub(super) const TEAMS: u8 = 3;

pub(super) fn profile(ws: u32) -> &'static Profile {
    &PROFILES[ws as usize % PROFILES.len()]
}

pub(super) fn admin_number(ws: u32, j: u8) -> u64 {
    1_000_000 + (u64::from(ws) + 1) * 1000 + 100 + u64::from(j)
}

pub(super) fn team_number(ws: u32, t: u8) -> u64 {
    5_000_000 + (u64::from(ws) + 1) * 100 + u64::from(t)
}

/// Workspace of a conversation, drawn by the profiles' volume weights (the
/// weights cycle with the profiles; O(1) in the number of workspaces).
pub(super) fn pick_workspace(rng: &mut Rnd, k: u32) -> u32 {
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
