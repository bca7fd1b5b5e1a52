//! A synthetic census history for the report benchmark: `servers` servers crawled once
//! a day for `days` days, written through the same store calls the crawler makes.
//!
//! The servers are those of [`World::generated`] (names, software mix, sizes, dead
//! and non-fediverse ones). Over the history, 60% exist from the first day and the rest
//! arrive evenly; every server gains sign-ups daily, its monthly actives wobble with the
//! weekday, about one day in sixty it is unreachable, and the simulation's dead servers
//! stop answering for good at some day. Every number is a function of (server, day), so
//! a history is reproducible from its size alone.
//!
//! Types: [`HistorySize`] (what the report and export benchmarks are asked for),
//! [`History`], and `Plan` (how one server evolves).

use chrono::{DateTime, Duration, Utc};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::day::Day;
use crate::domain::Domain;
use crate::outcome::FailureReason;
use crate::sim::{Behaviour, Kind, SimServer, World};
use crate::snapshot::{ServerStats, Snapshot, Source};
use crate::store::{self, ServerRecord, Store};

/// The size of a benchmark history: `servers` servers crawled once a day for `days`
/// days ending 2024-12-31 (fixed, so that runs are comparable).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct HistorySize {
    /// Servers in the history: those of a generated world of this size.
    pub servers: usize,
    /// Days of history, one crawl each.
    pub days: u32,
}

impl HistorySize {
    /// The history of this size, ending 2024-12-31.
    pub fn history(&self) -> History {
        let last_day = Day::from_ymd(2024, 12, 31).expect("a valid date");
        History::new(self.servers, self.days, last_day)
    }
}

/// The world the history's servers come from: fixed, so sizes alone decide the data.
const WORLD_SEED: u64 = 2024;
/// Share of the servers present on the first day, in percent.
const PRESENT_AT_START_PCT: usize = 60;
/// A server is unreachable on about one day in this many.
const OUTAGE_PERIOD: i64 = 61;

/// How one server evolves over the history; days count from the history's first.
#[derive(Debug, Clone)]
struct Plan {
    domain: Domain,
    kind: Kind,
    open_registrations: bool,
    born: i64,
    /// The first day it no longer answers, if it dies within reach.
    dies: Option<i64>,
    users_at_birth: i64,
    signups_per_day: i64,
    active_pct: i64,
    index: i64,
}

impl Plan {
    fn new(index: usize, server: &SimServer, servers: usize, days: i64) -> Plan {
        let present = servers * PRESENT_AT_START_PCT / 100;
        let born = match index.checked_sub(present) {
            None => 0,
            Some(late) => 1 + (late as i64 * (days - 1).max(0)) / (servers - present) as i64,
        };
        let lifetime = (days - born).max(1);
        let dies = server
            .has(&Behaviour::Dead)
            .then(|| born + 1 + (index as i64 * 31) % lifetime);
        Plan {
            domain: Domain::parse(&server.domain).expect("generated names are valid"),
            kind: server.kind,
            open_registrations: server.open_registrations,
            born,
            dies,
            users_at_birth: if born == 0 {
                server.users_total
            } else {
                1 + server.users_total / 100
            },
            signups_per_day: 1 + server.users_total / 1000,
            active_pct: server.active_month * 100 / server.users_total.max(1),
            index: index as i64,
        }
    }

    /// What the server reports on `day`, or `None` if it does not answer.
    fn stats_on(&self, day: i64) -> Option<ServerStats> {
        let alive = day >= self.born && self.dies.is_none_or(|d| day < d);
        let outage = (self.index * 7 + day * 13) % OUTAGE_PERIOD == 0;
        if !alive || outage || self.kind == Kind::NotFediverse {
            return None;
        }
        let age = day - self.born;
        let users = self.users_at_birth + self.signups_per_day * age;
        let active = (users * self.active_pct / 100 + day % 7).min(users);
        Some(ServerStats {
            software: self.kind.software_name().to_owned(),
            version: Some(self.kind.version().to_owned()),
            users_total: Some(users),
            active_month: Some(active),
            active_halfyear: Some((active * 2).min(users)),
            local_posts: Some(users * 30 + age * self.signups_per_day * 7),
            open_registrations: Some(self.open_registrations),
            registrations_week: None,
            schema: Some("2.1".to_owned()),
            languages: vec!["en".to_owned()],
            sources: vec![Source::NodeInfo],
            origin: None,
        })
    }

