//! Reports: what the census says about a day or a period, every statistic defined once
//! (in [`stats`] and [`suspect`]).
//!
//! A report reads one stored summary per reported day ([`mod@derive`]): O(reported days),
//! whatever the number of servers or the length of the history. A day without a
//! summary (a crawl still running, a late write not yet settled) is computed from the
//! history over a bounded window: from [`WINDOW_DAYS`] before it, one group of servers
//! at a time, O(servers × (WINDOW_DAYS + such days)). A period's list of new servers
//! comes from the same summaries. Its growth split and its waves' top servers compare
//! servers one by one between a few days (its ends and each wave's): `compare` reads
//! 8 days of snapshot numbers for each, O(servers × 8 × such days). The server lists
//! ([`servers`]) load a [`stats::Census`] over the scope's window instead: they show
//! each server's standing, which summaries do not keep.
//!
//! Types: [`Scope`] (which day or period), [`Loaded`] (a census ready for a scope's
//! days), [`ReportError`]; re-exported from the
//! submodules: [`Report`], [`DayOnly`], [`PeriodReport`], [`DayReport`], [`Filter`],
//! [`Health`], [`RebuildSummary`], [`PeriodSignups`], [`Wave`].

pub(crate) mod compare;
pub mod derive;
pub mod headline;
pub mod period;
pub mod rebuild;
pub mod servers;
pub mod stats;
pub mod suspect;
pub mod waves;
pub mod window;

pub use period::{DayOnly, PeriodReport, PeriodSignups, Report};
pub use rebuild::{rebuild, RebuildSummary};
pub use stats::{DayReport, Filter, Health};
pub use waves::Wave;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::day::Day;
use crate::store::{ServerRecord, Store, StoreError, REACH_DAYS};
use compare::Standings;
use derive::DaySummary;
use stats::{Census, CARRY_DAYS};
use window::Window;

/// How many days before the first reported day the window starts: a reported day is
/// compared with the day before (its growth), which uses readings up to [`CARRY_DAYS`]
/// old, which the suspect rules judge against the [`suspect::LOOKBACK_DAYS`] before them.
pub const WINDOW_DAYS: i64 = 1 + CARRY_DAYS + suspect::LOOKBACK_DAYS;

// The store invalidates summaries over the same reach as a report's window.
const _: () = assert!(WINDOW_DAYS == REACH_DAYS);

/// Which day or period to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One day; `None`: the last day with a crawl.
    Day(Option<Day>),
    /// The period (since, until]; `until` `None`: the last day with a crawl.
    Period {
        /// D1, the day the period is measured from: its new servers are those of the
        /// days after it.
        since: Day,
        /// D2, the period's last day.
        until: Option<Day>,
    },
}

/// Why a report cannot be made, each with what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A day outside the days of the census.
    #[error(
        "there is no census for {day}: the database covers {first} to {last} (UTC); pick a \
         day in that range"
    )]
    UnknownDay {
        /// The day asked for.
        day: Day,
        /// The census's first day: the first day with a crawl.
        first: Day,
        /// The census's last day: the last day with a crawl.
        last: Day,
    },
    /// A period that starts after it ends.
    #[error("--since {since} is after --until {until}: swap the two days")]
    Reversed {
        /// The `--since` day.
        since: Day,
        /// The `--until` day.
        until: Day,
    },
    /// A `--software` that no server runs now or ran on a reported day.
    #[error("no server in the database runs '{name}'; pass --software with one it knows: {known}")]
    UnknownSoftware {
        /// The name asked for, clipped for display.
        name: String,
        /// The software the servers run now, most servers first, with their counts.
        known: String,
    },
    /// The database failed or cannot answer (missing, locked, empty, corrupt, ...).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The software names the error for an unknown `--software` lists at most.
const SOFTWARE_LISTED: usize = 20;

/// Checks that some server ran `name` on a reported day or runs it now; if none did,
/// the error lists the software the servers run now, most servers first.
fn known_software(
    store: &Store,
    summaries: &BTreeMap<Day, DaySummary>,
    name: &str,
) -> Result<(), ReportError> {
    if summaries.values().any(|s| s.software.contains_key(name)) {
        return Ok(());
    }
    let records: Vec<ServerRecord> = store.servers().collect::<Result<_, _>>()?;
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
    let Read {
        days,
        new_servers,
        summaries,
    } = read(store, &crawl_days, since, until, filter)?;
    let software = filter.software_name();
    let software = software.as_deref();
    Ok(match scope {
        Scope::Day(_) => {
            let day = days.into_iter().next().expect("one day");
            Report::Day(DayOnly {
                headline: headline::day(&day, software),
                day,
            })
        }
        Scope::Period { .. } => {
            let standings = Standings::load(store, &compared(&days), &summaries, filter)?;
            Report::Period(
                PeriodReport::new(&standings, days, software).with_new_servers(&new_servers),
            )
        }
    })
}

