//! The per-server and per-run records kept beside the snapshots.
//!
//! Types: [`ServerRecord`] (everything known about one name: discovery, liveness,
//! schedule, canonical identity, and the transitions a visit causes), [`Status`],
//! [`RunRecord`] (one crawl run).
//!
//! The re-probe schedule: a name that was unreachable, or served no NodeInfo, on
//! [`PROBE_GRACE`] consecutive visits is next tried after 1 day, then 2, 4, 8, 16 and
//! at most [`MAX_PROBE_GAP`] days. A real crawl knows 100,000+ names and most are dead;
//! this keeps them from costing a connection attempt every run, while a server that
//! comes back is found again within a month.
//!
//! The liveness rule overrides the schedule for recent servers: a server that answered
//! within the last [`LIVENESS_WINDOW`] days is visited on every run whatever its schedule
//! says ([`Due::Liveness`]). The crawl makes such a visit start with one cheap request
//! (a short timeout, first-contact slots; see `fetch::Contact`) and continues into a full
//! visit only if it is answered, so a server back from an outage is counted the day it
//! answers again, for the price of one request a day while it is down.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::day::Day;
use crate::domain::Domain;
use crate::outcome::{FailureReason, OptOut};
use crate::snapshot::ServerStats;

/// Unreachable visits in a row before a name leaves the every-run schedule.
pub const PROBE_GRACE: u32 = 3;
/// The longest gap between two probes of a dead name, in days.
pub const MAX_PROBE_GAP: i64 = 30;
/// Days after its last answer during which a server is checked on every run.
pub const LIVENESS_WINDOW: i64 = 30;

/// One known server name. Per-server state lives here and nowhere else, so a rerun after
/// a crash picks up exactly where the database says it was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerRecord {
    /// The name this record is about: its key in the `servers` tree.
    pub domain: Domain,
    /// The run instant (`--at`) at which the name was first recorded.
    pub first_discovered: DateTime<Utc>,
    /// The server whose peer list first named this one (None for seeds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovered_via: Option<Domain>,
    /// The earliest snapshot instant at which the server answered with NodeInfo (None:
    /// never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_up: Option<DateTime<Utc>>,
    /// The latest snapshot instant at which the server answered with NodeInfo (None:
    /// never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_up: Option<DateTime<Utc>>,
    /// The latest run instant at which the name was visited (None: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempt: Option<DateTime<Utc>>,
    /// Consecutive visits that found nobody there, or no fediverse server (see
    /// [`FailureReason::backs_off`]); drives the re-probe schedule.
    #[serde(default)]
    pub consecutive_failures: u32,
    /// Not visited before this instant (None: visit on the next run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_probe: Option<DateTime<Utc>>,
    /// NodeInfo `software.name` (lowercased) of its latest snapshot (None: never up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<String>,
    /// NodeInfo `software.version` of its latest snapshot, if it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Other names under which this same server answered.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub aliases: BTreeSet<Domain>,
    /// Where the name stands after its latest visit.
    pub status: Status,
}

/// Whether a run visits a name, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Not visited: an alias, or a name waiting for its re-probe that has not answered
    /// within the last [`LIVENESS_WINDOW`] days.
    No,
    /// New, answering, or its re-probe time has come.
    Scheduled,
    /// Only because it answered within the last [`LIVENESS_WINDOW`] days.
    Liveness,
}

/// Where a name stands after its latest visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Status {
    /// Discovered, never visited.
    New,
    /// Answered with NodeInfo on the latest visit.
    Up,
    /// The latest visit failed.
    Failed {
        /// Why.
        reason: FailureReason,
    },
    /// On the latest visit, the server asked not to be counted.
    OptedOut {
        /// How it asked.
        how: OptOut,
    },
    /// This name is another spelling of `canonical`; it is never counted on its own.
    Alias {
        /// The server's canonical name, under which it is counted.
        canonical: Domain,
    },
}

impl ServerRecord {
    /// The record of a name first recorded at `at`, from the peer list of `via` (None
    /// for a seed): never visited, due on the next run.
    pub fn discovered(domain: Domain, at: DateTime<Utc>, via: Option<Domain>) -> Self {
        ServerRecord {
            domain,
            first_discovered: at,
            discovered_via: via,
            first_up: None,
            last_up: None,
            last_attempt: None,
            consecutive_failures: 0,
            next_probe: None,
            software: None,
            version: None,
            aliases: BTreeSet::new(),
            status: Status::New,
        }
    }

    /// Whether a run recorded at `at` should visit this name.
    pub fn is_due(&self, at: DateTime<Utc>) -> bool {
        self.due(at) != Due::No
    }

    /// Whether and why a run recorded at `at` visits this name (rules in the module doc).
    pub fn due(&self, at: DateTime<Utc>) -> Due {
        if matches!(self.status, Status::Alias { .. }) {
            Due::No
        } else if self.next_probe.is_none_or(|t| t <= at) {
            Due::Scheduled
        } else if self
            .last_up
            .is_some_and(|up| at - up <= Duration::days(LIVENESS_WINDOW))
        {
            Due::Liveness
        } else {
            Due::No
        }
    }