    /// Why a visit on a day it does not answer failed.
    fn failure(&self) -> FailureReason {
        match self.kind {
            Kind::NotFediverse => FailureReason::NotFediverse,
            _ => FailureReason::Connect,
        }
    }
}

/// A whole synthetic history, not yet written.
#[derive(Debug, Clone)]
pub struct History {
    plans: Vec<Plan>,
    days: i64,
    first_day: Day,
}

impl History {
    /// `servers` servers over `days` days ending on `last_day`.
    pub fn new(servers: usize, days: u32, last_day: Day) -> History {
        let days = i64::from(days);
        let world = World::generated(servers, WORLD_SEED);
        History {
            plans: world
                .servers
                .iter()
                .enumerate()
                .map(|(i, s)| Plan::new(i, s, servers, days))
                .collect(),
            days,
            first_day: last_day.add_days(1 - days),
        }
    }

    /// When day `n`'s crawl starts: noon UTC.
    fn crawl_start(&self, n: i64) -> DateTime<Utc> {
        self.first_day.add_days(n).start() + Duration::hours(12)
    }

    /// Writes the history as an import would: a run record per day and the day's
    /// snapshots in one bulk write ([`Store::put_snapshots`]), one flush per day; then
    /// every server's record in its final state. Returns the snapshots written.
    pub fn write(&self, store: &Store, progress: &ProgressBar) -> store::Result<u64> {
        let mut records: Vec<Option<ServerRecord>> = vec![None; self.plans.len()];
        let mut written = 0;
        progress.set_length(self.days as u64);
        for day in 0..self.days {
            let started = self.crawl_start(day);
            let mut run = store.start_run(started, started, serde_json::json!({"bench": true}))?;
            let mut snapshots = Vec::with_capacity(self.plans.len());
            for (i, (plan, record)) in self.plans.iter().zip(&mut records).enumerate() {
                if day < plan.born {
                    continue;
                }
                // Visits spread over the crawl's first hour, in name order as queued.
                let at = started + Duration::seconds((i * 3600 / self.plans.len()) as i64);
                let record = record
                    .get_or_insert_with(|| ServerRecord::discovered(plan.domain.clone(), at, None));
                match plan.stats_on(day) {
                    Some(stats) => {
                        record.record_up(at, &stats, []);
                        snapshots.push(Snapshot {
                            domain: plan.domain.clone(),
                            at,
                            stats,
                        });
                    }
                    None if record.is_due(at) => record.record_failure(at, plan.failure()),
                    None => {}
                }
            }
            written += store.put_snapshots(&snapshots)? as u64;
            run.ended = Some(started + Duration::hours(1));
            store.put_run(&run)?;
            store.flush()?;
            progress.inc(1);
        }
        for record in records.iter().flatten() {
            store.put_server(record)?;
        }
        store.flush()?;
        Ok(written)
    }

    /// The day of the history's first crawl.
    pub fn first_day(&self) -> Day {
        self.first_day
    }

    /// The day of the history's last crawl.
    pub fn last_day(&self) -> Day {
        self.first_day.add_days(self.days - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_arrive_grow_and_die() {
        let history = History::new(100, 50, Day::from_ymd(2024, 12, 31).unwrap());
        assert_eq!(history.first_day, Day::from_ymd(2024, 11, 12).unwrap());
        let born: Vec<i64> = history.plans.iter().map(|p| p.born).collect();
        assert_eq!(born.iter().filter(|&&b| b == 0).count(), 60);
        assert!(born.windows(2).all(|w| w[0] <= w[1]) && born[99] < 50);
        let users = |p: &Plan, d| p.stats_on(d).and_then(|s| s.users_total);
        let steady = history
            .plans
            .iter()
            .find(|p| p.dies.is_none() && p.kind != Kind::NotFediverse)
            .unwrap();
        let series: Vec<i64> = (0..50).filter_map(|d| users(steady, d)).collect();
        assert!(series.len() > 45 && series.windows(2).all(|w| w[0] < w[1]));
        for plan in history.plans.iter().filter(|p| p.dies.is_some()) {
            let dies = plan.dies.unwrap();
            assert!((dies..50).all(|d| users(plan, d).is_none()));
        }
    }
}
