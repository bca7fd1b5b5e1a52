//! The slice of history a report reads: each server's latest snapshot of each day over
//! a bounded range of days, regrouped per server.
//!
//! Reading a range costs one read per day and group of servers, so a window of `n`
//! days costs O(servers × n) whatever the length of the full history.
//!
//! Types: [`Window`] (every server's readings in a range of days), [`Reading`] (the
//! numbers of one server's latest snapshot of one day).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::day::Day;
use crate::domain::Domain;
use crate::snapshot::Snapshot;
use crate::store::{Store, StoreError};
use crate::text::clean;

/// The part of a snapshot the statistics use. Kept small because a window holds one
/// per server per day.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub day: Day,
    pub at: DateTime<Utc>,
    /// Shared between readings: a window holds few distinct software names.
    pub software: Arc<str>,
    pub users_total: Option<i64>,
    pub active_month: Option<i64>,
    pub active_halfyear: Option<i64>,
    pub local_posts: Option<i64>,
}

/// Each server's readings over `from..=to`, oldest first, at most one per day.
#[derive(Debug, Default)]
pub struct Window {
    pub servers: BTreeMap<Domain, Vec<Reading>>,
    names: HashMap<String, Arc<str>>,
}

impl Window {
    /// Every server's readings.
    pub fn load(store: &Store, from: Day, to: Day) -> Result<Window, StoreError> {
        let mut window = Window::default();
        for day in Day::range(from, to) {
            window.add(day, store.day_snapshots(day)?);
        }
        Ok(window)
    }

    /// The readings of the servers of one group (see `Store::group_days`).
    pub fn load_group(store: &Store, group: u32, from: Day, to: Day) -> Result<Window, StoreError> {
        let mut window = Window::default();
        for (day, snapshots) in store.group_days(group, from, to)? {
            window.add(day, snapshots);
        }
        Ok(window)
    }

    /// Adds each server's latest snapshot of `day` (days in ascending order).
    fn add(&mut self, day: Day, snapshots: Vec<Snapshot>) {
        for snapshot in snapshots {
            let stats = snapshot.stats;
            let software = self
                .names
                .entry(stats.software)
                // Names stored before the parsers cleaned remote text are cleaned
                // here, so no report, chart or page shows a control character.
                .or_insert_with_key(|name| {
                    Arc::from(clean(name).unwrap_or_else(|| "unknown".into()))
                })
                .clone();
            self.servers
                .entry(snapshot.domain)
                .or_default()
                .push(Reading {
                    day,
                    at: snapshot.at,
                    software,
                    users_total: stats.users_total,
                    active_month: stats.active_month,
                    active_halfyear: stats.active_halfyear,
                    local_posts: stats.local_posts,
                });
        }
    }
}
