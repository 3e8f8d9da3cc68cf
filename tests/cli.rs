//! The `convstats` binary as a user runs it (cli.md): files written, exit
//! codes, inputs from files, `.gz` and stdin.

use assert_cmd::Command;
use flate2::Compression;
use flate2::write::GzEncoder;
use predicates::prelude::PredicateBooleanExt;
use std::io::Write;
use std::path::Path;

const CONV_A: &str = r#"{"type":"conversation","id":"b","workspace_id":"w2","created_at":1700000000,"updated_at":1700000000,"source":{"delivered_as":"customer_initiated","author":{"type":"user","id":"u"}},"state":"open"}"#;
const CONV_B: &str = r#"{"type":"conversation","id":"a","workspace_id":"w2","created_at":1700000000,"updated_at":1700000000,"source":{"author":{"type":"admin","id":"x"}}}"#;
const CONV_C: &str =
    r#"{"type":"conversation","id":"z","workspace_id":"w1","created_at":1700000000}"#;
const BAD: &str = r#"{"type":"conversation","id":"q","created_at":"yesterday"}"#;

fn convstats() -> Command {
    let mut c = Command::cargo_bin("convstats").unwrap();
    c.env_remove("CONVSTATS_OUT").env_remove("CONVSTATS_CONFIG");
    c
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

fn ids(ndjson: &str) -> Vec<(String, String)> {
    ndjson
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["workspace_id"].as_str().unwrap().into(),
                v["conversation_id"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn compute_writes_every_output_file_sorted_and_exits_0_despite_rejections() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "in.ndjson",
        &format!("{CONV_A}\n\n{BAD}\n{CONV_B}\r\n{CONV_C}\n"),
    );
    let out = dir.path().join("out");
    let assert = convstats()
        .current_dir(dir.path())
        .args(["compute", &input, "--out"])
        .arg(&out)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("conversations: 3"), "{stderr}");
    assert!(stderr.contains("rejected: 1"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no progress bar when stderr is not a terminal: {stderr}"
    );
    let expected = vec![
        ("w1".into(), "z".into()),
        ("w2".into(), "a".into()),
        ("w2".into(), "b".into()),
    ];
    assert_eq!(ids(&read(&out, "conversations-new.ndjson")), expected);
    assert_eq!(ids(&read(&out, "conversations-legacy.ndjson")), expected);
    let rejected: serde_json::Value =
        serde_json::from_str(read(&out, "rejected.ndjson").trim()).unwrap();
    assert_eq!(rejected["line"], 3, "blank lines count as lines");
    assert_eq!(rejected["source"], input);
    assert!(
        rejected["reason"]
            .as_str()
            .unwrap()
            .starts_with("created_at: bad timestamp")
    );
    let csv = read(&out, "conversations.csv");
    assert!(csv.starts_with("conversation_id,workspace_id,message_type,inbound,"));
    assert!(!csv.contains('\r') && !csv.starts_with('\u{feff}'));
    assert_eq!(csv.lines().count(), 4);
    let html = read(&out, "report.html");
    // Self-contained: no script, and no address but the SVG namespace name
    // (an identifier, never fetched).
    let without_namespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(html.contains("<html") && html.contains("<svg") && !html.contains("<script"));
    assert!(!without_namespace.contains("http://") && !without_namespace.contains("https://"));
}

#[test]
fn gz_input_gives_the_same_documents_as_plain_input() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{CONV_A}\n{CONV_B}\n");
    let plain = write(dir.path(), "in.ndjson", &text);
    let gz = dir.path().join("in.ndjson.gz");
    let mut enc = GzEncoder::new(std::fs::File::create(&gz).unwrap(), Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    convstats()
        .args(["compute", &plain, "--out"])
        .arg(dir.path().join("p"))
        .assert()
        .success();
    convstats()
        .arg("compute")
        .arg(&gz)
        .arg("--out")
        .arg(dir.path().join("g"))
        .assert()
        .success();
    for f in [
        "conversations-new.ndjson",
        "conversations-legacy.ndjson",
        "conversations.csv",
    ] {
        assert_eq!(
            read(&dir.path().join("p"), f),
            read(&dir.path().join("g"), f),
            "{f}"
        );
    }
}

#[test]
fn a_truncated_gzip_is_a_runtime_failure_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    for _ in 0..200 {
        writeln!(enc, "{CONV_A}").unwrap();
    }
    let bytes = enc.finish().unwrap();
    let gz = dir.path().join("cut.ndjson.gz");
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    convstats()
        .arg("compute")
        .arg(&gz)
        .arg("--out")
        .arg(dir.path().join("o"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("truncated"));
}

#[test]
fn a_missing_input_file_is_bad_usage_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    convstats()
        .current_dir(dir.path())
        .args(["compute", "nope.ndjson"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nope.ndjson"));
}

#[test]
fn a_bad_configuration_is_exit_2_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "convstats.toml",
        "[workspaces.acme]\noffice_hours = \"missing\"\n",
    );
    convstats()
        .current_dir(dir.path())
        .args(["compute", "-"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("workspaces.acme.office_hours"));
}

#[test]
fn an_unknown_flag_is_exit_2() {
    convstats()
        .args(["compute", "--frobnicate"])
        .assert()
        .code(2);
}

#[test]
fn stdin_is_read_with_dash_or_no_input() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["compute", "-"], vec!["compute"]] {
        let out = dir.path().join(args.len().to_string());
        convstats()
            .args(&args)
            .arg("--out")
            .arg(&out)
            .write_stdin(format!("{CONV_A}\n{BAD}\n"))
            .assert()
            .success();
        assert_eq!(read(&out, "conversations-new.ndjson").lines().count(), 1);
        assert!(read(&out, "rejected.ndjson").contains("\"source\":\"-\""));
    }
}

