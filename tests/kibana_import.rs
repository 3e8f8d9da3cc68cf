//! `convstats setup --kibana-url`: the real binary imports the Kibana saved
//! objects into the Kibana protocol double (`support::kibana_double`) after
//! setting up the Elasticsearch double, and says what went wrong when Kibana
//! refuses, is away or rejects the credentials; plus the client and the
//! double on the protocol's edges.
mod support;

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use base64::Engine as _;
use convstats::commands::setup::BUILT_IN_OBJECTS;
use convstats::kibana::{self, KibanaClient, KibanaConfig, KibanaError};
use serde_json::{Value, json};
use support::{EsDouble, KibanaDouble};

/// The binary with no settings from the caller's environment.
fn convstats(dir: &Path) -> Command {
    support::clean_command(dir)
}

use support::{Run, run_command as run};

/// `convstats setup` against both doubles, with `extra` flags.
async fn setup(es: &EsDouble, kb: &KibanaDouble, dir: &Path, extra: &[&str]) -> Run {
    let mut c = convstats(dir);
    c.args(["setup", "--es-url", &es.url(), "--kibana-url", &kb.url()]);
    c.args(extra);
    run(c).await
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn write(dir: &Path, name: &str, lines: &[Value]) -> String {
    let path = dir.join(name);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn data_view(id: &str) -> Value {
    json!({"type": "index-pattern", "id": id, "references": [],
           "attributes": {"title": id, "timeFieldName": "conversation_created_at"}})
}

fn dashboard(id: &str, refs: &[(&str, &str)]) -> Value {
    let references: Vec<Value> = refs
        .iter()
        .enumerate()
        .map(|(i, (t, r))| json!({"type": t, "id": r, "name": format!("{i}:indexpattern-datasource-layer-l")}))
        .collect();
    json!({"type": "dashboard", "id": id, "references": references,
           "attributes": {"title": format!("Dashboard {id}"), "panelsJSON": "[]"}})
}

/// A port on loopback nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_imports_every_shipped_saved_object_with_overwrite_as_a_multipart_ndjson_file() {
    let dir = tempfile::tempdir().unwrap();
    let (es, kb) = (EsDouble::start().await, KibanaDouble::start().await);
    let r = setup(&es, &kb, dir.path(), &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    // the Elasticsearch part ran first, as without --kibana-url
    assert_eq!(es.alias_targets("convstats-new").len(), 1);
    assert!(r.stderr.contains("created convstats-new-"), "{}", r.stderr);

    let shipped = kibana::objects_in(BUILT_IN_OBJECTS).unwrap();
    let stored = kb.stored("default");
    for o in &shipped {
        assert!(
            stored.contains_key(&(o.kind.clone(), o.id.clone())),
            "{o} not stored; stored: {:?}",
            stored.keys()
        );
    }
    assert_eq!(stored.len(), shipped.len());
    assert!(
        r.stderr.contains(&format!(
            "imported {} saved objects into Kibana space default at {}",
            shipped.len(),
            kb.url()
        )),
        "{}",
        r.stderr
    );
    for o in &shipped {
        assert!(r.stderr.contains(&format!("  {o}")), "{o}: {}", r.stderr);
    }

    let reqs = kb.requests();
    assert_eq!(reqs.len(), 1, "one import request");
    let q = &reqs[0];
    assert_eq!(
        (q.method.as_str(), q.path.as_str()),
        ("POST", "/api/saved_objects/_import")
    );
    assert_eq!(q.query_param("overwrite").as_deref(), Some("true"));
    assert_eq!(q.header("kbn-xsrf"), Some("true"));
    assert!(
        q.header("content-type")
            .is_some_and(|c| c.starts_with("multipart/form-data; boundary=")),
        "{:?}",
        q.header("content-type")
    );
    assert_eq!(q.parts.len(), 1, "{:?}", q.parts);
    let file = q.file().expect("a multipart field named file");
    assert!(
        file.file_name
            .as_deref()
            .is_some_and(|n| n.ends_with(".ndjson")),
        "{:?}",
        file.file_name
    );
    assert_eq!(file.body, BUILT_IN_OBJECTS);
    assert_eq!(q.header("authorization"), None, "no credentials were given");

    // a second run overwrites the same objects and succeeds again
    let r = setup(&es, &kb, dir.path(), &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(kb.stored("default").len(), shipped.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_space_is_imported_into_under_its_s_path() {
    let dir = tempfile::tempdir().unwrap();
    let (es, kb) = (EsDouble::start().await, KibanaDouble::start().await);
    kb.add_space("ops");
    let r = setup(&es, &kb, dir.path(), &["--kibana-space", "ops"]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(kb.requests()[0].path, "/s/ops/api/saved_objects/_import");
    assert!(r.stderr.contains("into Kibana space ops"), "{}", r.stderr);
    assert!(!kb.stored("ops").is_empty());
    assert!(kb.stored("default").is_empty());

    // the space from the environment, as every flag
    let mut c = convstats(dir.path());
    c.args(["setup", "--es-url", &es.url()])
        .env("CONVSTATS_KIBANA_URL", kb.url())
        .env("CONVSTATS_KIBANA_SPACE", "ops");
    let r = run(c).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(kb.requests()[1].path, "/s/ops/api/saved_objects/_import");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_space_fails_and_names_the_space() {
    let dir = tempfile::tempdir().unwrap();
    let (es, kb) = (EsDouble::start().await, KibanaDouble::start().await);
    let r = setup(&es, &kb, dir.path(), &["--kibana-space", "marketing"]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no space \"marketing\""), "{}", r.stderr);
    assert!(r.stderr.contains("--kibana-space"), "{}", r.stderr);
    assert!(
        r.stderr.contains("Elasticsearch is set up"),
        "says the ES part is done: {}",
        r.stderr
    );
    assert!(kb.stored("marketing").is_empty());

    // a space id Kibana cannot have is refused before anything is sent
    let r = setup(&es, &kb, dir.path(), &["--kibana-space", "Ops Team"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("\"Ops Team\""), "{}", r.stderr);
    assert_eq!(kb.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dangling_reference_fails_naming_the_object_and_the_missing_reference() {
    let dir = tempfile::tempdir().unwrap();
    let (es, kb) = (EsDouble::start().await, KibanaDouble::start().await);
    let file = write(
        dir.path(),
        "objects.ndjson",
        &[
            data_view("convstats-new-dv"),
            dashboard("convstats-new", &[("index-pattern", "convstats-new-dv")]),
            dashboard(
                "convstats-legacy",
                &[("index-pattern", "convstats-legacy-dv")],
            ),
        ],
    );
    let r = setup(&es, &kb, dir.path(), &["--kibana-objects", &file]).await;
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "dashboard convstats-legacy: missing reference index-pattern convstats-legacy-dv"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("did not import 1 of the 3 saved objects"),
        "{}",
        r.stderr
    );
    let stored = kb.stored("default");
    assert!(!stored.contains_key(&("dashboard".into(), "convstats-legacy".into())));

    // an object already in the space satisfies a reference
    kb.seed("default", data_view("convstats-legacy-dv"));
    let r = setup(&es, &kb, dir.path(), &["--kibana-objects", &file]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        kb.stored("default")
            .contains_key(&("dashboard".into(), "convstats-legacy".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_object_id_shows_kibanas_400_message() {
    let dir = tempfile::tempdir().unwrap();
    let (es, kb) = (EsDouble::start().await, KibanaDouble::start().await);
    let file = write(
        dir.path(),
        "dup.ndjson",
        &[data_view("dv"), dashboard("d", &[]), data_view("dv")],
    );
    let r = setup(&es, &kb, dir.path(), &["--kibana-objects", &file]).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("Non-unique import objects detected: [index-pattern:dv]"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("HTTP 400"), "{}", r.stderr);
    assert!(kb.stored("default").is_empty(), "nothing imported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_kibana_credentials_are_an_auth_problem_and_the_password_never_shows() {
    let dir = tempfile::tempdir().unwrap();
    let (es, kb) = (EsDouble::start().await, KibanaDouble::start().await);
    kb.require_authorization(Some(basic("elastic", "right-password")));
    let secret = "wr0ng-Pa55word-xyz";
    let pw_file = dir.path().join("pw");
    std::fs::write(&pw_file, format!("{secret}\n")).unwrap();
    for how in ["flag", "file", "env", "url"] {
        let mut c = convstats(dir.path());
        c.args(["-vv", "setup", "--es-url", &es.url()]);
        match how {
            "flag" => {
                c.args(["--kibana-url", &kb.url(), "--kibana-username", "elastic"]);
                c.args(["--kibana-password", secret]);
            }
            "file" => {
                c.args(["--kibana-url", &kb.url(), "--kibana-username", "elastic"]);
                c.arg("--kibana-password-file").arg(&pw_file);
            }
            "env" => {
                c.args(["--kibana-url", &kb.url()])
                    .env("CONVSTATS_KIBANA_USERNAME", "elastic")
                    .env("CONVSTATS_KIBANA_PASSWORD", secret);
            }
            _ => {
                let url = kb
                    .url()
                    .replace("http://", &format!("http://elastic:{secret}@"));
                c.args(["--kibana-url", &url]);
            }
        }
        let r = run(c).await;
        assert_eq!(r.code, 1, "{how}: {}", r.stderr);
        assert!(
            r.stderr.contains("rejected the credentials (HTTP 401"),
            "{how}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("--kibana-username"),
            "{how}: {}",
            r.stderr
        );
        assert!(
            !r.all().contains(secret),
            "{how}: the password shows: {}",
            r.all()
        );
        let last = kb.requests().pop().unwrap();
        assert_eq!(
            last.header("authorization"),
            Some(basic("elastic", secret).as_str()),
            "{how}"
        );
    }
    // the right password from a file imports
    std::fs::write(&pw_file, "right-password\n").unwrap();
    let mut c = convstats(dir.path());
    c.args(["setup", "--es-url", &es.url(), "--kibana-url", &kb.url()])
        .args(["--kibana-username", "elastic", "--kibana-password-file"])
        .arg(&pw_file);
    let r = run(c).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!kb.stored("default").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kibana_uses_the_elasticsearch_credentials_when_given_none_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let (es, kb) = (EsDouble::start().await, KibanaDouble::start().await);
    let auth = basic("elastic", "shared-pw");
    es.faults(|f| f.require_authorization = Some(auth.clone()));
    kb.require_authorization(Some(auth.clone()));
    let mut c = convstats(dir.path());
    c.args(["setup", "--es-url", &es.url(), "--kibana-url", &kb.url()])
        .env("CONVSTATS_ES_USERNAME", "elastic")
        .env("CONVSTATS_ES_PASSWORD", "shared-pw");
    let r = run(c).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        kb.requests()[0].header("authorization"),
        Some(auth.as_str())
    );

    // an API key of Kibana's own replaces them
    kb.require_authorization(None);
    let mut c = convstats(dir.path());
    c.args(["setup", "--es-url", &es.url(), "--kibana-url", &kb.url()])
        .args(["--kibana-api-key", "kid:kkey"])
        .env("CONVSTATS_ES_USERNAME", "elastic")
        .env("CONVSTATS_ES_PASSWORD", "shared-pw");
    let r = run(c).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let want = format!(
        "ApiKey {}",
        base64::engine::general_purpose::STANDARD.encode("kid:kkey")
    );
    assert_eq!(
        kb.requests()[1].header("authorization"),
        Some(want.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_kibana_is_named_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let es = EsDouble::start().await;
    let port = closed_port();
    let mut c = convstats(dir.path());
    c.args(["setup", "--es-url", &es.url()]).args([
        "--kibana-url",
        &format!("http://elastic:url-secret-77@127.0.0.1:{port}/kb"),
    ]);
    let r = run(c).await;
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "cannot reach Kibana at http://127.0.0.1:{port}/kb"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("check --kibana-url") && r.stderr.contains("Kibana is running"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("url-secret-77"), "{}", r.all());
    // Elasticsearch was set up before
    assert_eq!(es.alias_targets("convstats-new").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_in_the_kibana_url_or_its_variables_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let es = EsDouble::start().await;
    // "Zq9" marks every piece of the secret: no output may hold it.
    let secret = "Zq9@a:Zq9/b#Zq9,c?Zq9";
    let encoded: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let host = "127.0.0.1:1";
    let shapes = [
        format!("http://elastic:{encoded}@{host}"),
        format!("http://elastic:{secret}@{host}"),
        format!("http://:{encoded}@{host}/kb"),
        format!("elastic:{secret}@{host}"),
        format!("//elastic:{secret}@{host}"),
        format!("https://{encoded}@{host}/"),
        format!("  HTTP://elastic:{encoded}@{host}  "),
    ];
    for url in &shapes {
        for from_env in [false, true] {
            let mut c = convstats(dir.path());
            c.args(["-vv", "setup", "--es-url", &es.url()]);
            if from_env {
                c.env("CONVSTATS_KIBANA_URL", url);
            } else {
                c.args(["--kibana-url", url]);
            }
            let r = run(c).await;
            assert_ne!(r.code, 0, "{url:?}: {}", r.all());
            assert!(r.stderr.contains("Kibana"), "{url:?}: {}", r.all());
            assert!(!r.all().contains("Zq9"), "{url:?}: {}", r.all());
        }
    }
    // --help shows neither the URL's nor the password's environment value
    let mut c = convstats(dir.path());
    c.args(["setup", "--help"])
        .env("CONVSTATS_KIBANA_URL", &shapes[0])
        .env("CONVSTATS_KIBANA_PASSWORD", secret)
        .env("CONVSTATS_KIBANA_API_KEY", secret)
        .env("CONVSTATS_KIBANA_BEARER_TOKEN", secret);
    let r = run(c).await;
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("--kibana-url"), "{}", r.stdout);
    assert!(!r.all().contains("Zq9"), "{}", r.all());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kibana_flags_without_a_url_or_a_bad_objects_file_fail_before_elasticsearch_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let (es, kb) = (EsDouble::start().await, KibanaDouble::start().await);
    let mut c = convstats(dir.path());
    c.args(["setup", "--es-url", &es.url(), "--kibana-space", "ops"]);
    let r = run(c).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("without --kibana-url"), "{}", r.stderr);

    let r = setup(
        &es,
        &kb,
        dir.path(),
        &["--kibana-objects", "missing.ndjson"],
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("missing.ndjson"), "{}", r.stderr);

    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        "{\"type\":\"index-pattern\",\"id\":\"a\"}\nnot json\n",
    )
    .unwrap();
    let r = setup(
        &es,
        &kb,
        dir.path(),
        &["--kibana-objects", bad.to_str().unwrap()],
    )
    .await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);

    assert!(es.requests().is_empty(), "Elasticsearch was not touched");
    assert!(kb.requests().is_empty());
}

// The client and the double on the protocol's edges.

fn client(kb: &KibanaDouble, space: Option<&str>) -> KibanaClient {
    KibanaClient::new(&KibanaConfig {
        url: kb.url(),
        space: space.map(str::to_string),
        ..KibanaConfig::default()
    })
    .unwrap()
}

fn ndjson(lines: &[Value]) -> Vec<u8> {
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_overwrite_an_existing_object_is_a_conflict_and_unknown_types_are_unsupported() {
    let kb = KibanaDouble::start().await;
    let c = client(&kb, None);
    let file = ndjson(&[
        data_view("dv"),
        json!({"type": "canvas-workpad", "id": "w", "references": [], "attributes": {"title": "W"}}),
    ]);
    let r = c.import(&file, true).await.unwrap();
    assert!(!r.succeeded() && !r.success);
    assert_eq!(r.errors.len(), 1);
    assert!(
        r.errors[0]
            .to_string()
            .starts_with("canvas-workpad w: this Kibana cannot import"),
        "{}",
        r.errors[0]
    );
    // the objects without errors are stored, as Kibana's createSavedObjects does
    assert_eq!(r.imported.len(), 1);
    assert_eq!(kb.stored("default").len(), 1);

    let r = c.import(&ndjson(&[data_view("dv")]), false).await.unwrap();
    assert!(!r.succeeded());
    assert!(
        r.errors[0].to_string().contains("(conflict)"),
        "{}",
        r.errors[0]
    );
    let r = c.import(&ndjson(&[data_view("dv")]), true).await.unwrap();
    assert!(r.succeeded(), "{r:?}");
    assert_eq!(
        kb.requests()[2].query_param("overwrite").as_deref(),
        Some("true")
    );
    assert_eq!(
        kb.requests()[1].query_param("overwrite").as_deref(),
        Some("false")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_double_refuses_requests_kibana_refuses() {
    let kb = KibanaDouble::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/saved_objects/_import?overwrite=true", kb.url());
    let form = |field: &str, name: &str| {
        reqwest::multipart::Form::new().part(
            field.to_string(),
            reqwest::multipart::Part::bytes(ndjson(&[data_view("dv")])).file_name(name.to_string()),
        )
    };
    let status = |r: reqwest::Response| r.status().as_u16();
    // no kbn-xsrf
    let r = http
        .post(&url)
        .multipart(form("file", "a.ndjson"))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 400);
    assert!(
        kb.requests()[0].answer["message"]
            .as_str()
            .unwrap()
            .contains("kbn-xsrf")
    );
    // no field named file
    let r = http
        .post(&url)
        .header("kbn-xsrf", "true")
        .multipart(form("upload", "a.ndjson"))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 400);
    // a file name that does not end in .ndjson
    let r = http
        .post(&url)
        .header("kbn-xsrf", "true")
        .multipart(form("file", "a.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 400);
    assert_eq!(
        kb.requests()[2].answer["message"],
        json!("Invalid file extension .json")
    );
    // not multipart
    let r = http
        .post(&url)
        .header("kbn-xsrf", "true")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 415);
    // an unknown query key
    let r = http
        .post(format!("{url}&force=1"))
        .header("kbn-xsrf", "true")
        .multipart(form("file", "a.ndjson"))
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 400);
    // another route
    let r = http
        .post(format!("{}/api/saved_objects/_export", kb.url()))
        .header("kbn-xsrf", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(status(r), 404);
    assert!(kb.stored("default").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kibana_not_ready_forbidden_or_too_slow_becomes_an_error_that_says_what_to_do() {
    let kb = KibanaDouble::start().await;
    kb.add_space("ops");
    let file = ndjson(&[data_view("dv")]);
    kb.fail_next(
        503,
        json!({"statusCode": 503, "error": "Service Unavailable", "message": "Kibana server is not ready yet"}),
    );
    let e = client(&kb, None).import(&file, true).await.unwrap_err();
    assert!(matches!(e, KibanaError::Status { status: 503, .. }), "{e}");
    assert!(e.to_string().contains("not ready yet"), "{e}");
    kb.fail_next(
        403,
        json!({"statusCode": 403, "error": "Forbidden", "message": "Unable to bulk_create index-pattern"}),
    );
    let e = client(&kb, Some("ops"))
        .import(&file, true)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("privilege in that space"), "{e}");
    assert!(e.to_string().contains("space ops"), "{e}");
    kb.fail_next(200, json!({"hello": "world"}));
    let e = client(&kb, None).import(&file, true).await.unwrap_err();
    assert!(matches!(e, KibanaError::Protocol { .. }), "{e}");

    kb.fail_next(302, json!({}));
    let e = client(&kb, None).import(&file, true).await.unwrap_err();
    assert!(
        matches!(e, KibanaError::Redirected { status: 302, .. }),
        "{e}"
    );
    // an answer over the size cap is refused, not read whole
    let small = KibanaClient::new(&KibanaConfig {
        url: kb.url(),
        max_response_bytes: 16,
        ..KibanaConfig::default()
    })
    .unwrap();
    let e = small.import(&file, true).await.unwrap_err();
    assert!(e.to_string().contains("larger than 16 bytes"), "{e}");

    kb.set_delay(Duration::from_secs(3));
    let slow = KibanaClient::new(&KibanaConfig {
        url: kb.url(),
        request_timeout: Duration::from_millis(300),
        ..KibanaConfig::default()
    })
    .unwrap();
    let e = slow.import(&file, true).await.unwrap_err();
    assert!(matches!(e, KibanaError::Timeout { .. }), "{e}");
    assert!(e.to_string().contains("did not answer"), "{e}");
}
