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

use std::collections::btree_map;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::day::Day;
use crate::domain::Domain;
use crate::report::derive::{self, DaySummary};
use crate::report::stats::{Compare, Filter, CARRY_DAYS};
use crate::report::window::software_name;
use crate::store::{DayCount, Status, Store, StoreError};

/// Where each server stands on each compared day.
pub(crate) struct Standings {
    /// Per compared day, in server-id order.
    days: BTreeMap<Day, Vec<Stand>>,
    software: Option<String>,
    include_suspect: bool,
}

/// One server on one compared day: it would count with suspect data included.
struct Stand {
    server: u32,
    domain: Domain,
    software: Arc<str>,
    suspect: bool,
    users: Option<i64>,
}

impl Standings {
    /// Reads the days `ends` compare; `summaries` may hold some of their summaries
    /// (the others are read or computed).
    pub(crate) fn load(
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
        let mut raw: BTreeMap<Day, Vec<DayCount>> = BTreeMap::new();
        for &d in ends {
            for day in Day::range(d.add_days(-CARRY_DAYS), d) {
                if let btree_map::Entry::Vacant(e) = raw.entry(day) {
                    e.insert(store.day_counts(day)?);
                }
            }
        }
        let mut names: HashMap<Arc<str>, Arc<str>> = HashMap::new();
        let mut days = BTreeMap::new();
        for &d in ends {
            // Each server's latest reading of the days that can count on `d`, by id.
            let mut latest: Vec<Option<&DayCount>> = Vec::new();
            for (_, counts) in raw.range(d.add_days(-CARRY_DAYS)..=d) {
                for c in counts {
                    let i = c.server as usize;
                    if latest.len() <= i {
                        latest.resize(i + 1, None);
                    }
                    latest[i] = Some(c);
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
                .flatten()
                .filter(|c| !opted_out.contains(&c.domain))
                .map(|c| Stand {
                    server: c.server,
                    domain: c.domain.clone(),
                    software: names
                        .entry(c.software.clone())
                        .or_insert_with_key(|s| Arc::from(software_name(s)))
                        .clone(),
                    suspect: suspect.contains(&c.domain),
                    users: c.users_total,
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

    /// The users with which `stand`'s server counts (0 if it did not say), if it does.
    fn counted(&self, stand: Option<&Stand>) -> Option<i64> {
        let stand = stand?;
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
        // Both days are in server-id order: one merge.
        let (mut before, mut after) = (
            self.days[&d1].iter().peekable(),
            self.days[&d2].iter().peekable(),
        );
        let mut out = Vec::new();
        loop {
            let (b, a) = match (before.peek(), after.peek()) {
                (None, None) => return out,
                (Some(b), Some(a)) if b.server == a.server => (before.next(), after.next()),
                (Some(b), Some(a)) if b.server < a.server => (before.next(), None),
                (Some(_), None) => (before.next(), None),
                _ => (None, after.next()),
            };
            let domain = &b.or(a).expect("one side").domain;
            let (b, a) = (self.counted(b), self.counted(a));
            if b.is_some() || a.is_some() {
                out.push((domain.clone(), b, a));
            }
        }
    }
}