#[test]
fn several_files_are_read_in_order_so_the_later_one_wins_a_tie() {
    let dir = tempfile::tempdir().unwrap();
    let first = write(dir.path(), "1.ndjson", &format!("{CONV_A}\n"));
    let second = write(
        dir.path(),
        "2.ndjson",
        &CONV_A.replace("\"open\"", "\"closed\""),
    );
    let out = dir.path().join("o");
    convstats()
        .args(["compute", &first, &second, "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(read(&out, "conversations-new.ndjson").contains("\"state\":\"closed\""));
    let out2 = dir.path().join("o2");
    convstats()
        .args(["compute", &second, &first, "--out"])
        .arg(&out2)
        .assert()
        .success();
    assert!(read(&out2, "conversations-new.ndjson").contains("\"state\":\"open\""));
}

#[test]
fn the_output_directory_comes_from_the_environment_when_no_flag_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.ndjson", CONV_A);
    let out = dir.path().join("from-env");
    convstats()
        .env("CONVSTATS_OUT", &out)
        .args(["compute", &input])
        .assert()
        .success();
    assert!(out.join("conversations-new.ndjson").exists());
}

#[test]
fn a_line_over_16_mib_is_rejected_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let huge = format!("{CONV_A}\n{}\n{CONV_B}\n", "x".repeat(20 * 1024 * 1024));
    let input = write(dir.path(), "in.ndjson", &huge);
    let out = dir.path().join("o");
    convstats()
        .args(["compute", &input, "--out"])
        .arg(&out)
        .assert()
        .success();
    let rejected = read(&out, "rejected.ndjson");
    assert!(
        rejected.contains("\"line\":2") && rejected.contains("16 MiB"),
        "{rejected}"
    );
    assert_eq!(read(&out, "conversations-new.ndjson").lines().count(), 2);
}

#[test]
fn check_config_describes_the_defaults_on_stdout_and_its_warnings_go_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    convstats()
        .current_dir(dir.path())
        .arg("check-config")
        .assert()
        .success()
        .stdout(predicates::str::contains("24/7"))
        .stdout(predicates::str::contains("no bot author ids").not())
        .stderr(predicates::str::contains(
            "warning: bots.author_ids: no bot author ids",
        ));
}

