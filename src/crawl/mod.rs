//! The crawl: discover servers from seeds and peer lists, visit each once per run, and
//! write what they said into the store as it arrives.
//!
//! One coordinator owns the frontier and every store write; visits run concurrently
//! and hand back a [`visit::Visit`]. Each batch of finished visits is written at once and
//! made durable in the background by the [`commit::Committer`] (group commit, about once
//! a second, and always at the end), so a crawl killed at any moment keeps every visit
//! written before the last completed flush, and a rerun with the same `--at` overwrites
//! rather than duplicates.
//!
//! Which names are visited: the seeds and every stored name that is due (see the
//! re-probe schedule and the liveness rule in [`crate::store::record`]), then every new
//! name found in a peer list, until `--max-servers` names are known. A name that did not
//! answer on its latest visit (or was never visited) is first probed: its visit starts
//! with one request under [`Contact::Probe`] and goes on only if that is answered. Names covered by `--exclude` are never
//! contacted; aliases are visited through their canonical name. New names under one
//! registrable domain are capped per run, so a crawler trap listing 300,000
//! subdomains costs a few entries, not a crawl; so are the new names one server's peer
//! list may introduce ([`DEFAULT_MAX_NEW_PER_SERVER`]), so a list of 850,000 distinct
//! made-up domains costs that many visits at most, not 850,000.
//!
//! Types: [`CrawlOptions`], [`Summary`]; function [`crawl`].

pub mod commit;
pub mod software;
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
use crate::parse::peers::PeerSet;
use crate::seeds::Exclusions;
use crate::snapshot::Snapshot;
use crate::store::record::Due;
use crate::store::{ServerRecord, Status, Store};
use commit::Committer;
use visit::{Visit, VisitResult};

/// New names one server's peer list may introduce per run, by default. Real lists that
/// large are the biggest servers' in a first crawl, and the names they cannot introduce
/// are introduced by the other servers that know them.
pub const DEFAULT_MAX_NEW_PER_SERVER: u32 = 10_000;

/// Everything a crawl run needs besides the store.
#[derive(Debug, Clone)]
pub struct CrawlOptions {
    pub seeds: Vec<Domain>,
    pub exclude: Exclusions,
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
    pub run_id: u64,
    pub at: DateTime<Utc>,
    pub started: DateTime<Utc>,
    pub duration_secs: f64,
    /// Names in the database after the run (servers, aliases and dead names).
    pub known: usize,
    /// Names visited this run.
    pub attempted: usize,
    /// Visits that produced a snapshot.
    pub up: usize,
    /// Distinct servers (canonical names) that produced a snapshot.
    pub servers_up: usize,
    pub failed: BTreeMap<&'static str, usize>,
    pub opted_out: BTreeMap<&'static str, usize>,
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
    pub requests: u64,
    /// Seconds requests held a slot, summed: of the main pool, and of the first-contact
    /// (probe) pool. Divided by `--concurrency`, each bounds how fast the run could be.
    pub request_slot_secs: f64,
    pub probe_slot_secs: f64,
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

    pub fn failed_total(&self) -> usize {
        self.failed.values().sum()
    }
}

