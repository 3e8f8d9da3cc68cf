//! Start-up cost of many office-hours schedules: builds a `convstats.toml`
//! with N workspaces, each with its own distinct schedule (opening hours and
//! holidays differ per workspace, zones rotate through a list;
//! `benches/support/many_schedules.rs`), and times `config::parse` on it, the
//! work `convstats` does before anything else.
//!
//!     cargo run --release --example oh_startup -- [N] [HOLIDAYS] [ZONES] [--write FILE]
//!
//! Defaults: 20 000 workspaces, 10 holidays each, 8 zones. Prints the best
//! of three runs. `--write FILE`
//! also writes the configuration, for timing the `convstats` binary on it
//! (`scripts/bench-oh-startup.sh` does both).

use std::time::Instant;

#[path = "../benches/support/many_schedules.rs"]
mod many_schedules;

/// The allocator of the `convstats` binary, so that the figures are its.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut write = None;
    if let Some(i) = args.iter().position(|a| a == "--write") {
        write = args.get(i + 1).cloned();
        args.drain(i..(i + 2).min(args.len()));
    }
    let num = |i: usize, d: u32| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (n, holidays, zones) = (num(0, 20_000), num(1, 10), num(2, 8) as usize);
    let text = many_schedules::config(n, holidays, zones);
    if let Some(path) = write {
        std::fs::write(&path, &text)?;
        eprintln!("wrote {path}");
    }
    // Best of three runs each, alternating (the first run also pays for
    // fresh memory pages).
    let (mut secs, mut toml_secs) = (f64::INFINITY, f64::INFINITY);
    let mut settings = None;
    for _ in 0..3 {
        let t = Instant::now();
        let s = convstats::config::parse(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
        secs = secs.min(t.elapsed().as_secs_f64());
        drop(settings.replace(s));
        let t = Instant::now();
        let table: toml::Table = text.parse()?;
        toml_secs = toml_secs.min(t.elapsed().as_secs_f64());
        drop(table);
    }
    let settings = settings.ok_or_else(|| anyhow::anyhow!("no run"))?;
    println!(
        "{n} workspaces, each its own schedule, {holidays} holidays each, {} zones, {:.1} MB of TOML",
        zones.clamp(1, many_schedules::ZONES.len()),
        text.len() as f64 / 1e6
    );
    println!(
        "config::parse: {secs:.3} s, of which TOML parsing (alone) {toml_secs:.3} s; \
         the rest {:.1} µs per schedule",
        (secs - toml_secs).max(0.0) / f64::from(n.max(1)) * 1e6
    );
    println!(
        "schedules: {} configured, {} distinct compiled",
        settings.schedules.len(),
        settings.office_hours.distinct_schedules()
    );
    Ok(())
}