#[test]
fn a_configuration_with_several_errors_reports_one_line_per_error_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "bad.toml",
        "[workspaces.beta]\noffice_hours = \"apac\"\n\
         [office_hours.emea]\ntimezone = \"Europe/Dubln\"\nmonday = [\"09:00-12:30\", \"12:00-17:30\"]\n\
         holidays = [\"2026-02-30\"]\n",
    );
    let out = convstats()
        .current_dir(dir.path())
        .args(["--config", &cfg, "check-config"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8_lossy(&out);
    for key in [
        "office_hours.emea.timezone",
        "office_hours.emea.monday[1]",
        "office_hours.emea.holidays[0]",
        "workspaces.beta.office_hours: unknown schedule \"apac\"; defined schedules: emea",
    ] {
        assert!(text.contains(key), "{key} missing from: {text}");
    }
    assert_eq!(text.lines().count(), 4, "one line per error: {text}");
}

#[test]
fn gen_output_is_accepted_whole_and_first_contact_replies_agree() {
    // gen writes Intercom's own first_contact_reply (computed independently
    // in the generator); our metric must equal it on every conversation.
    let dir = tempfile::tempdir().unwrap();
    let data = convstats()
        .args(["gen", "--conversations", "3000", "--seed", "7"])
        .output()
        .unwrap()
        .stdout;
    let input = dir.path().join("gen.ndjson");
    std::fs::write(&input, &data).unwrap();
    let cfg = convstats()
        .args(["gen", "--print-config"])
        .output()
        .unwrap()
        .stdout;
    let cfg_path = dir.path().join("gen.toml");
    std::fs::write(&cfg_path, cfg).unwrap();
    let out = dir.path().join("o");
    convstats()
        .arg("--config")
        .arg(&cfg_path)
        .arg("compute")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert_eq!(read(&out, "rejected.ndjson"), "");
    let mut theirs = std::collections::HashMap::new();
    for line in String::from_utf8(data).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = format!(
            "{}:{}",
            v["workspace_id"].as_str().unwrap(),
            v["id"].as_str().unwrap()
        );
        theirs.insert(key, v["first_contact_reply"]["created_at"].as_i64());
    }
    let legacy = read(&out, "conversations-legacy.ndjson");
    assert_eq!(legacy.lines().count(), 3000);
    for line in legacy.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = format!(
            "{}:{}",
            v["workspace_id"].as_str().unwrap(),
            v["conversation_id"].as_str().unwrap()
        );
        let ours = v["first_contact_reply_at"]
            .as_str()
            .map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp());
        assert_eq!(ours, theirs[&key], "{key}");
    }
}

/// Runs the binary with stderr going to `stderr`; returns the exit code.
fn code_with_stderr(args: &[&str], dir: &Path, stderr: std::process::Stdio) -> Option<i32> {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_convstats"))
        .args(args)
        .current_dir(dir)
        .env_remove("CONVSTATS_OUT")
        .env_remove("CONVSTATS_CONFIG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    // A pipe's reading end closed before anything is written.
    drop(child.stderr.take());
    child.wait().unwrap().code()
}

#[test]
fn an_unwritable_stderr_never_changes_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.ndjson", &format!("{CONV_A}\n{BAD}\n"));
    let full = || {
        std::process::Stdio::from(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        )
    };
    for (args, code) in [
        (vec!["compute", input.as_str(), "--out", "out"], 0),
        (vec!["compute", "missing.ndjson", "--out", "out"], 2),
        (vec!["check-config"], 0),
        (vec!["gen", "--days", "0"], 2),
    ] {
        assert_eq!(
            code_with_stderr(&args, dir.path(), full()),
            Some(code),
            "{args:?} 2>/dev/full"
        );
        assert_eq!(
            code_with_stderr(&args, dir.path(), std::process::Stdio::piped()),
            Some(code),
            "{args:?} 2>closed pipe"
        );
    }
}

#[test]
fn gen_refuses_windows_whose_timestamps_compute_would_reject_and_zero_counts() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (vec!["--start", "1969-01-01"], "before 1970-01-01"),
        (vec!["--start", "9999-12-01"], "--days can be at most 10"),
        (vec!["--days", "1000000000"], "after 9999-12-31"),
        (vec!["--days", "0"], "--days must be at least 1"),
        (vec!["--workspaces", "0"], "--workspaces must be at least 1"),
    ] {
        convstats()
            .current_dir(dir.path())
            .args(["gen", "--conversations", "5"])
            .args(&args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicates::str::contains(says));
    }
}

