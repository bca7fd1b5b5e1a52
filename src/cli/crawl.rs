//! `fedicensus crawl`: its flags (a contract: scripts use them), how they become
//! [`CrawlOptions`], and the run summary printed at the end.
//!
//! Types: [`CrawlArgs`]; functions [`run`], [`CrawlArgs::options`], [`print_summary`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use super::{flags, Cli};
use crate::crawl::{self, CrawlOptions, Summary};
use crate::domain::Domain;
use crate::fetch::FetchConfig;
use crate::seeds::{DomainList, Exclusions};
use crate::store::Store;

/// The bundled seed list, used when no `--seeds` is given and it exists.
pub const DEFAULT_SEEDS: &str = "seeds/instances.txt";

/// The user agent names the program, its version and where to read about it, so an
/// operator who sees it in a log can find out what it is and how to opt out.
pub fn default_user_agent() -> String {
    format!(
        "fedicensus/{} (+{})",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_HOMEPAGE")
    )
}

#[derive(clap::Args, Debug, Clone)]
pub struct CrawlArgs {
    #[command(flatten)]
    pub db: super::DbArg,

    /// File of seed domains, one a line; blank lines and # comments allowed. Bad lines
    /// are reported with their line number and skipped. [default: seeds/instances.txt]
    #[arg(long, value_name = "FILE")]
    pub seeds: Option<PathBuf>,

    /// A seed domain (repeatable), crawled in addition to the domains of the seed file.
    #[arg(long = "seed", value_name = "DOMAIN")]
    pub seed: Vec<String>,

    /// Requests in flight in total.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(flags::CONCURRENCY))]
    pub concurrency: u32,

    /// Requests per second to any one host (consecutive requests to a host are at
    /// least 1/R seconds apart). A robots.txt Crawl-delay slows this further.
    #[arg(long, default_value_t = 1.0, value_parser = flags::per_host_rps, value_name = "R")]
    pub per_host_rps: f64,

    /// Seconds for a whole request (connect, answer and body); the connect timeout is
    /// half of it, at most 10 s.
    #[arg(long, default_value_t = 20.0, value_parser = flags::timeout_secs, value_name = "SECS")]
    pub timeout: f64,

    /// Stop recording newly discovered domains once N domains are known (a safety
    /// valve; known domains are still crawled).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(flags::MAX_SERVERS))]
    pub max_servers: Option<u32>,

    /// New domains accepted per registrable domain per run (crawler-trap guard: a peer
    /// list naming 300,000 subdomains of one domain costs N entries).
    #[arg(long, default_value_t = 50, value_name = "N", value_parser = clap::value_parser!(u32).range(flags::MAX_NEW_PER_DOMAIN))]
    pub max_new_per_domain: u32,

    /// New domains one server's peer list may introduce per run (flood guard: a list of
    /// 850,000 made-up domains costs N visits); the rest are counted as capped.
    #[arg(long, default_value_t = crate::crawl::DEFAULT_MAX_NEW_PER_SERVER, value_name = "N", value_parser = clap::value_parser!(u32).range(flags::MAX_NEW_PER_SERVER))]
    pub max_new_per_server: u32,

    /// User-Agent header; robots.txt rules are matched against its first word.
    /// [default: fedicensus/<version> (+<homepage>)]
    #[arg(long, value_name = "S")]
    pub user_agent: Option<String>,

    /// File of domains never contacted, each with its subdomains (an opt-out list;
    /// same format as --seeds).
    #[arg(long, value_name = "FILE")]
    pub exclude: Option<PathBuf>,

    /// Record snapshots as taken at this instant instead of now (RFC 3339, e.g.
    /// 2022-11-07T12:00:00Z): simulations and backfills. Re-running with the same --at
    /// overwrites that instant's snapshots instead of duplicating them.
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub at: Option<DateTime<Utc>>,

    /// Send every request to IP:PORT while keeping the server's name in the Host
    /// header (like curl --connect-to). The only way a loopback or private address is
    /// ever contacted: for tests, the demo and benchmarks against a simulated fediverse.
    #[arg(long, value_name = "IP:PORT")]
    pub connect_to: Option<SocketAddr>,

    /// Use http:// instead of https://. Only allowed with --connect-to.
    #[arg(long, requires = "connect_to")]
    pub plain_http: bool,

    /// Print the run summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 instant such as 2022-11-07T12:00:00Z ({e})"))
}

fn read_list(path: &Path, what: &str) -> anyhow::Result<Vec<Domain>> {
    let list = DomainList::read(path).with_context(|| format!("reading the {what} list"))?;
    for problem in &list.problems {
        tracing::warn!("{}: {problem}; skipped", path.display());
    }
    Ok(list.domains)
}

