//! The crawl: discover servers from seeds and peer lists, visit each once per run, and
//! write what they said into the store as it arrives.
//!
//! One coordinator owns the frontier and every store write; visits run concurrently,
//! hand over the peer names they read as they read them ([`visit::Discovered`], so the
//! crawl's start is not paced by whole visits) and hand back a [`visit::Visit`]. Each
//! batch of finished visits is written at once and made durable in the background by
//! the [`commit::Committer`] (group commit, about once a second, and always at the
//! end), so a crawl killed at any moment keeps every visit written before the last
//! completed flush, and a rerun with the same `--at` overwrites rather than duplicates.
//!
//! Which names are visited: the seeds and every stored name that is due (see the
//! re-probe schedule and the liveness rule in [`crate::store::record`]), then every new
//! name found in a peer list, until `--max-servers` names are known. A name that did
//! not answer on its latest visit (or was never visited) is first probed: its visit
//! starts with one request under [`Contact::Probe`] and goes on only if that is
//! answered. Names covered by `--exclude` are never contacted; aliases are visited
//! through their canonical name. New names under one registrable domain are capped per
//! run, so a crawler trap listing 300,000 subdomains costs a few entries, not a crawl;
//! so are the new names one server's peer list may introduce
//! ([`DEFAULT_MAX_NEW_PER_SERVER`]), so a list of 850,000 distinct made-up domains
//! costs that many visits at most, not 850,000.
//!
//! Reliability: a visit that panics is recorded as failed (`invalid`) and the run goes
//! on; a visit that failed for want of our own resources (`local`) is queued again, at
//! most [`MAX_LOCAL_RETRIES`] times; `--concurrency` is lowered to what the file
//! descriptor limit allows ([`FDS_PER_SLOT`] a slot, with a warning). Stored opt-outs
//! are handed to the fetcher at the start and kept in step, so no redirect or claimed
//! name reaches a server that opted out.
//!
//! Types: [`CrawlOptions`], [`Summary`]; function [`crawl`].

pub mod commit;
pub(crate) mod software;
pub mod visit;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use serde::Serialize;
use tokio::task::JoinSet;

use crate::domain::Domain;
use crate::fetch::{Contact, FetchConfig, Fetcher};
use crate::outcome::{FailureReason, OptOut};
use crate::parse::peers::Found;
use crate::seeds::Exclusions;
use crate::snapshot::Snapshot;
use crate::store::record::Due;
use crate::store::{ServerRecord, Status, Store};
use commit::Committer;
use visit::{Discovered, PeerSender, Visit, VisitResult};

/// New names one server's peer list may introduce per run, by default. Real lists that
/// large are the biggest servers' in a first crawl, and the names they cannot introduce
/// are introduced by the other servers that know them.
pub const DEFAULT_MAX_NEW_PER_SERVER: u32 = 10_000;

/// Everything a crawl run needs besides the store.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    /// Names recorded if new and visited first when due: the `--seeds` file (else
    /// `seeds/instances.txt` if present) and every `--seed`.
    pub seeds: Vec<Domain>,
    /// Names never contacted, with their subdomains (`--exclude`); stored ones are marked
    /// opted out (`excluded`).
    pub exclude: Exclusions,
    /// How requests are made: user agent, timeouts, rates, slots and network.
    pub fetch: FetchConfig,
    /// Stop recording new names once this many are known.
    pub max_servers: Option<usize>,
    /// New names accepted per registrable domain per run.
    pub max_new_per_registrable: usize,
    /// New names one server's peer list may introduce per run.
    pub max_new_per_server: usize,
    /// The instant snapshots are recorded as taken.
    pub at: DateTime<Utc>,
    /// Recorded with the run, for reproducibility.
    pub description: serde_json::Value,
}

