//! `fedicensus crawl`: its flags (a contract: scripts use them), how they become
//! [`CrawlOptions`], and the run summary printed at the end.
//!
//! Types: [`CrawlArgs`]; functions [`run`], [`CrawlArgs::options`], [`print_summary`].

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use ipnet::IpNet;

use super::{flags, Cli};
use crate::crawl::{self, CrawlOptions, Summary};
use crate::domain::Domain;
use crate::fetch::trust::read_ca_file;
use crate::fetch::{default_user_agent, FetchConfig, NetworkConfig};
use crate::seeds::{DomainList, Exclusions};
use crate::store::Store;

/// The bundled seed list, used when no `--seeds` is given and it exists.
pub(crate) const DEFAULT_SEEDS: &str = "seeds/instances.txt";

#[derive(clap::Args, Debug, Clone)]
pub(crate) struct CrawlArgs {
    #[command(flatten)]
    pub(crate) db: super::DbArg,

    /// File of seed domains, one a line; blank lines and # comments allowed. Bad lines
    /// are reported with their line number and skipped. [default: seeds/instances.txt]
    #[arg(long, value_name = "FILE")]
    pub(crate) seeds: Option<PathBuf>,

    /// A seed domain (repeatable), crawled in addition to the domains of the seed file.
    #[arg(long = "seed", value_name = "DOMAIN")]
    pub(crate) seed: Vec<String>,

    /// Requests (and connections) in flight in total; each holds its slot until its body
    /// is read. Lowered, with a warning, to what the file-descriptor limit allows.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(flags::CONCURRENCY))]
    pub(crate) concurrency: u32,

    /// Requests per second to any one host (consecutive requests to a host are at
    /// least 1/R seconds apart). A robots.txt Crawl-delay slows this further.
    #[arg(long, default_value_t = 1.0, value_parser = flags::per_host_rps, value_name = "R")]
    pub(crate) per_host_rps: f64,

    /// Seconds for a whole request (connect, redirects, answer and body; Retry-After
    /// waits add at most 3 times this, at most 60 s); the connect timeout is half of it,
    /// at most 10 s. A visit to one server ends after 15 times this.
    #[arg(long, default_value_t = 20.0, value_parser = flags::timeout_secs, value_name = "SECS")]
    pub(crate) timeout: f64,

    /// Seconds for the first request to a host not known to be up (never seen, or silent
    /// on its latest visit); such first contacts also have slots of their own, so hosts
    /// that never answer cannot hold up the ones that do. At most --timeout.
    #[arg(long, default_value_t = 5.0, value_parser = flags::timeout_secs, value_name = "SECS")]
    pub(crate) probe_timeout: f64,

    /// Stop recording newly discovered domains once N domains are known (a safety
    /// valve; known domains are still crawled).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(flags::MAX_SERVERS))]
    pub(crate) max_servers: Option<u32>,

    /// New domains accepted per registrable domain per run (crawler-trap guard: a peer
    /// list naming 300,000 subdomains of one domain costs N entries).
    #[arg(long, default_value_t = 50, value_name = "N", value_parser = clap::value_parser!(u32).range(flags::MAX_NEW_PER_DOMAIN))]
    pub(crate) max_new_per_domain: u32,

    /// New domains one server's peer list may introduce per run (flood guard: a list of
    /// 850,000 made-up domains costs N visits); the rest are counted as capped.
    #[arg(long, default_value_t = crate::crawl::DEFAULT_MAX_NEW_PER_SERVER, value_name = "N", value_parser = clap::value_parser!(u32).range(flags::MAX_NEW_PER_SERVER))]
    pub(crate) max_new_per_server: u32,

    /// User-Agent header; robots.txt rules are matched against its first word.
    /// [default: fedicensus/<version> (+<homepage>)]
    #[arg(long, value_name = "S")]
    pub(crate) user_agent: Option<String>,

    /// File of domains never contacted, each with its subdomains (an opt-out list;
    /// same format as --seeds).
    #[arg(long, value_name = "FILE")]
    pub(crate) exclude: Option<PathBuf>,

    /// Record snapshots as taken at this instant instead of now (RFC 3339, e.g.
    /// 2022-11-07T12:00:00Z): simulations and backfills. Re-running with the same --at
    /// overwrites that instant's snapshots instead of duplicating them.
    #[arg(long, value_name = "RFC3339", value_parser = parse_instant)]
    pub(crate) at: Option<DateTime<Utc>>,

    /// Send every request to IP:PORT while keeping the server's name in the Host
    /// header (like curl --connect-to), skipping DNS and the address guard: for tests,
    /// the demo and benchmarks against a simulated fediverse.
    #[arg(long, value_name = "IP:PORT")]
    pub(crate) connect_to: Option<SocketAddr>,

    /// Use http:// instead of https://. Only allowed with --connect-to.
    #[arg(long, requires = "connect_to")]
    pub(crate) plain_http: bool,

    /// Also trust the certificate authorities in this PEM file (repeatable), on top of
    /// the system's: a network behind an inspecting proxy, a private test fediverse.
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub(crate) ca_cert: Vec<PathBuf>,

