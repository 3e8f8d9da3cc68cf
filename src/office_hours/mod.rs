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

    /// A description for `check-config`.
    pub fn describe(&self) -> String {
        match self.kind {
            Kind::AlwaysOpen => "24/7: every second is office time".to_string(),
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

/// Compiles one `[office_hours.NAME]` table. Every error is one line that
/// starts with the offending key.
pub fn compile(name: &str, _table: &toml::Value) -> Result<Schedule, Vec<String>> {
    Err(vec![format!(
        "office_hours.{name}: office-hours schedules are not supported by this build yet; remove the table to use 24/7"
    )])
}
