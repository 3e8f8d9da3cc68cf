//! Test support shared by the integration tests (`mod support;`): the
//! Elasticsearch and Kibana protocol doubles and small helpers.
#![allow(dead_code, unused_imports)]

pub mod docs;
pub mod es_double;
pub mod kibana_double;
pub mod lens;
pub mod logs;
pub mod targets;

pub use es_double::{EsDouble, RecordedRequest};
pub use kibana_double::{KibanaDouble, KibanaRequest};

/// The binary run in `dir`, with no `CONVSTATS_*` setting from the caller's
/// environment.
pub fn clean_command(dir: &std::path::Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("convstats").unwrap();
    for (k, _) in std::env::vars() {
        if k.starts_with("CONVSTATS_") {
            c.env_remove(k);
        }
    }
    c.current_dir(dir);
    c
}

/// What a run of the binary printed, and its exit code.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout then stderr.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs the binary off the runtime's threads (the doubles live on them).
pub async fn run_command(mut cmd: assert_cmd::Command) -> Run {
    tokio::task::spawn_blocking(move || {
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    })
    .await
    .unwrap()
}
