//! Tests of the synthetic data generator (`convstats::gen`): determinism,
//! the record format of input.md, id uniqueness, the time window, and the
//! realism the demos and benchmarks rely on. Behaviour only: no expected bytes.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{self, Write};

use chrono::{Datelike, NaiveDate, TimeZone, Timelike};
use convstats::synth::{
    self, AI_AGENT_ADMIN_ID, FIN_BOT_ID, GenParams, HORIZON, OPERATOR_ADMIN_ID, write_all,
    write_conversation,
};
use serde_json::Value;

fn params(conversations: u64, seed: u64) -> GenParams {
    GenParams {
        conversations,
        seed,
        ..GenParams::default()
    }
}

fn generate(p: &GenParams) -> Vec<u8> {
    let mut out = Vec::new();
    write_all(p, &mut out).expect("writing to a Vec cannot fail");
    out
}

fn lines(bytes: &[u8]) -> Vec<Value> {
    std::str::from_utf8(bytes)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

fn parts(c: &Value) -> &Vec<Value> {
    c["conversation_parts"]["conversation_parts"]
        .as_array()
        .expect("conversation_parts.conversation_parts is an array")
}

fn int(v: &Value, what: &str) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("{what} is an integer: {v}"))
}

fn is_customer(author_type: &str) -> bool {
    matches!(author_type, "user" | "lead" | "contact")
}

