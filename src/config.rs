//! Configuration: the TOML file (`convstats.toml`) → validated [`Settings`].
//!
//! Every problem is collected and reported with the key that holds it, so a
//! user fixes them all in one go; nothing is checked later at run time.

use crate::metrics::BotIds;
use crate::office_hours::{self, Schedule};
use crate::record::Id;
use crate::secret::Secret;
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};

/// The default configuration file, read when present.
pub const DEFAULT_PATH: &str = "convstats.toml";

const KNOWN_SECTIONS: [&str; 5] = [
    "workspaces",
    "office_hours",
    "bots",
    "elasticsearch",
    "serve",
];

/// Configuration problems, each naming its key; printed one per line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct ConfigErrors(pub Vec<String>);

/// The workspace → office-hours lookup of office-hours.md.
///
/// The schedules are compiled by one [`office_hours::Compiler`]: each zone is
/// scanned once and identical definitions share one compiled schedule.
#[derive(Debug, Clone)]
pub struct OfficeHours {
    schedules: Vec<Schedule>,
    by_workspace: FxHashMap<String, usize>,
    fallback: Option<usize>,
    always_open: Schedule,
    /// Distinct compiled schedules among `schedules`.
    distinct: usize,
}

impl Default for OfficeHours {
    fn default() -> Self {
        OfficeHours {
            schedules: Vec::new(),
            by_workspace: FxHashMap::default(),
            fallback: None,
            always_open: Schedule::always_open(),
            distinct: 0,
        }
    }
}

impl OfficeHours {
    /// The workspace's schedule; else the `default` workspace's; else 24/7.
    pub fn schedule_for(&self, workspace_id: &str) -> &Schedule {
        self.by_workspace
            .get(workspace_id)
            .copied()
            .or(self.fallback)
            .and_then(|i| self.schedules.get(i))
            .unwrap_or(&self.always_open)
    }

    /// Number of distinct compiled schedules: configured schedules whose
    /// definitions are identical count once.
    pub fn distinct_schedules(&self) -> usize {
        self.distinct
    }
}

/// Validated settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Where they came from (`None`: built-in defaults).
    pub path: Option<PathBuf>,
    pub bots: BotIds,
    pub office_hours: OfficeHours,
    /// Compiled schedules by name, for `check-config`.
    pub schedules: Vec<(String, Schedule)>,
    /// Workspace → schedule name, as configured, for `check-config`.
    pub workspaces: Vec<(String, Option<String>)>,
    /// Things worth saying that are not errors.
    pub warnings: Vec<String>,
    /// `[elasticsearch]`: connection and writer settings (flags and
    /// environment variables override each key).
    pub elasticsearch: EsFileSettings,
    /// `[serve]`: `convstats serve`'s settings.
    pub serve: ServeFileSettings,
}

/// The `[elasticsearch]` section. Every key is optional; secrets are
/// [`Secret`]s, so `Debug` (any config dump) shows them as `***`.
#[derive(Debug, Clone, Default)]
pub struct EsFileSettings {
    pub urls: Vec<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    pub api_key: Option<Secret>,
    pub api_key_file: Option<PathBuf>,
    pub bearer_token: Option<Secret>,
    pub bearer_token_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    pub insecure: Option<bool>,
    pub alias_prefix: Option<String>,
    pub concurrency: Option<usize>,
    pub bulk_bytes: Option<usize>,
    pub gzip: Option<bool>,
    pub dead_letter_file: Option<PathBuf>,
    /// Seconds.
    pub give_up_after: Option<u64>,
}

const ES_KEYS: [&str; 16] = [
    "urls",
    "username",
    "password",
    "password_file",
    "api_key",
    "api_key_file",
    "bearer_token",
    "bearer_token_file",
    "ca_file",
    "insecure",
    "alias_prefix",
    "concurrency",
    "bulk_bytes",
    "gzip",
    "dead_letter_file",
    "give_up_after",
];

