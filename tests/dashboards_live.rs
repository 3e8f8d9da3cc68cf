//! The dashboards show the right numbers: each Lens panel of
//! `kibana/convstats.ndjson` is turned into the Elasticsearch aggregation
//! Kibana would send for it (tests/support/lens.rs), run on a real engine
//! after a backfill of `gen` data, and compared with `compute`'s own
//! aggregates (src/aggregate.rs, the figures report.html draws): counts
//! exactly, percentiles within the engine's TDigest approximation.
//!
//! Needs an engine: `CONVSTATS_TEST_ES_URL` (`scripts/opensearch start`
//! prints one). Skipped with a message without it; with
//! `CONVSTATS_TEST_ES_REQUIRED` set (CI) a missing engine is a failure.
mod support;

use std::collections::BTreeMap;

use convstats::aggregate::{
    Bucketing, Facts, NO_MESSAGE_TYPE, NO_TEAM, Views, percentile, smallest_keys,
};
use convstats::report::{DISTRIBUTION_VALUES, top_groups};
use serde_json::Value;
use support::lens::{Panel, check, metric, shipped, shipped_mappings};
use support::targets::{clean, convstats, engine_from, refresh, run};

const PREFIX: &str = "convstats-live-dashboards";
/// Kibana's label of a `terms` missing bucket.
const MISSING: &str = "(missing value)";
/// Percentile ranks either side of the asked one within which the engine's
/// TDigest estimate must fall.
const RANK_SLACK: u32 = 3;

const CONFIG: &str = r#"
[workspaces.default]
office_hours = "emea"

[office_hours.emea]
timezone = "Europe/Dublin"
monday    = ["09:00-12:30", "13:30-17:30"]
tuesday   = ["09:00-17:30"]
wednesday = ["09:00-17:30"]
thursday  = ["09:00-17:30"]
friday    = ["09:00-17:00"]
"#;

/// What the test knows of every conversation: its facts, for the values
/// behind each percentile.
struct Expected {
    views: Views,
    facts: Vec<Facts>,
    bucketing: Bucketing,
}

fn day(ts: i64) -> i64 {
    ts.div_euclid(86_400)
}

/// The engine's value lies between our percentiles `RANK_SLACK` ranks
/// either side, over the same values.
fn assert_percentile(
    what: &str,
    values: &mut [i64],
    p: u32,
    ours: Option<i64>,
    engine: Option<f64>,
) {
    values.sort_unstable();
    assert_eq!(
        ours,
        percentile(values, p),
        "{what}: our figure is not the percentile of the documents"
    );
    match (ours, engine) {
        (None, None) => {}
        (Some(_), Some(e)) => {
            let lo = percentile(values, p.saturating_sub(RANK_SLACK)).unwrap() as f64 - 1.0;
            let hi = percentile(values, (p + RANK_SLACK).min(100)).unwrap() as f64 + 1.0;
            assert!(
                lo <= e && e <= hi,
                "{what}: the engine's p{p} {e} is outside [{lo}, {hi}] (ours {ours:?}, {} values)",
                values.len()
            );
        }
        (o, e) => panic!("{what}: ours {o:?}, engine {e:?}"),
    }
}

/// Date-histogram buckets of an answer: bucket start day → bucket.
fn by_day(agg: &Value) -> BTreeMap<i64, Value> {
    agg["buckets"]
        .as_array()
        .unwrap_or_else(|| panic!("no buckets in {agg}"))
        .iter()
        .map(|b| (day(b["key"].as_i64().unwrap() / 1000), b.clone()))
        .collect()
}

