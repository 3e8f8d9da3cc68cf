//! The Kibana saved objects (`kibana/convstats.ndjson`), checked offline: no
//! Kibana runs here, so the file is held to what Kibana's import validates
//! and to the mappings its panels aggregate (tests/support/lens.rs). The
//! engine check of the same panels is tests/dashboards_live.rs.
mod support;

use std::collections::BTreeSet;

use support::lens::{check, shipped, shipped_mappings};

#[test]
fn every_line_parses_every_id_is_unique_every_reference_resolves_and_every_panel_field_is_aggregatable()
 {
    let objects = check(&shipped(), &shipped_mappings()).unwrap_or_else(|errors| {
        panic!(
            "kibana/convstats.ndjson does not hold:\n{}",
            errors.join("\n")
        )
    });
    // A data view per alias, and the CSV export's timeframe on the legacy one.
    let views: BTreeSet<(String, String)> = objects
        .views
        .values()
        .map(|v| (v.title.clone(), v.time_field.clone()))
        .collect();
    for (alias, time) in [
        ("convstats-legacy", "conversation_created_at"),
        ("convstats-legacy", "message_created_at"),
        ("convstats-new", "started_at"),
    ] {
        assert!(
            views.contains(&(alias.into(), time.into())),
            "no data view {alias} by {time}"
        );
    }
    // The views the report draws, each a panel of the dashboard of its pipeline.
    let panels: BTreeSet<(String, String)> = objects
        .panels
        .iter()
        .map(|p| (p.dashboard.clone(), p.id.clone()))
        .collect();
    for id in [
        "new-inbound",
        "csv-export-rows",
        "by-message-type",
        "time-to-admin-reply",
        "reopens",
        "assignments",
    ] {
        assert!(
            panels.contains(&("convstats-legacy-dashboard".into(), id.into())),
            "{id}"
        );
    }
    for id in [
        "first-response-time",
        "time-to-last-close",
        "time-to-last-close-distribution",
        "closes",
        "by-workspace",
        "by-team",
    ] {
        assert!(
            panels.contains(&("convstats-new-dashboard".into(), id.into())),
            "{id}"
        );
    }
}

#[test]
fn the_ids_are_stable_across_releases() {
    // Re-importing with overwrite=true replaces objects by id: renaming one
    // would leave the old dashboard behind in every user's Kibana.
    let ids: Vec<String> = shipped()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            format!(
                "{}:{}",
                v["type"].as_str().unwrap(),
                v["id"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            "index-pattern:convstats-legacy",
            "index-pattern:convstats-legacy-by-message-created-at",
            "index-pattern:convstats-new",
            "dashboard:convstats-legacy-dashboard",
            "dashboard:convstats-new-dashboard",
        ]
    );
}

#[test]
fn the_check_breaks_when_a_field_a_panel_uses_is_renamed_in_a_mapping() {
    let ndjson = shipped();
    let objects = check(&ndjson, &shipped_mappings()).expect("the shipped file holds");
    let mut used: BTreeSet<(String, String)> = BTreeSet::new();
    for p in &objects.panels {
        for c in &p.columns {
            if c.op != "count" {
                used.insert((p.view.title.clone(), c.field.clone()));
            }
            for f in c.filter.iter().flat_map(|f| support::lens::kql_fields(f)) {
                used.insert((p.view.title.clone(), f));
            }
        }
        used.insert((p.view.title.clone(), p.view.time_field.clone()));
    }
    assert!(used.len() > 15, "{used:?}");
    for (alias, field) in used {
        let mut mappings = shipped_mappings();
        let fields = mappings.get_mut(&alias).unwrap();
        let ty = fields.remove(&field).unwrap();
        fields.insert(format!("{field}_renamed"), ty);
        let errors = match check(&ndjson, &mappings) {
            Ok(_) => panic!("renaming {alias}.{field} went unnoticed"),
            Err(e) => e,
        };
        assert!(
            errors.iter().any(|e| e.contains(&field)),
            "{alias}.{field}: {errors:?}"
        );
    }
}

#[test]
fn the_check_breaks_when_a_field_changes_to_a_type_its_operation_cannot_aggregate() {
    let mut mappings = shipped_mappings();
    mappings
        .get_mut("convstats-new")
        .unwrap()
        .insert("first_response_time".into(), "keyword".into());
    let errors = check(&shipped(), &mappings)
        .err()
        .expect("a keyword median");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("median cannot aggregate first_response_time")),
        "{errors:?}"
    );
}

#[test]
fn the_check_breaks_on_a_dangling_reference_and_on_a_repeated_id() {
    let ndjson = shipped();
    let first = ndjson.lines().next().unwrap();
    let errors = check(&format!("{ndjson}{first}\n"), &shipped_mappings())
        .err()
        .expect("a repeated id");
    assert!(errors.iter().any(|e| e.contains("repeated")), "{errors:?}");
    let without_new_view: String = ndjson
        .lines()
        .filter(|l| !l.starts_with("{\"type\":\"index-pattern\",\"id\":\"convstats-new\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let errors = check(&without_new_view, &shipped_mappings())
        .err()
        .expect("a dangling reference");
    assert!(
        errors
            .iter()
            .any(|e| e.contains("index-pattern:convstats-new is not in the file")),
        "{errors:?}"
    );
}

#[test]
fn the_file_is_what_scripts_kibana_objects_py_writes() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/kibana-objects.py");
    match std::process::Command::new("python3")
        .arg(script)
        .arg("--check")
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => eprintln!("python3 not runnable ({e}): generator check skipped"),
    }
}
