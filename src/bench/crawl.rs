//! `bench crawl`: the real crawler, with its options built by the `crawl` command's own
//! flag parser, crawling a generated simulated fediverse on loopback end to end into a
//! scratch database.
//!
//! The simulation runs in this process but on its own runtime, on threads named
//! [`SIM_THREADS`], so its CPU time can be told apart from the crawler's and its
//! tasks never queue behind the crawler's. Both share the machine's cores, which makes
//! the crawl numbers a floor: a real crawl does not serve its own servers.
//!
//! The world's network shape ([`NetShape`]: latency, refusing and hanging servers,
//! outages) is the benchmark's to choose. Beside the time taken it prints the [`Bound`]:
//! the least time any schedule could take with the crawl's slots, given how long its
//! requests held them (latency for answering hosts, the probe timeout for hanging ones),
//! and the ratio reached. With `--days N` the same world is crawled again on N − 1 more
//! simulated days, with its outages, so the cost of the daily runs and of the liveness
//! checks (see `store::record`) shows.
//!
//! With `tls` the sim speaks HTTPS (a certificate per host, trusted through `--ca-cert`)
//! and the same world is also crawled over plain HTTP first, so the report shows what the
//! handshakes cost.
//!
//! Types: [`CrawlBench`] (what to run), [`CrawlResult`] (what was measured), [`Bound`],
//! [`LaterDay`], [`PlainBaseline`]; function [`run`].

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use indicatif::ProgressBar;
use serde::Serialize;
use tokio::net::TcpListener;

use super::{count, optional_bytes, per_second, proc, seconds, Machine, Scratch, Table};
use crate::cli::crawl::CrawlArgs;
use crate::crawl::{self, CrawlOptions, Summary};
use crate::sim::{self, NetShape, SimHandle, World};
use crate::store::Store;

/// Thread-name prefix of the simulation's runtime.
pub const SIM_THREADS: &str = "fedisim";

/// One benchmark crawl.
#[derive(Debug, Clone, Serialize)]
pub struct CrawlBench {
    /// Servers in the generated world.
    pub servers: usize,
    /// Seed of the generated world (`--seed`): the same seed and size give the same world.
    pub seed: u64,
    /// Requests in flight in total, as `crawl --concurrency`.
    pub concurrency: u32,
    /// Requests per second to any one host, as `crawl --per-host-rps`.
    pub per_host_rps: f64,
    /// `crawl --probe-timeout` (None: the crawl's default).
    pub probe_timeout: Option<f64>,
    /// Latency, refusing and hanging servers, and outages of the world (`--latency-ms`,
    /// `--refusing`, `--hanging`, `--outages`).
    pub shape: NetShape,
    /// Simulated days crawled, one crawl each.
    pub days: u32,
    /// Crawl over HTTPS, and measure a plain-HTTP crawl of the same world to compare.
    pub tls: bool,
}

/// The plain-HTTP crawl of the same world, measured to show what HTTPS costs.
#[derive(Debug, Clone, Serialize)]
pub struct PlainBaseline {
    /// Wall-clock seconds of the plain-HTTP crawl.
    pub wall_secs: f64,
    /// CPU seconds of the whole process during it, the simulation's included.
    pub cpu_secs: Option<f64>,
    /// The simulation's share of `cpu_secs` (threads named [`SIM_THREADS`]).
    pub sim_cpu_secs: Option<f64>,
    /// Distinct servers that answered in it (its summary's `servers_up`).
    pub servers_up: usize,
}

/// What one benchmark crawl measured. Field names are a contract (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct CrawlResult {
    /// What the numbers were measured on.
    pub machine: Machine,
    /// What was run.
    pub bench: CrawlBench,
    /// Wall-clock seconds of the first day's crawl, from the crawl's start to its summary
    /// (generating and serving the world not included).
    pub wall_secs: f64,
    /// HTTP requests sent (every attempt and redirect hop) per second of `wall_secs`.
    pub requests_per_sec: f64,
    /// Servers visited (names attempted) per second.
    pub visits_per_sec: f64,
    /// CPU time of the whole process during the crawl, the simulation's included.
    pub cpu_secs: Option<f64>,
    /// The simulation's share of `cpu_secs`.
    pub sim_cpu_secs: Option<f64>,
    /// RSS with the world generated and served, before the crawl started.
    pub rss_before_bytes: Option<u64>,
    /// Peak RSS during the crawl (simulation included).
    pub peak_rss_bytes: Option<u64>,
    /// Disk space of the database after every day's crawl, in bytes (allocated blocks).
    pub db_bytes: u64,
    /// Where the database was kept (`--keep`).
    pub kept: Option<PathBuf>,
    /// The crawler's own summary of the run.
    pub summary: Summary,
    /// With `tls`: the same world crawled over plain HTTP.
    pub plain_http: Option<PlainBaseline>,
    /// The least time the first day's crawl could have taken with its slots, and the share
    /// of it reached.
    pub bound: Bound,
    /// The crawls of the following days (`--days`).
    pub later_days: Vec<LaterDay>,
}

