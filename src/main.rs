//! The `convstats` command line: parses arguments and calls the library.

use clap::{Parser, Subcommand, ValueEnum};
use convstats::commands::es::{ConnectionArgs, WriterArgs};
use convstats::commands::{self, Failure, backfill::BackfillArgs, compute::ComputeArgs};
use convstats::config;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Rebuild both Elasticsearch index families from NDJSON files and swap the aliases at once
    Backfill {
        /// Input files, read in order (`-` or none reads stdin)
        inputs: Vec<String>,
        #[command(flatten)]
        conn: ConnectionArgs,
        #[command(flatten)]
        writer: WriterArgs,
        /// On a failure before the alias swap, delete the half-built indices
        #[arg(long)]
        cleanup: bool,
        /// Delete the indices the aliases pointed to, in the same atomic swap
        #[arg(long)]
        delete_old: bool,
        /// Exit 1 before the swap when any document was dead-lettered
        #[arg(long)]
        fail_on_dead_letters: bool,
    },
    /// Apply the index templates; create the first indices and aliases when absent
    Setup {
        #[command(flatten)]
        conn: ConnectionArgs,
    },
    /// The dead-letter file: list it, or send its entries again
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
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

#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per run
enum DlqAction {
    /// Print every dead letter and a count per error type
    List {
        /// The dead-letter file [default: ./convstats-dead-letters.ndjson]
        #[arg(long, env = "CONVSTATS_DEAD_LETTER_FILE")]
        dead_letter_file: Option<PathBuf>,
    },
    /// Send every dead letter again; keep only those that fail again
    Replay {
        #[command(flatten)]
        conn: ConnectionArgs,
        #[command(flatten)]
        writer: WriterArgs,
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
        Command::Backfill {
            inputs,
            conn,
            writer,
            cleanup,
            delete_old,
            fail_on_dead_letters,
        } => {
            let summary = commands::backfill::run(
                &BackfillArgs {
                    inputs: inputs.clone(),
                    delete_old: *delete_old,
                    cleanup: *cleanup,
                    fail_on_dead_letters: *fail_on_dead_letters,
                },
                conn,
                writer,
                &settings,
            )?;
            if cli.quiet == 0 {
                eprintln!("{summary}");
            }
            Ok(())
        }
        Command::Setup { conn } => {
            let report = commands::setup::run(conn, &settings)?;
            if cli.quiet == 0 {
                eprint!("{}", commands::setup::describe(&report));
            }
            Ok(())
        }
        Command::Dlq {
            action: DlqAction::List { dead_letter_file },
        } => {
            let path = dead_letter_file
                .clone()
                .or_else(|| settings.elasticsearch.dead_letter_file.clone())
                .unwrap_or_else(|| PathBuf::from("convstats-dead-letters.ndjson"));
            print!("{}", commands::dlq::list(&path)?);
            Ok(())
        }
        Command::Dlq {
            action: DlqAction::Replay { conn, writer },
        } => {
            let summary = commands::dlq::replay(conn, writer, &settings)?;
            let path = writer.resolve(&settings)?.dead_letter_path;
            if cli.quiet == 0 {
                eprintln!("{}", commands::dlq::describe_replay(&summary, &path));
            }
            Ok(())
        }
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

/// mimalloc: a run allocates and frees millions of small values across
/// threads (parsed on one, finished on another, freed on a third), where
/// glibc's arena locks cost a second of a 1M-conversation run. Built without
/// transparent huge pages, which made faulting in fresh memory slower and
/// raised peak RSS (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