/// The frontier and bookkeeping of one run.
struct Frontier {
    queue: VecDeque<Domain>,
    /// Names queued or visited this run (canonical names included once answered).
    scheduled: HashSet<Domain>,
    /// Names in the database.
    known: HashSet<Domain>,
    new_per_registrable: HashMap<String, usize>,
    /// Canonical names that answered this run.
    up: HashSet<Domain>,
    /// Names that answered on their latest visit: visited without a probe.
    trusted: HashSet<Domain>,
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

/// Visits in flight at once. Most of a visit is spent waiting for its host's rate limit
/// (requests to one host are 1/rps apart): at the defaults a visit of six requests lasts
/// about 5 s and holds a slot for about 1 s of it, so it takes about five visits per
/// request slot to keep them busy, plus room for first contacts. An idle visit costs
/// little memory and at most one pooled connection.
pub fn visit_slots(fetch: &FetchConfig) -> usize {
    fetch.concurrency.max(1) * 8
}

/// Runs one crawl. Errors are store failures only: servers failing is normal and
/// counted in the summary.
pub async fn crawl(
    store: &Store,
    options: &CrawlOptions,
    progress: &ProgressBar,
) -> anyhow::Result<Summary> {
    let clock = Instant::now();
    let started = Utc::now();
    let at = options.at;
    let run = store.start_run(at, started, options.description.clone())?;
    let fetcher = Arc::new(Fetcher::new(options.fetch.clone())?);
    let mut summary = Summary::new();
    summary.run_id = run.id;
    summary.at = at;
    summary.started = started;

    let mut frontier = Frontier {
        queue: VecDeque::new(),
        scheduled: HashSet::new(),
        known: HashSet::new(),
        new_per_registrable: HashMap::new(),
        up: HashSet::new(),
        trusted: HashSet::new(),
    };
    for seed in &options.seeds {
        if options.exclude.covers(seed) {
            continue;
        }
        if store.server(seed)?.is_none() {
            store.put_server(&ServerRecord::discovered(seed.clone(), at, None))?;
        }
    }
    let mut due = Vec::new();
    for record in store.servers() {
        let record = record?;
        frontier.known.insert(record.domain.clone());
        if options.exclude.covers(&record.domain) {
            // The operator's opt-out list also takes the server out of every report.
            if !matches!(
                record.status,
                Status::OptedOut {
                    how: OptOut::Excluded
                }
            ) {
                let mut record = record;
                record.record_opt_out(at, OptOut::Excluded);
                store.put_server(&record)?;
            }
            continue;
        }
        if matches!(record.status, Status::Alias { .. }) {
            continue;
        }
        if frontier.admit(&record, at, &mut summary) {
            due.push(record.domain);
        }
    }
    // Seeds first, so a capped run still starts where the operator asked.
    let seeds: HashSet<&Domain> = options.seeds.iter().collect();
    due.sort_by_key(|d| !seeds.contains(d));
    for domain in due {
        frontier.scheduled.insert(domain.clone());
        frontier.queue.push_back(domain);
    }
    store.flush()?;
    progress.set_length(frontier.queue.len() as u64);

    let max_visits = visit_slots(&options.fetch);
    let user_agent: Arc<str> = options.fetch.user_agent.clone().into();
    let mut visits: JoinSet<Visit> = JoinSet::new();
    let mut next_forget = 1024;
    let interrupt = stop_requested();
    tokio::pin!(interrupt);
    let committer = Committer::for_store(store);
    loop {
        while visits.len() < max_visits {
            let Some(domain) = frontier.queue.pop_front() else {
                break;
            };
            let (fetcher, ua) = (fetcher.clone(), user_agent.clone());
            summary.attempted += 1;
            let contact = frontier.contact(&domain);
            visits.spawn(async move { visit::visit(&fetcher, &ua, domain, contact).await });
        }
        if visits.is_empty() {
            break;
        }
        let first = tokio::select! {
            done = visits.join_next() => done,
            _ = &mut interrupt => {
                tracing::warn!("stopped by a signal: recording the run; visits in flight are dropped");
                summary.interrupted = true;
                visits.abort_all();
                break;
            }
        };
        let mut batch = Vec::new();
        batch.extend(first);
        while let Some(done) = visits.try_join_next() {
            batch.push(done);
        }
        let up_before = summary.up;
        let written = batch.len() as u64;
        for done in batch {
            match done {
                Ok(visit) => apply(store, options, &mut frontier, &mut summary, visit)?,
                Err(e) if e.is_panic() => anyhow::bail!("a visit panicked: {e}"),
                Err(_) => {}
            }
            progress.inc(1);
        }
        committer.written(written, (summary.up - up_before) as u64)?;
        progress
            .set_length(progress.position() + frontier.queue.len() as u64 + visits.len() as u64);
        if summary.attempted >= next_forget {
            fetcher.politeness().forget_idle_hosts();
            next_forget = summary.attempted + 1024;
        }
    }

    committer.finish().await?;
    // Visits dropped by an interrupt leave the queue: the bar ends where the run did.
    progress.set_length(progress.position());
    summary.known = store.server_count();
    summary.requests = fetcher.requests_sent();
    let (main, probe) = fetcher.politeness().slot_time();
    (summary.request_slot_secs, summary.probe_slot_secs) =
        (main.as_secs_f64(), probe.as_secs_f64());
    summary.duration_secs = clock.elapsed().as_secs_f64();
    let mut run = run;
    run.ended = Some(Utc::now());
    run.summary = Some(serde_json::to_value(&summary)?);
    store.put_run(&run)?;
    store.flush()?;
    Ok(summary)
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

/// Writes one visit's outcome and grows the frontier from its peers.
fn apply(
    store: &Store,
    options: &CrawlOptions,
    frontier: &mut Frontier,
    summary: &mut Summary,
    visit: Visit,
) -> anyhow::Result<()> {
    let at = options.at;
    let mut record = store
        .server(&visit.domain)?
        .unwrap_or_else(|| ServerRecord::discovered(visit.domain.clone(), at, None));
    let liveness_check = record.due(at) == Due::Liveness;
    match visit.result {
        VisitResult::Failed(error) => {
            tracing::debug!(domain = %visit.domain, %error, "visit failed");
            *summary.failed.entry(error.reason.as_str()).or_default() += 1;
            if error.nonexistent {
                record.record_nonexistent(at);
            } else {
                record.record_failure(at, error.reason);
            }
            store.put_server(&record)?;
        }
        VisitResult::OptedOut(how) => {
            tracing::debug!(domain = %visit.domain, how = how.as_str(), "opted out");
            *summary.opted_out.entry(how.as_str()).or_default() += 1;
            record.record_opt_out(at, how);
            store.put_server(&record)?;
        }
        VisitResult::Up(up) => {
            summary.up += 1;
            summary.liveness_answered += usize::from(liveness_check);
            let canonical = up.canonical.clone();
            // Written with the snapshot in one transaction.
            let mut changed = Vec::new();
            // The visited name's record is the server's own unless it answered as another.
            let existing = if canonical == visit.domain {
                Some(record)
            } else {
                record.record_alias(at, canonical.clone());
                changed.push(record);
                store.server(&canonical)?
            };
            let mut server = existing.unwrap_or_else(|| {
                frontier.known.insert(canonical.clone());
                ServerRecord::discovered(canonical.clone(), at, Some(visit.domain.clone()))
            });
            if frontier.up.insert(canonical.clone()) {
                summary.servers_up += 1;
            }
            server.record_up(at, &up.stats, up.aliases.iter().cloned());
            changed.push(server);
            for alias in up.aliases.iter().filter(|a| **a != visit.domain) {
                let mut alias_record = store.server(alias)?.unwrap_or_else(|| {
                    ServerRecord::discovered(alias.clone(), at, Some(visit.domain.clone()))
                });
                alias_record.record_alias(at, canonical.clone());
                changed.push(alias_record);
                frontier.known.insert(alias.clone());
                frontier.scheduled.insert(alias.clone());
            }
            // A server reached under another name is not visited again this run.
            if canonical != visit.domain && !frontier.scheduled.insert(canonical.clone()) {
                frontier.queue.retain(|d| *d != canonical);
            }
            store.record_visit(
                &changed,
                &Snapshot {
                    domain: canonical,
                    at,
                    stats: up.stats,
                },
            )?;
            discover(
                store,
                options,
                frontier,
                summary,
                &visit.domain,
                &visit.peers,
            )?;
        }
    }
    Ok(())
}

/// Records the new names of one peer list, within the caps: `--max-servers`, the
/// per-registrable-domain cap, and at most `max_new_per_server` new names per list.
fn discover(
    store: &Store,
    options: &CrawlOptions,
    frontier: &mut Frontier,
    summary: &mut Summary,
    via: &Domain,
    peers: &PeerSet,
) -> anyhow::Result<()> {
    summary.rejected_peers += peers.rejected;
    summary.skipped_peers += peers.skipped;
    let mut added = 0;
    for domain in peers.names() {
        if frontier.known.contains(domain) || options.exclude.covers(domain) {
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
            || added >= options.max_new_per_server
        {
            summary.capped += 1;
            continue;
        }
        *per_registrable += 1;
        added += 1;
        store.put_server(&ServerRecord::discovered(
            domain.clone(),
            options.at,
            Some(via.clone()),
        ))?;
        frontier.known.insert(domain.clone());
        summary.newly_discovered += 1;
        if frontier.scheduled.insert(domain.clone()) {
            frontier.queue.push_back(domain.clone());
        }
    }
    Ok(())
}
