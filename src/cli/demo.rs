//! `fedicensus demo`: the offline demo, the first command a newcomer runs.
//!
//! Types: [`DemoArgs`]; function [`run`].

use std::path::PathBuf;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use super::Cli;
use crate::day::Day;
use crate::demo::{self, DemoOptions};

#[derive(clap::Args, Debug)]
#[command(
    about = "Offline demo: crawl a simulated 30-day growth wave and report it",
    long_about = "Starts the simulated fediverse on 127.0.0.1 (no internet needed), plays a \
                  30-day growth wave (servers born, a sign-up surge after day 10, flaky \
                  servers, a spam farm and a fake count that the report flags), crawls it once \
                  per simulated day with --at, writes REPORTS/demo/ (report, charts, \
                  index.html; other files there are left alone) and prints the headline. The \
                  demo keeps its own database (--demo-db), recreated on every run; a \
                  directory the demo did not create is never deleted."
)]
pub(crate) struct DemoArgs {
    /// Directory the demo report is written into (as REPORTS/demo/).
    #[arg(long, default_value = "reports", value_name = "DIR")]
    pub(crate) reports: PathBuf,

    /// The demo's own database, recreated on every run (only if the demo created it:
    /// an existing directory it did not create is refused).
    #[arg(long, default_value = "data/demo.db", value_name = "DIR")]
    pub(crate) demo_db: PathBuf,

    /// Simulated days to play after day 0.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=30))]
    pub(crate) days: u32,

    /// Day 0 of the wave (YYYY-MM-DD).
    #[arg(long, default_value = "2022-10-27", value_name = "DAY")]
    pub(crate) start: Day,
}

pub(crate) async fn run(args: &DemoArgs, cli: &Cli) -> anyhow::Result<ExitCode> {
    let progress = if super::interactive(cli) {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] simulated day {pos}/{len}")
                .expect("a valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let options = DemoOptions {
        days: args.days,
        reports: args.reports.clone(),
        db: args.demo_db.clone(),
        start: args.start,
    };
    let outcome = demo::run(&options, &progress).await?;
    progress.finish_and_clear();
    super::print_out(&format!(
        "{}\nreport written to {}\n",
        outcome.report.headline,
        outcome.dir.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}