fn parse_elasticsearch(value: &toml::Value, errors: &mut Vec<String>) -> EsFileSettings {
    let mut es = EsFileSettings::default();
    let Some(t) = value.as_table() else {
        errors.push("elasticsearch: expected a table ([elasticsearch])".into());
        return es;
    };
    unknown_keys(t, "elasticsearch", &ES_KEYS, errors);
    let string = |key: &str, errors: &mut Vec<String>| string_key(t, "elasticsearch", key, errors);
    match t.get("urls") {
        None => {}
        Some(toml::Value::String(s)) if !s.is_empty() => es.urls = vec![s.clone()],
        Some(toml::Value::Array(a)) => {
            for (i, v) in a.iter().enumerate() {
                match v.as_str().filter(|s| !s.is_empty()) {
                    Some(s) => es.urls.push(s.to_string()),
                    None => errors.push(format!(
                        "elasticsearch.urls[{i}]: expected a URL string like \"https://host:9200\""
                    )),
                }
            }
        }
        Some(_) => errors.push(
            "elasticsearch.urls: expected a list of URL strings like [\"https://host:9200\"]"
                .into(),
        ),
    }
    es.username = string("username", errors);
    es.password = string("password", errors).map(Secret::new);
    es.password_file = string("password_file", errors).map(PathBuf::from);
    es.api_key = string("api_key", errors).map(Secret::new);
    es.api_key_file = string("api_key_file", errors).map(PathBuf::from);
    es.bearer_token = string("bearer_token", errors).map(Secret::new);
    es.bearer_token_file = string("bearer_token_file", errors).map(PathBuf::from);
    es.ca_file = string("ca_file", errors).map(PathBuf::from);
    es.alias_prefix = string("alias_prefix", errors);
    es.dead_letter_file = string("dead_letter_file", errors).map(PathBuf::from);
    let boolean = |key: &str, errors: &mut Vec<String>| bool_key(t, "elasticsearch", key, errors);
    es.insecure = boolean("insecure", errors);
    es.gzip = boolean("gzip", errors);
    let positive =
        |key: &str, errors: &mut Vec<String>| positive_key(t, "elasticsearch", key, errors);
    es.concurrency = positive("concurrency", errors).map(|v| v as usize);
    es.bulk_bytes = positive("bulk_bytes", errors).map(|v| v as usize);
    es.give_up_after = positive("give_up_after", errors);
    let secrets = [
        (
            "password",
            es.password.is_some(),
            es.password_file.is_some(),
        ),
        ("api_key", es.api_key.is_some(), es.api_key_file.is_some()),
        (
            "bearer_token",
            es.bearer_token.is_some(),
            es.bearer_token_file.is_some(),
        ),
    ];
    one_of_secret_or_file("elasticsearch", &secrets, errors);
    es
}

/// `section.key` as a non-empty string, when present.
fn string_key(
    t: &toml::Table,
    section: &str,
    key: &str,
    errors: &mut Vec<String>,
) -> Option<String> {
    match t.get(key)? {
        toml::Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => {
            errors.push(format!("{section}.{key}: expected a non-empty string"));
            None
        }
    }
}

/// `section.key` as a boolean, when present.
fn bool_key(t: &toml::Table, section: &str, key: &str, errors: &mut Vec<String>) -> Option<bool> {
    match t.get(key)? {
        toml::Value::Boolean(b) => Some(*b),
        _ => {
            errors.push(format!("{section}.{key}: expected true or false"));
            None
        }
    }
}

/// `section.key` as a positive integer, when present.
fn positive_key(
    t: &toml::Table,
    section: &str,
    key: &str,
    errors: &mut Vec<String>,
) -> Option<u64> {
    match t.get(key)? {
        toml::Value::Integer(i) if *i > 0 => Some(*i as u64),
        _ => {
            errors.push(format!("{section}.{key}: expected a positive integer"));
            None
        }
    }
}