#[test]
fn gen_at_the_edges_of_the_timestamp_range_writes_lines_compute_accepts() {
    let dir = tempfile::tempdir().unwrap();
    for (start, days) in [("1970-01-01", "3"), ("9999-12-01", "10")] {
        let out = convstats()
            .current_dir(dir.path())
            .args([
                "gen",
                "--conversations",
                "300",
                "--start",
                start,
                "--days",
                days,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        let input = dir.path().join("edge.ndjson");
        std::fs::write(&input, &out.stdout).unwrap();
        convstats()
            .current_dir(dir.path())
            .arg("compute")
            .arg(&input)
            .args(["--out", "edge-out"])
            .assert()
            .success();
        assert_eq!(
            read(&dir.path().join("edge-out"), "rejected.ndjson"),
            "",
            "{start}"
        );
    }
}

#[test]
fn an_endless_config_file_is_refused_with_the_size_limit_and_exit_2() {
    convstats()
        .args(["--config", "/dev/zero", "check-config"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("larger than 256 MiB"));
}

#[test]
fn a_toml_syntax_error_names_its_line_and_column_and_never_quotes_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.toml",
        "[elasticsearch]\nusername = \"elastic\"\npassword = \"Zq-hunter2-secret\" oops\n",
    );
    convstats()
        .args(["--config", &cfg, "check-config"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("line 3, column"))
        .stderr(predicates::str::contains("hunter2").not());
}

#[test]
fn an_empty_es_url_variable_is_an_error_not_the_default_url() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, env) in [(None, ""), (None, " , "), (Some(""), "http://127.0.0.1:1")] {
        let mut c = convstats();
        c.current_dir(dir.path())
            .args(["setup", "--give-up-after", "100ms"])
            .env("CONVSTATS_ES_URL", env);
        if let Some(f) = flag {
            c.args(["--es-url", f]);
        }
        c.assert()
            .code(2)
            .stderr(predicates::str::contains("the Elasticsearch URL is empty"));
    }
}

#[test]
fn a_bad_value_from_the_environment_names_the_variable_as_well_as_the_flag() {
    convstats()
        .args(["backfill"])
        .env("CONVSTATS_CONCURRENCY", "lots")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--concurrency"))
        .stderr(predicates::str::contains(
            "the value came from the environment variable CONVSTATS_CONCURRENCY",
        ));
    // Given as a flag, the flag alone is named.
    convstats()
        .args(["backfill", "--concurrency", "lots"])
        .env("CONVSTATS_CONCURRENCY", "lots")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("environment variable").not());
}

#[test]
fn logs_have_no_colour_codes_when_stderr_is_not_a_terminal() {
    let out = convstats()
        .args([
            "-v",
            "setup",
            "--es-url",
            "http://127.0.0.1:1",
            "--give-up-after",
            "300ms",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("WARN"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn an_os_error_is_printed_once_in_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = convstats()
        .current_dir(dir.path())
        .args(["compute", "missing.ndjson"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn a_dead_letter_file_line_that_does_not_parse_is_named_as_such_not_as_a_cluster_answer() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "dead.ndjson", "{\"not\": \"a letter\"\n");
    let out = convstats()
        .args(["dlq", "list", "--dead-letter-file", &file])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 1, is not a dead letter"), "{err}");
    assert!(!err.contains("response from Elasticsearch"), "{err}");
}

#[test]
fn an_id_with_a_nul_or_other_control_character_rejects_its_line_and_never_reaches_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let bad_conv =
        r#"{"type":"conversation","id":"a\u0000b","workspace_id":"w","created_at":1700000000}"#;
    let bad_ws =
        r#"{"type":"conversation","id":"c","workspace_id":"w\u001f","created_at":1700000000}"#;
    let escaped_ok =
        r#"{"type":"conversation","id":"\u0064","workspace_id":"w","created_at":1700000000}"#;
    let input = write(
        dir.path(),
        "in.ndjson",
        &format!("{bad_conv}\n{bad_ws}\n{escaped_ok}\n"),
    );
    convstats()
        .current_dir(dir.path())
        .args(["compute", &input, "--out", "out"])
        .assert()
        .success();
    let out = dir.path().join("out");
    let rejected = read(&out, "rejected.ndjson");
    assert_eq!(rejected.lines().count(), 2, "{rejected}");
    assert!(
        rejected.contains("cannot hold control characters"),
        "{rejected}"
    );
    let csv = std::fs::read(out.join("conversations.csv")).unwrap();
    assert!(!csv.contains(&0u8));
    assert!(
        String::from_utf8_lossy(&csv).contains("\nd,w,"),
        "an escaped plain id is kept"
    );
}