/// The least wall time a crawl could take with its slots, given what its requests cost,
/// and the share of it the crawl reached. Each pool bounds the time by the seconds its
/// slots were held divided by its size; visits are bounded by their slots too, each
/// visit lasting at least its requests' time and at least `1/rps` per request after its
/// first. Field names are a contract (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct Bound {
    /// Seconds the main pool's slots were held in total, divided by `--concurrency`.
    pub request_slots_secs: f64,
    /// Seconds the first-contact (probe) pool's slots were held in total, divided by
    /// `--concurrency`.
    pub probe_slots_secs: f64,
    /// Seconds visits had to last in total (both pools' held time, or `1/rps` for each
    /// request after a visit's first if that is more), divided by the visit slots
    /// ([`crawl::visit_slots`]).
    pub visit_slots_secs: f64,
    /// The largest of the three.
    pub secs: f64,
    /// `secs` / the crawl's wall time (1 would be a perfect schedule).
    pub ratio: f64,
}

impl Bound {
    /// The bound of a finished crawl: from its summary's slot times, counts and the slots
    /// it had (`--concurrency`, as fitted to the file descriptors), its `--per-host-rps`
    /// and its wall time in seconds.
    pub fn of(summary: &Summary, options: &CrawlOptions, wall_secs: f64) -> Bound {
        let slots = summary.concurrency.max(1) as f64;
        let visit_slots = crawl::visit_slots(summary.concurrency) as f64;
        let spacing = summary.requests.saturating_sub(summary.attempted as u64) as f64
            / options.fetch.per_host_rps;
        let held = summary.request_slot_secs + summary.probe_slot_secs;
        let request_slots_secs = summary.request_slot_secs / slots;
        let probe_slots_secs = summary.probe_slot_secs / slots;
        let visit_slots_secs = held.max(spacing) / visit_slots;
        let secs = request_slots_secs
            .max(probe_slots_secs)
            .max(visit_slots_secs);
        Bound {
            request_slots_secs,
            probe_slots_secs,
            visit_slots_secs,
            secs,
            ratio: if wall_secs > 0.0 {
                secs / wall_secs
            } else {
                0.0
            },
        }
    }
}

/// One crawl after the first, a simulated day later than the one before.
#[derive(Debug, Clone, Serialize)]
pub struct LaterDay {
    /// Days after the first crawl's day (1: the second simulated day).
    pub day: u32,
    /// Wall-clock seconds of that day's crawl.
    pub wall_secs: f64,
    /// The crawler's own summary of that day's run.
    pub summary: Summary,
}

/// The `crawl` command line, so the benchmark's options are whatever
/// `fedicensus crawl` would build from the same flags, defaults included.
#[derive(Parser)]
struct CrawlCommandLine {
    #[command(flatten)]
    args: CrawlArgs,
}

/// The simulated fediverse on a runtime of its own.
struct Sim {
    runtime: Option<tokio::runtime::Runtime>,
    handle: Arc<SimHandle>,
}

impl Sim {
    async fn start(world: World, tls: bool) -> anyhow::Result<Sim> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name(SIM_THREADS)
            .enable_all()
            .build()?;
        let serve = async move {
            if tls {
                let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
                sim::serve_https(world, listener).await
            } else {
                sim::serve(world).await
            }
        };
        let served = match runtime.spawn(serve).await {
            Ok(served) => served.map_err(anyhow::Error::from),
            Err(e) => Err(e.into()),
        };
        let handle = match served {
            Ok(handle) => Arc::new(handle),
            Err(e) => {
                runtime.shutdown_background();
                return Err(e.context("starting the simulated fediverse"));
            }
        };
        // The sim logs every request for the tests; over a benchmark-sized crawl that log
        // would grow by hundreds of bytes a request and be counted as the crawler's memory.
        let log = handle.clone();
        runtime.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                log.clear_requests();
            }
        });
        Ok(Sim {
            runtime: Some(runtime),
            handle,
        })
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // A runtime may not be dropped (which blocks) inside the caller's async context.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The crawl's options; `ca` is the sim's CA for an HTTPS crawl, else it is plain HTTP.
fn options(
    bench: &CrawlBench,
    seeds: &Path,
    sim: SocketAddr,
    ca: Option<&Path>,
) -> anyhow::Result<CrawlOptions> {
    let mut flags: Vec<OsString> = vec![
        "crawl".into(),
        "--seeds".into(),
        seeds.into(),
        "--concurrency".into(),
        bench.concurrency.to_string().into(),
        "--per-host-rps".into(),
        bench.per_host_rps.to_string().into(),
        "--connect-to".into(),
        sim.to_string().into(),
    ];
    if let Some(secs) = bench.probe_timeout {
        flags.extend(["--probe-timeout".into(), secs.to_string().into()]);
    }
    match ca {
        Some(ca) => flags.extend(["--ca-cert".into(), ca.into()]),
        None => flags.push("--plain-http".into()),
    }
    // clap's message is about the crawl command's flags, which the bench's share: its
    // first line, without clap's own "error: " and help hint, says what was wrong.
    let line = CrawlCommandLine::try_parse_from(flags).map_err(|e| {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or_default();
        anyhow::anyhow!("{}", first.trim_start_matches("error: ").to_owned())
    })?;
    line.args.options()
}

