//! Politeness: how many requests are in flight in total, and how often any one host
//! is asked. Per-host state lives here and nowhere else.
//!
//! The per-host limit is waited for *before* taking a global slot, so a host that must
//! wait does not hold up the crawl of every other host. First contacts
//! ([`Contact::Probe`]) take their slots from a pool of their own, the same size as the
//! main one: hosts that accept a connection and never answer then hold probe slots for
//! the probe timeout, never the slots answering hosts need. Each pool records how long
//! its slots were held, which is what the crawl benchmark's bound is made of.
//!
//! Types: [`Politeness`], [`Slot`].

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Contact;
use crate::domain::Domain;

pub struct Politeness {
    in_flight: Pool,
    first_contact: Pool,
    per_host: DefaultKeyedRateLimiter<Domain>,
}

/// Slots for requests in flight, and the time they were held in total.
struct Pool {
    slots: Arc<Semaphore>,
    held_nanos: Arc<AtomicU64>,
}

impl Pool {
    fn new(size: usize) -> Pool {
        Pool {
            slots: Arc::new(Semaphore::new(size.max(1))),
            held_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    fn held(&self) -> Duration {
        Duration::from_nanos(self.held_nanos.load(Ordering::Relaxed))
    }
}

/// A request slot: a request may be in flight while it lives.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    since: Instant,
    held_nanos: Arc<AtomicU64>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let nanos = u64::try_from(self.since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.held_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl Politeness {
    /// `per_host_rps` requests per second to any one host, with no burst: consecutive
    /// requests to a host are at least `1 / per_host_rps` seconds apart.
    pub fn new(concurrency: usize, per_host_rps: f64) -> Politeness {
        let period = Duration::from_secs_f64(1.0 / per_host_rps.max(1e-6));
        let quota = Quota::with_period(period)
            .expect("a positive period")
            .allow_burst(NonZeroU32::MIN);
        Politeness {
            in_flight: Pool::new(concurrency),
            first_contact: Pool::new(concurrency),
            per_host: RateLimiter::keyed(quota),
        }
    }

    /// Waits until `host` may be asked again, then for a slot of the pool `contact`
    /// uses; the request may be sent while the returned slot lives.
    pub async fn acquire(&self, host: &Domain, contact: Contact) -> Slot {
        self.per_host.until_key_ready(host).await;
        let pool = match contact {
            Contact::Known => &self.in_flight,
            Contact::Probe => &self.first_contact,
        };
        let permit = pool
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        Slot {
            _permit: permit,
            since: Instant::now(),
            held_nanos: pool.held_nanos.clone(),
        }
    }

    /// Total time slots of each pool were held: (main, first contact).
    pub fn slot_time(&self) -> (Duration, Duration) {
        (self.in_flight.held(), self.first_contact.held())
    }

    /// Forgets hosts whose limit has fully replenished, so a crawl of 100,000 hosts
    /// does not keep 100,000 entries.
    pub fn forget_idle_hosts(&self) {
        self.per_host.retain_recent();
        self.per_host.shrink_to_fit();
    }
}
