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
    /// The UTC day the snapshot was taken.
    pub day: Day,
    /// When the snapshot was taken.
    pub at: DateTime<Utc>,
    /// Shared between readings: a window holds few distinct software names.
    pub software: Arc<str>,
    /// Users (`None`: not reported).
    pub users_total: Option<i64>,
    /// Monthly active users (`None`: not reported).
    pub active_month: Option<i64>,
    /// Half-year active users (`None`: not reported).
    pub active_halfyear: Option<i64>,
    /// Local posts (`None`: not reported).
    pub local_posts: Option<i64>,
    /// Sign-ups in the server's last complete week (Mastodon's instance activity).
    pub registrations_week: Option<i64>,
    /// The languages the server declares, normalized (see [`language_code`]); shared
    /// between readings, as most servers declare the same few lists.
    pub languages: Arc<[Arc<str>]>,
}

/// Each server's readings over `from..=to`, oldest first, at most one per day.
#[derive(Debug, Default)]
pub struct Window {
    /// Each server's readings, oldest first, at most one per day.
    pub servers: BTreeMap<Domain, Vec<Reading>>,
    names: HashMap<String, Arc<str>>,
    language_lists: HashMap<Vec<String>, Arc<[Arc<str>]>>,
}

impl Window {
    /// Every server's readings.
    pub fn load(store: &Store, from: Day, to: Day) -> Result<Window, StoreError> {
        Window::load_days(store, Day::range(from, to))
    }

    /// The readings of `days` only (ascending): what a comparison of a few days needs.
    pub fn load_days(
        store: &Store,
        days: impl IntoIterator<Item = Day>,
    ) -> Result<Window, StoreError> {
        let mut window = Window::default();
        for day in days {
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
                .or_insert_with_key(|name| Arc::from(software_name(name)))
                .clone();
            let names = &mut self.names;
            let languages = self
                .language_lists
                .entry(stats.languages)
                .or_insert_with_key(|list| languages(list, names))
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
                    registrations_week: stats.registrations_week,
                    languages,
                });
        }
    }
}

/// A stored software name as reports show and filter it. Names stored before the
/// parsers cleaned remote text are cleaned here, so no report, chart or page shows a
/// control character.
pub fn software_name(stored: &str) -> String {
    clean(stored).unwrap_or_else(|| "unknown".into())
}

/// A declared language list as the report counts it: each entry as [`language_code`],
/// unreadable entries dropped, each language once, interned in `names`.
fn languages(list: &[String], names: &mut HashMap<String, Arc<str>>) -> Arc<[Arc<str>]> {
    let mut codes: Vec<Arc<str>> = Vec::new();
    for code in list.iter().filter_map(|l| language_code(l)) {
        let code = names
            .entry(code)
            .or_insert_with_key(|c| Arc::from(c.as_str()))
            .clone();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes.into()
}

/// The primary subtag of a language tag, lowercased ("en-US" and "EN" are "en"); `None`
/// for anything that is not 2 to 8 ASCII letters, so a hostile server cannot name a
/// language `<script>` or fill the table with noise.
pub fn language_code(tag: &str) -> Option<String> {
    let primary = tag.trim().split(['-', '_']).next()?;
    ((2..=8).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| primary.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags_reduce_to_their_primary_subtag() {
        assert_eq!(language_code("en-US").as_deref(), Some("en"));
        assert_eq!(language_code(" DE ").as_deref(), Some("de"));
        assert_eq!(language_code("zh_Hant").as_deref(), Some("zh"));
        assert_eq!(language_code("<script>"), None);
        assert_eq!(language_code("e"), None);
        assert_eq!(language_code(""), None);
        let mut names = HashMap::new();
        let list = languages(&["en".into(), "en-GB".into(), "x1".into()], &mut names);
        assert_eq!(list.len(), 1);
    }
}