/// A secret given both inline and as a file is an error: `(key, inline, file)`.
fn one_of_secret_or_file(section: &str, secrets: &[(&str, bool, bool)], errors: &mut Vec<String>) {
    for (key, value, file) in secrets {
        if *value && *file {
            errors.push(format!(
                "{section}.{key}_file: give either {key} or {key}_file, not both"
            ));
        }
    }
}

/// Unknown keys of `section`.
fn unknown_keys(t: &toml::Table, section: &str, known: &[&str], errors: &mut Vec<String>) {
    for k in t.keys().filter(|k| !known.contains(&k.as_str())) {
        errors.push(format!(
            "{section}.{k}: unknown key; known keys are {}",
            known.join(", ")
        ));
    }
}

/// The `[serve]` section (cli.md, `convstats serve`). Every key is
/// optional; flags and environment variables override each.
#[derive(Debug, Clone, Default)]
pub struct ServeFileSettings {
    pub store: Option<PathBuf>,
    pub listen: Option<String>,
    pub webhook_secret: Option<Secret>,
    pub webhook_secret_file: Option<PathBuf>,
    pub bearer_token: Option<Secret>,
    pub bearer_token_file: Option<PathBuf>,
    pub max_body_bytes: Option<usize>,
    pub backlog_limit: Option<u64>,
    pub follow: Vec<PathBuf>,
    pub partitions: Option<u32>,
}

const SERVE_KEYS: [&str; 10] = [
    "store",
    "listen",
    "webhook_secret",
    "webhook_secret_file",
    "bearer_token",
    "bearer_token_file",
    "max_body_bytes",
    "backlog_limit",
    "follow",
    "partitions",
];

fn parse_serve(value: &toml::Value, errors: &mut Vec<String>) -> ServeFileSettings {
    let mut sv = ServeFileSettings::default();
    let Some(t) = value.as_table() else {
        errors.push("serve: expected a table ([serve])".into());
        return sv;
    };
    unknown_keys(t, "serve", &SERVE_KEYS, errors);
    let string = |key: &str, errors: &mut Vec<String>| string_key(t, "serve", key, errors);
    sv.store = string("store", errors).map(PathBuf::from);
    sv.listen = string("listen", errors);
    sv.webhook_secret = string("webhook_secret", errors).map(Secret::new);
    sv.webhook_secret_file = string("webhook_secret_file", errors).map(PathBuf::from);
    sv.bearer_token = string("bearer_token", errors).map(Secret::new);
    sv.bearer_token_file = string("bearer_token_file", errors).map(PathBuf::from);
    let positive = |key: &str, errors: &mut Vec<String>| positive_key(t, "serve", key, errors);
    sv.max_body_bytes = positive("max_body_bytes", errors).map(|v| v as usize);
    sv.backlog_limit = positive("backlog_limit", errors);
    sv.partitions = match positive("partitions", errors) {
        Some(p) if p <= 65_536 => Some(p as u32),
        Some(_) => {
            errors.push("serve.partitions: expected at most 65536".into());
            None
        }
        None => None,
    };
    match t.get("follow") {
        None => {}
        Some(toml::Value::String(s)) if !s.is_empty() => sv.follow = vec![PathBuf::from(s)],
        Some(toml::Value::Array(a))
            if a.iter().all(|v| v.as_str().is_some_and(|s| !s.is_empty())) =>
        {
            sv.follow = a
                .iter()
                .filter_map(|v| v.as_str())
                .map(PathBuf::from)
                .collect();
        }
        Some(_) => errors.push("serve.follow: expected a file path or a list of file paths".into()),
    }
    one_of_secret_or_file(
        "serve",
        &[
            (
                "webhook_secret",
                sv.webhook_secret.is_some(),
                sv.webhook_secret_file.is_some(),
            ),
            (
                "bearer_token",
                sv.bearer_token.is_some(),
                sv.bearer_token_file.is_some(),
            ),
        ],
        errors,
    );
    sv
}