/// What a run did. Field names are a contract (`--json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Id of this run's record in the store.
    pub run_id: u64,
    /// The instant snapshots are recorded as taken ([`CrawlOptions::at`]).
    pub at: DateTime<Utc>,
    /// Wall-clock time the run started.
    pub started: DateTime<Utc>,
    /// Wall-clock seconds the run took.
    pub duration_secs: f64,
    /// Names in the database after the run (servers, aliases and dead names).
    pub known: usize,
    /// Names visited this run.
    pub attempted: usize,
    /// Visits that produced a snapshot.
    pub up: usize,
    /// Distinct servers (canonical names) that produced a snapshot.
    pub servers_up: usize,
    /// Failed visits by failure reason, every reason listed (0 included); a `local`
    /// failure counts once its retries are spent.
    pub failed: BTreeMap<&'static str, usize>,
    /// Visits that ended in an opt-out, by kind, every kind listed (0 included).
    pub opted_out: BTreeMap<&'static str, usize>,
    /// Names first recorded this run from peer lists (seeds not included).
    pub newly_discovered: usize,
    /// Known names skipped because their re-probe is not due yet.
    pub not_due: usize,
    /// Names visited only because they answered within the last 30 days (the liveness
    /// rule): each costs one probe request, and a full visit if it answers.
    pub liveness_checks: usize,
    /// Of those, the ones that answered (servers back from an outage).
    pub liveness_answered: usize,
    /// Peer entries that are not valid public domain names.
    pub rejected_peers: usize,
    /// Peer entries not read because a list exceeded the per-visit or per-page caps
    /// (see [`crate::parse::peers`]).
    pub skipped_peers: usize,
    /// New names not recorded because of `--max-servers`, the per-domain cap or the
    /// per-server cap.
    pub capped: usize,
    /// HTTP requests sent: every attempt and redirect hop, robots.txt included.
    pub requests: u64,
    /// Seconds requests held a slot, summed: of the main pool, and of the first-contact
    /// (probe) pool. Divided by `--concurrency`, each bounds how fast the run could be.
    pub request_slot_secs: f64,
    /// Seconds first-contact (probe) slots were held, summed (see `request_slot_secs`).
    pub probe_slot_secs: f64,
    /// The request slots of each pool the run had: `--concurrency`, unless it was lowered
    /// to fit the file descriptor limit.
    pub concurrency: usize,
    /// The run was stopped (Ctrl-C) before it finished.
    pub interrupted: bool,
}

impl Summary {
    fn new() -> Summary {
        Summary {
            failed: FailureReason::ALL.iter().map(|r| (r.as_str(), 0)).collect(),
            opted_out: OptOut::ALL.iter().map(|o| (o.as_str(), 0)).collect(),
            ..Summary::default()
        }
    }

    /// Failed visits, all reasons together.
    pub fn failed_total(&self) -> usize {
        self.failed.values().sum()
    }
}

/// File descriptors one `--concurrency` slot may need: a connection (the client keeps no
/// idle ones) and a socket for resolving the name, in each of the two pools of slots (the
/// main one and the one for first contacts, see [`crate::fetch::host`]).
pub const FDS_PER_SLOT: u64 = 4;
/// File descriptors kept for everything else: the store's files, stdio, the runtime.
pub const FDS_RESERVED: u64 = 64;
/// How often the slots in use are logged (at most; see `Run::log_slots`).
const SAMPLE_SLOTS: std::time::Duration = std::time::Duration::from_secs(1);
/// Visits of one name that failed for want of our own resources (`local`) are tried
/// again this many times in the run.
pub const MAX_LOCAL_RETRIES: u32 = 2;

/// The frontier and bookkeeping of one run.
#[derive(Default)]
struct Frontier {
    queue: VecDeque<Domain>,
    /// Names queued or visited this run (canonical names included once answered).
    scheduled: HashSet<Domain>,
    /// Names in the database.
    known: HashSet<Domain>,
    new_per_registrable: HashMap<String, usize>,
    /// Canonical names that answered this run.
    up: HashSet<Domain>,
    /// `local` failures per name this run.
    local_retries: HashMap<Domain, u32>,
    /// Names that answered on their latest visit: visited without a probe.
    trusted: HashSet<Domain>,
    /// New names each visited name's peer list introduced this run (its list arrives in
    /// parts, and the per-server cap is for the whole list).
    introduced: HashMap<Domain, usize>,
}