    /// Whether the latest visit found the server answering: its next visit is trusted
    /// with the crawl's full timeout and slots rather than a first-contact probe.
    pub fn answered_last(&self) -> bool {
        match self.status {
            Status::Up | Status::OptedOut { .. } => true,
            Status::Failed { reason } => !reason.is_unreachable(),
            Status::New | Status::Alias { .. } => false,
        }
    }

    /// The server answered with NodeInfo; `aliases` are other names it answered under.
    pub fn record_up(
        &mut self,
        at: DateTime<Utc>,
        stats: &ServerStats,
        aliases: impl IntoIterator<Item = Domain>,
    ) {
        self.first_up = Some(self.first_up.map_or(at, |t| t.min(at)));
        self.last_up = Some(self.last_up.map_or(at, |t| t.max(at)));
        self.attempted(at);
        self.consecutive_failures = 0;
        self.next_probe = None;
        self.software = Some(stats.software.clone());
        self.version = stats.version.clone();
        self.aliases
            .extend(aliases.into_iter().filter(|a| *a != self.domain));
        self.status = Status::Up;
    }

    /// A visit at `at` failed for `reason`: a failure that [backs off](FailureReason::backs_off)
    /// moves the next probe along the schedule, any other has it tried on the next run; a
    /// `local` failure (ours) changes nothing.
    pub fn record_failure(&mut self, at: DateTime<Utc>, reason: FailureReason) {
        if reason == FailureReason::Local {
            // Our fault, not the server's: leave its state as it was.
            return;
        }
        self.attempted(at);
        self.status = Status::Failed { reason };
        if reason.backs_off() {
            self.consecutive_failures += 1;
            self.next_probe = probe_gap(self.consecutive_failures).map(|gap| at + gap);
        } else {
            // It answered, so it is alive: try again on the next run.
            self.consecutive_failures = 0;
            self.next_probe = None;
        }
    }

    /// The DNS said the name does not exist (NXDOMAIN): dead names are most of a real
    /// crawl, so this one goes straight onto the growing re-probe schedule, without the
    /// grace visits of a name that merely did not answer.
    pub fn record_nonexistent(&mut self, at: DateTime<Utc>) {
        self.consecutive_failures = self.consecutive_failures.max(PROBE_GRACE - 1);
        self.record_failure(at, FailureReason::Dns);
    }

    /// A visit at `at` was told `how` not to count the server; it is visited again on the
    /// next run.
    pub fn record_opt_out(&mut self, at: DateTime<Utc>, how: OptOut) {
        self.attempted(at);
        self.consecutive_failures = 0;
        self.next_probe = None;
        self.status = Status::OptedOut { how };
    }

    /// This name answered as another server.
    pub fn record_alias(&mut self, at: DateTime<Utc>, canonical: Domain) {
        self.attempted(at);
        self.consecutive_failures = 0;
        self.next_probe = None;
        self.status = Status::Alias { canonical };
    }

    /// The first day whose census can differ when this record replaces `old`: the
    /// reporter reads a record's first-up time (new servers, spam farms), whether it
    /// opted out and whether it is an alias, for every day from its first up.
    pub fn reach_of_change(&self, old: Option<&ServerRecord>) -> Option<Day> {
        let facts = |r: &ServerRecord| {
            (
                r.first_up,
                matches!(r.status, Status::OptedOut { .. }),
                matches!(r.status, Status::Alias { .. }),
            )
        };
        if old.map(facts) == Some(facts(self)) {
            return None;
        }
        let old_first = old.and_then(|o| o.first_up);
        [old_first, self.first_up]
            .into_iter()
            .flatten()
            .min()
            .map(Day::of)
    }

    fn attempted(&mut self, at: DateTime<Utc>) {
        self.last_attempt = Some(self.last_attempt.map_or(at, |t| t.max(at)));
    }
}

/// The wait before the next probe after `failures` unreachable visits in a row.
pub fn probe_gap(failures: u32) -> Option<Duration> {
    let doublings = failures.checked_sub(PROBE_GRACE)?;
    let days = 1i64
        .checked_shl(doublings)
        .unwrap_or(i64::MAX)
        .min(MAX_PROBE_GAP);
    // A little less than whole days, so a daily cron run at a slightly earlier time of
    // day than the last one still finds the name due.
    Some(Duration::days(days) - Duration::hours(1))
}