/// Loads `explicit`, else `./convstats.toml` when present, else defaults.
pub fn load(explicit: Option<&Path>) -> Result<Settings, ConfigErrors> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = PathBuf::from(DEFAULT_PATH);
            if !p.exists() {
                return parse("");
            }
            p
        }
    };
    let text = read_capped(&path)?;
    let mut settings = parse(&text).map_err(|ConfigErrors(errs)| {
        ConfigErrors(
            errs.into_iter()
                .map(|e| format!("{}: {e}", path.display()))
                .collect(),
        )
    })?;
    settings.path = Some(path);
    Ok(settings)
}

/// The largest configuration file read: room for tens of thousands of
/// workspaces with their own schedules (20,000 with 300 holidays each is
/// about 90 MiB), while `--config /dev/zero` (or any
/// endless file) stops with a clear error instead of filling memory.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

fn read_capped(path: &Path) -> Result<String, ConfigErrors> {
    use std::io::Read as _;
    let fail = |what: String| {
        ConfigErrors(vec![format!(
            "{}: cannot read the configuration file: {what}; check the --config path",
            path.display()
        )])
    };
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ConfigErrors(vec![format!(
            "{}: the configuration file is larger than {} MiB; is --config the right file?",
            path.display(),
            MAX_FILE_BYTES >> 20
        )]));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "it is not UTF-8 text (byte {} is not)",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn id_value(v: &toml::Value) -> Option<Id> {
    match v {
        toml::Value::String(s) => Some(Id::from(s.as_str())),
        toml::Value::Integer(i) => Some(Id::from(i.to_string())),
        _ => None,
    }
}

/// A TOML syntax error as `line L, column C: message`. The parser's own
/// text quotes the offending line, which may hold a password: never shown.
fn syntax_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message} (TOML syntax)")
        }
        None => format!("{message} (TOML syntax)"),
    }
}

/// Parses and validates configuration text: each known section by its own
/// function, every error of every section collected.
pub fn parse(text: &str) -> Result<Settings, ConfigErrors> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigErrors(vec![syntax_error(text, &e)]))?;
    let mut errors = Vec::new();
    let mut settings = Settings::default();

    for key in table.keys() {
        if !KNOWN_SECTIONS.contains(&key.as_str()) {
            errors.push(format!(
                "{key}: unknown section; known sections are {}",
                KNOWN_SECTIONS.join(", ")
            ));
        }
    }
    let schedules = table.get("office_hours").and_then(toml::Value::as_table);
    let names = match table.get("office_hours") {
        Some(v) => parse_office_hours(v, &mut settings, &mut errors),
        None => FxHashMap::default(),
    };
    if let Some(v) = table.get("workspaces") {
        parse_workspaces(v, &names, schedules, &mut settings, &mut errors);
    }
    parse_bots(table.get("bots"), &mut settings, &mut errors);
    if let Some(v) = table.get("elasticsearch") {
        settings.elasticsearch = parse_elasticsearch(v, &mut errors);
    }
    if let Some(v) = table.get("serve") {
        settings.serve = parse_serve(v, &mut errors);
    }

    if errors.is_empty() {
        Ok(settings)
    } else {
        Err(ConfigErrors(errors))
    }
}

/// `[office_hours.NAME]`: one compiler for all, so that each zone is scanned
/// once and identical definitions share one compiled schedule. Returns the
/// index of each schedule that compiled, by name.
fn parse_office_hours(
    value: &toml::Value,
    settings: &mut Settings,
    errors: &mut Vec<String>,
) -> FxHashMap<String, usize> {
    let mut names: FxHashMap<String, usize> = FxHashMap::default();
    let Some(t) = value.as_table() else {
        errors.push("office_hours: expected a table of schedules ([office_hours.NAME])".into());
        return names;
    };
    let mut compiler = office_hours::Compiler::new();
    names.reserve(t.len());
    settings.office_hours.schedules.reserve(t.len());
    settings.schedules.reserve(t.len());
    for (name, value) in t {
        match compiler.compile(name, value) {
            Ok(s) => {
                names.insert(name.clone(), settings.office_hours.schedules.len());
                settings.office_hours.schedules.push(s.clone());
                settings.schedules.push((name.clone(), s));
            }
            Err(errs) => errors.extend(errs),
        }
    }
    settings.office_hours.distinct = compiler.distinct();
    names
}

