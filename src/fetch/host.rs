//! One place for a host's politeness: every request, each redirect hop included, is
//! admitted by the [`Host`] of the name it goes to, and by nothing else.
//!
//! A host remembers, for the whole run: its robots.txt rules and Crawl-delay (read once,
//! before anything else is asked of it, also when a redirect from another server is the
//! first thing that leads to it), the earliest instant it may be asked again (a spacing of
//! `1 / --per-host-rps`, stretched by its Crawl-delay, after both the start and the answer
//! of its previous request, and a `Retry-After` it sent, which later requests wait out
//! too), and how often in a row it did not answer (after [`MAX_UNREACHABLE`] it is not
//! asked again that run). [`Hosts`] is the table of them, with the gates that do not
//! depend on asking the host: the `--exclude` list and the opt-outs stored from earlier
//! visits (kept in step by the crawl), and the global caps on requests in flight. The
//! per-visit deadline lives in [`super::Session`], which every request of a visit goes
//! through, and is enforced here while a request waits for its host.
//!
//! The per-host wait comes *before* taking a global slot, so a host that must wait does not
//! hold up the crawl of every other host. First contacts ([`Contact::Probe`]) take their
//! slots from a pool of their own, the same size as the main one: hosts that accept a
//! connection and never answer then hold probe slots for the probe timeout, never the slots
//! answering hosts need. Each pool records how long its slots were held, which is what the
//! crawl benchmark's bound is made of.
//!
//! Types: [`Hosts`], [`Host`], [`Pool`], [`Slot`], [`Refusal`], [`RobotsAnswer`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::robots::Robots;
use super::{Contact, FetchError};
use crate::domain::Domain;
use crate::outcome::{FailureReason, OptOut};
use crate::seeds::Exclusions;

/// Unreachable answers in a row after which a host is not asked again this run.
pub const MAX_UNREACHABLE: u32 = 3;

/// Why a request was not sent: the host it was for opted out or may not be asked this path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The host the request was for.
    pub host: Domain,
    /// Why: its stored opt-out, its robots.txt, or `--exclude`.
    pub how: OptOut,
}

/// What a host's robots.txt said, read once per run.
pub enum RobotsAnswer {
    /// robots.txt was served, or is missing (4xx: allow all); these rules decide each path.
    Rules(Robots),
    /// robots.txt could not be read (RFC 9309: a server error means "disallow all for
    /// now"); every request to the host fails with this error this run.
    Unavailable(FetchError),
}

/// Slots for requests in flight, and the time they were held in total.
pub struct Pool {
    size: usize,
    slots: Arc<Semaphore>,
    held_nanos: Arc<AtomicU64>,
}