impl CrawlArgs {
    /// Resolves files and defaults into the options of one run.
    pub fn options(&self) -> anyhow::Result<CrawlOptions> {
        let mut seeds = match &self.seeds {
            Some(path) => read_list(path, "seed")?,
            None if Path::new(DEFAULT_SEEDS).exists() => {
                read_list(Path::new(DEFAULT_SEEDS), "seed")?
            }
            None => Vec::new(),
        };
        for entry in &self.seed {
            let domain = Domain::parse(entry)
                .with_context(|| format!("--seed '{}'", crate::echo::clip(entry)))?;
            if !seeds.contains(&domain) {
                seeds.push(domain);
            }
        }
        let exclude = match &self.exclude {
            Some(path) => Exclusions::new(read_list(path, "exclude")?),
            None => Exclusions::default(),
        };
        let timeout = Duration::from_secs_f64(self.timeout);
        let user_agent = self.user_agent.clone().unwrap_or_else(default_user_agent);
        if user_agent.trim().is_empty() {
            bail!("--user-agent must not be empty");
        }
        Ok(CrawlOptions {
            seeds,
            exclude,
            fetch: FetchConfig {
                user_agent,
                timeout,
                connect_timeout: (timeout / 2).min(Duration::from_secs(10)),
                per_host_rps: self.per_host_rps,
                concurrency: self.concurrency as usize,
                connect_to: self.connect_to,
                plain_http: self.plain_http,
                max_retries: 3,
                max_retry_wait: Duration::from_secs(60).min(timeout * 3),
            },
            max_servers: self.max_servers.map(|n| n as usize),
            max_new_per_registrable: self.max_new_per_domain as usize,
            max_new_per_server: self.max_new_per_server as usize,
            at: self.at.unwrap_or_else(Utc::now),
            description: serde_json::json!({
                "seeds": self.seeds, "seed": self.seed, "concurrency": self.concurrency,
                "per_host_rps": self.per_host_rps, "timeout": self.timeout,
                "max_servers": self.max_servers, "max_new_per_domain": self.max_new_per_domain,
                "max_new_per_server": self.max_new_per_server,
                "user_agent": self.user_agent, "exclude": self.exclude, "at": self.at,
                "connect_to": self.connect_to, "plain_http": self.plain_http,
                "version": env!("CARGO_PKG_VERSION"),
            }),
        })
    }
}

/// Opens the store and runs one crawl with a progress bar for people at a terminal.
pub async fn crawl_with_progress(args: &CrawlArgs, cli: &Cli) -> anyhow::Result<(Store, Summary)> {
    let options = args.options()?;
    let db = cli.database(&args.db);
    let nothing_to_crawl = || {
        anyhow::anyhow!(
            "nothing to crawl: the database is empty and no seeds were given; pass --seeds FILE \
             or --seed DOMAIN (the bundled list is {DEFAULT_SEEDS}, relative to the current directory)"
        )
    };
    // Checked before opening too, so a refused crawl leaves no database behind.
    if options.seeds.is_empty() && !Store::exists(&db) {
        return Err(nothing_to_crawl());
    }
    let store = Store::open(&db)?;
    if options.seeds.is_empty() && store.server_count() == 0 {
        return Err(nothing_to_crawl());
    }
    let progress = if super::interactive(cli) {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} servers {msg}")
                .expect("a valid template"),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    tracing::info!(
        db = %db.display(),
        seeds = options.seeds.len(),
        at = %options.at.to_rfc3339(),
        "crawl started"
    );
    let result = crawl::crawl(&store, &options, &progress).await;
    // The finished bar stays on screen (N/N servers); a failed run's bar is removed.
    if result.is_ok() {
        progress.finish();
        if !progress.is_hidden() {
            // The bar's line stays; what follows starts on a line of its own.
            eprintln!();
        }
    } else {
        progress.finish_and_clear();
    }
    let summary = result?;
    // The run's days are complete: their summaries are derived now, once.
    crate::report::derive::settle(&store)?;
    tracing::info!(
        attempted = summary.attempted,
        up = summary.up,
        failed = summary.failed_total(),
        "crawl finished in {:.1} s",
        summary.duration_secs
    );
    Ok((store, summary))
}

/// Exit code 1 when the crawl tried servers and none answered (the network is the
/// likely cause; a report of that day carries the warning), as `daily` does.
pub async fn run(args: &CrawlArgs, cli: &Cli) -> anyhow::Result<ExitCode> {
    let (store, summary) = crawl_with_progress(args, cli).await?;
    tokio::task::block_in_place(|| store.close())?;
    print_summary(&summary, args.json)?;
    if summary.interrupted {
        return Ok(ExitCode::from(130));
    }
    if summary.attempted > 0 && summary.up == 0 {
        eprintln!(
            "error: none of the {} servers tried answered: check this machine's network \
             and DNS, then run the crawl again",
            summary.attempted
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The summary on stdout: JSON for scripts, or a few lines for people.
pub fn print_summary(summary: &Summary, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(summary)?);
        return Ok(());
    }
    let nonzero = |map: &std::collections::BTreeMap<&str, usize>| {
        let parts: Vec<String> = map
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        if parts.is_empty() {
            "none".to_string()
        } else {
            parts.join(", ")
        }
    };
    println!(
        "crawl {} recorded at {}{}",
        summary.run_id,
        summary.at.to_rfc3339(),
        if summary.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
    println!("  known domains      {}", summary.known);
    println!("  attempted          {}", summary.attempted);
    println!(
        "  up                 {} ({} servers)",
        summary.up, summary.servers_up
    );
    println!(
        "  failed             {} ({})",
        summary.failed_total(),
        nonzero(&summary.failed)
    );
    println!("  opted out          {}", nonzero(&summary.opted_out));
    println!("  newly discovered   {}", summary.newly_discovered);
    println!("  not due (backoff)  {}", summary.not_due);
    println!("  rejected peers     {}", summary.rejected_peers);
    println!("  skipped peers      {}", summary.skipped_peers);
    println!("  capped             {}", summary.capped);
    println!("  requests           {}", summary.requests);
    println!("  duration           {:.1} s", summary.duration_secs);
    Ok(())
}
