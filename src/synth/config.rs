//! [`sample_config`]: the `convstats.toml` (office hours, bot author id) that
//! describes the workspaces of a generated data set.

use super::OPERATOR_ADMIN_ID;
use super::workspace::workspace_info;

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
