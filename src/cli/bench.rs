//! `fedicensus bench crawl|report`: the benchmark flags, and the results printed as a
//! table or, with `--json`, as one JSON document. The benchmarks themselves live in
//! [`crate::bench`]; they use a scratch database, never `--db`.
//!
//! Types: [`BenchCommand`], [`CrawlBenchArgs`], [`ReportBenchArgs`], [`BenchOutput`];
//! function [`run`].

use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::{flags, Cli};
use crate::bench::crawl::{self, CrawlBench};
use crate::bench::report::{self, ReportBench};
use crate::bench::Table;

#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Crawl a generated simulated fediverse on 127.0.0.1 end to end (the simulation runs
    /// in this process) and print throughput, memory and database size.
    Crawl(CrawlBenchArgs),
    /// Write a synthetic history of daily snapshots, then time reports over a day, a
    /// month and a year (each report a process of its own), and a rebuild.
    Report(ReportBenchArgs),
}

#[derive(clap::Args, Debug)]
pub struct CrawlBenchArgs {
    /// Servers in the simulated fediverse.
    #[arg(long, default_value_t = 20_000, value_name = "N", value_parser = clap::value_parser!(u64).range(flags::BENCH_SERVERS))]
    pub servers: u64,

    /// Requests in flight in total (as `crawl --concurrency`).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u32).range(flags::CONCURRENCY))]
    pub concurrency: u32,

    /// Requests per second to any one host (as `crawl --per-host-rps`).
    #[arg(long, default_value_t = 5.0, value_name = "R", value_parser = flags::per_host_rps)]
    pub per_host_rps: f64,

    /// Seed of the generated world: the same seed and size give the same world.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,

    #[command(flatten)]
    pub output: BenchOutput,
}

#[derive(clap::Args, Debug)]
pub struct ReportBenchArgs {
    /// Servers in the synthetic history.
    #[arg(long, default_value_t = 30_000, value_name = "N", value_parser = clap::value_parser!(u64).range(flags::BENCH_SERVERS))]
    pub servers: u64,

    /// Days of history, one crawl a day, ending 2024-12-31.
    #[arg(long, default_value_t = 365, value_name = "D", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub days: u32,

    #[command(flatten)]
    pub output: BenchOutput,
}

/// Flags every benchmark takes.
#[derive(clap::Args, Debug)]
pub struct BenchOutput {
    /// Print the measurements as one JSON document instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Keep the benchmark's database in DIR (which must be empty or missing) instead of
    /// a temporary directory removed afterwards.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
}

impl BenchOutput {
    fn print(&self, result: &impl Serialize, table: impl FnOnce() -> Table) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(result)?);
        } else {
            print!("{}", table());
        }
        Ok(())
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
pub async fn run(command: &BenchCommand, cli: &Cli) -> anyhow::Result<()> {
    match command {
        BenchCommand::Crawl(args) => {
            let bench = CrawlBench {
                servers: usize::try_from(args.servers)?,
                seed: args.seed,
                concurrency: args.concurrency,
                per_host_rps: args.per_host_rps,
            };
            let bar = progress(cli, "servers");
            let result = crawl::run(&bench, args.output.keep.as_deref(), &bar).await?;
            bar.finish_and_clear();
            args.output.print(&result, || result.table())
        }
        BenchCommand::Report(args) => {
            let bench = ReportBench {
                servers: usize::try_from(args.servers)?,
                days: args.days,
            };
            let bar = progress(cli, "days written");
            let keep = args.output.keep.as_deref();
            // Reports are timed as processes of this very binary.
            let exe = std::env::current_exe()?;
            let result = tokio::task::block_in_place(|| report::run(&bench, &exe, keep, &bar))?;
            args.output.print(&result, || result.table())
        }
    }
}
