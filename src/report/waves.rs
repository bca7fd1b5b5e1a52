//! Growth waves: runs of days on which new users or new servers rose well above their
//! usual level, named with their start, peak, end, size and the servers that grew most.
//!
//! The rule (also in the Method, [`crate::report::stats::METHOD`]): a day of a report
//! is *high* when its new users (the change in users since the day before) exceed
//! [`MULTIPLE`] times the median of the same number over the up to [`TRAILING_DAYS`]
//! days before it, and are at least [`MIN_USERS`]; or the same for new servers with at
//! least [`MIN_SERVERS`]. Only days with at least [`MIN_TRAILING_DAYS`] earlier days in
//! the report are judged, so a report of fewer than `MIN_TRAILING_DAYS + 2` days has no
//! waves. Consecutive high days form one wave.
//!
//! Types: [`Wave`], [`Contributor`], [`Measure`]; functions [`waves`], [`ends`].

use std::collections::BTreeSet;

use chrono::Datelike;
use serde::Serialize;

use crate::day::Day;
use crate::domain::Domain;
use crate::report::stats::{Compare, DayReport};

/// A day is compared with the median of at most this many days before it.
pub const TRAILING_DAYS: usize = 28;
/// A day is judged only with at least this many earlier days in the report.
pub const MIN_TRAILING_DAYS: usize = 7;
/// How far above the trailing median a day must be to be high.
pub const MULTIPLE: f64 = 3.0;
/// New users a high day must have at least (a flat census has a median of 0).
pub const MIN_USERS: i64 = 100;
/// New servers a high day must have at least.
pub const MIN_SERVERS: i64 = 3;
/// How many contributing servers a wave names.
pub const TOP_SERVERS: usize = 5;

/// Which number rose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// New users: the change in users since the day before.
    NewUsers,
    /// New servers: the day's `servers.new`.
    NewServers,
}

/// A server and how many users it gained over a wave (all of its users if the census
/// started counting it during the wave).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contributor {
    /// The server that grew.
    pub domain: Domain,
    /// Users it gained from the day before the wave through its last day.
    pub users: i64,
}

/// One growth wave.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wave {
    /// "Wave of November 7 to 12", for people to refer to it.
    pub name: String,
    /// The wave's first high day.
    pub start: Day,
    /// The high day with the most new users (or new servers, if only those rose).
    pub peak: Day,
    /// The wave's last high day.
    pub end: Day,
    /// What was high on at least one of its days.
    pub measures: Vec<Measure>,
    /// users(end) − users(the day before start).
    pub new_users: i64,
    /// New servers from start through end.
    pub new_servers: u64,
    /// The servers whose users grew most over the wave, largest first.
    pub top_servers: Vec<Contributor>,
}

/// The waves among `days` (consecutive, oldest first), with contributors from `census`.
pub fn waves(census: &dyn Compare, days: &[DayReport]) -> Vec<Wave> {
    found(days, &mut |d1, d2| {
        census
            .top_growth(d1, d2, TOP_SERVERS)
            .into_iter()
            .map(|(domain, users)| Contributor { domain, users })
            .collect()
    })
}

/// The days [`waves`] compares server by server: each wave's day before and last day.
pub fn ends(days: &[DayReport]) -> BTreeSet<Day> {
    let mut ends = BTreeSet::new();
    found(days, &mut |d1, d2| {
        ends.extend([d1, d2]);
        Vec::new()
    });
    ends
}