/// `[workspaces.ID]`: which schedule each workspace uses. A workspace
/// without `office_hours` uses the default workspace's schedule: only
/// entries with their own schedule go into `by_workspace`.
fn parse_workspaces(
    value: &toml::Value,
    names: &FxHashMap<String, usize>,
    schedules: Option<&toml::Table>,
    settings: &mut Settings,
    errors: &mut Vec<String>,
) {
    let Some(t) = value.as_table() else {
        errors.push("workspaces: expected a table of workspaces ([workspaces.ID])".into());
        return;
    };
    let defined = || {
        let n: Vec<&str> = schedules
            .map(|t| t.keys().map(String::as_str).collect())
            .unwrap_or_default();
        if n.is_empty() {
            "none".to_string()
        } else {
            n.join(", ")
        }
    };
    for (ws, value) in t {
        if ws.contains(':') {
            errors.push(format!(
                "workspaces.{ws}: a workspace id cannot contain ':' (it separates document ids)"
            ));
        }
        let Some(entry) = value.as_table() else {
            errors.push(format!("workspaces.{ws}: expected a table"));
            continue;
        };
        for k in entry.keys().filter(|k| k.as_str() != "office_hours") {
            errors.push(format!(
                "workspaces.{ws}.{k}: unknown key; the only key is office_hours"
            ));
        }
        match entry.get("office_hours") {
            None => settings.workspaces.push((ws.clone(), None)),
            Some(toml::Value::String(name)) => match names.get(name) {
                Some(&i) => {
                    settings.office_hours.by_workspace.insert(ws.clone(), i);
                    if ws == "default" {
                        settings.office_hours.fallback = Some(i);
                    }
                    settings.workspaces.push((ws.clone(), Some(name.clone())));
                }
                None if schedules.is_some_and(|t| t.contains_key(name)) => {
                    // The schedule exists but failed to compile: already reported.
                }
                None => errors.push(format!(
                    "workspaces.{ws}.office_hours: unknown schedule \"{name}\"; defined schedules: {}",
                    defined()
                )),
            },
            Some(_) => errors.push(format!(
                "workspaces.{ws}.office_hours: expected the name of a schedule (a string)"
            )),
        }
    }
}

