//! Histories written straight into a temporary store, for report and page tests: crawl
//! runs on chosen days, and servers answering on chosen days, recorded as the crawler
//! records them.

use chrono::{DateTime, Duration, Utc};
use fedicensus::day::Day;
use fedicensus::domain::Domain;
use fedicensus::snapshot::{ServerStats, Snapshot};
use fedicensus::store::{ServerRecord, Store};
use tempfile::TempDir;

/// Day 0 of every history: the census's first crawl.
pub fn d(n: i64) -> Day {
    Day::from_ymd(2022, 10, 27).unwrap().add_days(n)
}

pub fn noon(n: i64) -> DateTime<Utc> {
    d(n).start() + Duration::hours(12)
}

/// Numbers a server reports: half-year active is twice monthly (at most all users),
/// posts ten per user.
pub fn stats(software: &str, users: i64, active: i64) -> ServerStats {
    ServerStats {
        software: software.into(),
        users_total: Some(users),
        active_month: Some(active),
        active_halfyear: Some((active * 2).min(users)),
        local_posts: Some(users * 10),
        ..Default::default()
    }
}

pub struct Fixture {
    _dir: TempDir,
    pub store: Store,
}

impl Fixture {
    /// A store with a finished crawl run on each of `days`.
    pub fn new(days: impl IntoIterator<Item = i64>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        for n in days {
            let mut run = store
                .start_run(noon(n), noon(n), serde_json::json!({}))
                .unwrap();
            run.ended = Some(noon(n) + Duration::hours(1));
            store.put_run(&run).unwrap();
        }
        Fixture { _dir: dir, store }
    }

    /// `name` answered at noon on day `n` with `stats`; its record follows, as the
    /// crawler keeps it.
    pub fn up(&self, name: &str, n: i64, stats: ServerStats) {
        let domain = Domain::parse(name).unwrap();
        let at = noon(n);
        let mut record = self
            .store
            .server(&domain)
            .unwrap()
            .unwrap_or_else(|| ServerRecord::discovered(domain.clone(), at, None));
        record.record_up(at, &stats, []);
        self.store
            .record_visit(&[record], &Snapshot { domain, at, stats })
            .unwrap();
    }
}
