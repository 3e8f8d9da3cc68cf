//! The `report.html` page (cli.md, the report paragraph): a self-contained
//! page of charts (inline SVG, `chart.rs`) and tables, built from the views
//! of `aggregate.rs`, the same views the Kibana dashboards show. It never
//! lists conversations, so its size does not grow with the input: time
//! buckets are chosen by the span, tables show the 50 largest groups.

mod chart;

pub use chart::{Chart, Kind, PALETTE, Series};

use crate::aggregate::{Bucketing, Group, Pair, Views, civil_from_days, smallest_keys};
use std::collections::BTreeMap;
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

/// Rows shown in a per-workspace or per-team table; the rest are summed in
/// one "others" row.
pub const TABLE_ROWS: usize = 50;
/// Distinct values shown in the reopens and assignments distributions (the
/// smallest ones; the rest are one "other" bar), as the dashboards' `terms`.
pub const DISTRIBUTION_VALUES: usize = 11;
/// The percentiles of the time-to-last-close distribution.
pub const DISTRIBUTION_PERCENTILES: [u32; 5] = [10, 25, 50, 75, 90];

pub(crate) fn escape(s: &str) -> String {
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
    let sign = if s < 0 { "-" } else { "" };
    let s = s.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{sign}{d}d {h}h {m:02}m")
    } else if h > 0 {
        format!("{sign}{h}h {m:02}m")
    } else {
        format!("{sign}{m}m {sec:02}s")
    }
}

/// The label of the bucket starting on `day`.
pub fn bucket_label(b: Bucketing, day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    match b {
        Bucketing::Day => format!("{y}-{m:02}-{d:02}"),
        Bucketing::Week => format!("wk {y}-{m:02}-{d:02}"),
        Bucketing::Month => format!("{y}-{m:02}"),
        Bucketing::Year => format!("{y}"),
    }
}

/// The unit a set of durations (seconds) reads best in: its name and size.
fn duration_unit(values: impl Iterator<Item = i64>) -> (&'static str, f64) {
    let max = values.max().unwrap_or(0);
    if max >= 2 * 86_400 {
        ("days", 86_400.0)
    } else if max >= 2 * 3600 {
        ("hours", 3600.0)
    } else if max >= 120 {
        ("minutes", 60.0)
    } else {
        ("seconds", 1.0)
    }
}

fn counts(name: &str, values: impl Iterator<Item = u64>) -> Series {
    Series {
        name: name.to_string(),
        values: values.map(|v| Some(v as f64)).collect(),
    }
}

/// Duration series over time, all in one unit; returns the unit's name.
fn durations<const N: usize>(
    names: [&str; N],
    rows: &[(i64, [Option<i64>; N])],
) -> (Vec<Series>, &'static str) {
    let (unit, size) = duration_unit(rows.iter().flat_map(|(_, r)| r.iter().flatten().copied()));
    let series = names
        .iter()
        .enumerate()
        .map(|(k, name)| Series {
            name: name.to_string(),
            values: rows
                .iter()
                .map(|(_, r)| r[k].map(|v| v as f64 / size))
                .collect(),
        })
        .collect();
    (series, unit)
}

#[allow(clippy::too_many_arguments)] // one call per chart, each argument named at the call
fn time_chart(
    id: &'static str,
    title: &str,
    note: &str,
    b: Bucketing,
    days: &[i64],
    field: &str,
    y_title: &str,
    series: Vec<Series>,
    kind: Kind,
) -> String {
    Chart {
        id,
        title: title.to_string(),
        note: note.to_string(),
        x_title: format!("{field} ({}, UTC)", b.noun()),
        y_title: y_title.to_string(),
        x_labels: days.iter().map(|d| bucket_label(b, *d)).collect(),
        series,
        kind,
    }
    .html()
}

