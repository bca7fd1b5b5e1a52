//! `fedicensus bench crawl|report|export`: the benchmark flags, and the results printed as a
//! table or, with `--json`, as one JSON document. The benchmarks themselves live in
//! [`crate::bench`]; they use a scratch database, never `--db`.
//!
//! Types: [`BenchCommand`], [`CrawlBenchArgs`], [`HistoryBenchArgs`], [`BenchOutput`];
//! function [`run`].

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{flags, Cli};
use crate::bench::crawl::{self, CrawlBench};
use crate::bench::export;
use crate::bench::history::HistorySize;
use crate::bench::report;
use crate::bench::Table;
use crate::sim::NetShape;

#[derive(clap::Subcommand, Debug)]
pub(crate) enum BenchCommand {
    /// Crawl a generated simulated fediverse on 127.0.0.1 end to end (the simulation runs
    /// in this process) and print throughput, memory and database size.
    Crawl(CrawlBenchArgs),
    /// Write a synthetic history of daily snapshots, then time reports over a day, a
    /// month and a year (each report a process of its own), and a rebuild.
    Report(HistoryBenchArgs),
    /// Write a synthetic history, then time its export as CSV and as Parquet partitioned
    /// by day (with their memory peak), and the import of the CSV into a fresh database.
    Export(HistoryBenchArgs),
}

#[derive(clap::Args, Debug)]
pub(crate) struct CrawlBenchArgs {
    /// Servers in the simulated fediverse.
    #[arg(long, default_value_t = 20_000, value_name = "N", value_parser = clap::value_parser!(u64).range(flags::BENCH_SERVERS))]
    pub(crate) servers: u64,

    /// Requests in flight in total (as `crawl --concurrency`).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(flags::CONCURRENCY))]
    pub(crate) concurrency: u32,

    /// Requests per second to any one host (as `crawl --per-host-rps`).
    #[arg(long, default_value_t = 5.0, value_name = "R", value_parser = flags::per_host_rps)]
    pub(crate) per_host_rps: f64,

    /// Seed of the generated world: the same seed and size give the same world.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub(crate) seed: u64,

    /// Each simulated server answers after a fixed latency drawn from MIN-MAX ms.
    #[arg(long, default_value = "0-0", value_name = "MIN-MAX", value_parser = latency_range)]
    pub(crate) latency_ms: (u32, u32),

    /// Percent of servers that close every connection unanswered.
    #[arg(long, default_value_t = 3, value_name = "PCT", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub(crate) refusing: u32,

    /// Percent of servers that accept every request and never answer (with --refusing, at
    /// most 100 in all).
    #[arg(long, default_value_t = 0, value_name = "PCT", value_parser = clap::value_parser!(u32).range(0..=100))]
    pub(crate) hanging: u32,

    /// Per mille of servers starting an outage of 1 to 25 days on each day after the first.
    #[arg(long, default_value_t = 0, value_name = "PER_MILLE", value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub(crate) outages: u32,

    /// Crawl the world on this many consecutive simulated days (the first is reported
    /// in full, the others in a row each).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=365))]
    pub(crate) days: u32,

    /// As `crawl --probe-timeout` [default: the crawl's].
    #[arg(long, value_name = "SECS")]
    pub(crate) probe_timeout: Option<f64>,
    /// Crawl over HTTPS (a test CA, a certificate per simulated host), after a plain-HTTP
    /// crawl of the same world, and report what the handshakes cost.
    #[arg(long)]
    pub(crate) tls: bool,

    #[command(flatten)]
    pub(crate) output: BenchOutput,
}

/// `50-150` → (50, 150).
fn latency_range(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("'{s}' is not a range of milliseconds such as 50-150");
    let (low, high) = s.split_once('-').ok_or_else(bad)?;
    let low: u32 = low.trim().parse().map_err(|_| bad())?;
    let high: u32 = high.trim().parse().map_err(|_| bad())?;
    if low > high {
        return Err(bad());
    }
    Ok((low, high))
}

/// The flags of the benchmarks on a synthetic history (`report`, `export`).
#[derive(clap::Args, Debug)]
pub(crate) struct HistoryBenchArgs {
    /// Servers in the synthetic history.
    #[arg(long, default_value_t = 30_000, value_name = "N", value_parser = clap::value_parser!(u64).range(flags::BENCH_SERVERS))]
    pub(crate) servers: u64,

    /// Days of history, one crawl a day, ending 2024-12-31.
    #[arg(long, default_value_t = 365, value_name = "D", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub(crate) days: u32,

    #[command(flatten)]
    pub(crate) output: BenchOutput,
}

impl HistoryBenchArgs {
    fn size(&self) -> anyhow::Result<HistorySize> {
        Ok(HistorySize {
            servers: usize::try_from(self.servers)?,
            days: self.days,
        })
    }
}

/// Flags every benchmark takes.
#[derive(clap::Args, Debug)]
pub(crate) struct BenchOutput {
    /// Print the measurements as one JSON document instead of a table.
    #[arg(long)]
    pub(crate) json: bool,

    /// Keep the benchmark's database in DIR (which must be empty or missing) instead of
    /// a temporary directory removed afterwards.
    #[arg(long, value_name = "DIR")]
    pub(crate) keep: Option<PathBuf>,
}

impl BenchOutput {
    fn print(&self, result: &impl Serialize, table: impl FnOnce() -> Table) -> anyhow::Result<()> {
        if self.json {
            super::print_out(&(serde_json::to_string_pretty(result)? + "\n"))
        } else {
            super::print_out(&table().to_string())
        }
    }
}

/// A bar counting `unit` for people at a terminal; hidden otherwise.
fn progress(cli: &Cli, unit: &str) -> ProgressBar {
    if !super::interactive(cli) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit}"
        ))
        .expect("a valid template"),
    );
    bar
}

/// Runs one benchmark and prints its result.
pub(crate) async fn run(command: &BenchCommand, cli: &Cli) -> anyhow::Result<()> {
    match command {
        BenchCommand::Crawl(args) => {
            let bench = CrawlBench {
                servers: usize::try_from(args.servers)?,
                seed: args.seed,
                concurrency: args.concurrency,
                per_host_rps: args.per_host_rps,
                probe_timeout: args.probe_timeout,
                shape: NetShape {
                    latency_ms: args.latency_ms,
                    refusing_pct: args.refusing,
                    hanging_pct: args.hanging,
                    outages_per_mille: args.outages,
                },
                days: args.days,
                tls: args.tls,
            };
            let bar = progress(cli, "servers");
            let result = crawl::run(&bench, args.output.keep.as_deref(), &bar).await?;
            bar.finish_and_clear();
            args.output.print(&result, || result.table())
        }
        BenchCommand::Report(args) => {
            let bench = args.size()?;
            let bar = progress(cli, "days written");
            let keep = args.output.keep.as_deref();
            // Reports are timed as processes of this very binary.
            let exe = std::env::current_exe()?;
            let result = tokio::task::block_in_place(|| report::run(&bench, &exe, keep, &bar))?;
            args.output.print(&result, || result.table())
        }
        BenchCommand::Export(args) => {
            let bench = args.size()?;
            let bar = progress(cli, "days written");
            let keep = args.output.keep.as_deref();
            let result = tokio::task::block_in_place(|| export::run(&bench, keep, &bar))?;
            args.output.print(&result, || result.table())
        }
    }
}