impl Frontier {
    /// Whether a stored name (not an alias) is visited this run, counting why in the
    /// summary; a name that answered on its latest visit is visited without a probe.
    fn admit(&mut self, record: &ServerRecord, at: DateTime<Utc>, summary: &mut Summary) -> bool {
        match record.due(at) {
            Due::No => {
                summary.not_due += 1;
                return false;
            }
            Due::Liveness => summary.liveness_checks += 1,
            Due::Scheduled => {}
        }
        if record.answered_last() {
            self.trusted.insert(record.domain.clone());
        }
        true
    }

    /// How a visit to `domain` starts (see [`Contact`]).
    fn contact(&self, domain: &Domain) -> Contact {
        if self.trusted.contains(domain) {
            Contact::Known
        } else {
            Contact::Probe
        }
    }
}

/// Visits in flight at once for `concurrency` request slots. Most of a visit is spent
/// waiting for its host's next slot (requests to one host are 1/rps apart): at the defaults
/// a visit of six requests lasts about 5 s and holds a slot for about 1 s of it, so it takes
/// about five visits per request slot to keep them busy, plus room for first contacts. A
/// visit waiting for its host holds no connection (none are pooled) and little memory.
pub fn visit_slots(concurrency: usize) -> usize {
    concurrency.max(1) * 8
}

/// One run: the store, the options, the fetcher and what the run has done so far.
struct Run<'a> {
    store: &'a Store,
    options: &'a CrawlOptions,
    fetcher: Arc<Fetcher>,
    frontier: Frontier,
    summary: Summary,
}

/// Runs one crawl. Errors are store failures only: servers failing is normal and
/// counted in the summary, and a visit that panics is recorded as failed (`invalid`).
pub async fn crawl(
    store: &Store,
    options: &CrawlOptions,
    progress: &ProgressBar,
) -> anyhow::Result<Summary> {
    let clock = Instant::now();
    let started = Utc::now();
    let record = store.start_run(options.at, started, options.description.clone())?;
    let mut fetch = options.fetch.clone();
    fetch.concurrency = fit_to_descriptors(fetch.concurrency);
    let fetcher = Fetcher::new(fetch)?.excluding(options.exclude.clone());
    let mut run = Run {
        store,
        options,
        fetcher: Arc::new(fetcher),
        frontier: Frontier::default(),
        summary: Summary::new(),
    };
    run.summary.run_id = record.id;
    run.summary.at = options.at;
    run.summary.started = started;
    run.schedule()?;
    progress.set_length(run.frontier.queue.len() as u64);
    run.visit_all(progress).await?;

    // Visits dropped by an interrupt leave the queue: the bar ends where the run did.
    progress.set_length(progress.position());
    let mut summary = run.summary;
    summary.known = store.server_count();
    summary.requests = run.fetcher.requests_sent();
    summary.concurrency = run.fetcher.concurrency();
    let (main, probe) = run.fetcher.hosts().slot_time();
    (summary.request_slot_secs, summary.probe_slot_secs) =
        (main.as_secs_f64(), probe.as_secs_f64());
    summary.duration_secs = clock.elapsed().as_secs_f64();
    let mut record = record;
    record.ended = Some(Utc::now());
    record.summary = Some(serde_json::to_value(&summary)?);
    store.put_run(&record)?;
    store.flush()?;
    Ok(summary)
}

/// `concurrency`, lowered to what the process's file descriptors allow (see
/// [`FDS_PER_SLOT`]), with a warning when it had to be. The soft limit is raised to the
/// hard one first.
fn fit_to_descriptors(concurrency: usize) -> usize {
    let Some(limit) = raise_descriptor_limit() else {
        return concurrency;
    };
    let fits = (limit.saturating_sub(FDS_RESERVED) / FDS_PER_SLOT).max(1);
    let fits = usize::try_from(fits).unwrap_or(usize::MAX);
    if concurrency > fits {
        tracing::warn!(
            "--concurrency {concurrency} needs about {} file descriptors ({FDS_PER_SLOT} a slot \
             plus {FDS_RESERVED}) but only {limit} are allowed: using --concurrency {fits}; \
             raise the limit (ulimit -n) to crawl faster",
            concurrency as u64 * FDS_PER_SLOT + FDS_RESERVED
        );
        fits
    } else {
        concurrency
    }
}