/// The waves among `days`, with contributors from `top(day before, last day)`.
fn found(days: &[DayReport], top: &mut dyn FnMut(Day, Day) -> Vec<Contributor>) -> Vec<Wave> {
    let users: Vec<Option<i64>> = std::iter::once(None)
        .chain(
            days.windows(2)
                .map(|w| Some(w[1].users.total.saturating_sub(w[0].users.total))),
        )
        .collect();
    let servers: Vec<Option<i64>> = days
        .iter()
        .enumerate()
        .map(|(i, d)| d.servers.new.filter(|_| i > 0).map(|n| n as i64))
        .collect();
    let high_users = high(&users, MIN_USERS);
    let high_servers = high(&servers, MIN_SERVERS);
    let mut found = Vec::new();
    let mut i = 0;
    while i < days.len() {
        if !(high_users[i] || high_servers[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < days.len() && (high_users[i] || high_servers[i]) {
            i += 1;
        }
        let run = start..i;
        let rose_users = run.clone().any(|j| high_users[j]);
        let rose_servers = run.clone().any(|j| high_servers[j]);
        let peak_of = if rose_users { &users } else { &servers };
        let peak = run
            .clone()
            .max_by_key(|&j| (peak_of[j].unwrap_or(i64::MIN), std::cmp::Reverse(j)))
            .expect("a wave has a day");
        let (first, last) = (&days[start - 1], &days[i - 1]);
        found.push(Wave {
            name: name(days[start].date, last.date),
            start: days[start].date,
            peak: days[peak].date,
            end: last.date,
            measures: [
                (rose_users, Measure::NewUsers),
                (rose_servers, Measure::NewServers),
            ]
            .into_iter()
            .filter_map(|(rose, m)| rose.then_some(m))
            .collect(),
            new_users: last.users.total.saturating_sub(first.users.total),
            new_servers: days[run].iter().filter_map(|d| d.servers.new).sum(),
            top_servers: top(first.date, last.date),
        });
    }
    found
}

/// Which days of `values` are high (see the module doc); a day without a value never is,
/// and is left out of the medians.
fn high(values: &[Option<i64>], min: i64) -> Vec<bool> {
    (0..values.len())
        .map(|i| {
            let Some(value) = values[i] else {
                return false;
            };
            let mut trailing: Vec<i64> = values[i.saturating_sub(TRAILING_DAYS)..i]
                .iter()
                .flatten()
                .copied()
                .collect();
            if trailing.len() < MIN_TRAILING_DAYS {
                return false;
            }
            value >= min && value as f64 > MULTIPLE * median(&mut trailing)
        })
        .collect()
}

/// The median of a non-empty list (the mean of the middle two for an even length).
fn median(values: &mut [i64]) -> f64 {
    values.sort_unstable();
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid] as f64
    } else {
        (values[mid - 1] as f64 + values[mid] as f64) / 2.0
    }
}

/// "Wave of November 7 to 12", "Wave of November 7", "Wave of December 30 to January 2".
fn name(start: Day, end: Day) -> String {
    if start == end {
        format!("Wave of {}", start.month_day())
    } else if (start.year(), start.date().month()) == (end.year(), end.date().month()) {
        format!(
            "Wave of {} to {}",
            start.month_day(),
            end.date().format("%-d")
        )
    } else {
        format!("Wave of {} to {}", start.month_day(), end.month_day())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_high_against_its_trailing_median() {
        let mut values: Vec<Option<i64>> = vec![None];
        values.extend([100, 110, 90, 100, 105, 95, 100].map(Some));
        values.extend([400, 350, 100].map(Some));
        let flags = high(&values, MIN_USERS);
        assert_eq!(
            flags,
            [false, false, false, false, false, false, false, false, true, true, false]
        );
        // Flat: a median of 0 and nothing above the floor.
        let flat = vec![Some(0); 40];
        assert!(high(&flat, MIN_USERS).iter().all(|h| !h));
        let small = [vec![Some(0); 10], vec![Some(50)]].concat();
        assert!(!high(&small, MIN_USERS)[10], "below the floor");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&mut [3, 1, 2]), 2.0);
        assert_eq!(median(&mut [4, 1, 2, 3]), 2.5);
    }

    #[test]
    fn names() {
        let d = |m, day| Day::from_ymd(2022, m, day).unwrap();
        assert_eq!(name(d(11, 7), d(11, 12)), "Wave of November 7 to 12");
        assert_eq!(name(d(11, 7), d(11, 7)), "Wave of November 7");
        assert_eq!(
            name(d(11, 30), d(12, 2)),
            "Wave of November 30 to December 2"
        );
    }
}