/// Generates the world, serves it, crawls it into a scratch database (kept in `keep`
/// if given) and measures the crawl; with `tls`, first a plain-HTTP crawl of the same
/// world into a database of its own, for comparison.
pub async fn run(
    bench: &CrawlBench,
    keep: Option<&Path>,
    progress: &ProgressBar,
) -> anyhow::Result<CrawlResult> {
    let plain_http = if bench.tls {
        let plain = CrawlBench {
            tls: false,
            ..bench.clone()
        };
        let result = Box::pin(run(&plain, None, &ProgressBar::hidden())).await?;
        Some(PlainBaseline {
            wall_secs: result.wall_secs,
            cpu_secs: result.cpu_secs,
            sim_cpu_secs: result.sim_cpu_secs,
            servers_up: result.summary.servers_up,
        })
    } else {
        None
    };
    let scratch = Scratch::new(keep)?;
    let world_on = |day| World::generated_on(bench.servers, bench.seed, &bench.shape, day);
    let world = world_on(0);
    let seeds = scratch.dir().join("seeds.txt");
    std::fs::write(&seeds, world.seeds.join("\n"))?;
    let sim = Sim::start(world, bench.tls).await?;
    let ca = match &sim.handle.ca_pem {
        Some(pem) => {
            let path = scratch.dir().join("sim-ca.pem");
            std::fs::write(&path, pem)?;
            Some(path)
        }
        None => None,
    };
    let mut options = options(bench, &seeds, sim.handle.addr, ca.as_deref())?;
    let store = Store::open(&scratch.db())?;

    let rss_before = proc::rss();
    let cpu_before = proc::cpu_seconds();
    let sim_cpu_before = proc::thread_cpu_seconds(SIM_THREADS);
    proc::reset_peak_rss();
    let clock = Instant::now();
    let summary = crawl::crawl(&store, &options, progress).await?;
    let wall_secs = clock.elapsed().as_secs_f64();
    let peak_rss = proc::peak_rss();
    let since = |before: Option<f64>, now: Option<f64>| Some(now? - before?);
    let cpu_secs = since(cpu_before, proc::cpu_seconds());
    let sim_cpu_secs = since(sim_cpu_before, proc::thread_cpu_seconds(SIM_THREADS));
    let bound = Bound::of(&summary, &options, wall_secs);
    let mut later_days = Vec::new();
    let first_at = options.at;
    for day in 1..bench.days {
        sim.handle.set_world(world_on(day));
        options.at = first_at + chrono::Duration::days(day.into());
        let clock = Instant::now();
        let summary = crawl::crawl(&store, &options, progress).await?;
        later_days.push(LaterDay {
            day,
            wall_secs: clock.elapsed().as_secs_f64(),
            summary,
        });
    }
    drop(sim);
    // Closed first, so everything sled buffers is on disk when it is measured.
    drop(store);

    Ok(CrawlResult {
        machine: Machine::this(),
        bench: bench.clone(),
        wall_secs,
        requests_per_sec: per_second(summary.requests, wall_secs),
        visits_per_sec: per_second(summary.attempted as u64, wall_secs),
        cpu_secs,
        sim_cpu_secs,
        rss_before_bytes: rss_before,
        peak_rss_bytes: peak_rss,
        db_bytes: proc::disk_usage(&scratch.db())?,
        kept: scratch.kept(),
        summary,
        bound,
        later_days,
        plain_http,
    })
}

