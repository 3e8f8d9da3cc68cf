//! Helpers for building conversations from JSON records and computing them
//! through the library's real parse → merge → metrics path.
#![allow(dead_code)]

use convstats::conversation::Conversation;
use convstats::metrics::{self, BotIds, Metrics};
use convstats::office_hours::Schedule;
use convstats::record::Id;
use convstats::source::batch::{BatchMerge, WorkerReport};
use convstats::source::blocks::Block;
use serde_json::{Value, json};

/// A base instant: 2023-11-14T22:13:20Z.
pub const T0: i64 = 1_700_000_000;

/// A customer-initiated conversation "c1" created at T0 by user "u1".
pub fn conversation(parts: Vec<Value>) -> Value {
    json!({
        "type": "conversation", "id": "c1", "created_at": T0, "updated_at": T0,
        "source": {"delivered_as": "customer_initiated", "author": {"type": "user", "id": "u1"}},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": parts}
    })
}

/// An admin-initiated (outbound) conversation "c1" created at T0 by admin "a1".
pub fn outbound(parts: Vec<Value>) -> Value {
    json!({
        "type": "conversation", "id": "c1", "created_at": T0, "updated_at": T0,
        "source": {"delivered_as": "admin_initiated", "author": {"type": "admin", "id": "a1"}},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": parts}
    })
}

/// A part `id` of `part_type` at T0 + `dt` by an author of `author_type`
/// (author id: first letter of the type + "1"), with a body.
pub fn part(id: &str, part_type: &str, dt: i64, author_type: &str) -> Value {
    let author_id = format!("{}1", author_type.chars().next().unwrap_or('x'));
    json!({
        "type": "conversation_part", "id": id, "part_type": part_type,
        "created_at": T0 + dt, "body": "<p>text</p>",
        "author": {"type": author_type, "id": author_id}
    })
}

/// The same part without a body.
pub fn bare(id: &str, part_type: &str, dt: i64, author_type: &str) -> Value {
    let mut p = part(id, part_type, dt, author_type);
    p["body"] = Value::Null;
    p
}

/// Parses and merges `lines` (one JSON record each, in read order) the way
/// a run does: one block of lines through the batch merge, finished and
/// sorted by key.
pub fn merge(lines: &[Value]) -> Vec<Conversation> {
    let mut data = Vec::new();
    for l in lines {
        serde_json::to_writer(&mut data, l).unwrap();
        data.push(b'\n');
    }
    merge_ndjson(data)
}

/// The same for NDJSON text.
pub fn merge_ndjson(data: Vec<u8>) -> Vec<Conversation> {
    let batch = BatchMerge::new();
    let mut report = WorkerReport::default();
    batch.ingest(
        Block::Lines {
            source: 0,
            first_line: 1,
            data,
        },
        &mut report,
    );
    if let Some(r) = report.rejections.first() {
        panic!("line {} rejected: {}", r.line, r.reason);
    }
    batch.finish().0
}

/// Metrics of the single conversation `lines` describe, with `bots`.
pub fn metrics_with_bots(lines: &[Value], bots: &[&str]) -> Metrics {
    let convs = merge(lines);
    assert_eq!(convs.len(), 1, "expected one conversation");
    let bots = BotIds::new(bots.iter().map(|b| Id::from(*b)));
    metrics::compute(&convs[0], &bots, &Schedule::always_open())
}

/// Metrics of the single conversation `lines` describe.
pub fn metrics_of(lines: &[Value]) -> Metrics {
    metrics_with_bots(lines, &[])
}

/// Metrics of one conversation record with these parts.
pub fn metrics_for_parts(parts: Vec<Value>) -> Metrics {
    metrics_of(&[conversation(parts)])
}

/// Unix seconds T0 + dt.
pub fn at(dt: i64) -> Option<i64> {
    Some(T0 + dt)
}

/// The lines of `n` synthetic conversations (`convstats gen`) of `seed`.
pub fn gen_lines(n: u64, seed: u64) -> Vec<String> {
    let mut out = Vec::new();
    convstats::synth::write_all(
        &convstats::synth::GenParams {
            conversations: n,
            seed,
            ..Default::default()
        },
        &mut out,
    )
    .unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}