fn count(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

/// Checks one panel's answer against the expected figures.
fn compare(panel: &Panel, answer: &Value, e: &Expected) {
    let b = e.bucketing;
    let aggs = &answer["aggregations"];
    let id = panel.id.as_str();
    let bucket_of = |ts: Option<i64>| ts.map(|t| b.start(day(t)));
    match id {
        "new-inbound" | "csv-export-rows" | "closes" => {
            let got = by_day(&aggs["x"]);
            let want: BTreeMap<i64, Vec<u64>> = match id {
                "new-inbound" => e
                    .views
                    .new_inbound(b)
                    .into_iter()
                    .map(|(d, n)| (d, vec![n]))
                    .collect(),
                "csv-export-rows" => e
                    .views
                    .csv_rows(b)
                    .into_iter()
                    .map(|(d, n)| (d, vec![n]))
                    .collect(),
                _ => e
                    .views
                    .closes(b)
                    .into_iter()
                    .map(|(d, c)| (d, vec![c.by_human, c.never_by_human]))
                    .collect(),
            };
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "{id}: buckets"
            );
            let metrics: Vec<_> = panel.columns.iter().filter(|c| !c.bucketed).collect();
            for (d, values) in &want {
                for (c, v) in metrics.iter().zip(values) {
                    assert_eq!(
                        metric(&got[d], c),
                        Some(*v as f64),
                        "{id}/{}: bucket {d}",
                        c.id
                    );
                }
            }
        }
        "by-message-type" => {
            let got = by_day(&aggs["x"]);
            let want = e.views.by_message_type(b);
            assert_eq!(got.len(), want.len(), "{id}: buckets");
            for (d, types) in want {
                let engine: BTreeMap<String, u64> = got[&d]["split"]["buckets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| {
                        (
                            t["key"].as_str().unwrap().to_string(),
                            count(&t["doc_count"]),
                        )
                    })
                    .collect();
                let ours: BTreeMap<String, u64> = types
                    .into_iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(t, n)| {
                        (
                            if t == NO_MESSAGE_TYPE {
                                MISSING.into()
                            } else {
                                t.to_string()
                            },
                            n,
                        )
                    })
                    .collect();
                assert_eq!(engine, ours, "{id}: bucket {d}");
            }
        }
        "reopens" | "assignments" => {
            let dist = if id == "reopens" {
                e.views.reopens()
            } else {
                e.views.assignments()
            };
            let (shown, other) = smallest_keys(dist, DISTRIBUTION_VALUES);
            let engine: Vec<(u64, u64)> = aggs["x"]["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| (count(&t["key"]), count(&t["doc_count"])))
                .collect();
            assert_eq!(engine, shown, "{id}");
            assert_eq!(
                count(&aggs["x"]["sum_other_doc_count"]),
                other,
                "{id}: other"
            );
        }
        "time-to-admin-reply" | "first-response-time" | "time-to-last-close" => {
            let got = by_day(&aggs["x"]);
            // Each metric column: (field value of a conversation, percent, our series).
            type Getter = fn(&Facts) -> Option<i64>;
            /// A column: the conversation's value, the percent, our series.
            type Col = (Getter, u32, Vec<(i64, Option<i64>)>);
            let (time, cols): (Getter, Vec<Col>) = match id {
                "time-to-admin-reply" => {
                    let s = e.views.time_to_admin_reply_median(b);
                    (
                        |f| f.conversation_created_at,
                        vec![
                            (
                                |f| f.time_to_admin_reply.plain,
                                50,
                                s.iter().map(|(d, v)| (*d, v[0])).collect(),
                            ),
                            (
                                |f| f.time_to_admin_reply.ooo,
                                50,
                                s.iter().map(|(d, v)| (*d, v[1])).collect(),
                            ),
                        ],
                    )
                }
                "first-response-time" => {
                    let s = e.views.first_response_time(b);
                    let col = |k: usize| s.iter().map(|(d, v)| (*d, v[k])).collect::<Vec<_>>();
                    (
                        |f| f.started_at,
                        vec![
                            (|f| f.first_response_time.plain, 50, col(0)),
                            (|f| f.first_response_time.plain, 90, col(1)),
                            (|f| f.first_response_time.ooo, 50, col(2)),
                            (|f| f.first_response_time.ooo, 90, col(3)),
                        ],
                    )
                }
                _ => {
                    let s = e.views.time_to_last_close_median(b);
                    let col = |k: usize| s.iter().map(|(d, v)| (*d, v[k])).collect::<Vec<_>>();
                    (
                        |f| f.started_at,
                        vec![
                            (|f| f.time_to_last_close.plain, 50, col(0)),
                            (|f| f.time_to_last_close.ooo, 50, col(1)),
                            (|f| f.time_to_last_close_by_human.plain, 50, col(2)),
                            (|f| f.time_to_last_close_by_human.ooo, 50, col(3)),
                        ],
                    )
                }
            };
            let metrics: Vec<_> = panel.columns.iter().filter(|c| !c.bucketed).collect();
            assert_eq!(metrics.len(), cols.len(), "{id}: columns");
            for (c, (value, p, series)) in metrics.iter().zip(cols) {
                assert_eq!(got.len(), series.len(), "{id}: buckets");
                for (d, ours) in series {
                    let mut values: Vec<i64> = e
                        .facts
                        .iter()
                        .filter(|f| bucket_of(time(f)) == Some(d))
                        .filter_map(value)
                        .collect();
                    assert_percentile(
                        &format!("{id}/{} bucket {d}", c.id),
                        &mut values,
                        p,
                        ours,
                        metric(&got[&d], c),
                    );
                }
            }
        }
        "time-to-last-close-distribution" => {
            let all = e.views.time_to_last_close();
            for c in &panel.columns {
                let p = c.params["percentile"].as_u64().unwrap() as u32;
                let ooo = c.field.ends_with("_ooo");
                let ours = if ooo {
                    all.ooo.percentiles([p])[0]
                } else {
                    all.plain.percentiles([p])[0]
                };
                let mut values: Vec<i64> = e
                    .facts
                    .iter()
                    .filter(|f| f.started_at.is_some())
                    .filter_map(|f| {
                        if ooo {
                            f.time_to_last_close.ooo
                        } else {
                            f.time_to_last_close.plain
                        }
                    })
                    .collect();
                assert_percentile(
                    &format!("{id}/{}", c.id),
                    &mut values,
                    p,
                    ours,
                    metric(aggs, c),
                );
            }
        }
        "by-workspace" | "by-team" => {
            let groups = if id == "by-workspace" {
                e.views.by_workspace()
            } else {
                e.views.by_team()
            };
            let (top, rest) = top_groups(groups);
            let buckets = aggs["group"]["buckets"].as_array().unwrap();
            let keys: Vec<String> = buckets
                .iter()
                .map(|t| t["key"].as_str().unwrap().to_string())
                .collect();
            let ours: Vec<String> = top
                .iter()
                .map(|(k, _)| {
                    if *k == NO_TEAM && id == "by-team" {
                        MISSING.to_string()
                    } else {
                        k.to_string()
                    }
                })
                .collect();
            assert_eq!(keys, ours, "{id}: groups, largest first");
            assert_eq!(
                count(&aggs["group"]["sum_other_doc_count"]),
                rest.map_or(0, |(_, g)| g.conversations),
                "{id}: other"
            );
            for (t, (name, g)) in buckets.iter().zip(top) {
                let in_group = |f: &Facts| {
                    f.started_at.is_some()
                        && if id == "by-workspace" {
                            f.workspace_id == name
                        } else {
                            f.team_assignee_id.as_deref().unwrap_or(NO_TEAM) == name
                        }
                };
                assert_eq!(count(&t["doc_count"]), g.conversations, "{id}/{name}");
                assert_eq!(
                    metric(t, panel.column("human")),
                    Some(g.closes.by_human as f64),
                    "{id}/{name}"
                );
                assert_eq!(
                    metric(t, panel.column("bots")),
                    Some(g.closes.never_by_human as f64),
                    "{id}/{name}"
                );
                type Getter = fn(&Facts) -> Option<i64>;
                let cells: [(&str, Getter, u32, Option<i64>); 5] = [
                    (
                        "frt50",
                        |f| f.first_response_time.plain,
                        50,
                        g.first_response_time.plain.median(),
                    ),
                    (
                        "frt90",
                        |f| f.first_response_time.plain,
                        90,
                        g.first_response_time.plain.percentiles([90])[0],
                    ),
                    (
                        "frt50ooo",
                        |f| f.first_response_time.ooo,
                        50,
                        g.first_response_time.ooo.median(),
                    ),
                    (
                        "ttlc50",
                        |f| f.time_to_last_close.plain,
                        50,
                        g.time_to_last_close.plain.median(),
                    ),
                    (
                        "ttlc50ooo",
                        |f| f.time_to_last_close.ooo,
                        50,
                        g.time_to_last_close.ooo.median(),
                    ),
                ];
                for (col, value, p, ours) in cells {
                    let mut values: Vec<i64> = e
                        .facts
                        .iter()
                        .filter(|f| in_group(f))
                        .filter_map(value)
                        .collect();
                    assert_percentile(
                        &format!("{id}/{name}/{col}"),
                        &mut values,
                        p,
                        ours,
                        metric(t, panel.column(col)),
                    );
                }
            }
        }
        other => panic!("panel {other} has no comparison: add one here"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_panel_shows_computes_numbers_on_the_engine() {
    let Some(t) = engine_from("CONVSTATS_TEST_ES_URL", "a node").await else {
        eprintln!(
            "dashboard check skipped: no engine (set CONVSTATS_TEST_ES_URL; scripts/opensearch start prints one)"
        );
        return;
    };
    let objects =
        check(&shipped(), &shipped_mappings()).unwrap_or_else(|e| panic!("{}", e.join("\n")));
    clean(&t, PREFIX).await;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("gen.ndjson");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        convstats::synth::write_all(
            &convstats::synth::GenParams {
                conversations: 4000,
                seed: 23,
                workspaces: 4,
                // 120 days: weekly buckets, as the report chooses for that span.
                days: 120,
                ..Default::default()
            },
            &mut out,
        )
        .unwrap();
    }
    let config = dir.path().join("convstats.toml");
    std::fs::write(&config, CONFIG).unwrap();

    // compute's figures, from the same code compute runs.
    let settings = convstats::config::parse(CONFIG).unwrap();
    let plan = convstats::spill::SpillPlan {
        budget: convstats::spill::MemoryBudget(1 << 30),
        dir: dir.path().to_path_buf(),
    };
    let loaded = convstats::source::load(
        &[input.to_string_lossy().into_owned()],
        &convstats::source::Quiet,
        &plan,
    )
    .unwrap();
    let (conversations, _) = loaded.conversations.into_sorted().unwrap();
    let mut views = Views::default();
    let mut facts = Vec::new();
    for c in &conversations {
        let m = convstats::document::metrics_for(c, &settings);
        let f = Facts::of(c, &m);
        views.add_facts(&f);
        facts.push(f);
    }
    let bucketing = views.bucketing();
    assert_eq!(bucketing, Bucketing::Week);
    assert!(
        facts
            .iter()
            .any(|f| f.first_response_time.ooo != f.first_response_time.plain),
        "office hours should make _ooo differ"
    );
    let expected = Expected {
        views,
        facts,
        bucketing,
    };

    let mut cmd = convstats(&t, PREFIX, dir.path());
    cmd.args([
        "--config",
        &config.to_string_lossy(),
        "backfill",
        &input.to_string_lossy(),
    ]);
    let (code, text) = run(cmd).await;
    assert_eq!(code, 0, "backfill: {text}");
    for family in ["new", "legacy"] {
        refresh(&t, &format!("{PREFIX}-{family}")).await;
    }

    assert_eq!(objects.panels.len(), 12);
    for panel in &objects.panels {
        let index = panel.view.title.replacen("convstats", PREFIX, 1);
        let body = panel.search(bucketing.calendar_interval());
        let answer = t
            .client
            .json_ok(
                convstats::elasticsearch::client::Method::Post,
                &format!("/{index}/_search"),
                &[],
                Some(&body),
                "dashboard panel search",
            )
            .await
            .unwrap_or_else(|e| panic!("{}: {e}\n{body}", panel.id));
        compare(panel, &answer, &expected);
        eprintln!(
            "panel {} ({}): the engine's numbers are compute's",
            panel.id, panel.title
        );
    }
    clean(&t, PREFIX).await;
}
