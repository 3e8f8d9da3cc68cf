//! [`GenParams`]: the parameters of a generated data set, the arrival window
//! they define, and their validation (what `compute` could not read back).

use chrono::NaiveDate;

use super::{DAY, HORIZON};

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

    pub(super) fn workspace_count(&self) -> u32 {
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
