//! `convstats check-config`: validate the configuration and describe it.

use crate::config::Settings;
use std::fmt::Write as _;

/// The description printed by `check-config` on stdout (its warnings go to
/// stderr, like every warning).
pub fn describe(settings: &Settings) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "configuration: {}",
        settings
            .path
            .as_ref()
            .map_or("built-in defaults (no convstats.toml)".to_string(), |p| p
                .display()
                .to_string())
    );
    if settings.schedules.is_empty() {
        let _ = writeln!(
            out,
            "office hours: none configured; every workspace is 24/7"
        );
    }
    for (_, schedule) in &settings.schedules {
        let _ = writeln!(out, "\n{}", schedule.describe().trim_end());
    }
    if !settings.workspaces.is_empty() {
        let _ = writeln!(out, "\nworkspaces:");
        for (ws, name) in &settings.workspaces {
            let _ = writeln!(
                out,
                "  {ws}: {}",
                name.as_deref().unwrap_or(
                    "(no office_hours: uses the default workspace's schedule, else 24/7)"
                )
            );
        }
    }
    out
}