fn distribution_chart(
    id: &'static str,
    title: &str,
    field: &str,
    dist: &BTreeMap<u64, u64>,
) -> String {
    let (shown, other) = smallest_keys(dist, DISTRIBUTION_VALUES);
    let mut labels: Vec<String> = shown.iter().map(|(k, _)| k.to_string()).collect();
    let mut values: Vec<Option<f64>> = shown.iter().map(|(_, v)| Some(*v as f64)).collect();
    if other > 0 {
        labels.push("other".into());
        values.push(Some(other as f64));
    }
    Chart {
        id,
        title: title.to_string(),
        note: format!(
            "legacy documents by {field} (the {DISTRIBUTION_VALUES} smallest values seen; \"other\" is every greater one)"
        ),
        x_title: field.to_string(),
        y_title: "conversations".into(),
        x_labels: labels,
        series: vec![Series {
            name: "conversations".into(),
            values,
        }],
        kind: Kind::Bars,
    }
    .html()
}

fn percentile_chart(all: &Pair) -> String {
    let plain = all.plain.percentiles(DISTRIBUTION_PERCENTILES);
    let ooo = all.ooo.percentiles(DISTRIBUTION_PERCENTILES);
    let (unit, size) = duration_unit(plain.iter().chain(ooo.iter()).flatten().copied());
    let to = |v: &[Option<i64>; 5]| v.iter().map(|x| x.map(|x| x as f64 / size)).collect();
    Chart {
        id: "time-to-last-close-distribution",
        title: "Distribution of time to last close".into(),
        note: format!(
            "percentiles of time_to_last_close and time_to_last_close_ooo over {} closed conversations (new pipeline)",
            all.plain.len()
        ),
        x_title: "percentile".into(),
        y_title: unit.into(),
        x_labels: DISTRIBUTION_PERCENTILES.iter().map(|p| format!("p{p}")).collect(),
        series: vec![
            Series {
                name: "time_to_last_close".into(),
                values: to(&plain),
            },
            Series {
                name: "time_to_last_close_ooo (office hours only)".into(),
                values: to(&ooo),
            },
        ],
        kind: Kind::Bars,
    }
    .html()
}

/// The groups past the table's rows: how many, and their figures merged.
pub type Others = (usize, Group);

/// The rows of a group table: the [`TABLE_ROWS`] largest groups (most
/// conversations first, then by name, as a `terms` aggregation orders), and
/// the rest merged.
pub fn top_groups(groups: &BTreeMap<String, Group>) -> (Vec<(&str, &Group)>, Option<Others>) {
    let mut all: Vec<(&str, &Group)> = groups.iter().map(|(k, g)| (k.as_str(), g)).collect();
    all.sort_by(|a, b| b.1.conversations.cmp(&a.1.conversations).then(a.0.cmp(b.0)));
    if all.len() <= TABLE_ROWS {
        return (all, None);
    }
    let rest = all.split_off(TABLE_ROWS);
    let mut merged = Group::default();
    for (_, g) in &rest {
        merged.merge(g);
    }
    (all, Some((rest.len(), merged)))
}

