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

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use indicatif::ProgressBar;

use crate::crawl::{self, CrawlOptions};
use crate::day::Day;
use crate::domain::Domain;
use crate::fetch::{default_user_agent, FetchConfig, NetworkConfig};
use crate::render;
use crate::report::{self, Filter, PeriodReport, Report, Scope};
use crate::seeds::Exclusions;
use crate::sim::{self, World};
use crate::store::Store;

/// What `fedicensus demo` plays: how many days, and where its database and report go.
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

/// What the demo produced.
#[derive(Debug)]
pub struct DemoOutcome {
    /// The directory the report was written to: `demo` under [`DemoOptions::reports`].
    pub dir: PathBuf,
    /// The period report of the whole wave, as written there.
    pub report: PeriodReport,
}

/// Noon UTC of simulated day `n`: the instant that day's crawl is recorded at.
pub fn crawl_instant(start: Day, n: u32) -> DateTime<Utc> {
    start.add_days(n.into()).start() + chrono::Duration::hours(12)
}

/// The file that marks a database directory as the demo's own: only a directory that
/// holds it (or an empty one) is ever removed and recreated.
pub const MARKER: &str = "fedicensus-demo-database";

/// Plays the wave day by day, then writes the report of (day 0, last day].
pub async fn run(options: &DemoOptions, progress: &ProgressBar) -> anyhow::Result<DemoOutcome> {
    let store = fresh_database(&options.db)?;
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
                probe_timeout: Duration::from_secs(3),
                connect_timeout: Duration::from_secs(1),
                per_host_rps: 50.0,
                concurrency: 64,
                connect_to: Some(sim.addr),
                plain_http: true,
                max_retries: 2,
                max_retry_wait: Duration::from_secs(2),
                network: NetworkConfig::default(),
            },
            max_servers: None,
            max_new_per_registrable: 50,
            max_new_per_server: crawl::DEFAULT_MAX_NEW_PER_SERVER as usize,
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

/// A new, empty demo database at `path`. An earlier demo's database (it holds
/// [`MARKER`]) is removed first; anything else that is not empty is refused untouched,
/// since a user's files or a real census database must never be deleted.
fn fresh_database(path: &Path) -> anyhow::Result<Store> {
    let empty = |p: &Path| std::fs::read_dir(p).is_ok_and(|mut entries| entries.next().is_none());
    if path.exists() && !empty(path) {
        if !path.join(MARKER).is_file() {
            bail!(
                "{} was not created by `fedicensus demo` (it has no {MARKER} file), so the \
                 demo will not replace it; pass --demo-db with a new directory",
                path.display()
            );
        }
        std::fs::remove_dir_all(path)
            .with_context(|| format!("cannot recreate the demo database {}", path.display()))?;
    }
    let store = Store::open(path)?;
    std::fs::write(
        path.join(MARKER),
        "This database was created by `fedicensus demo`, which recreates it on every run.\n",
    )
    .with_context(|| format!("cannot mark {} as the demo's", path.display()))?;
    Ok(store)
}

/// Writes the report into `dir` file by file: each file the demo writes is replaced
/// whole (written aside, then renamed into place), and any other file in `dir` is left
/// alone.
fn write_demo_dir(period: &PeriodReport, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = dir.join(format!(".fedicensus-partial-{}", std::process::id()));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)
            .with_context(|| format!("cannot remove {}", partial.display()))?;
    }
    let report = Report::Period(period.clone());
    for file in render::write_report_dir(&report, &partial)? {
        let name = file.file_name().context("a report file has a name")?;
        std::fs::rename(&file, dir.join(name))
            .with_context(|| format!("cannot move {} into {}", file.display(), dir.display()))?;
    }
    std::fs::remove_dir(&partial).with_context(|| format!("cannot remove {}", partial.display()))
}