/// One crawl run, written when it starts and again when it ends; a run without `ended`
/// was interrupted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's key in the `runs` tree, from sled's id generator: later runs get larger
    /// ids.
    pub id: u64,
    /// Wall-clock time the run started.
    pub started: DateTime<Utc>,
    /// The instant snapshots were recorded as taken (`--at`, else the start).
    pub at: DateTime<Utc>,
    /// Wall-clock time the run ended; None while it runs, or if it was interrupted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<DateTime<Utc>>,
    /// The options the run was started with, as given.
    pub options: serde_json::Value,
    /// The run summary (see `crawl::Summary`), once the run has ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn probe_schedule_grows_to_a_month() {
        let days: Vec<Option<i64>> = (1..=12)
            .map(|n| probe_gap(n).map(|d| (d + Duration::hours(1)).num_days()))
            .collect();
        assert_eq!(
            days,
            [
                None,
                None,
                Some(1),
                Some(2),
                Some(4),
                Some(8),
                Some(16),
                Some(30),
                Some(30),
                Some(30),
                Some(30),
                Some(30)
            ]
        );
        assert_eq!(probe_gap(200).map(|d| d.num_days()), Some(29));
    }

    #[test]
    fn failures_back_off_and_an_answer_resets() {
        let d = Domain::parse("dead.social").unwrap();
        let mut r = ServerRecord::discovered(d.clone(), t("2024-01-01T00:00:00Z"), None);
        let day = |n: i64| t("2024-01-01T12:00:00Z") + Duration::days(n);
        for n in 0..3 {
            assert!(r.is_due(day(n)));
            r.record_failure(day(n), FailureReason::Connect);
        }
        assert_eq!(r.consecutive_failures, 3);
        assert!(!r.is_due(day(2) + Duration::hours(12)));
        assert!(r.is_due(day(3)));
        // An HTTP error means someone is there: back on the every-run schedule.
        r.record_failure(day(3), FailureReason::HttpStatus);
        assert_eq!((r.consecutive_failures, r.next_probe), (0, None));
        // A host without NodeInfo backs off like a dead one.
        let mut website = ServerRecord::discovered(d.clone(), day(0), None);
        for n in 0..PROBE_GRACE {
            website.record_failure(day(n.into()), FailureReason::NotFediverse);
        }
        assert!(!website.is_due(day(2) + Duration::hours(12)));
        assert!(website.is_due(day(3)));
        let stats = ServerStats {
            software: "mastodon".into(),
            ..Default::default()
        };
        r.record_up(
            day(5),
            &stats,
            [d.clone(), Domain::parse("www.dead.social").unwrap()],
        );
        r.record_up(day(4), &stats, []);
        assert_eq!(r.first_up, Some(day(4)));
        assert_eq!(r.last_up, Some(day(5)));
        assert_eq!(r.aliases.len(), 1, "a server is not its own alias");
        r.record_alias(day(6), Domain::parse("other.social").unwrap());
        assert!(!r.is_due(day(7)));
    }

    #[test]
    fn recent_servers_are_checked_every_run_and_old_ones_follow_the_schedule() {
        let d = Domain::parse("flaky.social").unwrap();
        let day = |n: i64| t("2024-01-01T12:00:00Z") + Duration::days(n);
        let mut r = ServerRecord::discovered(d, day(0), None);
        assert!(!r.answered_last(), "a new name gets a first-contact probe");
        r.record_up(day(0), &ServerStats::default(), []);
        assert!(r.answered_last());
        let mut due = Vec::new();
        for n in 1..=45 {
            due.push(r.due(day(n)));
            if r.is_due(day(n)) {
                r.record_failure(day(n), FailureReason::Timeout);
                assert!(!r.answered_last());
            }
        }
        let days =
            |want: Due| -> Vec<i64> { (1..=45).filter(|n| due[*n as usize - 1] == want).collect() };
        // Days 1-3 are the grace and day 4 the first re-probe; then the schedule would
        // wait 2, 4, 8… days, but the liveness rule checks every day through day 30 after
        // the last answer. After that the long schedule (now at its 30-day cap) rules.
        assert_eq!(days(Due::Scheduled), [1, 2, 3, 4]);
        assert_eq!(days(Due::Liveness), (5..=30).collect::<Vec<_>>());
        assert_eq!(days(Due::No), (31..=45).collect::<Vec<_>>());
        // It answers again: back on the every-run schedule.
        r.record_up(day(46), &ServerStats::default(), []);
        assert_eq!(r.due(day(47)), Due::Scheduled);
    }

    #[test]
    fn a_name_that_does_not_exist_skips_the_grace_visits() {
        let d = Domain::parse("gone.social").unwrap();
        let at = t("2024-01-01T12:00:00Z");
        let mut r = ServerRecord::discovered(d, at, None);
        r.record_nonexistent(at);
        assert_eq!(
            r.status,
            Status::Failed {
                reason: FailureReason::Dns
            }
        );
        assert_eq!(r.consecutive_failures, PROBE_GRACE);
        assert!(!r.is_due(at + Duration::hours(12)));
        assert!(r.is_due(at + Duration::days(1)));
        r.record_nonexistent(at + Duration::days(1));
        assert_eq!(
            r.next_probe,
            Some(at + Duration::days(3) - Duration::hours(1))
        );
    }
}
