//! The templates in `mappings/` map exactly the fields of metrics.md
//! sections 4–6 with the spec's types, render for any alias, and accept
//! documents of both families in the ES double.
mod support;

use std::collections::BTreeMap;

use convstats::elasticsearch::templates::{self, check_document, mapped_fields, render};
use convstats::elasticsearch::{
    Aliases, BulkConfig, BulkOp, BulkWriter, EsClient, EsConfig, Family,
};
use serde_json::json;
use support::EsDouble;
use support::docs::{legacy_doc, new_doc};

fn spec_fields(family: Family) -> BTreeMap<String, String> {
    let mut f: Vec<(&str, &str)> = vec![
        ("conversation_id", "keyword"),
        ("workspace_id", "keyword"),
        ("message_type", "keyword"),
        ("inbound", "boolean"),
        ("message_created_at", "date"),
        ("conversation_created_at", "date"),
        ("state", "keyword"),
        ("admin_assignee_id", "keyword"),
        ("team_assignee_id", "keyword"),
        ("updated_at", "date"),
    ];
    let mut owned: Vec<(String, String)> = Vec::new();
    match family {
        Family::Legacy => {
            for d in [
                "first_contact_reply_at",
                "first_assignment_at",
                "first_admin_reply_at",
                "first_close_at",
                "last_assignment_at",
                "last_assignment_admin_reply_at",
                "last_contact_reply_at",
                "last_admin_reply_at",
                "last_close_at",
            ] {
                f.push((d, "date"));
            }
            f.push(("last_closed_by_id", "keyword"));
            for c in [
                "count_reopens",
                "count_assignments",
                "count_conversation_parts",
                "reply_times",
                "reply_times_ooo",
            ] {
                f.push((c, "long"));
            }
            for d in [
                "time_to_assignment",
                "time_to_admin_reply",
                "time_to_first_close",
                "time_to_last_close",
                "median_time_to_reply",
            ] {
                owned.push((d.to_string(), "long".into()));
                owned.push((format!("{d}_ooo"), "long".into()));
            }
        }
        Family::New => {
            for d in [
                "started_at",
                "first_response_at",
                "last_closed_at",
                "last_closed_by_human_at",
            ] {
                f.push((d, "date"));
            }
            for d in [
                "first_response_time",
                "time_to_last_close",
                "time_to_last_close_by_human",
            ] {
                owned.push((d.to_string(), "long".into()));
                owned.push((format!("{d}_ooo"), "long".into()));
            }
        }
    }
    f.into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .chain(owned)
        .collect()
}

