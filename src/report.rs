//! The `report.html` summary: statistics gathered while documents are written
//! (pure accumulation) and a self-contained HTML page built from them.

use crate::conversation::Conversation;
use crate::metrics::{Metrics, median};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Per-workspace statistics.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceStats {
    pub conversations: u64,
    pub inbound: u64,
    pub with_contact_reply: u64,
    pub with_admin_reply: u64,
    pub closed: u64,
    pub reopens: u64,
    pub by_message_type: BTreeMap<&'static str, u64>,
    pub first_response_time: Vec<i64>,
    pub first_response_time_ooo: Vec<i64>,
    pub time_to_last_close: Vec<i64>,
    pub time_to_last_close_ooo: Vec<i64>,
}

/// Statistics over all conversations, by workspace.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub workspaces: BTreeMap<String, WorkspaceStats>,
}

impl Stats {
    /// Adds one conversation.
    pub fn add(&mut self, c: &Conversation, m: &Metrics) {
        let ws = self
            .workspaces
            .entry(c.key.workspace_id.to_string())
            .or_default();
        ws.conversations += 1;
        ws.inbound += u64::from(m.inbound);
        ws.with_contact_reply += u64::from(m.first_contact_reply_at.is_some());
        ws.with_admin_reply += u64::from(m.first_admin_reply_at.is_some());
        ws.closed += u64::from(m.last_close_at.is_some());
        ws.reopens += m.count_reopens;
        *ws.by_message_type
            .entry(m.message_type.map_or("(none)", |t| t.as_str()))
            .or_default() += 1;
        ws.first_response_time.extend(m.time_to_admin_reply.plain);
        ws.first_response_time_ooo.extend(m.time_to_admin_reply.ooo);
        ws.time_to_last_close.extend(m.time_to_last_close.plain);
        ws.time_to_last_close_ooo.extend(m.time_to_last_close.ooo);
    }

    /// Adds everything `other` gathered.
    pub fn merge(&mut self, other: Stats) {
        for (k, o) in other.workspaces {
            let ws = self.workspaces.entry(k).or_default();
            ws.conversations += o.conversations;
            ws.inbound += o.inbound;
            ws.with_contact_reply += o.with_contact_reply;
            ws.with_admin_reply += o.with_admin_reply;
            ws.closed += o.closed;
            ws.reopens += o.reopens;
            for (t, n) in o.by_message_type {
                *ws.by_message_type.entry(t).or_default() += n;
            }
            ws.first_response_time.extend(o.first_response_time);
            ws.first_response_time_ooo.extend(o.first_response_time_ooo);
            ws.time_to_last_close.extend(o.time_to_last_close);
            ws.time_to_last_close_ooo.extend(o.time_to_last_close_ooo);
        }
    }
}

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

fn percentile(values: &[i64], p: usize) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let idx = (v.len() - 1) * p / 100;
    v.get(idx).copied()
}

/// Builds the self-contained report page.
pub fn render_html(stats: &Stats, run: &RunSummary) -> String {
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
            ws.conversations,
            ws.inbound,
            ws.with_contact_reply,
            ws.with_admin_reply,
            ws.closed,
            ws.reopens,
            human(median(&ws.first_response_time)),
            human(median(&ws.first_response_time_ooo)),
            human(percentile(&ws.first_response_time, 90)),
            human(median(&ws.time_to_last_close)),
            human(median(&ws.time_to_last_close_ooo)),
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
