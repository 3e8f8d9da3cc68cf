//! `convstats setup`: check the cluster, apply both index templates, create
//! the first indices and aliases when absent (idempotent).

use super::Failure;
use super::es::{ConnectionArgs, connect, failure, runtime};
use crate::config::Settings;
use crate::elasticsearch::setup::{SetupReport, setup};

/// `convstats setup`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SetupArgs {
    #[command(flatten)]
    pub conn: ConnectionArgs,
}

/// Runs `setup`; the report says what was created and what already existed.
pub fn run(args: &SetupArgs, settings: &Settings) -> Result<SetupReport, Failure> {
    let (config, aliases) = args.conn.resolve(settings)?;
    runtime()?.block_on(async {
        let client = connect(&config).await?;
        setup(&client, &aliases).await.map_err(failure)
    })
}

/// The lines printed after `setup`.
pub fn describe(report: &SetupReport) -> String {
    let mut out = format!("templates applied: {}\n", report.templates.join(", "));
    for (alias, index) in &report.created {
        out.push_str(&format!("created {index} behind alias {alias}\n"));
    }
    for (alias, indices) in &report.existing {
        out.push_str(&format!(
            "alias {alias} already exists (on {}); left as it is\n",
            indices.join(", ")
        ));
    }
    out
}
