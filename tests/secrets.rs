//! "No printed text of any command ever contains the secret, whatever URL
//! shape it came in": a password written into an Elasticsearch URL given by
//! flag, environment variable or config file, in every user-info shape
//! (empty user name, no scheme, raw or percent-encoded special characters),
//! never appears in what `setup`, `backfill`, `dlq replay` or `--help`
//! print, at `-vv` and in JSON logs.

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_convstats"))
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/conversations.ndjson")
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A URL holding `secret` in the shape `shape`; port 1 on loopback refuses
/// connections at once.
fn url(shape: u8, user: &str, secret: &str) -> String {
    let host = "127.0.0.1:1";
    match shape % 9 {
        0 => format!("http://{user}:{secret}@{host}"),
        1 => format!("http://{user}:{}@{host}", encode(secret)),
        2 => format!("http://:{secret}@{host}"),
        3 => format!("{user}:{secret}@{host}"),
        4 => format!("//{user}:{secret}@{host}"),
        5 => format!("https://{secret}@{host}/"),
        6 => format!("http://{user}:{secret}@{host}/prefix"),
        7 => format!("ftp://{user}:{secret}@{host}"),
        _ => format!("  HTTP://{user}:{secret}@{host}  "),
    }
}

#[derive(Debug, Clone, Copy)]
enum Source {
    Flag,
    Env,
    ConfigFile,
}

/// Everything one command printed (stdout and stderr).
fn run(source: Source, url: &str, args: &[&str], json_logs: bool, dir: &Path) -> String {
    let mut c = Command::new(bin());
    c.current_dir(dir)
        .env_remove("CONVSTATS_ES_URL")
        .env_remove("CONVSTATS_CONFIG")
        .env_remove("CONVSTATS_LOG")
        .stdin(Stdio::null());
    c.args(args);
    c.args(["-vv", "--give-up-after", "200ms"]);
    if json_logs {
        c.args(["--log-format", "json"]);
    }
    match source {
        Source::Flag => {
            c.arg("--es-url").arg(url);
        }
        Source::Env => {
            c.env("CONVSTATS_ES_URL", url);
        }
        Source::ConfigFile => {
            let config = dir.join("convstats.toml");
            let value = toml::Value::String(url.to_string());
            std::fs::write(&config, format!("[elasticsearch]\nurls = [{value}]\n")).unwrap();
            c.arg("--config").arg(&config);
        }
    }
    let out = c.output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `text` holds no run of 6 characters of `secret`, raw or encoded.
fn leaks(text: &str, secret: &str) -> Option<String> {
    for form in [secret.to_string(), encode(secret)] {
        let chars: Vec<char> = form.chars().collect();
        for w in chars.windows(6) {
            let piece: String = w.iter().collect();
            if text.contains(&piece) {
                return Some(piece);
            }
        }
    }
    None
}

fn secret_strategy() -> impl Strategy<Value = String> {
    // Letters and digits with the characters that break naive URL parsing:
    // ':' '/' '@' '#' '?' '%' and a comma (a list separator of the flag and
    // the environment variable).
    proptest::string::string_regex("Zq[A-Za-z0-9]{3}[A-Za-z0-9:/@#?%,!$&*+;=~]{6,14}[A-Za-z]{3}")
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_printed_text_of_any_command_contains_a_password_written_into_an_elasticsearch_url(
        secret in secret_strategy(),
        shape in 0u8..9,
        source in prop_oneof![Just(Source::Flag), Just(Source::Env), Just(Source::ConfigFile)],
        command in 0u8..4,
        json_logs in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let url = url(shape, "elastic", &secret);
        let input = examples();
        let input = input.to_string_lossy();
        let args: Vec<&str> = match command {
            0 => vec!["setup"],
            1 => vec!["backfill", &input],
            2 => vec!["dlq", "replay"],
            _ => vec!["backfill", "--help"],
        };
        let printed = run(source, &url, &args, json_logs, dir.path());
        prop_assert!(!printed.is_empty());
        if let Some(piece) = leaks(&printed, &secret) {
            prop_assert!(false, "{source:?} {url:?} {args:?}: printed {piece:?}:\n{printed}");
        }
    }
}

#[test]
fn the_help_of_every_command_with_urls_hides_the_environment_value() {
    let secret = "Zq9hunter2secretXyz";
    for cmd in ["setup", "backfill", "dlq replay"] {
        let dir = tempfile::tempdir().unwrap();
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        let printed = run(
            Source::Env,
            &format!("http://elastic:{secret}@127.0.0.1:1"),
            &args,
            false,
            dir.path(),
        );
        assert!(printed.contains("--es-url"), "{printed}");
        assert!(!printed.contains(secret), "{cmd}: {printed}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 20_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// The redaction alone, over many more shapes than the commands can be
    /// run with: whatever a URL holding the secret looks like, what
    /// `redact::url` and `redact::text` make of it holds none of it.
    #[test]
    fn the_shown_form_of_a_url_never_contains_its_password(
        secret in secret_strategy(),
        shape in 0u8..9,
        user in "[a-z]{0,8}",
    ) {
        let url = url(shape, &user, &secret);
        let shown = convstats::redact::url(&url);
        prop_assert!(leaks(&shown, &secret).is_none(), "{url:?} shown as {shown:?}");
        // `redact::text` is for other libraries' messages, which quote the
        // http(s) URL they were given.
        if url.trim().to_ascii_lowercase().starts_with("http") {
            let quoted = convstats::redact::text(&format!("error for url ({url}): refused"));
            prop_assert!(leaks(&quoted, &secret).is_none(), "{url:?} quoted as {quoted:?}");
        }
    }
}

/// Inputs the random search above once found leaking, run every time.
#[test]
fn a_password_holding_a_scheme_separator_is_not_printed() {
    for secret in ["ZqAAa=A://*AAA", "Zq9://x@y://zAAA", "Zq1a:b://c#dAAA"] {
        for command in [vec!["setup"], vec!["dlq", "replay"]] {
            for shape in [0, 3, 4, 5] {
                let dir = tempfile::tempdir().unwrap();
                let url = url(shape, "elastic", secret);
                let printed = run(Source::Flag, &url, &command, false, dir.path());
                assert!(!printed.is_empty());
                assert!(
                    leaks(&printed, secret).is_none(),
                    "{url:?} {command:?}:\n{printed}"
                );
            }
        }
    }
}