impl CrawlResult {
    /// The result for people: parameters, counts, times, the bound, CPU, memory and a row
    /// for each later day.
    pub fn table(&self) -> Table {
        let b = &self.bench;
        let s = &self.summary;
        let mut t = Table::new(
            format!(
                "bench crawl: {} simulated servers (seed {}), concurrency {}, {} requests/s per host, {}",
                count(b.servers as u64),
                b.seed,
                b.concurrency,
                b.per_host_rps,
                if b.tls { "HTTPS" } else { "plain HTTP" }
            ),
            &self.machine,
        );
        let (low, high) = b.shape.latency_ms;
        t.row(
            "network",
            format!(
                "latency {low}-{high} ms, {}% refusing, {}% hanging, outages {}‰ a day",
                b.shape.refusing_pct, b.shape.hanging_pct, b.shape.outages_per_mille
            ),
        );
        t.row(
            "servers known / up / failed",
            format!(
                "{} / {} / {}",
                count(s.known as u64),
                count(s.servers_up as u64),
                count(s.failed_total() as u64)
            ),
        );
        let reasons: Vec<String> = s
            .failed
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(reason, n)| format!("{reason} {}", count(*n as u64)))
            .collect();
        if !reasons.is_empty() {
            t.row("failures by reason", reasons.join(", "));
        }
        t.row("visits", count(s.attempted as u64));
        t.row("requests sent", count(s.requests));
        t.row("wall time", seconds(self.wall_secs));
        let bound = &self.bound;
        t.row(
            "bound: request / probe / visit slots",
            format!(
                "{} / {} / {}",
                seconds(bound.request_slots_secs),
                seconds(bound.probe_slots_secs),
                seconds(bound.visit_slots_secs)
            ),
        );
        t.row(
            "reached of the bound",
            format!(
                "{:.2} ({} of {})",
                bound.ratio,
                seconds(bound.secs),
                seconds(self.wall_secs)
            ),
        );
        t.row("requests per second", count(self.requests_per_sec as u64));
        t.row("visits per second", count(self.visits_per_sec as u64));
        if let (Some(cpu), Some(sim)) = (self.cpu_secs, self.sim_cpu_secs) {
            let available = self.wall_secs * self.machine.cores as f64;
            t.row(
                "CPU: crawler + simulation",
                format!(
                    "{} + {} (of {} available)",
                    seconds(cpu - sim),
                    seconds(sim),
                    seconds(available)
                ),
            );
        }
        if let Some(plain) = &self.plain_http {
            t.row("HTTPS cost over plain HTTP", self.tls_cost(plain));
        }
        t.row(
            "RSS before the crawl",
            format!(
                "{} (world generated and served)",
                optional_bytes(self.rss_before_bytes)
            ),
        );
        t.row(
            "peak RSS during the crawl",
            optional_bytes(self.peak_rss_bytes),
        );
        for later in &self.later_days {
            let s = &later.summary;
            t.row(
                &format!("day {}", later.day),
                format!(
                    "{} visits, {} up, {} liveness checks ({} answered), {} requests, {}",
                    count(s.attempted as u64),
                    count(s.servers_up as u64),
                    count(s.liveness_checks as u64),
                    count(s.liveness_answered as u64),
                    count(s.requests),
                    seconds(later.wall_secs)
                ),
            );
        }
        t.database(self.db_bytes, self.kept.as_deref());
        t
    }
}

impl CrawlResult {
    /// Wall and crawler CPU time beyond the plain-HTTP crawl, and per visit.
    fn tls_cost(&self, plain: &PlainBaseline) -> String {
        let wall = self.wall_secs - plain.wall_secs;
        let crawler = |cpu: Option<f64>, sim: Option<f64>| Some(cpu? - sim?);
        let visits = self.summary.attempted.max(1) as f64;
        let mut text = format!("{:+.2} s wall ({} plain)", wall, seconds(plain.wall_secs));
        if let (Some(tls), Some(base)) = (
            crawler(self.cpu_secs, self.sim_cpu_secs),
            crawler(plain.cpu_secs, plain.sim_cpu_secs),
        ) {
            text.push_str(&format!(
                ", {:+.2} s crawler CPU ({:+.0} µs a visit)",
                tls - base,
                (tls - base) / visits * 1e6
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_counts_the_slots_the_crawl_had_not_those_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let seeds = dir.path().join("seeds.txt");
        std::fs::write(&seeds, "a.example.org\n").unwrap();
        let bench = CrawlBench {
            servers: 10,
            seed: 1,
            concurrency: 1024,
            per_host_rps: 5.0,
            probe_timeout: None,
            shape: NetShape::default(),
            days: 1,
            tls: false,
        };
        let options = options(&bench, &seeds, "127.0.0.1:9".parse().unwrap(), None).unwrap();
        // The descriptor limit let the crawl have 16 slots a pool, not 1,024.
        let summary = Summary {
            concurrency: 16,
            attempted: 100,
            requests: 100,
            request_slot_secs: 160.0,
            probe_slot_secs: 32.0,
            ..Summary::default()
        };
        let bound = Bound::of(&summary, &options, 20.0);
        assert_eq!(bound.request_slots_secs, 10.0);
        assert_eq!(bound.probe_slots_secs, 2.0);
        assert_eq!(bound.visit_slots_secs, 192.0 / 128.0);
        assert_eq!((bound.secs, bound.ratio), (10.0, 0.5));
    }
}