fn group_table(id: &str, title: &str, key: &str, groups: &BTreeMap<String, Group>) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<table class=\"view\" id=\"{id}\" data-view=\"{id}\"><caption>{}</caption><thead><tr><th>{key}</th>\
<th>conversations</th><th>median first response</th><th>p90 first response</th>\
<th>median first response (office hours)</th><th>median time to last close</th>\
<th>median time to last close (office hours)</th><th>closed by a human</th><th>closed, never by a human</th></tr></thead><tbody>",
        escape(title)
    );
    let row = |h: &mut String, name: &str, g: &Group| {
        let [m, p90] = g.first_response_time.plain.percentiles([50, 90]);
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            g.conversations,
            human(m),
            human(p90),
            human(g.first_response_time.ooo.median()),
            human(g.time_to_last_close.plain.median()),
            human(g.time_to_last_close.ooo.median()),
            g.closes.by_human,
            g.closes.never_by_human,
        );
    };
    let (top, rest) = top_groups(groups);
    for (name, g) in top {
        row(&mut h, name, g);
    }
    if let Some((n, g)) = rest {
        row(&mut h, &format!("{n} others"), &g);
    }
    if groups.is_empty() {
        h.push_str("<tr><td colspan=\"9\"><em>no conversation with a contact reply</em></td></tr>");
    }
    h.push_str("</tbody></table>");
    h
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:1.5em auto;max-width:1400px;padding:0 1em;color:#222}\
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:2px solid #ddd;padding-bottom:.2em}\
.cards{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}.card{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:12em}\
.card b{display:block;font-size:1.6em}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:1.2em}\
figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:.6em;break-inside:avoid}figure svg{width:100%;height:auto}\
figcaption small,p small{color:#555}.legend{list-style:none;padding:0;margin:.3em 0 0;display:flex;flex-wrap:wrap;gap:.4em 1.2em;font-size:.9em}\
.legend span{display:inline-block;width:.9em;height:.9em;margin-right:.35em;vertical-align:-.1em}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:bold;padding:.3em 0}\
@media print{body{margin:0;max-width:none}.grid{display:block}figure{margin-bottom:1em}h2{break-before:auto}}";

