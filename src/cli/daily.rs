//! `fedicensus daily`: the unattended run for cron or a systemd timer: crawl, judge the
//! crawl, write the day's reports, and say how it went in the exit code.
//!
//! Types: [`DailyArgs`]; function [`run`].

use std::path::PathBuf;
use std::process::ExitCode;

use super::crawl::{crawl_with_progress, print_summary, CrawlArgs};
use super::Cli;
use crate::daily;
use crate::day::Day;
use crate::report::Health;

/// Exit code for a crawl too thin to trust (see [`Health::Thin`]).
pub(crate) const EXIT_THIN: u8 = 3;

#[derive(clap::Args, Debug)]
#[command(
    about = "Crawl, then write today's report into the reports directory (for cron)",
    long_about = "Crawl (every crawl option applies, --at included), then write the report for \
                  the UTC day of that crawl into REPORTS/YYYY-MM-DD/ (the files of report --out, \
                  for the last 30 days), REPORTS/latest.json (the newest day and the last 7 and \
                  30 days) and REPORTS/index.html.\n\n\
                  Idempotent: a second run the same day adds its snapshots and rewrites that \
                  day's report; each server counts once per day (its latest snapshot).\n\n\
                  Exit codes: 0 success; 1 failure (database unusable or locked, nothing \
                  reachable); 3 the crawl was suspiciously thin (fewer than half of yesterday's \
                  servers answered: the report says so instead of announcing a collapse); \
                  130 interrupted."
)]
pub(crate) struct DailyArgs {
    #[command(flatten)]
    pub(crate) crawl: CrawlArgs,

    /// Directory the reports are written into.
    #[arg(long, default_value = "reports", value_name = "DIR")]
    pub(crate) reports: PathBuf,
}

pub(crate) async fn run(args: &DailyArgs, cli: &Cli) -> anyhow::Result<ExitCode> {
    let (store, summary) = crawl_with_progress(&args.crawl, cli).await?;
    if summary.interrupted {
        tokio::task::block_in_place(|| store.close())?;
        return Ok(ExitCode::from(130));
    }
    let day = Day::of(summary.at);
    let outcome = daily::write_reports(&store, day, &args.reports, &summary)?;
    tokio::task::block_in_place(|| store.close())?;
    if let Some(warning) = outcome.health.warning(day) {
        tracing::warn!("{warning}");
    }
    if !outcome.published {
        tracing::warn!(
            "latest.json and index.html were left as they were: they keep the last day with \
             a census"
        );
    }
    if args.crawl.json {
        print_summary(&summary, true)?;
    } else {
        super::print_out(&format!(
            "{}\nreport written to {}\n",
            outcome.headline,
            outcome.dir.display()
        ))?;
    }
    tracing::info!(day = %day, dir = %outcome.dir.display(), "daily report written");
    Ok(match outcome.health {
        Health::Ok => ExitCode::SUCCESS,
        Health::Thin => ExitCode::from(EXIT_THIN),
        Health::NothingReachable => ExitCode::FAILURE,
    })
}
