//! Politeness: how many requests are in flight in total, and how often any one host
//! is asked. Per-host state lives here and nowhere else.
//!
//! The per-host limit is waited for *before* taking a global slot, so a host that must
//! wait does not hold up the crawl of every other host.
//!
//! Types: [`Politeness`].

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::Domain;

pub struct Politeness {
    in_flight: Arc<Semaphore>,
    per_host: DefaultKeyedRateLimiter<Domain>,
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
            in_flight: Arc::new(Semaphore::new(concurrency.max(1))),
            per_host: RateLimiter::keyed(quota),
        }
    }

    /// Waits until `host` may be asked again, then for a global slot; the request may
    /// be sent while the returned permit lives.
    pub async fn acquire(&self, host: &Domain) -> OwnedSemaphorePermit {
        self.per_host.until_key_ready(host).await;
        self.in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// Forgets hosts whose limit has fully replenished, so a crawl of 100,000 hosts
    /// does not keep 100,000 entries.
    pub fn forget_idle_hosts(&self) {
        self.per_host.retain_recent();
        self.per_host.shrink_to_fit();
    }
}