/// `[bots]`: the author ids that are bots; a warning when there are none.
fn parse_bots(value: Option<&toml::Value>, settings: &mut Settings, errors: &mut Vec<String>) {
    let mut bot_ids = Vec::new();
    match value {
        None => {}
        Some(toml::Value::Table(t)) => {
            for k in t.keys().filter(|k| k.as_str() != "author_ids") {
                errors.push(format!("bots.{k}: unknown key; the only key is author_ids"));
            }
            match t.get("author_ids") {
                None => {}
                Some(toml::Value::Array(a)) => {
                    for (i, v) in a.iter().enumerate() {
                        match id_value(v) {
                            Some(id) => bot_ids.push(id),
                            None => errors.push(format!(
                                "bots.author_ids[{i}]: expected an author id (a string or an integer)"
                            )),
                        }
                    }
                }
                Some(_) => errors.push("bots.author_ids: expected a list of author ids".into()),
            }
        }
        Some(_) => errors.push("bots: expected a table with author_ids".into()),
    }
    if bot_ids.is_empty() {
        settings.warnings.push(
            "bots.author_ids: no bot author ids configured; admins such as Intercom's Operator \
             that post as admins will count as human admins"
                .into(),
        );
    }
    settings.bots = BotIds::new(bot_ids);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_file_means_24_7_everywhere() {
        let s = parse("").unwrap();
        assert_eq!(
            s.office_hours.schedule_for("any").office_seconds(0, 100),
            100
        );
        assert!(!s.warnings.is_empty(), "missing bot ids are warned about");
    }

    #[test]
    fn bot_ids_accept_strings_and_integers() {
        let s = parse("[bots]\nauthor_ids = [\"274\", 991267645]\n").unwrap();
        assert!(s.bots.contains("274"));
        assert!(s.bots.contains("991267645"));
        assert!(s.warnings.is_empty());
    }

    #[test]
    fn every_error_is_reported_with_its_key() {
        let err = parse(
            "[workspaces.acme]\noffice_hours = \"nope\"\n[bots]\nauthor_ids = [1.5]\n[elastic]\nx = 1\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("workspaces.acme.office_hours: unknown schedule \"nope\""),
            "{text}"
        );
        assert!(text.contains("bots.author_ids[0]"), "{text}");
        assert!(text.contains("elastic: unknown section"), "{text}");
        assert_eq!(err.0.len(), 3);
    }

    #[test]
    fn the_elasticsearch_section_is_validated_and_its_secrets_redacted() {
        let s = parse(
            "[elasticsearch]\nurls = [\"https://a:9200\", \"https://b:9200\"]\nusername = \"u\"\npassword = \"hunter2-secret\"\nconcurrency = 8\ngzip = true\ngive_up_after = 30\n",
        )
        .unwrap();
        assert_eq!(s.elasticsearch.urls.len(), 2);
        assert_eq!(s.elasticsearch.concurrency, Some(8));
        assert_eq!(s.elasticsearch.gzip, Some(true));
        let dump = format!("{s:?}");
        assert!(!dump.contains("hunter2-secret"), "{dump}");
        let err = parse(
            "[elasticsearch]\nurl = \"x\"\nconcurrency = 0\napi_key = \"k\"\napi_key_file = \"f\"\ninsecure = \"yes\"\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("elasticsearch.url: unknown key"), "{text}");
        assert!(
            text.contains("elasticsearch.concurrency: expected a positive"),
            "{text}"
        );
        assert!(
            text.contains("elasticsearch.api_key_file: give either"),
            "{text}"
        );
        assert!(
            text.contains("elasticsearch.insecure: expected true or false"),
            "{text}"
        );
    }

    #[test]
    fn toml_syntax_errors_are_reported() {
        let err = parse("[bots\n").unwrap_err();
        assert_eq!(err.0.len(), 1);
    }

    #[test]
    fn the_serve_section_is_validated_and_its_secrets_redacted() {
        let s = parse(
            "[serve]\nstore = \"/var/lib/c.db\"\nlisten = \"0.0.0.0:9000\"\nwebhook_secret = \"hook-secret-1\"\nbearer_token_file = \"/run/token\"\nmax_body_bytes = 1024\nbacklog_limit = 50\nfollow = [\"/a.ndjson\", \"/b.ndjson\"]\npartitions = 16\n",
        )
        .unwrap();
        assert_eq!(s.serve.store, Some(PathBuf::from("/var/lib/c.db")));
        assert_eq!(s.serve.listen.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(s.serve.max_body_bytes, Some(1024));
        assert_eq!(s.serve.backlog_limit, Some(50));
        assert_eq!(s.serve.follow.len(), 2);
        assert_eq!(s.serve.partitions, Some(16));
        assert!(!format!("{s:?}").contains("hook-secret-1"));
        let text = parse(
            "[serve]\nlisten = 8080\nbearer_token = \"t\"\nbearer_token_file = \"f\"\npartitions = 0\nport = 1\nfollow = [1]\n",
        )
        .unwrap_err()
        .to_string();
        for want in [
            "serve.listen: expected a non-empty string",
            "serve.bearer_token_file: give either",
            "serve.partitions: expected a positive integer",
            "serve.port: unknown key",
            "serve.follow: expected a file path",
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
    }
}
