//! `convstats export csv`: the CSV export of `crate::export`, from
//! Elasticsearch when an Elasticsearch URL is given by flag or environment
//! (`--es-url`, `CONVSTATS_ES_URL`), else from the state store.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::anyhow;

use super::Failure;
use super::es::{ConnectionArgs, connect, runtime};
use super::progress::{self, LineCounter};
use crate::config::Settings;
use crate::elasticsearch::client::Method;
use crate::elasticsearch::product::Product;
use crate::export::{self, ExportError};
use crate::store::Store;

/// `convstats export`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ExportArgs {
    /// The CSV export of cli.md, timeframe [from, to) on message_created_at
    Csv(CsvArgs),
}

/// `convstats export csv`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CsvArgs {
    /// Start of the timeframe (included): Unix seconds, RFC 3339 or YYYY-MM-DD (UTC)
    #[arg(long)]
    pub from: String,
    /// End of the timeframe (excluded)
    #[arg(long)]
    pub to: String,
    /// Only this workspace
    #[arg(long)]
    pub workspace: Option<String>,
    /// Write here instead of stdout
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The state store to read when no Elasticsearch URL is given [default: ./convstats.db]
    #[arg(long, env = "CONVSTATS_STORE")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub conn: ConnectionArgs,
}

fn failure(e: ExportError) -> Failure {
    Failure::Runtime(e.into())
}

/// Runs the export; returns the rows written.
pub fn run(args: &ExportArgs, settings: &Settings) -> Result<u64, Failure> {
    let ExportArgs::Csv(args) = args;
    let filter = export::filter(Some(&args.from), Some(&args.to), args.workspace.as_deref())
        .map_err(|e| Failure::Usage(anyhow!("{e}")))?;
    let file: Box<dyn Write + Send> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(std::fs::File::create(p).map_err(
            |e| Failure::Usage(anyhow!("cannot create {}: {e}", p.display())),
        )?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    if args.conn.es_url.is_empty() {
        let path = args
            .store
            .clone()
            .or_else(|| settings.serve.store.clone())
            .unwrap_or_else(|| PathBuf::from("convstats.db"));
        if !path.exists() {
            return Err(Failure::Usage(anyhow!(
                "the state store {} does not exist; give --store, or --es-url to export from Elasticsearch",
                path.display()
            )));
        }
        let store = Mutex::new(Store::open(&path, None).map_err(|e| Failure::Runtime(e.into()))?);
        // The store cannot count a timeframe's rows without reading them: a
        // spinner with the rate, no ETA.
        let out = LineCounter::new(file, progress::bar(None, "rows"));
        return export::store_csv(&store, settings, &filter, out).map_err(failure);
    }
    let (config, aliases) = args.conn.resolve(settings)?;
    runtime()?.block_on(async {
        let client = connect(&config).await?;
        let info = client.check().await.map_err(super::es::failure)?;
        let bar = if progress::wanted() {
            let total = client
                .json_ok(
                    Method::Post,
                    &format!("/{}/_count", aliases.legacy),
                    &[],
                    Some(&serde_json::json!({"query": export::es_query(&filter)})),
                    "counting the export's rows",
                )
                .await
                .ok()
                .and_then(|v| v["count"].as_u64());
            // The header is a line as well.
            progress::bar(total.map(|n| n + 1), "rows")
        } else {
            None
        };
        let out = LineCounter::new(file, bar);
        export::es_csv(&client, Product::of(&info), &aliases.legacy, &filter, out)
            .await
            .map_err(failure)
    })
}
