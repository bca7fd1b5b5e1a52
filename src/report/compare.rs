//! A period's server-by-server comparisons (its growth split, each wave's top servers)
//! from the few days they compare, read cheaply: what reports use in place of a
//! [`Census`](super::stats::Census) over a window of history.
//!
//! Where a server stands on day D needs only its latest reading of D − [`CARRY_DAYS`]
//! through D (an older one no longer counts), whether it opted out (its record), and
//! whether that reading is suspect, which the day's stored summary already lists with
//! its rule (suspect verdicts never change once written). So each compared day costs
//! [`CARRY_DAYS`] + 1 days of raw blocks, with no string copied and no rule re-run:
//! O(servers × 8 × compared days), whatever the period's length. The derive oracle
//! test checks that the period it makes equals `Census`'s, field by field.
//!
//! Types: [`Standings`].

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::day::Day;
use crate::domain::Domain;
use crate::report::derive::{self, DaySummary};
use crate::report::stats::{Compare, Filter, CARRY_DAYS};
use crate::report::window::software_name;
use crate::store::{DayCount, Status, Store, StoreError};

/// Where each server stands on each compared day.
pub struct Standings {
    days: BTreeMap<Day, HashMap<Domain, Stand>>,
    software: Option<String>,
    include_suspect: bool,
}

/// One server on one compared day: it would count with suspect data included.
struct Stand {
    software: Arc<str>,
    suspect: bool,
    users: Option<i64>,
}

impl Standings {
    /// Reads the days `ends` compare; `summaries` may hold some of their summaries
    /// (the others are read or computed).
    pub fn load(
        store: &Store,
        ends: &BTreeSet<Day>,
        summaries: &BTreeMap<Day, DaySummary>,
        filter: &Filter,
    ) -> Result<Standings, StoreError> {
        let mut opted_out = HashSet::new();
        for record in store.servers() {
            let record = record?;
            if matches!(record.status, Status::OptedOut { .. }) {
                opted_out.insert(record.domain);
            }
        }
        let mut raw: HashMap<Day, Vec<DayCount>> = HashMap::new();
        let mut names: HashMap<Arc<str>, Arc<str>> = HashMap::new();
        let mut days = BTreeMap::new();
        for &d in ends {
            let mut latest: HashMap<Domain, (Arc<str>, Option<i64>)> = HashMap::new();
            for day in Day::range(d.add_days(-CARRY_DAYS), d) {
                let counts = match raw.entry(day) {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => e.insert(store.day_counts(day)?),
                };
                for c in counts.iter() {
                    latest.insert(c.domain.clone(), (c.software.clone(), c.users_total));
                }
            }
            let computed;
            let summary = match summaries.get(&d) {
                Some(s) => s,
                None => {
                    computed = derive::summaries(store, d, d)?;
                    &computed[&d]
                }
            };
            let suspect: HashSet<&Domain> = summary.flagged.iter().map(|f| &f.domain).collect();
            let stands = latest
                .into_iter()
                .filter(|(domain, _)| !opted_out.contains(domain))
                .map(|(domain, (stored, users))| {
                    let software = names
                        .entry(stored)
                        .or_insert_with_key(|s| Arc::from(software_name(s)))
                        .clone();
                    let stand = Stand {
                        software,
                        suspect: suspect.contains(&domain),
                        users,
                    };
                    (domain, stand)
                })
                .collect();
            days.insert(d, stands);
        }
        Ok(Standings {
            days,
            software: filter.software_name(),
            include_suspect: filter.include_suspect,
        })
    }

    /// The users with which `domain` counts on `d` (0 if it did not say), if it does.
    fn counted(&self, d: Day, domain: &Domain) -> Option<i64> {
        let stand = self.days.get(&d)?.get(domain)?;
        let counts = self
            .software
            .as_deref()
            .is_none_or(|s| s == &*stand.software)
            && (!stand.suspect || self.include_suspect);
        counts.then(|| stand.users.unwrap_or(0))
    }
}

impl Compare for Standings {
    /// # Panics
    /// If `d1` or `d2` is not among the days loaded.
    fn pairs(&self, d1: Day, d2: Day) -> Vec<(Domain, Option<i64>, Option<i64>)> {
        let servers: BTreeSet<&Domain> =
            [d1, d2].iter().flat_map(|d| self.days[d].keys()).collect();
        servers
            .into_iter()
            .filter_map(|domain| {
                let (before, after) = (self.counted(d1, domain), self.counted(d2, domain));
                (before.is_some() || after.is_some()).then(|| (domain.clone(), before, after))
            })
            .collect()
    }
}
