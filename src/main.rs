//! The `convstats` command line: parses arguments and calls the library.

use clap::{Parser, Subcommand, ValueEnum};
use convstats::commands::{self, Failure, compute::ComputeArgs};
use convstats::config;
use std::path::PathBuf;
use std::process::ExitCode;

// mimalloc: faster than the system allocator for the many small, short-lived
// allocations of parsing, and less fragmentation across worker threads
// (measured: lower peak RSS and CPU on `compute`, see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "convstats",
    version,
    about = "Intercom-style conversation metrics for Elasticsearch and files"
)]
struct Cli {
    /// Configuration file [default: ./convstats.toml when present]
    #[arg(long, global = true, env = "CONVSTATS_CONFIG")]
    config: Option<PathBuf>,
    /// Log format on stderr
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "CONVSTATS_LOG_FORMAT"
    )]
    log_format: LogFormat,
    /// More logging (-v, -vv)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Less output (-q: warnings and errors only, no summary)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    quiet: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Compute every conversation's documents from NDJSON files (.gz allowed; `-` or none reads stdin)
    Compute {
        /// Input files, read in order
        inputs: Vec<String>,
        /// Output directory
        #[arg(long, default_value = "out", env = "CONVSTATS_OUT")]
        out: PathBuf,
    },
    /// Validate the configuration and print each schedule's weekly open hours
    CheckConfig,
    /// Write deterministic synthetic Intercom conversations (NDJSON) to stdout
    Gen {
        /// How many conversations
        #[arg(long, default_value_t = 1000)]
        conversations: u64,
        /// Seed: the same arguments always give the same bytes
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of workspaces (ws-1, ws-2, ...)
        #[arg(long, default_value_t = 3)]
        workspaces: u32,
        /// First date of the arrival window (YYYY-MM-DD)
        #[arg(long, default_value = "2026-01-05")]
        start: chrono::NaiveDate,
        /// Length of the arrival window in days
        #[arg(long, default_value_t = 28)]
        days: u32,
        /// Print a convstats.toml (office hours, bot ids) for the generated workspaces instead
        #[arg(long)]
        print_config: bool,
    },
}

fn init_logging(cli: &Cli) {
    let level = match (cli.verbose, cli.quiet) {
        (_, q) if q > 0 => "warn",
        (0, _) => "info",
        (1, _) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONVSTATS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let settings = config::load(cli.config.as_deref()).map_err(|e| Failure::Usage(e.into()))?;
    match &cli.command {
        Command::Compute { inputs, out } => {
            let summary = commands::compute::run(
                &ComputeArgs {
                    inputs: inputs.clone(),
                    out: out.clone(),
                },
                &settings,
            )?;
            if cli.quiet == 0 {
                eprintln!("{summary}");
                eprintln!("wrote {}", out.display());
            }
            Ok(())
        }
        Command::Gen {
            conversations,
            seed,
            workspaces,
            start,
            days,
            print_config,
        } => commands::r#gen::run(
            &convstats::r#gen::GenParams {
                conversations: *conversations,
                seed: *seed,
                workspaces: *workspaces,
                start: *start,
                days: *days,
            },
            *print_config,
        ),
        Command::CheckConfig => {
            print!("{}", commands::check_config::describe(&settings));
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {:#}", f.error());
            ExitCode::from(f.exit_code() as u8)
        }
    }
}