/// The number of file descriptors this process may open, after raising the soft limit
/// to the hard one; `None` where it cannot be read.
fn raise_descriptor_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(limit.rlim_cur)
}

impl Run<'_> {
    /// Records the seeds, takes excluded names out, and queues every name that is due
    /// (seeds first, so a capped run still starts where the operator asked). Stored
    /// opt-outs are handed to the fetcher, which keeps redirects from reaching them.
    fn schedule(&mut self) -> anyhow::Result<()> {
        let (store, options, at) = (self.store, self.options, self.options.at);
        for seed in &options.seeds {
            if !options.exclude.covers(seed) && store.server(seed)?.is_none() {
                store.put_server(&ServerRecord::discovered(seed.clone(), at, None))?;
            }
        }
        let mut due = Vec::new();
        for record in store.servers() {
            let mut record = record?;
            self.frontier.known.insert(record.domain.clone());
            if options.exclude.covers(&record.domain) {
                // The operator's opt-out list also takes the server out of every report.
                let excluded = Status::OptedOut {
                    how: OptOut::Excluded,
                };
                if record.status != excluded {
                    record.record_opt_out(at, OptOut::Excluded);
                    store.put_server(&record)?;
                }
                continue;
            }
            if let Status::OptedOut { how } = record.status {
                self.fetcher
                    .hosts()
                    .set_opted_out(&record.domain, Some(how));
            }
            if matches!(record.status, Status::Alias { .. }) {
                continue;
            }
            if self.frontier.admit(&record, at, &mut self.summary) {
                due.push(record.domain);
            }
        }
        let seeds: HashSet<&Domain> = options.seeds.iter().collect();
        due.sort_by_key(|d| !seeds.contains(d));
        for domain in due {
            self.frontier.scheduled.insert(domain.clone());
            self.frontier.queue.push_back(domain);
        }
        store.flush()?;
        Ok(())
    }

    /// Visits the queue until it is empty (or a signal stops the run), writing each
    /// batch of finished visits and committing them in groups ([`Committer`]).
    async fn visit_all(&mut self, progress: &ProgressBar) -> anyhow::Result<()> {
        let max_visits = visit_slots(self.fetcher.concurrency());
        let mut visits: JoinSet<Visit> = JoinSet::new();
        let mut names: HashMap<tokio::task::Id, Domain> = HashMap::new();
        let mut next_forget = 1024;
        let interrupt = stop_requested();
        tokio::pin!(interrupt);
        let committer = Committer::for_store(self.store);
        let (found, mut discovered) = tokio::sync::mpsc::unbounded_channel();
        let mut next_sample = Instant::now();
        loop {
            let now = Instant::now();
            if now >= next_sample {
                next_sample = now + SAMPLE_SLOTS;
                self.log_slots(visits.len());
            }
            while visits.len() < max_visits {
                let Some(domain) = self.frontier.queue.pop_front() else {
                    break;
                };
                let task = self.start_visit(&mut visits, domain.clone(), found.clone());
                names.insert(task, domain);
            }
            if visits.is_empty() {
                break;
            }
            // Biased: a signal first, then new names, which are the next visits to start.
            let first = tokio::select! {
                biased;
                _ = &mut interrupt => {
                    tracing::warn!("stopped by a signal: recording the run; visits in flight are dropped");
                    self.summary.interrupted = true;
                    visits.abort_all();
                    break;
                }
                Some(names) = discovered.recv() => {
                    self.discover(names)?;
                    while let Ok(names) = discovered.try_recv() {
                        self.discover(names)?;
                    }
                    continue;
                }
                done = visits.join_next_with_id() => done,
            };
            let mut batch: Vec<_> = first.into_iter().collect();
            while let Some(done) = visits.try_join_next_with_id() {
                batch.push(done);
            }
            let up_before = self.summary.up;
            let written = batch.len() as u64;
            for done in batch {
                if let Some(visit) = joined(done, &mut names) {
                    self.apply(visit)?;
                }
                progress.inc(1);
            }
            committer.written(written, (self.summary.up - up_before) as u64)?;
            progress.set_length(
                progress.position() + self.frontier.queue.len() as u64 + visits.len() as u64,
            );
            if self.summary.attempted >= next_forget {
                self.fetcher.hosts().forget_idle_hosts();
                next_forget = self.summary.attempted + 1024;
            }
        }
        committer.finish().await?;
        Ok(())
    }

    /// How full the crawl is (target `fedicensus::slots`, debug): what shows whether a run
    /// is bound by its slots, by discovery (few names queued) or by its tail.
    fn log_slots(&self, visits: usize) {
        let (main, first_contact) = self.fetcher.hosts().in_use();
        tracing::debug!(
            target: "fedicensus::slots",
            visits,
            queued = self.frontier.queue.len(),
            main,
            first_contact,
            "slots in use"
        );
    }

    fn start_visit(
        &mut self,
        visits: &mut JoinSet<Visit>,
        domain: Domain,
        found: PeerSender,
    ) -> tokio::task::Id {
        let fetcher = self.fetcher.clone();
        self.summary.attempted += 1;
        let contact = self.frontier.contact(&domain);
        visits
            .spawn(async move { visit::visit(&fetcher, domain, contact, found).await })
            .id()
    }
}