#[test]
fn defaults_are_the_cli_defaults() {
    let p = GenParams::default();
    assert_eq!(p.seed, 1);
    assert_eq!(p.workspaces, 3);
    assert_eq!(p.start, NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
    assert_eq!(p.days, 28);
}

#[test]
fn same_params_give_identical_bytes_whatever_the_path() {
    let p = params(1500, 7);
    let a = generate(&p);
    let b = generate(&p);
    assert_eq!(a, b, "write_all is deterministic");

    let mut by_index = Vec::new();
    for i in 0..p.conversations {
        write_conversation(&p, i, &mut by_index);
    }
    assert_eq!(a, by_index, "write_all equals write_conversation in order");

    // A line depends on (params, index), not on how many are written.
    let shorter = generate(&params(200, 7));
    assert!(a.starts_with(&shorter));

    // Writing in reverse order and reassembling gives the same lines.
    let mut reversed: Vec<Vec<u8>> = (0..p.conversations)
        .rev()
        .map(|i| {
            let mut v = Vec::new();
            write_conversation(&p, i, &mut v);
            v
        })
        .collect();
    reversed.reverse();
    assert_eq!(a, reversed.concat());

    let other_seed = generate(&params(1500, 8));
    assert_ne!(a, other_seed, "the seed matters");
    assert_eq!(a.iter().filter(|&&b| b == b'\n').count(), 1500);
}

#[test]
fn every_line_is_a_valid_conversation_record() {
    let p = params(2000, 1);
    let bytes = generate(&p);
    assert!(bytes.ends_with(b"\n"));
    let lo = p.window_start();
    let hi = p.window_end();
    for c in lines(&bytes) {
        assert_eq!(c["type"], "conversation");
        let id = c["id"].as_str().expect("conversation id is a string");
        assert!(!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
        let created = int(&c["created_at"], "created_at");
        let updated = int(&c["updated_at"], "updated_at");
        assert!((lo..hi + HORIZON).contains(&created), "{id} created_at");
        let ws = c["workspace_id"].as_str().expect("workspace_id");
        assert!(ws.starts_with("ws-") && !ws.contains(':'));

        let source = &c["source"];
        for key in [
            "type",
            "id",
            "delivered_as",
            "subject",
            "body",
            "author",
            "attachments",
            "url",
            "redacted",
        ] {
            assert!(source.get(key).is_some(), "{id}: source.{key}");
        }
        assert!(source["author"]["type"].is_string());
        assert!(source["author"]["id"].is_string());
        let sent = match source.get("created_at") {
            Some(t) => {
                let t = int(t, "source.created_at");
                assert!(t < created, "{id}: message sent before the answer");
                t
            }
            None => created,
        };
        assert!((lo..hi).contains(&sent), "{id}: sent inside the window");
        assert_eq!(c["statistics"], Value::Null);
        assert_eq!(c["contacts"]["type"], "contact.list");
        for key in [
            "waiting_since",
            "snoozed_until",
            "admin_assignee_id",
            "team_assignee_id",
            "open",
            "state",
            "read",
            "priority",
            "tags",
        ] {
            assert!(c.get(key).is_some(), "{id}: {key}");
        }

        let list = &c["conversation_parts"];
        assert_eq!(list["type"], "conversation_part.list");
        let ps = parts(&c);
        assert_eq!(int(&list["total_count"], "total_count"), ps.len() as i64);
        assert!(ps.len() <= synth::MAX_PARTS);

        let mut prev_id: Option<u64> = None;
        let mut prev_t = created;
        // Outbound messages start closed until the customer answers.
        let inbound = source["delivered_as"] == "customer_initiated";
        let mut replayed = if inbound { "open" } else { "closed" };
        // first_contact_reply follows metrics.md section 3.
        let mut fcr = inbound.then_some(created);
        let mut max_t = created;
        for part in ps {
            assert_eq!(part["type"], "conversation_part");
            let pid: u64 = part["id"]
                .as_str()
                .expect("part id is a string")
                .parse()
                .expect("part id is numeric");
            assert!(prev_id.is_none_or(|p| p < pid), "{id}: part ids increase");
            prev_id = Some(pid);
            let kind = part["part_type"].as_str().expect("part_type");
            let t = int(&part["created_at"], "part created_at");
            assert!(t >= prev_t, "{id}: parts in time order");
            prev_t = t;
            let pu = int(&part["updated_at"], "part updated_at");
            assert!(pu >= t);
            max_t = max_t.max(t).max(pu);
            int(&part["notified_at"], "notified_at");
            assert!(t < hi + HORIZON, "{id}: part inside the slack");
            let author = &part["author"];
            let at = author["type"].as_str().expect("author.type");
            assert!(author["id"].is_string());
            for key in [
                "body",
                "assigned_to",
                "attachments",
                "external_id",
                "redacted",
            ] {
                assert!(part.get(key).is_some(), "{id}: part {key}");
            }
            let body = part["body"].as_str().is_some_and(|b| !b.trim().is_empty());
            let customer_visible =
                is_customer(at) && (matches!(kind, "comment" | "quick_reply") || body);
            if customer_visible || kind == "attribute_collected" {
                fcr.get_or_insert(t);
            }
            replayed = match kind {
                "close" => "closed",
                "snoozed" => "snoozed",
                "unsnoozed" | "open" | "assign_and_reopen" | "note_and_reopen" => "open",
                _ if customer_visible && replayed == "closed" => "open",
                _ => replayed,
            };
        }
        assert_eq!(updated, max_t, "{id}: updated_at is the last part time");

        assert_eq!(
            c["first_contact_reply"]["created_at"].as_i64(),
            fcr,
            "{id}: first_contact_reply"
        );
        let state = c["state"].as_str().expect("state");
        assert_eq!(
            state, replayed,
            "{id}: state follows the last close/open/snooze"
        );
        assert_eq!(c["open"].as_bool(), Some(state != "closed"));
        if state == "snoozed" {
            assert!(int(&c["snoozed_until"], "snoozed_until") > updated);
        } else {
            assert_eq!(c["snoozed_until"], Value::Null);
        }
    }
}

#[test]
fn ids_are_unique_per_workspace() {
    let bytes = generate(&params(3000, 3));
    let mut conversations: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut part_ids: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for c in lines(&bytes) {
        let ws = c["workspace_id"].as_str().unwrap().to_owned();
        let id = c["id"].as_str().unwrap().to_owned();
        assert!(
            conversations
                .entry(ws.clone())
                .or_default()
                .insert(id.clone()),
            "duplicate conversation {ws}/{id}"
        );
        for part in parts(&c) {
            let pid = part["id"].as_str().unwrap().to_owned();
            assert!(
                part_ids.entry(ws.clone()).or_default().insert(pid.clone()),
                "duplicate part {ws}/{pid}"
            );
        }
    }
    assert!(conversations.len() >= 3);
}

#[test]
fn data_is_realistic_enough_for_every_metric() {
    let p = params(2000, 1);
    let bytes = generate(&p);
    let convs = lines(&bytes);
    let zones: BTreeMap<String, chrono_tz::Tz> = (0..p.workspaces)
        .map(|k| {
            let w = synth::workspace_info(k);
            (w.name, w.zone)
        })
        .collect();

    let mut workspaces = BTreeSet::new();
    let mut delivered = BTreeSet::new();
    let mut part_types = BTreeSet::new();
    let mut author_types = BTreeSet::new();
    let mut states = BTreeSet::new();
    let (mut ai_parts, mut operator_parts, mut fin_parts) = (0, 0, 0);
    let (mut admin_closes, mut bot_closes, mut closes_with_body) = (0, 0, 0);
    let (mut reopens, mut multi_close, mut same_second_ties) = (0, 0, 0);
    let (mut workday, mut weekend, mut office, mut night) = (0u32, 0u32, 0u32, 0u32);
    let (mut part_total, mut late_answers) = (0usize, 0);
    let mut unanswered_outbound = 0;
    for c in &convs {
        let ws = c["workspace_id"].as_str().unwrap();
        workspaces.insert(ws.to_owned());
        let da = c["source"]["delivered_as"].as_str().unwrap();
        delivered.insert(da.to_owned());
        states.insert(c["state"].as_str().unwrap().to_owned());
        let created = c["created_at"].as_i64().unwrap();
        if da == "customer_initiated" {
            let zone = zones[ws];
            let local = zone.timestamp_opt(created, 0).unwrap();
            if local.weekday().num_days_from_monday() < 5 {
                workday += 1;
            } else {
                weekend += 1;
            }
            match local.hour() {
                9..=16 => office += 1,
                0..=5 => night += 1,
                _ => {}
            }
        }
        let ps = parts(c);
        part_total += ps.len();
        let mut closes = 0;
        let mut closed = false;
        let mut prev_t = None;
        let mut first_customer: Option<i64> = None;
        for part in ps {
            let kind = part["part_type"].as_str().unwrap();
            part_types.insert(kind.to_owned());
            let author = &part["author"];
            let at = author["type"].as_str().unwrap();
            author_types.insert(at.to_owned());
            let t = part["created_at"].as_i64().unwrap();
            if prev_t == Some(t) || t == created {
                same_second_ties += 1;
            }
            prev_t = Some(t);
            if author["from_ai_agent"] == true {
                ai_parts += 1;
                assert_eq!(author["id"], AI_AGENT_ADMIN_ID);
            }
            if author["id"] == OPERATOR_ADMIN_ID {
                operator_parts += 1;
                assert_eq!(at, "admin");
            }
            if author["id"] == FIN_BOT_ID {
                fin_parts += 1;
                assert_eq!(at, "bot");
            }
            if is_customer(at) && first_customer.is_none() {
                first_customer = Some(t);
            }
            match kind {
                "close" => {
                    closes += 1;
                    closed = true;
                    match at {
                        "admin" if author["id"] != OPERATOR_ADMIN_ID => admin_closes += 1,
                        "admin" | "bot" => bot_closes += 1,
                        _ => {}
                    }
                    if part["body"].is_string() {
                        closes_with_body += 1;
                    }
                }
                "open" | "assign_and_reopen" | "note_and_reopen" if closed => {
                    reopens += 1;
                    closed = false;
                }
                _ => {}
            }
        }
        if closes > 1 {
            multi_close += 1;
        }
        if da != "customer_initiated" && da != "operator_initiated" {
            let sent = c["source"]
                .get("created_at")
                .and_then(Value::as_i64)
                .unwrap_or(created);
            match first_customer {
                Some(t) if t - sent > 86_400 => late_answers += 1,
                Some(_) => {}
                None => unanswered_outbound += 1,
            }
        }
    }

    assert!(workspaces.len() >= 3, "{workspaces:?}");
    for kind in ["customer_initiated", "admin_initiated", "automated"] {
        assert!(delivered.contains(kind), "{kind} in {delivered:?}");
    }
    for kind in [
        "comment",
        "note",
        "assignment",
        "default_assignment",
        "assign_and_reopen",
        "note_and_reopen",
        "open",
        "close",
        "snoozed",
        "unsnoozed",
        "quick_reply",
        "attribute_collected",
    ] {
        assert!(part_types.contains(kind), "{kind} in {part_types:?}");
    }
    assert!(
        part_types
            .iter()
            .any(|k| k == "language_detection_details"
                || k == "conversation_attribute_updated_by_admin"),
        "some part types unknown to convstats: {part_types:?}"
    );
    for t in ["user", "lead", "contact", "admin", "bot"] {
        assert!(author_types.contains(t), "{t} in {author_types:?}");
    }
    for s in ["open", "closed", "snoozed"] {
        assert!(states.contains(s), "{s} in {states:?}");
    }
    assert!(ai_parts > 0 && operator_parts > 0 && fin_parts > 0);
    assert!(admin_closes > bot_closes && bot_closes > 0);
    assert!(closes_with_body > 0);
    assert!(reopens > 20 && multi_close > 20, "{reopens} {multi_close}");
    assert!(same_second_ties > 0);
    assert!(late_answers > 0 && unanswered_outbound > 0);

    // Arrival shaped by office hours: per day, workdays are busier than
    // weekends, and business hours are busier than nights.
    let per_workday = f64::from(workday) / 20.0;
    let per_weekend_day = f64::from(weekend) / 8.0;
    assert!(
        per_workday > 2.0 * per_weekend_day,
        "{workday} on workdays, {weekend} on weekends"
    );
    assert!(
        office > 4 * night,
        "{office} in office hours, {night} at night"
    );

    let avg_parts = part_total as f64 / convs.len() as f64;
    assert!(
        (6.0..14.0).contains(&avg_parts),
        "{avg_parts} parts per conversation"
    );
    let avg_bytes = bytes.len() as f64 / convs.len() as f64;
    assert!(
        (2000.0..6000.0).contains(&avg_bytes),
        "{avg_bytes} bytes per line"
    );
}

#[test]
fn reply_delays_reach_out_of_hours_and_weekends() {
    // Admin replies to customer messages: most in office hours, some not, and
    // some waits span a weekend.
    let p = params(2000, 5);
    let convs = lines(&generate(&p));
    let (mut in_hours, mut out_of_hours, mut over_weekend) = (0, 0, 0);
    for c in &convs {
        let w = synth::workspace_info(
            c["workspace_id"].as_str().unwrap()[3..]
                .parse::<u32>()
                .unwrap()
                - 1,
        );
        let mut last_customer: Option<i64> = None;
        for part in parts(c) {
            let at = part["author"]["type"].as_str().unwrap();
            let t = part["created_at"].as_i64().unwrap();
            if is_customer(at) {
                last_customer.get_or_insert(t);
            } else if at == "admin"
                && part["part_type"] == "comment"
                && part["author"]["id"].as_str().unwrap().len() == 7
            {
                let local = w.zone.timestamp_opt(t, 0).unwrap();
                let workday = local.weekday().num_days_from_monday() < 5;
                if workday && (w.open_hour..w.close_hour).contains(&local.hour()) {
                    in_hours += 1;
                } else {
                    out_of_hours += 1;
                }
                if let Some(from) = last_customer.take() {
                    let from = w.zone.timestamp_opt(from, 0).unwrap();
                    if from.weekday().num_days_from_monday() >= 4
                        && local.weekday().num_days_from_monday() == 0
                        && t - from.timestamp() > 2 * 86_400
                    {
                        over_weekend += 1;
                    }
                }
            }
        }
    }
    assert!(in_hours > 3 * out_of_hours, "{in_hours} vs {out_of_hours}");
    assert!(out_of_hours > 0);
    assert!(over_weekend > 0);
}

#[test]
fn odd_parameters_do_not_panic() {
    let empty = GenParams {
        conversations: 0,
        ..GenParams::default()
    };
    assert!(generate(&empty).is_empty());

    let degenerate = GenParams {
        conversations: 50,
        workspaces: 0,
        days: 0,
        ..GenParams::default()
    };
    let convs = lines(&generate(&degenerate));
    assert_eq!(convs.len(), 50);
    assert!(convs.iter().all(|c| c["workspace_id"] == "ws-1"));

    let many = GenParams {
        conversations: 500,
        workspaces: 40,
        days: 1,
        ..GenParams::default()
    };
    let convs = lines(&generate(&many));
    let names: BTreeSet<&str> = convs
        .iter()
        .map(|c| c["workspace_id"].as_str().unwrap())
        .collect();
    assert!(names.len() > 20, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n[3..].parse::<u32>().is_ok_and(|k| (1..=40).contains(&k)))
    );

    // Extreme values: no panic, still one JSON line each.
    for (start, index) in [
        (NaiveDate::MAX, 0),
        (NaiveDate::MIN, 1),
        (NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(), u64::MAX),
    ] {
        let p = GenParams {
            conversations: 1,
            seed: u64::MAX,
            workspaces: u32::MAX,
            start,
            days: u32::MAX,
        };
        let mut out = Vec::new();
        write_conversation(&p, index, &mut out);
        assert_eq!(lines(&out).len(), 1);
    }
}

#[test]
fn dst_changes_inside_the_window_are_handled() {
    // Europe/Dublin and America/New_York spring forward, Sydney falls back.
    let p = GenParams {
        conversations: 1500,
        start: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
        days: 40,
        ..GenParams::default()
    };
    let convs = lines(&generate(&p));
    assert_eq!(convs.len(), 1500);
    for c in &convs {
        let created = c["created_at"].as_i64().unwrap();
        assert!(created >= p.window_start() && created < p.window_end() + HORIZON);
    }
}

struct FailAfter(usize);

impl Write for FailAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0 < buf.len() {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"));
        }
        self.0 -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn write_errors_are_returned_not_panicked() {
    let p = params(20_000, 1);
    let err = write_all(&p, &mut FailAfter(1_000_000)).expect_err("the writer fails");
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
}

#[test]
fn sample_config_describes_the_workspaces() {
    let text = synth::sample_config(3);
    let v: toml::Value = toml::from_str(&text).expect("valid TOML");
    assert_eq!(v["bots"]["author_ids"][0].as_str(), Some(OPERATOR_ADMIN_ID));
    for k in 0..3 {
        let w = synth::workspace_info(k);
        assert_eq!(
            v["workspaces"][&w.name]["office_hours"].as_str(),
            Some(w.name.as_str())
        );
        assert_eq!(
            v["office_hours"][&w.name]["timezone"].as_str(),
            Some(w.zone.name())
        );
    }
    assert_eq!(synth::workspace_info(0).zone, chrono_tz::Europe::Dublin);
    assert_eq!(synth::workspace_info(1).zone, chrono_tz::America::New_York);
    assert_eq!(synth::workspace_info(2).zone, chrono_tz::Australia::Sydney);
}

#[test]
fn write_all_is_the_same_inside_a_small_rayon_pool() {
    let p = params(3000, 11);
    let expected = generate(&p);
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        let inside = pool.install(|| generate(&p));
        assert_eq!(inside, expected, "{threads} threads, called on a worker");
    }
}
