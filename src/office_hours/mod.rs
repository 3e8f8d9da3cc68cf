//! Office hours: compiled schedules and `office_seconds`, the one interface
//! through which every `_ooo` duration is measured (office-hours.md).
//!
//! Pure: no I/O, no clock. A [`Schedule`] is compiled once from its TOML table
//! and then answers `office_seconds(from, to)` for half-open `[from, to)` spans
//! of Unix seconds.

/// A compiled office-hours schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Every second is office time (no schedule configured).
    AlwaysOpen,
}

impl Schedule {
    /// The 24/7 schedule: every second is office time, so `_ooo == plain`.
    pub fn always_open() -> Schedule {
        Schedule {
            kind: Kind::AlwaysOpen,
        }
    }

    /// Office seconds in `[from, to)`; negative when `to < from`
    /// (`office(a, b) == -office(b, a)`).
    pub fn office_seconds(&self, from: i64, to: i64) -> i64 {
        match self.kind {
            Kind::AlwaysOpen => to.saturating_sub(from),
        }
    }
}