/// Builds the self-contained report page.
pub fn render_html(views: &Views, run: &RunSummary) -> String {
    let b = views.bucketing();
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>convstats report</title>\
<style>{STYLE}</style></head><body><h1>convstats report</h1>\
<p><small>Inputs: {}. {} non-blank lines read: {} records accepted, {} rejected (see rejected.ndjson). \
{} conversations ({} deleted and left out). Times are UTC; time buckets are {}s.</small></p>",
        escape(&run.inputs.join(", ")),
        run.lines,
        run.records,
        run.rejected,
        run.conversations,
        run.deleted,
        b.noun(),
    );

    let inbound = views.new_inbound(b);
    let started = views.started(b);
    // Every new-pipeline document is in exactly one workspace: their merge
    // is the whole.
    let mut all = Group::default();
    for g in views.by_workspace().values() {
        all.merge(g);
    }
    let (frt, closes) = (&all.first_response_time, all.closes);
    let closed = closes.by_human + closes.never_by_human;
    let share = if closed > 0 {
        format!("{:.0}%", closes.by_human as f64 * 100.0 / closed as f64)
    } else {
        "–".into()
    };
    let _ = write!(
        h,
        "<div class=\"cards\"><div class=\"card\">new inbound conversations<b>{}</b></div>\
<div class=\"card\">conversations with a contact reply<b>{}</b></div>\
<div class=\"card\">median first response<b>{}</b><small>office hours only: {}</small></div>\
<div class=\"card\">p90 first response<b>{}</b><small>office hours only: {}</small></div>\
<div class=\"card\">closed by a human<b>{share}</b><small>of {closed} closed conversations</small></div></div>",
        inbound.iter().map(|(_, n)| n).sum::<u64>(),
        started.iter().map(|(_, n)| n).sum::<u64>(),
        human(frt.plain.median()),
        human(frt.ooo.median()),
        human(frt.plain.percentiles([90])[0]),
        human(frt.ooo.percentiles([90])[0]),
    );

    h.push_str(
        "<h2>Legacy pipeline</h2><p><small>The legacy documents (alias <code>convstats-legacy</code>), by \
<code>conversation_created_at</code> unless a chart says otherwise.</small></p><div class=\"grid\">",
    );
    let days: Vec<i64> = inbound.iter().map(|(d, _)| *d).collect();
    h.push_str(&time_chart(
        "new-inbound",
        "New inbound conversations",
        "legacy documents with inbound: true, by conversation_created_at (Kibana's \"New inbound conversations\")",
        b,
        &days,
        "conversation_created_at",
        "conversations",
        vec![counts("inbound conversations", inbound.iter().map(|(_, n)| *n))],
        Kind::Bars,
    ));
    let csv = views.csv_rows(b);
    let csv_days: Vec<i64> = csv.iter().map(|(d, _)| *d).collect();
    h.push_str(&time_chart(
        "csv-export-rows",
        "CSV export rows by message_created_at",
        "every message type, by message_created_at: the CSV export's timeframe. It counts other conversations \
than the chart beside it for the same dates (outbound messages, and messages sent on another day than the \
conversation was created); that is intended.",
        b,
        &csv_days,
        "message_created_at",
        "conversations",
        vec![counts("CSV rows", csv.iter().map(|(_, n)| *n))],
        Kind::Bars,
    ));
    let by_type = views.by_message_type(b);
    let type_days: Vec<i64> = by_type.iter().map(|(d, _)| *d).collect();
    let types = views.message_types();
    h.push_str(&time_chart(
        "by-message-type",
        "Conversations by message type",
        "legacy documents by message_type (\"(none)\" when the conversation has none), by conversation_created_at",
        b,
        &type_days,
        "conversation_created_at",
        "conversations",
        types
            .iter()
            .map(|t| counts(t, by_type.iter().map(|(_, m)| m.get(t).copied().unwrap_or(0))))
            .collect(),
        Kind::Lines,
    ));
    let tta = views.time_to_admin_reply_median(b);
    let tta_days: Vec<i64> = tta.iter().map(|(d, _)| *d).collect();
    let (series, unit) = durations(
        [
            "median time_to_admin_reply",
            "median time_to_admin_reply_ooo (office hours only)",
        ],
        &tta,
    );
    h.push_str(&time_chart(
        "time-to-admin-reply",
        "Median time to admin reply: wall clock vs office hours",
        "first contact reply → first admin reply; the _ooo figure leaves out time outside office hours \
(Intercom's REST API time_to_admin_reply is our _ooo one)",
        b,
        &tta_days,
        "conversation_created_at",
        unit,
        series,
        Kind::Lines,
    ));
    h.push_str(&distribution_chart(
        "reopens",
        "Reopens per conversation",
        "count_reopens",
        views.reopens(),
    ));
    h.push_str(&distribution_chart(
        "assignments",
        "Assignments per conversation",
        "count_assignments",
        views.assignments(),
    ));
    h.push_str("</div>");

    h.push_str(
        "<h2>New pipeline</h2><p><small>The new-pipeline documents (alias <code>convstats-new</code>) of \
conversations with a contact reply, by <code>started_at</code> (the first contact reply).</small></p><div class=\"grid\">",
    );
    let frt_series = views.first_response_time(b);
    let frt_days: Vec<i64> = frt_series.iter().map(|(d, _)| *d).collect();
    let (series, unit) = durations(
        [
            "median first_response_time",
            "p90 first_response_time",
            "median first_response_time_ooo",
            "p90 first_response_time_ooo",
        ],
        &frt_series,
    );
    h.push_str(&time_chart(
        "first-response-time",
        "First response time: median and p90, wall clock vs office hours",
        "started_at → first_response_at; _ooo leaves out time outside office hours",
        b,
        &frt_days,
        "started_at",
        unit,
        series,
        Kind::Lines,
    ));
    let ttlc = views.time_to_last_close_median(b);
    let ttlc_days: Vec<i64> = ttlc.iter().map(|(d, _)| *d).collect();
    let (series, unit) = durations(
        [
            "median time_to_last_close",
            "median time_to_last_close_ooo",
            "median time_to_last_close_by_human",
            "median time_to_last_close_by_human_ooo",
        ],
        &ttlc,
    );
    h.push_str(&time_chart(
        "time-to-last-close",
        "Time to last close, and to the last close by a human",
        "started_at → last_closed_at, and started_at → last_closed_by_human_at; medians, wall clock and office hours",
        b,
        &ttlc_days,
        "started_at",
        unit,
        series,
        Kind::Lines,
    ));
    h.push_str(&percentile_chart(&views.time_to_last_close()));
    let close_series = views.closes(b);
    let close_days: Vec<i64> = close_series.iter().map(|(d, _)| *d).collect();
    h.push_str(&time_chart(
        "closes",
        "Closed by humans vs bots",
        "closed conversations: \"by a human\" has last_closed_by_human_at; \"never by a human\" was closed \
(last_closed_at) only by bots or other non-human authors",
        b,
        &close_days,
        "started_at",
        "share of closed conversations",
        vec![
            counts("closed by a human", close_series.iter().map(|(_, c)| c.by_human)),
            counts(
                "closed, never by a human (bots)",
                close_series.iter().map(|(_, c)| c.never_by_human),
            ),
        ],
        Kind::Shares,
    ));
    h.push_str("</div>");
    h.push_str(&group_table(
        "by-workspace",
        "By workspace (new pipeline)",
        "workspace_id",
        views.by_workspace(),
    ));
    h.push_str(&group_table(
        "by-team",
        "By team (new pipeline; team_assignee_id)",
        "team",
        views.by_team(),
    ));
    h.push_str(
        "<p><small>Percentiles interpolate linearly between the closest ranks and are rounded down to whole \
seconds; the Kibana dashboards show the same views of the same documents (counts exactly, percentiles \
within Elasticsearch's TDigest approximation). Office-hours (_ooo) figures leave out time outside each \
workspace's schedule.</small></p></body></html>\n",
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::Facts;
    use crate::metrics::Duration;
    use rand::{RngExt, SeedableRng};

    fn duration(rng: &mut rand_chacha::ChaCha8Rng, max: i64) -> Duration {
        if rng.random_range(0..10) == 0 {
            return Duration::default();
        }
        let plain = rng.random_range(0..max);
        Duration {
            plain: Some(plain),
            ooo: Some(plain / rng.random_range(1..4)),
        }
    }

    #[test]
    fn a_report_of_a_million_conversations_stays_under_one_megabyte() {
        // 92 days: the most buckets a span gives (days), with a dot per value.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let start = 1_767_225_600; // 2026-01-01
        let types = ["UserMessage", "AdminMessage", "AutoMessage", "BotMessage"];
        let mut views = Views::default();
        for _ in 0..1_000_000 {
            let created = start + rng.random_range(0..92 * 86_400);
            let replied = rng.random_range(0..5) > 0;
            let closed = rng.random_range(0..4) > 0;
            let ty = types[rng.random_range(0..types.len())];
            views.add_facts(&Facts {
                workspace_id: format!("ws-{}", rng.random_range(0..80)),
                team_assignee_id: (rng.random_range(0..5) > 0)
                    .then(|| format!("team-{}", rng.random_range(0..200))),
                message_type: ty,
                inbound: ty == "UserMessage",
                conversation_created_at: Some(created),
                message_created_at: Some(created + rng.random_range(0..3600)),
                count_reopens: rng.random_range(0..30),
                count_assignments: rng.random_range(0..30),
                time_to_admin_reply: duration(&mut rng, 400_000),
                started_at: replied.then_some(created + 60),
                last_closed_at: closed.then_some(created + 9000),
                last_closed_by_human_at: (closed && rng.random_range(0..3) > 0)
                    .then_some(created + 9000),
                first_response_time: duration(&mut rng, 400_000),
                time_to_last_close: duration(&mut rng, 900_000),
                time_to_last_close_by_human: duration(&mut rng, 900_000),
            });
        }
        let html = render_html(&views, &RunSummary::default());
        eprintln!("report of 1,000,000 conversations: {} bytes", html.len());
        assert!(html.len() < 1_000_000, "{} bytes", html.len());
        // Everything is there: every chart, both tables capped with "others".
        assert_eq!(html.matches("<figure class=\"chart\"").count(), 10);
        assert!(html.contains("30 others"), "80 workspaces, 50 rows");
        assert!(html.contains("151 others"), "200 teams and none, 50 rows");
    }
}
