//! The offline demo: a 30-day growth wave of the simulated fediverse, crawled once per
//! simulated day and reported, so a newcomer sees the whole pipeline in a minute with
//! no network.
//!
//! The wave ([`World::wave`]) has servers being born, a sign-up surge after day 10, a
//! few flaky servers, a spam farm and a fake count: the report must carry the flaky
//! servers forward and flag the last two.
//!
//! Types: [`DemoOptions`], [`DemoOutcome`]; function [`run`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;

use crate::cli::crawl::default_user_agent;
use crate::crawl::{self, CrawlOptions};
use crate::day::Day;
use crate::domain::Domain;
use crate::fetch::FetchConfig;
use crate::report::{self, Filter, PeriodReport, Report, Scope};
use crate::seeds::Exclusions;
use crate::sim::{self, World};
use crate::store::Store;
use crate::{daily, render};

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Simulated days after day 0.
    pub days: u32,
    /// The report goes to `reports/demo/`.
    pub reports: PathBuf,
    /// The demo's database.
    pub db: PathBuf,
    /// Day 0 of the wave.
    pub start: Day,
}

#[derive(Debug)]
pub struct DemoOutcome {
    pub dir: PathBuf,
    pub report: PeriodReport,
}

/// Noon UTC of simulated day `n`: the instant that day's crawl is recorded at.
pub fn crawl_instant(start: Day, n: u32) -> DateTime<Utc> {
    start.add_days(n.into()).start() + chrono::Duration::hours(12)
}

/// Plays the wave day by day, then writes the report of (day 0, last day].
pub async fn run(options: &DemoOptions, progress: &ProgressBar) -> anyhow::Result<DemoOutcome> {
    let store = Store::open(&options.db)?;
    let sim = sim::serve(World::wave(0)).await?;
    progress.set_length(u64::from(options.days) + 1);
    for n in 0..=options.days {
        let world = World::wave(n);
        let seeds = world
            .seeds
            .iter()
            .filter_map(|s| Domain::parse(s).ok())
            .collect();
        sim.set_world(world);
        let crawl_options = CrawlOptions {
            seeds,
            exclude: Exclusions::default(),
            fetch: FetchConfig {
                user_agent: default_user_agent(),
                timeout: Duration::from_secs(3),
                connect_timeout: Duration::from_secs(1),
                per_host_rps: 50.0,
                concurrency: 64,
                connect_to: Some(sim.addr),
                plain_http: true,
                max_retries: 2,
                max_retry_wait: Duration::from_secs(2),
            },
            max_servers: None,
            max_new_per_registrable: 50,
            at: crawl_instant(options.start, n),
            description: serde_json::json!({"demo": true, "day": n}),
        };
        let summary = crawl::crawl(&store, &crawl_options, &ProgressBar::hidden()).await?;
        crate::report::derive::settle(&store)?;
        tracing::info!(day = n, up = summary.servers_up, "simulated day crawled");
        progress.inc(1);
    }
    let until = options.start.add_days(options.days.into());
    let scope = Scope::Period {
        since: options.start,
        until: Some(until),
    };
    let Report::Period(period) = report::build(&store, scope, &Filter::default())? else {
        unreachable!("a period scope builds a period")
    };
    let dir = options.reports.join("demo");
    write_demo_dir(&period, &dir)?;
    Ok(DemoOutcome {
        dir,
        report: period,
    })
}

fn write_demo_dir(period: &PeriodReport, dir: &Path) -> anyhow::Result<()> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let report = Report::Period(period.clone());
    daily::replace_dir(dir, |tmp| render::write_report_dir(&report, tmp).map(drop))
}
