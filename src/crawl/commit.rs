//! Group commit: the crawl's writes become durable in the background, so the coordinator
//! keeps starting visits while the disk syncs.
//!
//! The coordinator writes each batch of finished visits into the store (sled keeps them in
//! memory) and tells the [`Committer`] how many it wrote. The committer's task flushes
//! whenever writes are pending, but starts at most one flush per [`CommitPolicy::every`]
//! unless [`CommitPolicy::max_pending`] visits are waiting; writes arriving during a flush
//! go into the next one. A crawl killed at any moment therefore keeps every visit written
//! before the last completed flush (the task logs each one at debug level), loses at most
//! about a second of visits, and never stores a snapshot twice (a rerun with the same
//! `--at` overwrites by key). The run's end always flushes (see [`Committer::finish`]).
//!
//! Types: [`Committer`], [`CommitPolicy`].

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::store::{Store, StoreError};

/// When the committer flushes.
#[derive(Debug, Clone, Copy)]
pub struct CommitPolicy {
    /// Least time between the starts of two flushes.
    pub every: Duration,
    /// Flush sooner once this many visits are waiting.
    pub max_pending: u64,
}

impl Default for CommitPolicy {
    /// About a second of a fast crawl; a slow one flushes each visit within a second.
    fn default() -> Self {
        CommitPolicy {
            every: Duration::from_secs(1),
            max_pending: 1000,
        }
    }
}

/// Visits and snapshots written so far (cumulative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Written {
    visits: u64,
    snapshots: u64,
}

/// Owns the flush task of one crawl.
pub struct Committer {
    written: watch::Sender<Written>,
    task: JoinHandle<()>,
    /// The first flush error, kept for the coordinator's next call.
    failed: Arc<Mutex<Option<StoreError>>>,
}

type Flush = Arc<dyn Fn() -> Result<(), StoreError> + Send + Sync>;

impl Committer {
    /// Starts the flush task on the current runtime; `flush` makes every write so far
    /// durable (blocking: it runs on the blocking pool).
    pub fn start(
        flush: impl Fn() -> Result<(), StoreError> + Send + Sync + 'static,
        policy: CommitPolicy,
    ) -> Committer {
        let (written, notes) = watch::channel(Written::default());
        let failed = Arc::new(Mutex::new(None));
        let task = tokio::spawn(flush_loop(notes, Arc::new(flush), policy, failed.clone()));
        Committer {
            written,
            task,
            failed,
        }
    }

    /// The committer of a crawl into `store`, with the default policy.
    pub fn for_store(store: &Store) -> Committer {
        let store = store.clone();
        Committer::start(move || store.flush(), CommitPolicy::default())
    }

    /// Notes that `visits` more visits were written, `snapshots` of them with a snapshot.
    /// Never waits; fails if an earlier flush failed.
    pub fn written(&self, visits: u64, snapshots: u64) -> Result<(), StoreError> {
        take_error(&self.failed)?;
        if visits > 0 {
            self.written.send_modify(|w| {
                w.visits += visits;
                w.snapshots += snapshots;
            });
        }
        Ok(())
    }