#[test]
fn templates_map_exactly_the_spec_fields_with_the_spec_types() {
    for family in Family::ALL {
        let mapped: BTreeMap<String, String> = mapped_fields(family).into_iter().collect();
        assert_eq!(mapped, spec_fields(family), "{family:?}");
        let t = render(family, "x").unwrap();
        assert_eq!(t["template"]["mappings"]["dynamic"], "strict");
        for (name, p) in t["template"]["mappings"]["properties"].as_object().unwrap() {
            if p["type"] == "date" {
                assert_eq!(
                    p["format"], "strict_date_optional_time||epoch_second",
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn templates_render_for_any_alias() {
    let a = Aliases::with_prefix("acme");
    let t = render(Family::Legacy, &a.legacy).unwrap();
    assert_eq!(t["index_patterns"], json!(["acme-legacy-*"]));
    assert!(!t.to_string().contains("{{alias}}"));
    let odd = render(Family::New, "we\"ird").unwrap();
    assert_eq!(odd["index_patterns"], json!(["we\"ird-*"]));
}

#[test]
fn documents_with_every_field_fit_and_every_mapped_field_is_produced() {
    for (family, doc) in [
        (Family::New, new_doc("w", "c", 2, 1)),
        (Family::Legacy, legacy_doc("w", "c", 2, 1)),
    ] {
        assert!(
            check_document(family, &doc).is_empty(),
            "{:?}",
            check_document(family, &doc)
        );
        let produced: Vec<&String> = doc.as_object().unwrap().keys().collect();
        for (field, _) in mapped_fields(family) {
            assert!(
                produced.contains(&&field),
                "{field} is mapped but not produced"
            );
        }
    }
    let mut bad = new_doc("w", "c", 2, 1);
    bad["first_response_time"] = json!("x");
    bad["nope"] = json!(1);
    assert_eq!(check_document(Family::New, &bad).len(), 2);
}

#[tokio::test]
async fn documents_of_both_families_index_into_the_applied_templates() {
    let d = EsDouble::start().await;
    let c = EsClient::new(&EsConfig {
        urls: vec![d.url()],
        ..Default::default()
    })
    .unwrap();
    let aliases = Aliases::default();
    templates::apply(&c, &aliases).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let w = BulkWriter::spawn(
        c,
        BulkConfig {
            dead_letter_path: dir.path().join("d"),
            ..Default::default()
        },
    )
    .unwrap();
    for i in 0..12 {
        let n = serde_json::to_vec(&new_doc("w", &format!("c{i}"), i, 1)).unwrap();
        let l = serde_json::to_vec(&legacy_doc("w", &format!("c{i}"), i, 1)).unwrap();
        // concrete names matching the templates are auto-created, like ES
        w.send(BulkOp::index(
            "convstats-new-20260101000000",
            format!("w:c{i}"),
            1,
            n,
        ))
        .await
        .unwrap();
        w.send(BulkOp::index(
            "convstats-legacy-20260101000000",
            format!("w:c{i}"),
            1,
            l,
        ))
        .await
        .unwrap();
    }
    let s = w.finish().await.unwrap().metrics;
    assert_eq!((s.indexed, s.dead_lettered), (24, 0));
}

/// Mapping coverage with real documents: every document `compute` produces
/// for the shipped examples (with their config) and for `gen` data fits the
/// templates (every field mapped with a compatible type), and together they
/// carry every mapped field with a non-null value (non-empty for lists).
#[test]
fn real_documents_cover_every_mapped_field_and_every_produced_field_is_mapped() {
    use convstats::document::render_pair;
    use convstats::source::{Quiet, load};
    use std::collections::BTreeSet;
    use std::path::Path;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let gen_path = dir.path().join("gen.ndjson");
    let params = convstats::synth::GenParams {
        conversations: 3000,
        seed: 5,
        ..Default::default()
    };
    let mut out = std::fs::File::create(&gen_path).unwrap();
    convstats::synth::write_all(&params, &mut out).unwrap();
    drop(out);
    let gen_config =
        convstats::config::parse(&convstats::synth::sample_config(params.workspaces)).unwrap();
    let examples_config =
        convstats::config::load(Some(&root.join("examples/convstats.toml"))).unwrap();
    let sources = [
        (root.join("examples/conversations.ndjson"), examples_config),
        (gen_path, gen_config),
    ];
    let mut non_null: [BTreeSet<String>; 2] = Default::default();
    let mut docs = 0;
    for (input, settings) in &sources {
        let plan = convstats::spill::SpillPlan {
            budget: convstats::spill::MemoryBudget(1 << 30),
            dir: std::env::temp_dir(),
        };
        let loaded = load(&[input.to_string_lossy().into_owned()], &Quiet, &plan).unwrap();
        let (conversations, _) = loaded.conversations.into_sorted().unwrap();
        assert!(!conversations.is_empty());
        for c in &conversations {
            let m = convstats::metrics::compute(
                c,
                &settings.bots,
                settings.office_hours.schedule_for(&c.key.workspace_id),
            );
            let (new, legacy) = render_pair(c, &m);
            for (i, (family, bytes)) in [(Family::New, new), (Family::Legacy, legacy)]
                .into_iter()
                .enumerate()
            {
                let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                let problems = check_document(family, &doc);
                assert!(problems.is_empty(), "{family:?} {doc}: {problems:?}");
                for (k, v) in doc.as_object().unwrap() {
                    let carried = match v {
                        serde_json::Value::Null => false,
                        serde_json::Value::Array(a) => !a.is_empty(),
                        _ => true,
                    };
                    if carried {
                        non_null[i].insert(k.clone());
                    }
                }
                docs += 1;
            }
        }
    }
    assert!(docs > 6000);
    for (i, family) in [Family::New, Family::Legacy].into_iter().enumerate() {
        let mapped: BTreeSet<String> = mapped_fields(family).into_iter().map(|(f, _)| f).collect();
        let missing: Vec<_> = mapped.difference(&non_null[i]).collect();
        assert!(
            missing.is_empty(),
            "{family:?}: mapped but never produced with a value: {missing:?}"
        );
        let unmapped: Vec<_> = non_null[i].difference(&mapped).collect();
        assert!(
            unmapped.is_empty(),
            "{family:?}: produced but not mapped: {unmapped:?}"
        );
    }
}
