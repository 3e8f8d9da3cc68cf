//! cli.md, "Memory": input larger than `--memory-budget` is spilled to disk
//! by partition and finished partition by partition; the output is
//! byte-identical to an unbounded run.
mod common;
mod support;

use convstats::source::{Quiet, load};
use convstats::spill::{MemoryBudget, SpillPlan};
use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use support::{EsDouble, clean_command, run_command};

/// The output files compared byte for byte.
const FILES: [&str; 5] = [
    "conversations-new.ndjson",
    "conversations-legacy.ndjson",
    "conversations.csv",
    "rejected.ndjson",
    "report.html",
];

/// The lines of `n` synthetic conversations, made hard for a merge:
/// half of each conversation's parts come as separate `conversation_part`
/// records placed before or after it (out of order), some conversations
/// come twice (an older copy with fewer parts read later), every ninth is
/// deleted, and rejected lines (not JSON, no id, a bad timestamp) are spread
/// over the input. Also the merge of a notification about another topic.
fn hard_lines(n: u64, seed: u64) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut lines: Vec<String> = Vec::new();
    for (i, line) in common::gen_lines(n, seed).iter().enumerate() {
        let mut c: Value = serde_json::from_str(line).unwrap();
        let id = c["id"].as_str().unwrap().to_string();
        let ws = c["workspace_id"].as_str().unwrap().to_string();
        let parts = c["conversation_parts"]["conversation_parts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let keep = parts.len() / 2;
        c["conversation_parts"]["conversation_parts"] = json!(parts[..keep]);
        let separate: Vec<String> = parts[keep..]
            .iter()
            .map(|p| {
                let mut p = p.clone();
                p["type"] = json!("conversation_part");
                p["conversation_id"] = json!(id);
                p["workspace_id"] = json!(ws);
                p.to_string()
            })
            .collect();
        // Parts before the conversation, or after it, or scattered later.
        let at = lines.len();
        lines.push(c.to_string());
        for p in separate {
            match rng.random_range(0..3) {
                0 => lines.insert(at, p),
                1 => lines.push(p),
                _ => {
                    let j = rng.random_range(at..=lines.len());
                    lines.insert(j, p);
                }
            }
        }
        if i % 5 == 2 {
            // The same conversation again, as an older version read later.
            let mut old = c.clone();
            old["updated_at"] = json!(old["updated_at"].as_i64().unwrap_or(1) - 100);
            old["state"] = json!("open");
            lines.push(old.to_string());
        }
        if i % 9 == 4 {
            lines.push(
                json!({"type": "notification_event", "topic": "conversation.deleted",
                    "app_id": ws, "data": {"item": {"type": "conversation", "id": id}}})
                .to_string(),
            );
        }
        match i % 23 {
            5 => lines.push("this is not JSON".into()),
            11 => lines.push(r#"{"type":"conversation","created_at":1700000000}"#.into()),
            17 => lines.push(
                json!({"type": "conversation", "id": format!("bad-{i}"), "created_at": "yesterday"})
                    .to_string(),
            ),
            19 => lines.push(
                json!({"type": "notification_event", "topic": "contact.created", "data": {"item": {}}})
                    .to_string(),
            ),
            _ => {}
        }
    }
    lines
}

/// Writes the lines as two inputs: the first third, then the rest, gzipped
/// when `gz` (a `.gz` input's JSON size is unknown, so it always takes the
/// spill path; plain files under the budget are merged in memory).
fn write_inputs_as(dir: &Path, lines: &[String], gz: bool) -> Vec<String> {
    let third = lines.len() / 3;
    let first = dir.join("part-1.ndjson");
    std::fs::write(&first, lines[..third].join("\n") + "\n").unwrap();
    let rest = (lines[third..].join("\n") + "\n").into_bytes();
    let second = if gz {
        let path = dir.join("part-2.ndjson.gz");
        let mut enc = GzEncoder::new(std::fs::File::create(&path).unwrap(), Compression::fast());
        enc.write_all(&rest).unwrap();
        enc.finish().unwrap();
        path
    } else {
        let path = dir.join("part-2.ndjson");
        std::fs::write(&path, rest).unwrap();
        path
    };
    [first, second]
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

/// `hard_lines(n, seed)` as one plain input file: its path, and the input
/// list `compute` takes.
fn write_input(dir: &Path, n: u64, seed: u64) -> (PathBuf, Vec<String>) {
    let input = dir.join("in.ndjson");
    std::fs::write(&input, hard_lines(n, seed).join("\n") + "\n").unwrap();
    let inputs = vec![input.to_string_lossy().into_owned()];
    (input, inputs)
}

fn write_inputs(dir: &Path, lines: &[String]) -> Vec<String> {
    write_inputs_as(dir, lines, true)
}

fn compute(dir: &Path, inputs: &[String], out: &Path, extra: &[&str]) -> support::Run {
    let mut c = clean_command(dir);
    c.arg("compute")
        .args(inputs)
        .arg("--out")
        .arg(out)
        .args(extra);
    c.env("CONVSTATS_LOG", "convstats=info");
    let o = c.output().unwrap();
    support::Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn assert_same_files(a: &Path, b: &Path, what: &str) {
    for f in FILES {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(
            x == y,
            "{what}: {f} differs ({} vs {} bytes)",
            x.len(),
            y.len()
        );
    }
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

#[test]
fn the_output_is_byte_identical_to_an_unbounded_run_whatever_the_budget() {
    let lines = hard_lines(1500, 7);
    // Plain files (the unbounded run merges them in memory), then with a
    // gzipped file (whose unbounded run keeps its spill buffers in memory).
    for gz in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let inputs = write_inputs_as(dir.path(), &lines, gz);
        let unbounded = dir.path().join("unbounded");
        let r = compute(dir.path(), &inputs, &unbounded, &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!r.stderr.contains("spilling"), "{}", r.stderr);
        let rejected = std::fs::read_to_string(unbounded.join("rejected.ndjson")).unwrap();
        assert!(rejected.lines().count() >= 150, "{rejected}");
        assert!(r.stderr.contains("deleted)"), "{}", r.stderr);

        let spill = dir.path().join("spill");
        std::fs::create_dir(&spill).unwrap();
        // From far below one conversation's records to about the whole input.
        for budget in ["1KiB", "16KiB", "200KiB", "1MiB", "8MiB"] {
            let what = format!("gz {gz}, {budget}");
            let out = dir.path().join(format!("out-{budget}"));
            let spill_dir = spill.to_string_lossy().into_owned();
            let r = compute(
                dir.path(),
                &inputs,
                &out,
                &["--memory-budget", budget, "--spill-dir", &spill_dir],
            );
            assert_eq!(r.code, 0, "{what}: {}", r.stderr);
            if budget != "8MiB" {
                assert!(
                    r.stderr.contains("spilling to disk"),
                    "{what}: {}",
                    r.stderr
                );
            }
            // 1,500 conversations' percentiles keep up to 96 kB: more than
            // half the two smallest budgets, and those runs say so.
            assert_eq!(
                r.stderr.contains("exact percentiles"),
                matches!(budget, "1KiB" | "16KiB"),
                "{what}: {}",
                r.stderr
            );
            assert_same_files(&unbounded, &out, &what);
            assert_eq!(
                entries(&spill),
                Vec::<PathBuf>::new(),
                "{what}: spill files left"
            );
        }
        // The default spill directory (inside --out's staging directory)
        // leaves nothing in --out either.
        let out = dir.path().join("out-default-dir");
        let r = compute(dir.path(), &inputs, &out, &["--memory-budget", "4KiB"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stderr.contains("spilling to disk"), "{}", r.stderr);
        assert_same_files(&unbounded, &out, "default spill dir");
        let mut names: Vec<String> = entries(&out)
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut want: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(names, want);
    }
}

/// Stdin's size is unknown, so its partitions are sized blind; with a
/// small budget they come out far larger than a group may be, and each is
/// split again while it is read back.
#[test]
fn stdin_over_a_small_budget_is_split_again_and_still_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (input, _) = write_input(dir.path(), 1500, 5);
    let run = |out: &Path, extra: &[&str]| {
        let mut c = clean_command(dir.path());
        c.args(["compute", "-", "--out"])
            .arg(out)
            .args(extra)
            .env("CONVSTATS_LOG", "convstats=info")
            .write_stdin(std::fs::read(&input).unwrap());
        let o = c.output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let unbounded = dir.path().join("unbounded");
    let stderr = run(&unbounded, &[]);
    assert!(!stderr.contains("spilling"), "{stderr}");
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let spill_dir = spill.to_string_lossy().into_owned();
    for budget in ["8KiB", "64KiB"] {
        let out = dir.path().join(format!("out-{budget}"));
        let stderr = run(
            &out,
            &["--memory-budget", budget, "--spill-dir", &spill_dir],
        );
        assert!(stderr.contains("spilling to disk"), "{stderr}");
        assert_same_files(&unbounded, &out, budget);
        assert_eq!(
            entries(&spill),
            Vec::<PathBuf>::new(),
            "{budget}: spill files left"
        );
    }
}

#[test]
fn a_bad_budget_or_spill_directory_is_a_usage_error_that_says_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), &hard_lines(20, 1));
    let out = dir.path().join("out");
    let r = compute(dir.path(), &inputs, &out, &["--memory-budget", "lots"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("512MiB"), "{}", r.stderr);
    let missing = dir
        .path()
        .join("no-such-dir")
        .to_string_lossy()
        .into_owned();
    let r = compute(dir.path(), &inputs, &out, &["--spill-dir", &missing]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("not an existing directory"),
        "{}",
        r.stderr
    );
    assert!(!out.exists());
}

/// A file size limit (`ulimit -f`, with SIGXFSZ ignored so that the write
/// fails instead of killing the process) stands in for a full disk: the
/// write fails with EFBIG exactly where a full disk fails with ENOSPC.
#[test]
fn a_full_disk_while_spilling_is_a_clear_error_exit_1_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let (input, inputs) = write_input(dir.path(), 600, 3);
    let size = std::fs::metadata(&input).unwrap().len();
    let out = dir.path().join("out");
    let r = compute(dir.path(), &inputs, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = std::fs::read(out.join("conversations-new.ndjson")).unwrap();
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("convstats");
    // A budget of an eighth of the input: a few partitions, each spill
    // file larger than the limit (8 KiB), so the spill is what hits it
    // (before any output is written).
    let script = format!(
        "trap '' XFSZ; ulimit -f 16; exec '{}' compute {} --out '{}' --memory-budget {} --spill-dir '{}'",
        bin.display(),
        inputs
            .iter()
            .map(|i| format!("'{i}'"))
            .collect::<Vec<_>>()
            .join(" "),
        out.display(),
        size / 8,
        spill.display()
    );
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is full"), "{stderr}");
    assert!(stderr.contains("--spill-dir"), "{stderr}");
    assert!(stderr.contains("previous outputs were left"), "{stderr}");
    assert_eq!(entries(&spill), Vec::<PathBuf>::new(), "spill files left");
    assert_eq!(
        std::fs::read(out.join("conversations-new.ndjson")).unwrap(),
        before
    );
}

/// A tiny budget means 1,024 partitions, each with a file open while
/// records are read: a low soft limit of open files is raised to the hard
/// limit; a hard limit too low is an error that says what to do.
#[test]
fn a_low_open_file_limit_is_raised_and_one_too_low_to_raise_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let (input, inputs) = write_input(dir.path(), 400, 9);
    let unbounded = dir.path().join("unbounded");
    let r = compute(dir.path(), &inputs, &unbounded, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bin = assert_cmd::cargo::cargo_bin("convstats");
    let with_limit = |limit: &str, out: &Path| {
        let script = format!(
            "ulimit {limit} 64 && exec '{}' compute '{}' --out '{}' --memory-budget 1KiB",
            bin.display(),
            input.display(),
            out.display()
        );
        std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    // The hard limit here is far above 64 (CI and this machine): raised.
    let out = dir.path().join("soft");
    let o = with_limit("-Sn", &out);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_same_files(&unbounded, &out, "soft limit 64");
    let out = dir.path().join("hard");
    let o = with_limit("-n", &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ulimit -n"), "{stderr}");
    assert!(stderr.contains("--memory-budget"), "{stderr}");
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_over_its_budget_indexes_the_documents_compute_writes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), &hard_lines(800, 11));
    let out = dir.path().join("out");
    let r = compute(dir.path(), &inputs, &out, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want_new = support::docs::lines_by_id(&out.join("conversations-new.ndjson"));
    let want_legacy = support::docs::lines_by_id(&out.join("conversations-legacy.ndjson"));

    let d = EsDouble::start().await;
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let r = run_command({
        let mut c = clean_command(dir.path());
        c.arg("backfill")
            .args(&inputs)
            .args([
                "--es-url",
                &d.url(),
                "--memory-budget",
                "8KiB",
                "--spill-dir",
            ])
            .arg(&spill)
            .arg("--dead-letter-file")
            .arg(dir.path().join("dead.ndjson"))
            .env("CONVSTATS_LOG", "convstats=info");
        c
    })
    .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("spilling to disk"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("backfill: {} conversations", want_new.len())),
        "{}",
        r.stderr
    );
    for (alias, want) in [
        ("convstats-new", &want_new),
        ("convstats-legacy", &want_legacy),
    ] {
        let docs = d.docs(alias);
        assert_eq!(docs.len(), want.len(), "{alias}");
        for (id, doc) in want {
            assert_eq!(docs.get(id).map(|(_, v)| v), Some(doc), "{alias}: {id}");
        }
    }
    assert_eq!(entries(&spill), Vec::<PathBuf>::new(), "spill files left");
}

fn loaded_with_budget(
    input: &Path,
    budget: u64,
    spill: &Path,
) -> (Vec<convstats::conversation::Conversation>, u64, String) {
    let plan = SpillPlan {
        budget: MemoryBudget(budget),
        dir: spill.to_path_buf(),
    };
    let loaded = load(&[input.to_string_lossy().into_owned()], &Quiet, &plan).unwrap();
    let report = format!("{:?} {:?}", loaded.report.counts, loaded.report.rejections);
    let (convs, deleted) = loaded.conversations.into_sorted().unwrap();
    (convs, deleted, report)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The oracle is the in-memory run of the same input.
    #[test]
    fn spilled_runs_merge_to_the_same_conversations_for_random_budgets_and_inputs(
        n in 1u64..120,
        seed in 0u64..1000,
        share in 0.0f64..1.0,
    ) {
        // Up to about the input's size: most cases spill, some do not.
        let budget = 1024 + (share * n as f64 * 4000.0) as u64;
        let dir = tempfile::tempdir().unwrap();
        let (input, _) = write_input(dir.path(), n, seed);
        let (want, want_deleted, want_report) = loaded_with_budget(&input, 1 << 30, dir.path());
        let (got, got_deleted, got_report) = loaded_with_budget(&input, budget, dir.path());
        prop_assert_eq!(got.len(), want.len());
        prop_assert!(got == want, "the merged conversations differ");
        prop_assert_eq!(got_deleted, want_deleted);
        prop_assert_eq!(got_report, want_report);
        prop_assert_eq!(entries(dir.path()).len(), 1, "only the input is left");
    }
}