    /// Stops the task after its flush in progress; the caller's own last flush (after it
    /// writes the run record) makes the rest durable.
    pub async fn finish(self) -> Result<(), StoreError> {
        let Committer {
            written,
            task,
            failed,
        } = self;
        drop(written);
        if let Err(e) = task.await {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        take_error(&failed)
    }
}

fn take_error(failed: &Mutex<Option<StoreError>>) -> Result<(), StoreError> {
    match failed.lock().unwrap_or_else(PoisonError::into_inner).take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Flushes while writes are pending, grouped per the policy; ends when the sender is
/// dropped or a flush fails (the error is left in `failed`).
async fn flush_loop(
    mut notes: watch::Receiver<Written>,
    flush: Flush,
    policy: CommitPolicy,
    failed: Arc<Mutex<Option<StoreError>>>,
) {
    let mut durable = Written::default();
    let mut last_start: Option<Instant> = None;
    loop {
        while *notes.borrow_and_update() == durable {
            if notes.changed().await.is_err() {
                return;
            }
        }
        if let Some(start) = last_start {
            let due = start + policy.every;
            while notes.borrow().visits - durable.visits < policy.max_pending {
                tokio::select! {
                    () = tokio::time::sleep_until(due) => break,
                    changed = notes.changed() => if changed.is_err() { return },
                }
            }
        }
        let target = *notes.borrow();
        last_start = Some(Instant::now());
        let flush = flush.clone();
        let result = tokio::task::spawn_blocking(move || flush())
            .await
            .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        if let Err(e) = result {
            *failed.lock().unwrap_or_else(PoisonError::into_inner) = Some(e);
            return;
        }
        durable = target;
        tracing::debug!(
            visits = durable.visits,
            snapshots = durable.snapshots,
            "store flushed: every visit written before is durable"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{channel, Receiver, Sender};

    /// A flush held until the test lets it go: each call says it started, then waits.
    struct Gate {
        started: Receiver<()>,
        release: Sender<()>,
    }

    impl Gate {
        fn flush() -> (impl Fn() -> Result<(), StoreError> + Send + Sync, Gate) {
            let (started_tx, started) = channel();
            let (release, release_rx) = channel::<()>();
            let release_rx = Mutex::new(release_rx);
            let flush = move || {
                started_tx.send(()).unwrap();
                release_rx.lock().unwrap().recv().unwrap();
                Ok(())
            };
            (flush, Gate { started, release })
        }

        /// Waits for the next flush to start, then lets it finish.
        fn pass_one(&self) {
            tokio::task::block_in_place(|| {
                self.started
                    .recv_timeout(Duration::from_secs(60))
                    .expect("a flush started");
            });
            self.release.send(()).unwrap();
        }

        fn no_flush_started(&self) -> bool {
            self.started.try_recv().is_err()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_never_wait_for_the_disk_and_are_grouped() {
        let (flush, gate) = Gate::flush();
        let policy = CommitPolicy {
            every: Duration::ZERO,
            max_pending: 1000,
        };
        let committer = Committer::start(flush, policy);
        committer.written(1, 1).unwrap();
        tokio::task::block_in_place(|| gate.started.recv_timeout(Duration::from_secs(60)))
            .expect("the first write starts a flush");
        // The flush is held: noting writes must not wait for it.
        for _ in 0..100 {
            committer.written(1, 1).unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(gate.no_flush_started(), "one flush at a time");
        gate.release.send(()).unwrap();
        // Everything written during the first flush goes into one more.
        gate.pass_one();
        committer.finish().await.unwrap();
        assert!(gate.no_flush_started(), "101 writes, two flushes");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_group_flushes_before_its_time() {
        let (flush, gate) = Gate::flush();
        let policy = CommitPolicy {
            every: Duration::from_secs(3600),
            max_pending: 5,
        };
        let committer = Committer::start(flush, policy);
        committer.written(1, 1).unwrap();
        gate.pass_one();
        committer.written(2, 2).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(gate.no_flush_started(), "two pending wait for the hour");
        committer.written(3, 0).unwrap();
        gate.pass_one();
        committer.finish().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_flush_reaches_the_coordinator() {
        let (tx, rx) = channel();
        let committer = Committer::start(
            move || {
                tx.send(()).unwrap();
                Err(StoreError::Missing {
                    path: "gone".into(),
                })
            },
            CommitPolicy::default(),
        );
        committer.written(1, 1).unwrap();
        tokio::task::block_in_place(|| rx.recv_timeout(Duration::from_secs(60))).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let error = committer
            .written(1, 1)
            .err()
            .or(committer.finish().await.err());
        assert!(error.is_some(), "the error is reported");
    }
}