impl Pool {
    fn new(size: usize) -> Pool {
        let size = size.max(1);
        Pool {
            size,
            slots: Arc::new(Semaphore::new(size)),
            held_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    fn in_use(&self) -> usize {
        self.size - self.slots.available_permits()
    }

    fn held(&self) -> Duration {
        Duration::from_nanos(self.held_nanos.load(Ordering::Relaxed))
    }

    async fn take(&self) -> Slot {
        let permit = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        Slot {
            _permit: permit,
            since: std::time::Instant::now(),
            held_nanos: self.held_nanos.clone(),
        }
    }
}

/// A request slot: a request may be in flight (and its body unread) while it lives.
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    since: std::time::Instant,
    held_nanos: Arc<AtomicU64>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let nanos = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.held_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// The politeness state of one host name.
pub struct Host {
    /// The host name this state is for.
    pub name: Domain,
    robots: OnceCell<RobotsAnswer>,
    /// Taken while waiting for this host's next slot, so its requests start one at a time.
    turn: tokio::sync::Mutex<()>,
    state: Mutex<HostState>,
}

struct HostState {
    /// The earliest instant the next request may start.
    next: Instant,
    /// When the latest request started or was answered.
    last: Option<Instant>,
    /// Crawl-delay, or the per-host rate's spacing when that is longer.
    spacing: Duration,
    unreachable: u32,
    last_failure: Option<FetchError>,
}

impl Host {
    fn new(name: Domain, spacing: Duration) -> Host {
        Host {
            name,
            robots: OnceCell::new(),
            turn: tokio::sync::Mutex::new(()),
            state: Mutex::new(HostState {
                next: Instant::now(),
                last: None,
                spacing,
                unreachable: 0,
                last_failure: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, HostState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// This host's robots answer, reading it with `read` the first time (its Crawl-delay
    /// then stretches this host's spacing). A failure that is ours (`local`) is not
    /// remembered, so the next request tries again.
    pub async fn robots<F>(&self, read: F) -> Result<&RobotsAnswer, FetchError>
    where
        F: std::future::Future<Output = Result<RobotsAnswer, FetchError>>,
    {
        self.robots
            .get_or_try_init(|| async {
                let answer = read.await?;
                if let RobotsAnswer::Rules(rules) = &answer {
                    if let Some(delay) = rules.crawl_delay() {
                        let mut state = self.state();
                        state.spacing = state.spacing.max(delay);
                        if let Some(last) = state.last {
                            // robots.txt itself was the latest request.
                            state.next = state.next.max(last + state.spacing);
                        }
                    }
                }
                Ok(answer)
            })
            .await
    }

    /// Fails at once when the host did not answer [`MAX_UNREACHABLE`] times in a row.
    pub fn check_reachable(&self) -> Result<(), FetchError> {
        let state = self.state();
        match &state.last_failure {
            Some(last) if state.unreachable >= MAX_UNREACHABLE => Err(FetchError::new(
                last.reason,
                format!(
                    "{} did not answer {MAX_UNREACHABLE} times in a row this run ({})",
                    self.name, last.detail
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Waits for this host's next slot (at most until `deadline`), then for one of `pool`.
    /// The request may be sent while the returned slot lives. Only the host's own wait
    /// (its spacing, Crawl-delay, Retry-After) counts against the deadline: waiting for a
    /// global slot is the load of other servers, which must not cost this one a timeout.
    pub async fn admit(&self, pool: &Pool, deadline: Instant) -> Result<Slot, FetchError> {
        let turn = tokio::time::timeout_at(deadline, async {
            let turn = self.turn.lock().await;
            let next = self.state().next;
            tokio::time::sleep_until(next).await;
            turn
        })
        .await
        .map_err(|_| {
            FetchError::new(
                FailureReason::Timeout,
                format!(
                    "{}: the visit's deadline passed while waiting to ask",
                    self.name
                ),
            )
        })?;
        let slot = pool.take().await;
        let mut state = self.state();
        let now = Instant::now();
        state.last = Some(now);
        state.next = now + state.spacing;
        drop(turn);
        Ok(slot)
    }

    /// The host asked for a pause (`Retry-After`): no request to it starts before `until`.
    pub fn hold_off(&self, until: Instant) {
        let mut state = self.state();
        state.next = state.next.max(until);
    }

    /// Records how a request to this host ended (its answer arrived, or it failed). The
    /// next request waits a full spacing from now too, so however long connecting took,
    /// the server sees its requests at least that far apart.
    pub fn answered(&self, outcome: Result<(), &FetchError>) {
        let mut state = self.state();
        let now = Instant::now();
        state.last = Some(now);
        state.next = state.next.max(now + state.spacing);
        match outcome {
            Err(e) if e.reason.is_unreachable() => {
                state.unreachable = state.unreachable.saturating_add(1);
                state.last_failure = Some(e.clone());
            }
            // Any answer, even a broken one, says someone is there.
            Err(_) | Ok(()) => {
                state.unreachable = 0;
                state.last_failure = None;
            }
        }
    }

    /// Whether nothing is pending: no robots read in progress, no wait ahead.
    fn idle(&self, now: Instant) -> bool {
        self.state().next <= now && self.turn.try_lock().is_ok()
    }
}

/// Every host of a run, with the gates that need no request.
pub struct Hosts {
    table: Mutex<HashMap<Domain, Arc<Host>>>,
    exclude: Exclusions,
    /// Names whose latest visit ended in an opt-out (from the store, kept in step).
    opted_out: RwLock<HashMap<Domain, OptOut>>,
    spacing: Duration,
    in_flight: Pool,
    first_contact: Pool,
}

impl Hosts {
    /// `per_host_rps` requests per second to any one host: consecutive requests to a
    /// host start at least `1 / per_host_rps` seconds apart.
    pub fn new(concurrency: usize, per_host_rps: f64, exclude: Exclusions) -> Hosts {
        Hosts {
            table: Mutex::new(HashMap::new()),
            exclude,
            opted_out: RwLock::new(HashMap::new()),
            spacing: Duration::from_secs_f64(1.0 / per_host_rps.max(1e-6)),
            in_flight: Pool::new(concurrency),
            first_contact: Pool::new(concurrency),
        }
    }

    /// The slots a request made as `contact` takes.
    pub fn pool(&self, contact: Contact) -> &Pool {
        match contact {
            Contact::Known => &self.in_flight,
            Contact::Probe => &self.first_contact,
        }
    }

    /// Slots of each pool in use now: (main, first contact).
    pub fn in_use(&self) -> (usize, usize) {
        (self.in_flight.in_use(), self.first_contact.in_use())
    }

    /// Total time slots of each pool were held: (main, first contact).
    pub fn slot_time(&self) -> (Duration, Duration) {
        (self.in_flight.held(), self.first_contact.held())
    }

    /// The host of `name`, created on first use.
    pub fn host(&self, name: &Domain) -> Arc<Host> {
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.clone())
            .or_insert_with(|| Arc::new(Host::new(name.clone(), self.spacing)))
            .clone()
    }

    /// Why `name` may not be asked anything, from what is known without asking it: the
    /// `--exclude` list, and (unless it is the visited name itself, which is asked again
    /// each run so it can change its mind) a stored opt-out.
    pub fn refusal(&self, name: &Domain, origin: &Domain) -> Option<Refusal> {
        let how = if self.exclude.covers(name) {
            Some(OptOut::Excluded)
        } else if name != origin {
            self.opted_out
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .get(name)
                .copied()
        } else {
            None
        };
        how.map(|how| Refusal {
            host: name.clone(),
            how,
        })
    }

    /// Keeps the stored opt-out state in step: `Some` after an opt-out, `None` after the
    /// name answered.
    pub fn set_opted_out(&self, name: &Domain, how: Option<OptOut>) {
        let mut opted_out = self
            .opted_out
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        match how {
            Some(how) => opted_out.insert(name.clone(), how),
            None => opted_out.remove(name),
        };
    }

    /// Forgets hosts with nothing pending, so a crawl of 100,000 hosts does not keep
    /// 100,000 entries; a forgotten host that is asked again reads robots.txt again.
    pub fn forget_idle_hosts(&self) {
        let now = Instant::now();
        self.table
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|_, host| Arc::strong_count(host) > 1 || !host.idle(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spacing_crawl_delay_and_retry_after_apply_to_every_request() {
        let hosts = Hosts::new(4, 20.0, Exclusions::default());
        let host = hosts.host(&Domain::parse("a.social").unwrap());
        let far = Instant::now() + Duration::from_secs(3600);
        let start = Instant::now();
        drop(host.admit(hosts.pool(Contact::Known), far).await.unwrap());
        drop(host.admit(hosts.pool(Contact::Known), far).await.unwrap());
        assert!(
            start.elapsed() >= Duration::from_millis(50),
            "1 / rps apart"
        );

        let robots = Robots::parse("fedicensus", b"User-agent: *\nCrawl-delay: 0.3\n");
        host.robots(async { Ok(RobotsAnswer::Rules(robots)) })
            .await
            .unwrap();
        drop(host.admit(hosts.pool(Contact::Known), far).await.unwrap());
        let before = Instant::now();
        drop(host.admit(hosts.pool(Contact::Known), far).await.unwrap());
        assert!(
            before.elapsed() >= Duration::from_millis(290),
            "Crawl-delay"
        );

        // A Retry-After outlives its request, and a deadline ends the wait.
        host.hold_off(Instant::now() + Duration::from_secs(60));
        let soon = Instant::now() + Duration::from_millis(100);
        let late = host
            .admit(hosts.pool(Contact::Known), soon)
            .await
            .unwrap_err();
        assert_eq!(late.reason, FailureReason::Timeout);
        assert!(Instant::now() < soon + Duration::from_secs(30));
    }

    #[tokio::test]
    async fn first_contacts_have_slots_of_their_own_and_held_time_is_counted() {
        let hosts = Hosts::new(1, 1000.0, Exclusions::default());
        let far = Instant::now() + Duration::from_secs(3600);
        let known = hosts.host(&Domain::parse("up.social").unwrap());
        let probed = hosts.host(&Domain::parse("new.social").unwrap());
        let held = known.admit(hosts.pool(Contact::Known), far).await.unwrap();
        // The only main slot is taken: a probe still gets one at once.
        let probe = tokio::time::timeout(
            Duration::from_secs(5),
            probed.admit(hosts.pool(Contact::Probe), far),
        )
        .await
        .expect("a probe does not wait for the main slots")
        .unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop((held, probe));
        let (main, first_contact) = hosts.slot_time();
        assert!(main >= Duration::from_millis(50), "{main:?}");
        assert!(
            first_contact >= Duration::from_millis(50),
            "{first_contact:?}"
        );
    }

    #[test]
    fn a_host_that_never_answers_is_given_up_for_the_run() {
        let hosts = Hosts::new(1, 1.0, Exclusions::default());
        let host = hosts.host(&Domain::parse("dead.social").unwrap());
        let refused = FetchError::new(FailureReason::Connect, "connection refused");
        for _ in 0..MAX_UNREACHABLE - 1 {
            host.answered(Err(&refused));
        }
        host.answered(Err(&FetchError::new(FailureReason::Protocol, "HTTP/0.9")));
        assert!(host.check_reachable().is_ok(), "an answer breaks the row");
        for _ in 0..MAX_UNREACHABLE {
            host.answered(Err(&refused));
        }
        assert_eq!(
            host.check_reachable().unwrap_err().reason,
            FailureReason::Connect
        );
        host.answered(Ok(()));
        assert!(host.check_reachable().is_ok());
    }

    #[test]
    fn exclusions_and_stored_opt_outs_refuse_other_names() {
        let d = |s: &str| Domain::parse(s).unwrap();
        let hosts = Hosts::new(1, 1.0, Exclusions::new([d("victim.net")]));
        let origin = d("attacker.social");
        assert_eq!(
            hosts.refusal(&d("www.victim.net"), &origin).map(|r| r.how),
            Some(OptOut::Excluded)
        );
        hosts.set_opted_out(&d("quiet.org"), Some(OptOut::Robots));
        assert_eq!(
            hosts.refusal(&d("quiet.org"), &origin).map(|r| r.how),
            Some(OptOut::Robots)
        );
        assert_eq!(
            hosts.refusal(&d("quiet.org"), &d("quiet.org")),
            None,
            "it may change its mind"
        );
        hosts.set_opted_out(&d("quiet.org"), None);
        assert_eq!(hosts.refusal(&d("quiet.org"), &origin), None);
    }
}