/// The visit a finished task returned; a panicked one becomes a failed visit (`invalid`)
/// of the name it was visiting, so one server's bad input never ends the crawl.
fn joined(
    done: Result<(tokio::task::Id, Visit), tokio::task::JoinError>,
    names: &mut HashMap<tokio::task::Id, Domain>,
) -> Option<Visit> {
    match done {
        Ok((id, visit)) => {
            names.remove(&id);
            Some(visit)
        }
        Err(e) => {
            let domain = names.remove(&e.id())?;
            if !e.is_panic() {
                return None;
            }
            let why = e
                .into_panic()
                .downcast::<String>()
                .map(|s| *s)
                .or_else(|p| p.downcast::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            tracing::error!(%domain, "a visit panicked: {why}; recorded as invalid");
            Some(Visit {
                domain,
                result: VisitResult::Failed(crate::fetch::FetchError::new(
                    FailureReason::Invalid,
                    format!("the visit panicked: {why}"),
                )),
            })
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (how cron, systemd and people stop a run). A signal
/// that cannot be listened for never resolves, rather than stopping the run at once.
async fn stop_requested() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

impl Run<'_> {
    /// Writes one visit's outcome and grows the frontier from its peers; a visit that
    /// ran short of our own resources is queued again instead (at most
    /// [`MAX_LOCAL_RETRIES`] times).
    fn apply(&mut self, visit: Visit) -> anyhow::Result<()> {
        let at = self.options.at;
        let mut record = self
            .store
            .server(&visit.domain)?
            .unwrap_or_else(|| ServerRecord::discovered(visit.domain.clone(), at, None));
        let liveness_check = record.due(at) == Due::Liveness;
        match visit.result {
            VisitResult::Failed(error) if self.retry_local(&visit.domain, &error) => {
                tracing::debug!(domain = %visit.domain, %error, "out of local resources; queued again");
            }
            VisitResult::Failed(error) => {
                tracing::debug!(domain = %visit.domain, %error, "visit failed");
                *self
                    .summary
                    .failed
                    .entry(error.reason.as_str())
                    .or_default() += 1;
                if error.nonexistent {
                    record.record_nonexistent(at);
                } else {
                    record.record_failure(at, error.reason);
                }
                self.store.put_server(&record)?;
            }
            VisitResult::OptedOut(how) => {
                tracing::debug!(domain = %visit.domain, how = how.as_str(), "opted out");
                *self.summary.opted_out.entry(how.as_str()).or_default() += 1;
                record.record_opt_out(at, how);
                self.store.put_server(&record)?;
                self.fetcher.hosts().set_opted_out(&visit.domain, Some(how));
            }
            VisitResult::Up(up) => {
                self.summary.liveness_answered += usize::from(liveness_check);
                self.record_up(record, &visit.domain, *up)?;
            }
        }
        Ok(())
    }

    fn retry_local(&mut self, domain: &Domain, error: &crate::fetch::FetchError) -> bool {
        if error.reason != FailureReason::Local {
            return false;
        }
        let tries = self
            .frontier
            .local_retries
            .entry(domain.clone())
            .or_default();
        if *tries >= MAX_LOCAL_RETRIES {
            return false;
        }
        *tries += 1;
        self.frontier.queue.push_back(domain.clone());
        true
    }

    /// Files the snapshot under the canonical name, with the visited name and other
    /// names as aliases, in one transaction.
    fn record_up(
        &mut self,
        mut record: ServerRecord,
        visited: &Domain,
        up: visit::UpVisit,
    ) -> anyhow::Result<()> {
        let (store, at) = (self.store, self.options.at);
        let frontier = &mut self.frontier;
        self.summary.up += 1;
        let canonical = up.canonical.clone();
        let mut changed = Vec::new();
        // The visited name's record is the server's own unless it answered as another.
        let existing = if canonical == *visited {
            Some(record)
        } else {
            record.record_alias(at, canonical.clone());
            changed.push(record);
            store.server(&canonical)?
        };
        let mut server = existing.unwrap_or_else(|| {
            frontier.known.insert(canonical.clone());
            ServerRecord::discovered(canonical.clone(), at, Some(visited.clone()))
        });
        if frontier.up.insert(canonical.clone()) {
            self.summary.servers_up += 1;
        }
        server.record_up(at, &up.stats, up.aliases.iter().cloned());
        changed.push(server);
        for alias in up.aliases.iter().filter(|a| *a != visited) {
            let mut alias_record = store.server(alias)?.unwrap_or_else(|| {
                ServerRecord::discovered(alias.clone(), at, Some(visited.clone()))
            });
            alias_record.record_alias(at, canonical.clone());
            changed.push(alias_record);
            frontier.known.insert(alias.clone());
            frontier.scheduled.insert(alias.clone());
        }
        // A server reached under another name is not visited again this run.
        if canonical != *visited && !frontier.scheduled.insert(canonical.clone()) {
            frontier.queue.retain(|d| *d != canonical);
        }
        for name in changed.iter().map(|r| &r.domain) {
            self.fetcher.hosts().set_opted_out(name, None);
        }
        store.record_visit(
            &changed,
            &Snapshot {
                domain: canonical,
                at,
                stats: up.stats,
            },
        )?;
        Ok(())
    }

    /// Records the new names of (part of) one peer list, within the caps: `--max-servers`,
    /// the per-registrable-domain cap, and at most `max_new_per_server` new names per
    /// visited name's list.
    fn discover(&mut self, found: Discovered) -> anyhow::Result<()> {
        let (options, frontier, summary) = (self.options, &mut self.frontier, &mut self.summary);
        let Discovered { via, peers } = found;
        let Found {
            names,
            rejected,
            skipped,
        } = peers;
        summary.rejected_peers += rejected;
        summary.skipped_peers += skipped;
        let added = frontier.introduced.entry(via.clone()).or_default();
        for domain in names {
            if frontier.known.contains(&domain) || options.exclude.covers(&domain) {
                continue;
            }
            let per_registrable = frontier
                .new_per_registrable
                .entry(domain.registrable().to_string())
                .or_default();
            let full = options
                .max_servers
                .is_some_and(|max| frontier.known.len() >= max);
            if full
                || *per_registrable >= options.max_new_per_registrable
                || *added >= options.max_new_per_server
            {
                summary.capped += 1;
                continue;
            }
            *per_registrable += 1;
            *added += 1;
            self.store.put_server(&ServerRecord::discovered(
                domain.clone(),
                options.at,
                Some(via.clone()),
            ))?;
            frontier.known.insert(domain.clone());
            summary.newly_discovered += 1;
            if frontier.scheduled.insert(domain.clone()) {
                frontier.queue.push_back(domain);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicking_visit_becomes_an_invalid_failure_of_its_name() {
        let mut visits: JoinSet<Visit> = JoinSet::new();
        let mut names = HashMap::new();
        let domain = Domain::parse("panicky.social").unwrap();
        let task = visits.spawn(async {
            let delay: f32 = "1e30".parse().unwrap();
            panic!("{:?}", std::time::Duration::from_secs_f32(delay))
        });
        names.insert(task.id(), domain.clone());
        let done = visits.join_next_with_id().await.unwrap();
        let visit = joined(done, &mut names).expect("a panic is a visit result");
        assert_eq!(visit.domain, domain);
        match visit.result {
            VisitResult::Failed(e) => {
                assert_eq!(e.reason, FailureReason::Invalid);
                assert!(e.detail.contains("panicked"), "{}", e.detail);
            }
            other => panic!("{other:?}"),
        }
        assert!(names.is_empty());
    }

    fn test_options() -> CrawlOptions {
        CrawlOptions {
            seeds: Vec::new(),
            exclude: Exclusions::default(),
            fetch: FetchConfig {
                user_agent: "fedicensus-test/1".into(),
                timeout: std::time::Duration::from_secs(1),
                probe_timeout: std::time::Duration::from_secs(1),
                connect_timeout: std::time::Duration::from_secs(1),
                per_host_rps: 1.0,
                concurrency: 1,
                connect_to: None,
                plain_http: false,
                max_retries: 0,
                max_retry_wait: std::time::Duration::ZERO,
                network: crate::fetch::NetworkConfig::default(),
            },
            max_servers: None,
            max_new_per_registrable: 1,
            max_new_per_server: 1,
            at: Utc::now(),
            description: serde_json::Value::Null,
        }
    }

    fn test_run<'a>(store: &'a Store, options: &'a CrawlOptions) -> Run<'a> {
        Run {
            store,
            options,
            fetcher: Arc::new(Fetcher::new(options.fetch.clone()).unwrap()),
            frontier: Frontier::default(),
            summary: Summary::new(),
        }
    }

    #[test]
    fn a_local_failure_is_queued_again_a_bounded_number_of_times() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let options = test_options();
        let mut run = test_run(&store, &options);
        let domain = Domain::parse("busy.social").unwrap();
        let out_of_files = || Visit {
            domain: domain.clone(),
            result: VisitResult::Failed(crate::fetch::FetchError::new(
                FailureReason::Local,
                "Too many open files",
            )),
        };
        for retry in 1..=MAX_LOCAL_RETRIES as usize {
            run.apply(out_of_files()).unwrap();
            assert_eq!(run.frontier.queue.len(), retry, "queued again");
            assert_eq!(run.summary.failed["local"], 0);
        }
        run.apply(out_of_files()).unwrap();
        assert_eq!(run.frontier.queue.len(), MAX_LOCAL_RETRIES as usize);
        assert_eq!(run.summary.failed["local"], 1, "then counted");
    }

    #[test]
    fn a_list_handed_over_in_parts_is_capped_as_one_list() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        let options = CrawlOptions {
            max_new_per_server: 3,
            max_new_per_registrable: 10,
            ..test_options()
        };
        let mut run = test_run(&store, &options);
        let d = |s: &str| Domain::parse(s).unwrap();
        let part = |via: &str, names: &[&str], rejected| Discovered {
            via: d(via),
            peers: Found {
                names: names.iter().map(|n| d(n)).collect(),
                rejected,
                skipped: 0,
            },
        };
        run.discover(part("big.social", &["a.one", "b.one"], 1))
            .unwrap();
        run.discover(part("big.social", &["a.one", "c.one", "d.one"], 2))
            .unwrap();
        run.discover(part("other.social", &["d.one", "e.one"], 0))
            .unwrap();
        let queued: Vec<&str> = run.frontier.queue.iter().map(Domain::as_str).collect();
        assert_eq!(queued, ["a.one", "b.one", "c.one", "d.one", "e.one"]);
        assert_eq!(
            run.summary.capped, 1,
            "d.one over big.social's cap, then found via other"
        );
        assert_eq!(run.summary.rejected_peers, 3);
        assert_eq!(
            store.server(&d("c.one")).unwrap().unwrap().discovered_via,
            Some(d("big.social"))
        );
    }
}