/// The periods of `lengths` days ending on `until` (each starting no earlier than the
/// first crawl day), from one read of the summaries: what the daily job publishes.
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
    let Read {
        days,
        new_servers,
        summaries,
    } = read(store, &crawl_days, earliest, until, filter)?;
    let skip = |length: i64| since(length).days_since(earliest) as usize;
    let ends = lengths
        .iter()
        .flat_map(|&length| compared(&days[skip(length)..]))
        .collect();
    let standings = Standings::load(store, &ends, &summaries, filter)?;
    let software = filter.software_name();
    Ok(lengths
        .iter()
        .map(|&length| {
            PeriodReport::new(
                &standings,
                days[skip(length)..].to_vec(),
                software.as_deref(),
            )
            .with_new_servers(&new_servers)
        })
        .collect())
}

/// A census loaded for the days `since..=until` of a scope.
pub struct Loaded {
    /// The history over the scope's window, ready to compute each of its days.
    pub census: Census,
    /// The scope's first day: the day, or the day a period is measured from.
    pub since: Day,
    /// The scope's last day.
    pub until: Day,
}

/// Resolves `scope` against the crawl days and loads the census that computes its days
/// server by server: what the server lists start from (reports read summaries).
pub fn load(store: &Store, scope: Scope, filter: &Filter) -> Result<Loaded, ReportError> {
    let crawl_days = store.crawl_days()?;
    let (since, until) = bounds(store, &crawl_days, scope)?;
    let census = census(store, &crawl_days, since, until, filter)?;
    Ok(Loaded {
        census,
        since,
        until,
    })
}

/// What the summaries of the days `since` through `until` say.
struct Read {
    /// Each day's report.
    days: Vec<DayReport>,
    /// The servers counted as new on the days after `since`, most users first.
    new_servers: Vec<servers::ServerRow>,
    summaries: BTreeMap<Day, DaySummary>,
}

/// Reads the days `since` through `until` from their summaries.
fn read(
    store: &Store,
    crawl_days: &[Day],
    since: Day,
    until: Day,
    filter: &Filter,
) -> Result<Read, ReportError> {
    let summaries = derive::summaries(store, since, until)?;
    if let Some(name) = filter.software_name() {
        known_software(store, &summaries, &name)?;
    }
    let first = crawl_days[0];
    let new_servers = servers::new_in(&summaries, since, first, filter)?;
    let crawl_days = crawl_days.iter().copied().collect();
    let days = summaries
        .iter()
        .map(|(&d, summary)| derive::assemble(summary, d, first, &crawl_days, filter))
        .collect::<Result<_, _>>()?;
    Ok(Read {
        days,
        new_servers,
        summaries,
    })
}

/// Every report day of `since..=until`, from the summaries: what `export --what days`
/// writes.
pub fn day_reports(
    store: &Store,
    since: Day,
    until: Day,
    filter: &Filter,
) -> Result<Vec<DayReport>, ReportError> {
    let crawl_days = store.crawl_days()?;
    let (since, until) = bounds(
        store,
        &crawl_days,
        Scope::Period {
            since,
            until: Some(until),
        },
    )?;
    Ok(read(store, &crawl_days, since, until, filter)?.days)
}

/// The days a period's figures compare server by server: its first and last day and
/// each wave's day before and last day.
fn compared(days: &[DayReport]) -> BTreeSet<Day> {
    let mut ends = waves::ends(days);
    ends.insert(days[0].date);
    ends.insert(days[days.len() - 1].date);
    ends
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
fn census(
    store: &Store,
    crawl_days: &[Day],
    since: Day,
    until: Day,
    filter: &Filter,
) -> Result<Census, ReportError> {
    if let Some(name) = filter.software_name() {
        known_software(store, &derive::summaries(store, since, until)?, &name)?;
    }
    let records: Vec<ServerRecord> = store.servers().collect::<Result<_, _>>()?;
    let window = Window::load(store, since.add_days(-WINDOW_DAYS), until)?;
    Ok(Census::new(
        window,
        &records,
        crawl_days,
        since.add_days(-1 - CARRY_DAYS),
        filter,
    ))
}