    /// Resolve names through this DNS server (UDP, TCP for long answers) instead of the
    /// system resolver. A lookup gets the connect timeout (half of --timeout, at most
    /// 10 s).
    #[arg(long, value_name = "IP:PORT", conflicts_with = "connect_to")]
    pub(crate) dns_server: Option<SocketAddr>,

    /// Let the address guard accept this range although it is not public (repeatable),
    /// e.g. 10.0.0.0/8 for a private test fediverse. Nothing non-public is ever
    /// contacted without it.
    #[arg(long = "allow-address", value_name = "CIDR", value_parser = parse_range)]
    pub(crate) allow_address: Vec<IpNet>,

    /// Print the run summary as JSON on stdout.
    #[arg(long)]
    pub(crate) json: bool,
}

/// A CIDR range; a bare address is the range of that one address.
fn parse_range(s: &str) -> Result<IpNet, String> {
    s.parse::<IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!(
                "'{}' is not an address range such as 10.0.0.0/8 or fd00::/8",
                crate::echo::clip(s)
            )
        })
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
    pub(crate) fn options(&self) -> anyhow::Result<CrawlOptions> {
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
        let connect_timeout = (timeout / 2).min(Duration::from_secs(10));
        let mut ca_certs = Vec::new();
        for path in &self.ca_cert {
            ca_certs.extend(read_ca_file(path)?);
        }
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
                probe_timeout: Duration::from_secs_f64(self.probe_timeout),
                connect_timeout,
                per_host_rps: self.per_host_rps,
                concurrency: self.concurrency as usize,
                connect_to: self.connect_to,
                plain_http: self.plain_http,
                max_retries: 3,
                max_retry_wait: Duration::from_secs(60).min(timeout * 3),
                network: NetworkConfig {
                    dns_server: self.dns_server,
                    dns_timeout: connect_timeout,
                    allow_addresses: self.allow_address.clone(),
                    ca_certs,
                },
            },
            max_servers: self.max_servers.map(|n| n as usize),
            max_new_per_registrable: self.max_new_per_domain as usize,
            max_new_per_server: self.max_new_per_server as usize,
            at: self.at.unwrap_or_else(Utc::now),
            description: serde_json::json!({
                "seeds": self.seeds, "seed": self.seed, "concurrency": self.concurrency,
                "per_host_rps": self.per_host_rps, "timeout": self.timeout,
                "probe_timeout": self.probe_timeout,
                "max_servers": self.max_servers, "max_new_per_domain": self.max_new_per_domain,
                "max_new_per_server": self.max_new_per_server,
                "user_agent": self.user_agent, "exclude": self.exclude, "at": self.at,
                "connect_to": self.connect_to, "plain_http": self.plain_http,
                "ca_cert": self.ca_cert, "dns_server": self.dns_server,
                "allow_address": self.allow_address.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "version": env!("CARGO_PKG_VERSION"),
            }),
        })
    }
}

/// Opens the store and runs one crawl with a progress bar for people at a terminal.
pub(crate) async fn crawl_with_progress(
    args: &CrawlArgs,
    cli: &Cli,
) -> anyhow::Result<(Store, Summary)> {
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
pub(crate) async fn run(args: &CrawlArgs, cli: &Cli) -> anyhow::Result<ExitCode> {
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

/// The summary on stdout: JSON for scripts, or a few lines for people. A reader that
/// went away (`crawl | head`) is no error: the run is recorded, and a crawl ignores
/// SIGPIPE (see [`super::print_out`]).
pub(crate) fn print_summary(summary: &Summary, json: bool) -> anyhow::Result<()> {
    let text = if json {
        serde_json::to_string_pretty(summary)? + "\n"
    } else {
        summary_lines(summary).join("\n") + "\n"
    };
    super::print_out(&text)
}

fn summary_lines(summary: &Summary) -> Vec<String> {
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
    let interrupted = if summary.interrupted {
        " (interrupted)"
    } else {
        ""
    };
    vec![
        format!(
            "crawl {} recorded at {}{interrupted}",
            summary.run_id,
            summary.at.to_rfc3339()
        ),
        format!("  known domains      {}", summary.known),
        format!("  attempted          {}", summary.attempted),
        format!(
            "  up                 {} ({} servers)",
            summary.up, summary.servers_up
        ),
        format!(
            "  failed             {} ({})",
            summary.failed_total(),
            nonzero(&summary.failed)
        ),
        format!("  opted out          {}", nonzero(&summary.opted_out)),
        format!("  newly discovered   {}", summary.newly_discovered),
        format!("  not due (backoff)  {}", summary.not_due),
        format!(
            "  liveness checks    {} ({} answered)",
            summary.liveness_checks, summary.liveness_answered
        ),
        format!("  rejected peers     {}", summary.rejected_peers),
        format!("  skipped peers      {}", summary.skipped_peers),
        format!("  capped             {}", summary.capped),
        format!("  requests           {}", summary.requests),
        format!("  duration           {:.1} s", summary.duration_secs),
    ]
}
