//! The HTML report as a browser shows it: the report of 10,000 `gen`
//! conversations, rendered in headless Chromium by
//! `scripts/browser-check/check-report.mjs`, draws marks in every series
//! colour of every chart (`figure.chart` with `data-colors`), logs no console
//! error, throws no page error and requests nothing but the file itself. The
//! full-page screenshot is left at `target/report-browser/report-10k.png`,
//! beside the report it shows (`report-10k.html`).
//!
//! Needs Debian's chromium (env `CHROMIUM`, else `/usr/bin/chromium`, else
//! `chromium` on PATH) and node; `npm ci` runs in `scripts/browser-check`
//! when its `node_modules` is missing. Without them the test says so and
//! passes, unless `CONVSTATS_TEST_BROWSER_REQUIRED=1` (CI sets it), where a
//! missing browser is a failure. The 1,000,000-conversation case (size and
//! render time) is `scripts/check-report-browser.sh`.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

const SKIP: &str =
    "chromium not installed: report browser check skipped; install Debian's chromium to run it";

fn required() -> bool {
    std::env::var("CONVSTATS_TEST_BROWSER_REQUIRED").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Chromium: `CHROMIUM` (which must then exist), `/usr/bin/chromium`, or
/// `chromium` on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "CHROMIUM={} is not a file: unset it or point it at a Chromium",
            path.display()
        );
        return Some(path);
    }
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.is_file() {
        return Some(debian);
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

/// Says why the test did nothing, straight to stderr: past the test
/// harness's capture, so that `cargo test` shows it.
fn skip(why: &str) {
    let _ = writeln!(std::io::stderr(), "{why}");
}

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn convstats() -> Command {
    let mut c = Command::cargo_bin("convstats").unwrap();
    c.env_remove("CONVSTATS_OUT").env_remove("CONVSTATS_CONFIG");
    c
}

fn text(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn succeed(what: &str, cmd: &mut Command) -> Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what} could not start: {e}"));
    assert!(output.status.success(), "{what} failed\n{}", text(&output));
    output
}

/// The build's target directory (`target/` unless CARGO_TARGET_DIR moved it):
/// two levels above the binary (`target/debug/convstats`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_convstats"))
        .ancestors()
        .nth(2)
        .expect("the binary lives in <target>/<profile>/")
        .to_path_buf()
}

#[test]
fn the_report_of_ten_thousand_conversations_draws_every_chart_in_chromium_without_console_errors() {
    let Some(chromium) = chromium() else {
        assert!(
            !required(),
            "CONVSTATS_TEST_BROWSER_REQUIRED=1 but chromium is not installed (env CHROMIUM, \
             /usr/bin/chromium, chromium on PATH): install Debian's chromium"
        );
        skip(SKIP);
        return;
    };
    if !runs("node") {
        assert!(
            !required(),
            "CONVSTATS_TEST_BROWSER_REQUIRED=1 but node is not installed"
        );
        skip("node not installed: report browser check skipped; install Node.js to run it");
        return;
    }
    let checker = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/browser-check");
    if !checker.join("node_modules/playwright-core").is_dir() {
        succeed(
            "npm ci in scripts/browser-check",
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&checker),
        );
    }

    let out_dir = target_dir().join("report-browser");
    std::fs::create_dir_all(&out_dir).unwrap();
    // 44 MB of input and 21 MB of outputs: under target/, not the system's /tmp.
    let work = tempfile::tempdir_in(&out_dir).unwrap();
    let config = work.path().join("convstats.toml");
    let input = work.path().join("input.ndjson");
    let out = work.path().join("out");
    succeed(
        "gen --print-config",
        convstats()
            .args(["gen", "--print-config"])
            .stdout(File::create(&config).unwrap()),
    );
    succeed(
        "gen --conversations 10000 --seed 7",
        convstats()
            .args(["gen", "--conversations", "10000", "--seed", "7"])
            .stdout(File::create(&input).unwrap()),
    );
    succeed(
        "compute",
        convstats()
            .arg("compute")
            .arg(&input)
            .arg("--config")
            .arg(&config)
            .arg("--out")
            .arg(&out),
    );

    let report = out_dir.join("report-10k.html");
    std::fs::copy(out.join("report.html"), &report).unwrap();
    let screenshot = out_dir.join("report-10k.png");
    let _ = std::fs::remove_file(&screenshot);
    let output = Command::new("node")
        .arg(checker.join("check-report.mjs"))
        .arg(&report)
        .arg(&screenshot)
        .env("CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let printed = text(&output);
    println!("{printed}");
    assert!(
        output.status.success(),
        "the browser check of the report failed\n{printed}"
    );

    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("the checker's last line is its JSON summary ({e})\n{printed}"));
    assert_eq!(summary["ok"], true, "{printed}");
    let charts = summary["charts"].as_array().expect("charts");
    assert!(!charts.is_empty(), "at least one chart\n{printed}");
    for chart in charts {
        let marks = chart["marks"].as_object().expect("marks per colour");
        assert!(
            !marks.is_empty() && marks.values().all(|n| n.as_u64() > Some(0)),
            "every colour of {} has marks\n{printed}",
            chart["view"]
        );
    }
    for list in [
        "console_errors",
        "page_errors",
        "failed_requests",
        "foreign_requests",
    ] {
        assert_eq!(summary[list], Value::Array(vec![]), "{list}\n{printed}");
    }
    let png = std::fs::read(&screenshot).expect("the screenshot is written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is a PNG",
        screenshot.display()
    );
}
