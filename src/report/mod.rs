//! Reports: what the census says about a day or a period, every statistic defined once
//! (in [`stats`] and [`suspect`]).
//!
//! A report reads the `daily` rollup over a bounded window, never the full history:
//! from [`WINDOW_DAYS`] before the first reported day through the last, once, plus the
//! server records (for `first_up` and opt-outs). Cost: O(servers × (WINDOW_DAYS +
//! reported days)) to load and judge, then O(servers × log window) per reported day.
//!
//! Types: [`Scope`] (which day or period), [`ReportError`]; re-exported from the
//! submodules: [`Report`], [`DayOnly`], [`PeriodReport`], [`DayReport`], [`Filter`],
//! [`Health`], [`RebuildSummary`], [`PeriodSignups`], [`Wave`].

pub mod headline;
pub mod period;
pub mod rebuild;
pub mod stats;
pub mod suspect;
pub mod waves;
pub mod window;

pub use period::{DayOnly, PeriodReport, PeriodSignups, Report};
pub use rebuild::{rebuild, RebuildSummary};
pub use stats::{DayReport, Filter, Health};
pub use waves::Wave;

use std::collections::HashMap;

use crate::day::Day;
use crate::store::{ServerRecord, Store, StoreError};
use stats::{Census, CARRY_DAYS};
use window::Window;

/// How many days before the first reported day the window starts: a reported day is
/// compared with the day before (its growth), which uses readings up to [`CARRY_DAYS`]
/// old, which the suspect rules judge against the [`suspect::LOOKBACK_DAYS`] before them.
pub const WINDOW_DAYS: i64 = 1 + CARRY_DAYS + suspect::LOOKBACK_DAYS;

/// Which day or period to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One day; `None`: the last day with a crawl.
    Day(Option<Day>),
    /// The period (since, until]; `until` `None`: the last day with a crawl.
    Period { since: Day, until: Option<Day> },
}

/// Why a report cannot be made, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(
        "there is no census for {day}: the database covers {first} to {last} (UTC); pick a \
         day in that range"
    )]
    UnknownDay { day: Day, first: Day, last: Day },
    #[error("--since {since} is after --until {until}: swap the two days")]
    Reversed { since: Day, until: Day },
    #[error("no server in the database runs '{name}'; pass --software with one it knows: {known}")]
    UnknownSoftware { name: String, known: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The software names the error for an unknown `--software` lists at most.
const SOFTWARE_LISTED: usize = 20;

/// Checks that some server runs `name` now or ran it in the window; if none did, the
/// error lists the software the servers run now, most servers first.
fn known_software(
    records: &[ServerRecord],
    window: &Window,
    name: &str,
) -> Result<(), ReportError> {
    let in_window = window
        .servers
        .values()
        .any(|readings| readings.iter().any(|r| &*r.software == name));
    if in_window {
        return Ok(());
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for software in records.iter().filter_map(|r| r.software.as_deref()) {
        *counts.entry(software).or_default() += 1;
    }
    if counts.contains_key(name) {
        return Ok(());
    }
    let mut known: Vec<(&str, usize)> = counts.into_iter().collect();
    known.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut list: Vec<String> = known
        .iter()
        .take(SOFTWARE_LISTED)
        .map(|(software, n)| format!("{} ({n})", crate::echo::clip(software)))
        .collect();
    if known.len() > SOFTWARE_LISTED {
        list.push(format!("and {} more", known.len() - SOFTWARE_LISTED));
    }
    if list.is_empty() {
        list.push("none yet".to_string());
    }
    Err(ReportError::UnknownSoftware {
        name: crate::echo::clip(name),
        known: list.join(", "),
    })
}

/// Builds the report for `scope`, counting what `filter` says.
pub fn build(store: &Store, scope: Scope, filter: &Filter) -> Result<Report, ReportError> {
    let crawl_days = store.crawl_days()?;
    let (since, until) = bounds(store, &crawl_days, scope)?;
    let census = load(store, &crawl_days, since, until, filter)?;
    let software = filter.software_name();
    let software = software.as_deref();
    let days: Vec<DayReport> = Day::range(since, until).map(|d| census.day(d)).collect();
    Ok(match scope {
        Scope::Day(_) => {
            let day = days.into_iter().next().expect("one day");
            Report::Day(DayOnly {
                headline: headline::day(&day, software),
                day,
            })
        }
        Scope::Period { .. } => Report::Period(PeriodReport::new(&census, days, software)),
    })
}

/// The periods of `lengths` days ending on `until` (each starting no earlier than the
/// first crawl day), from one load of the history: what the daily job publishes.
pub fn build_periods(
    store: &Store,
    until: Day,
    lengths: &[i64],
    filter: &Filter,
) -> Result<Vec<PeriodReport>, ReportError> {
    let crawl_days = store.crawl_days()?;
    let first = crawl_days.first().copied().unwrap_or(until);
    let since = |length: i64| until.add_days(-length).max(first);
    let earliest = lengths.iter().map(|&l| since(l)).min().unwrap_or(until);
    let (earliest, until) = bounds(
        store,
        &crawl_days,
        Scope::Period {
            since: earliest,
            until: Some(until),
        },
    )?;
    let census = load(store, &crawl_days, earliest, until, filter)?;
    let days: Vec<DayReport> = Day::range(earliest, until).map(|d| census.day(d)).collect();
    let software = filter.software_name();
    Ok(lengths
        .iter()
        .map(|&length| {
            let skip = since(length).days_since(earliest) as usize;
            PeriodReport::new(&census, days[skip..].to_vec(), software.as_deref())
        })
        .collect())
}

/// The first and last day `scope` reports, checked against the census's days.
fn bounds(store: &Store, crawl_days: &[Day], scope: Scope) -> Result<(Day, Day), ReportError> {
    let (Some(&first), Some(&last)) = (crawl_days.first(), crawl_days.last()) else {
        return Err(StoreError::Empty {
            path: store.path().to_path_buf(),
        }
        .into());
    };
    let known = |day: Day| {
        if (first..=last).contains(&day) {
            Ok(day)
        } else {
            Err(ReportError::UnknownDay { day, first, last })
        }
    };
    match scope {
        Scope::Day(day) => {
            let day = known(day.unwrap_or(last))?;
            Ok((day, day))
        }
        Scope::Period { since, until } => {
            let until = known(until.unwrap_or(last))?;
            let since = known(since)?;
            if since > until {
                return Err(ReportError::Reversed { since, until });
            }
            Ok((since, until))
        }
    }
}

/// The census that computes the days `since` through `until` and the day before.
fn load(
    store: &Store,
    crawl_days: &[Day],
    since: Day,
    until: Day,
    filter: &Filter,
) -> Result<Census, ReportError> {
    let records: Vec<ServerRecord> = store.servers().collect::<Result<_, _>>()?;
    let window = Window::load(store, since.add_days(-WINDOW_DAYS), until)?;
    if let Some(name) = filter.software_name() {
        known_software(&records, &window, &name)?;
    }
    Ok(Census::new(
        window,
        &records,
        crawl_days,
        since.add_days(-1 - CARRY_DAYS),
        filter,
    ))
}
