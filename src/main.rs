//! The `convstats` command line: parses arguments and calls the library.

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use convstats::commands::{
    self, Failure, backfill::BackfillArgs, compute::ComputeArgs, dlq::DlqArgs, export::ExportArgs,
    serve::ServeArgs, setup::SetupArgs, synth::GenArgs,
};
use convstats::config;
use std::io::{IsTerminal, Write};
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
    Compute(ComputeArgs),
    /// Rebuild both Elasticsearch index families from NDJSON files and swap the aliases at once
    Backfill(BackfillArgs),
    /// Continuous ingestion: accept records over HTTP (and from files) into a durable store and keep both index families current
    Serve(ServeArgs),
    /// Export conversations (from the state store, or from Elasticsearch with --es-url)
    #[command(subcommand)]
    Export(ExportArgs),
    /// Apply the index templates; create the first indices and aliases when absent
    Setup(SetupArgs),
    /// The dead-letter file: list it, or send its entries again
    #[command(subcommand)]
    Dlq(DlqArgs),
    /// Validate the configuration and print each schedule's weekly open hours
    CheckConfig,
    /// Write deterministic synthetic Intercom conversations (NDJSON) to stdout
    Gen(GenArgs),
}

fn init_logging(cli: &Cli) {
    // -v and -vv raise convstats' own logging only: the HTTP libraries'
    // debug and trace lines would print request details (CONVSTATS_LOG can
    // still ask for them explicitly).
    let level = match (cli.verbose, cli.quiet) {
        (_, q) if q > 0 => "warn",
        (0, _) => "info",
        (1, _) => "info,convstats=debug",
        _ => "info,convstats=trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CONVSTATS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colours only on a terminal: a log file or a pipe gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn run(cli: &Cli) -> Result<(), Failure> {
    let settings = config::load(cli.config.as_deref()).map_err(|e| Failure::Usage(e.into()))?;
    match &cli.command {
        Command::Compute(args) => {
            let summary = commands::compute::run(args, &settings)?;
            if cli.quiet == 0 {
                say(&format!("{summary}\nwrote {}", args.out.display()));
            }
            Ok(())
        }
        Command::Gen(args) => commands::synth::run(args),
        Command::Backfill(args) => {
            let summary = commands::backfill::run(args, &settings)?;
            if cli.quiet == 0 {
                say(&summary.to_string());
            }
            Ok(())
        }
        Command::Serve(args) => commands::serve::run(args, &settings),
        Command::Export(args) => {
            let rows = commands::export::run(args, &settings)?;
            if cli.quiet == 0 {
                say(&format!("exported {rows} conversations"));
            }
            Ok(())
        }
        Command::Setup(args) => {
            let report = commands::setup::run(args, &settings)?;
            if cli.quiet == 0 {
                say(commands::setup::describe(&report).trim_end());
            }
            Ok(())
        }
        Command::Dlq(DlqArgs::List { dead_letter_file }) => print_out(&commands::dlq::list(
            dead_letter_file.as_deref(),
            &settings,
        )?),
        Command::Dlq(DlqArgs::Replay { conn, writer }) => {
            let (summary, path) = commands::dlq::replay(conn, writer, &settings)?;
            if cli.quiet == 0 {
                say(&commands::dlq::describe_replay(&summary, &path));
            }
            Ok(())
        }
        Command::CheckConfig => {
            for w in &settings.warnings {
                say(&format!("warning: {w}"));
            }
            print_out(&commands::check_config::describe(&settings))
        }
    }
}

/// An error and its causes on one line, each cause once: many messages
/// already quote their cause (`input file x: No such file ...`), which
/// `{:#}` would print a second time.
fn describe_error(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let piece = cause.to_string();
        if !text.contains(&piece) {
            text.push_str(": ");
            text.push_str(&piece);
        }
    }
    text
}

/// Writes a message to stderr. A stderr that cannot be written (closed,
/// `/dev/full`) loses the message but never changes the exit code.
fn say(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// Writes a command's output to stdout: a closed pipe (`| head`) ends it
/// quietly; any other write error is a runtime failure.
fn print_out(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Failure::Runtime(anyhow::anyhow!("writing to stdout: {e}"))),
    }
}

/// Parses the command line. A bad value that came from an environment
/// variable is reported under the variable's name too, since the flag's name
/// alone points at a command line that does not have it.
fn parse_cli() -> Result<Cli, ExitCode> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let err = match Cli::try_parse() {
        Ok(cli) => return Ok(cli),
        Err(e) => e,
    };
    if !matches!(
        err.kind(),
        ErrorKind::InvalidValue | ErrorKind::ValueValidation
    ) {
        // --help and --version print to stdout and exit 0, like any error.
        err.exit();
    }
    let mut note = String::new();
    if let Some(ContextValue::String(arg)) = err.get(ContextKind::InvalidArg) {
        let long = arg.split_whitespace().next().unwrap_or_default();
        if let Some(var) = env_of(&Cli::command(), long.trim_start_matches("--"))
            && std::env::var_os(&var).is_some()
            && !std::env::args().any(|a| a == long || a.starts_with(&format!("{long}=")))
        {
            note = format!(
                "\nnote: the value came from the environment variable {var} (for {long}); fix or unset it"
            );
        }
    }
    say(&format!("{}{note}", err.render().to_string().trim_end()));
    Err(ExitCode::from(2))
}

/// The environment variable of the flag `--long`, in any subcommand.
fn env_of(cmd: &clap::Command, long: &str) -> Option<String> {
    for arg in cmd.get_arguments() {
        if arg.get_long() == Some(long)
            && let Some(env) = arg.get_env()
        {
            return Some(env.to_string_lossy().into_owned());
        }
    }
    cmd.get_subcommands().find_map(|sub| env_of(sub, long))
}

fn main() -> ExitCode {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    init_logging(&cli);
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            say(&format!("error: {}", describe_error(f.error())));
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

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command and every flag of `cmd` (and its subcommands) with no
    /// help text, by path.
    fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        let path = format!("{path} {}", cmd.get_name());
        if cmd.get_about().is_none() && path.contains(' ') {
            out.push(path.clone());
        }
        for a in cmd.get_arguments() {
            let builtin = matches!(a.get_id().as_str(), "help" | "version");
            if !builtin && a.get_help().is_none_or(|h| h.to_string().trim().is_empty()) {
                out.push(format!("{path} {}", a.get_id()));
            }
        }
        for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            undocumented(s, &path, out);
        }
    }

    #[test]
    fn help_of_every_command_and_flag_says_what_it_does() {
        let mut missing = Vec::new();
        undocumented(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "without help text: {missing:?}");
    }

    #[test]
    fn every_flag_with_a_built_in_default_shows_it_in_its_help() {
        // A default clap does not know (it comes from the config file or the
        // spec) is written in the help as `[default: …]`; one clap knows is
        // printed by clap. Either way `--help` shows it.
        fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
            for a in cmd.get_arguments() {
                let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
                if !a.get_default_values().is_empty() && a.is_hide_default_value_set() {
                    out.push(format!("{} {}", cmd.get_name(), a.get_id()));
                }
                if help.contains("[default") && !a.get_default_values().is_empty() {
                    out.push(format!(
                        "{} {}: the default is said twice",
                        cmd.get_name(),
                        a.get_id()
                    ));
                }
            }
            for s in cmd.get_subcommands() {
                walk(s, out);
            }
        }
        let mut wrong = Vec::new();
        walk(&Cli::command(), &mut wrong);
        assert!(wrong.is_empty(), "{wrong:?}");
    }
}
