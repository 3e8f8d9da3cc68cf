//! Connection: the start-up check, authentication, and secrets never showing
//! in logs, errors or Debug output.
mod support;

use std::time::Duration;

use convstats::elasticsearch::{
    Auth, BulkConfig, BulkOp, BulkWriter, EsClient, EsConfig, EsError, Secret,
};
use support::EsDouble;
use support::logs::{LogBuffer, capture};

#[tokio::test]
async fn the_startup_check_reports_product_and_version() {
    let d = EsDouble::start().await;
    let c = EsClient::new(&EsConfig {
        urls: vec![d.url(), d.url()],
        ..Default::default()
    })
    .unwrap();
    let info = c.check().await.unwrap();
    assert_eq!(
        (
            info.version.as_str(),
            info.distribution.as_str(),
            info.major()
        ),
        ("9.1.0", "elasticsearch", 9)
    );
    assert_eq!(info.cluster_name, "convstats-double");
}

#[tokio::test]
async fn an_unreachable_cluster_gets_a_clear_message() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let c = EsClient::new(&EsConfig {
        urls: vec![url.clone()],
        give_up_after: Some(Duration::from_millis(300)),
        ..Default::default()
    })
    .unwrap();
    let err = c.check().await.unwrap_err();
    assert!(matches!(err, EsError::Unreachable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("cannot reach Elasticsearch") && msg.contains(&url),
        "{msg}"
    );
}

#[tokio::test]
async fn bad_urls_are_configuration_errors() {
    for bad in ["not a url", "ftp://x:9200", "https://user:pw@@"] {
        let err = EsClient::new(&EsConfig {
            urls: vec![bad.into()],
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(err, EsError::Config(_)), "{bad}: {err}");
        assert!(!err.to_string().contains("pw"), "{err}");
    }
    assert!(
        EsClient::new(&EsConfig {
            urls: vec![],
            ..Default::default()
        })
        .is_err()
    );
}

#[tokio::test]
async fn basic_api_key_and_bearer_credentials_are_sent() {
    let d = EsDouble::start().await;
    let cases = [
        (
            Auth::Basic {
                username: "elastic".into(),
                password: Secret::new("pw"),
            },
            "Basic ZWxhc3RpYzpwdw==",
        ),
        (
            Auth::ApiKey {
                id: Some("id".into()),
                key: Secret::new("key"),
            },
            "ApiKey aWQ6a2V5",
        ),
        (
            Auth::ApiKey {
                id: None,
                key: Secret::new("ZW5jb2RlZA=="),
            },
            "ApiKey ZW5jb2RlZA==",
        ),
        (Auth::Bearer(Secret::new("tok")), "Bearer tok"),
    ];
    for (auth, header) in cases {
        d.faults(|f| f.require_authorization = Some(header.to_string()));
        let c = EsClient::new(&EsConfig {
            urls: vec![d.url()],
            auth,
            ..Default::default()
        })
        .unwrap();
        c.check().await.unwrap();
    }
    // credentials in the URL become basic auth and leave the URL
    d.faults(|f| f.require_authorization = Some("Basic ZWxhc3RpYzpwdw==".into()));
    let url = d.url().replace("http://", "http://elastic:pw@");
    let c = EsClient::new(&EsConfig {
        urls: vec![url],
        ..Default::default()
    })
    .unwrap();
    c.check().await.unwrap();
    assert!(!c.urls().contains("pw"));
    // wrong credentials: a clear 401 message
    d.faults(|f| f.require_authorization = Some("Bearer right".into()));
    let c = EsClient::new(&EsConfig {
        urls: vec![d.url()],
        auth: Auth::Bearer(Secret::new("wrong")),
        ..Default::default()
    })
    .unwrap();
    let err = c.check().await.unwrap_err();
    assert!(matches!(err, EsError::Auth { status: 401, .. }), "{err:?}");
    assert!(err.to_string().contains("rejected"), "{err}");
}

#[tokio::test]
async fn a_secret_from_the_environment_never_appears_in_logs_errors_or_debug_output() {
    const SECRET: &str = "s3cr3t-Pa55-w0rd-from-env";
    // SAFETY: only this test of this binary reads or writes this variable.
    unsafe { std::env::set_var("CONVSTATS_TEST_ES_PASSWORD", SECRET) };
    let password = Secret::from_env("CONVSTATS_TEST_ES_PASSWORD").unwrap();
    assert_eq!(password.expose(), SECRET);
    let logs = LogBuffer::default();
    let _guard = tracing::subscriber::set_default(capture(&logs));
    let d = EsDouble::start().await;
    d.faults(|f| f.require_authorization = Some("Basic c29tZW9uZTplbHNl".into()));
    let dir = tempfile::tempdir().unwrap();
    let config = EsConfig {
        urls: vec![
            d.url(),
            d.url()
                .replace("http://", &format!("http://elastic:{SECRET}@")),
        ],
        auth: Auth::Basic {
            username: "elastic".into(),
            password,
        },
        ..Default::default()
    };
    let mut shown = vec![format!("{config:?}")];
    let c = EsClient::new(&config).unwrap();
    shown.push(format!("{c:?}"));
    let err = c.check().await.unwrap_err();
    shown.push(err.to_string());
    shown.push(format!("{err:?}"));
    let w = BulkWriter::spawn(
        c.clone(),
        BulkConfig {
            give_up_after: Some(Duration::from_millis(100)),
            backoff_base: Duration::from_millis(1),
            backoff_cap: Duration::from_millis(5),
            max_age: Duration::from_millis(5),
            dead_letter_path: dir.path().join("dead.ndjson"),
            ..Default::default()
        },
    )
    .unwrap();
    w.send(BulkOp::index("convstats-new", "w:1", 1, &b"{}"[..]))
        .await
        .unwrap();
    let err = w.finish().await.unwrap_err();
    shown.push(err.to_string());
    shown.push(format!("{err:?}"));
    let logs = logs.contents();
    assert!(
        logs.contains("bulk request will be retried"),
        "the failure was logged: {logs}"
    );
    shown.push(logs);
    // the double did receive the credential (so it was really in use)
    assert!(d.requests().iter().any(|r| {
        r.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("Basic "))
    }));
    use base64_free::encode;
    let encoded = encode(&format!("elastic:{SECRET}"));
    for text in &shown {
        assert!(!text.contains(SECRET), "secret leaked in: {text}");
        assert!(!text.contains(&encoded), "encoded secret leaked in: {text}");
    }
}

/// A tiny base64 encoder so the test needs no extra dependency.
mod base64_free {
    pub fn encode(s: &str) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = s.as_bytes();
        let mut out = String::new();
        for chunk in b.chunks(3) {
            let n = (chunk[0] as u32) << 16
                | (*chunk.get(1).unwrap_or(&0) as u32) << 8
                | *chunk.get(2).unwrap_or(&0) as u32;
            out.push(T[(n >> 18) as usize & 63] as char);
            out.push(T[(n >> 12) as usize & 63] as char);
            out.push(if chunk.len() > 1 {
                T[(n >> 6) as usize & 63] as char
            } else {
                '='
            });
            out.push(if chunk.len() > 2 {
                T[n as usize & 63] as char
            } else {
                '='
            });
        }
        out
    }
}
