//! The `report.html` summary: a self-contained HTML page built from the
//! aggregates (`aggregate.rs`) gathered while the documents are written.

use crate::aggregate::{ByWorkspace, Measure};
use std::fmt::Write as _;

/// What the run read, for the page header.
#[derive(Debug, Clone, Default)]
pub struct RunSummary {
    pub inputs: Vec<String>,
    pub lines: u64,
    pub records: u64,
    pub rejected: u64,
    pub conversations: u64,
    pub deleted: u64,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A duration as `1d 2h 03m` (or `12m 05s` under an hour).
pub fn human(seconds: Option<i64>) -> String {
    let Some(s) = seconds else {
        return "–".to_string();
    };
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h {m:02}m")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else {
        format!("{m}m {sec:02}s")
    }
}

/// Builds the self-contained report page.
pub fn render_html(stats: &ByWorkspace, run: &RunSummary) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>convstats report</title>\
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
th,td{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}th:first-child,td:first-child{{text-align:left}}\
caption{{text-align:left;font-weight:bold}}small{{color:#666}}</style></head><body>\
<h1>convstats report</h1><p>Inputs: {}</p><p>{} non-blank lines read: {} records accepted, {} rejected \
(see rejected.ndjson). {} conversations ({} deleted and left out).</p>",
        escape(&run.inputs.join(", ")),
        run.lines,
        run.records,
        run.rejected,
        run.conversations,
        run.deleted
    );
    h.push_str(
        "<table><caption>By workspace</caption><tr><th>workspace</th><th>conversations</th><th>inbound</th>\
<th>with a contact reply</th><th>with an admin reply</th><th>closed</th><th>reopens</th>\
<th>median first response</th><th>median first response (office hours)</th><th>p90 first response</th>\
<th>median time to last close</th><th>median time to last close (office hours)</th></tr>",
    );
    for (name, ws) in &stats.workspaces {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            ws.counts.conversations,
            ws.counts.inbound,
            ws.counts.with_contact_reply,
            ws.counts.with_admin_reply,
            ws.counts.closed,
            ws.counts.reopens,
            human(ws.distribution(Measure::FirstResponse).median()),
            human(ws.distribution(Measure::FirstResponseOoo).median()),
            human(ws.distribution(Measure::FirstResponse).percentile(90)),
            human(ws.distribution(Measure::TimeToLastClose).median()),
            human(ws.distribution(Measure::TimeToLastCloseOoo).median()),
        );
    }
    h.push_str("</table><table><caption>By message type</caption><tr><th>workspace</th><th>message type</th><th>conversations</th></tr>");
    for (name, ws) in &stats.workspaces {
        for (t, n) in &ws.by_message_type {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{t}</td><td>{n}</td></tr>",
                escape(name)
            );
        }
    }
    h.push_str(
        "</table><p><small>First response: first_response_time of the new pipeline (first contact reply → \
first admin reply). Office-hours figures exclude time outside each workspace's schedule.</small></p></body></html>\n",
    );
    h
}
