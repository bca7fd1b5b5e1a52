//! Reports: what the census says about a day or a period, every statistic defined once
//! (in [`stats`] and [`suspect`]).
//!
//! A report reads one stored summary per reported day ([`derive`]): O(reported days),
//! whatever the number of servers or the length of the history. A day without a
//! summary (a crawl still running, a late write not yet settled) is computed from the
//! history over a bounded window: from [`WINDOW_DAYS`] before it, one group of servers
//! at a time, O(servers × (WINDOW_DAYS + such days)).
//!
//! Types: [`Scope`] (which day or period), [`ReportError`]; re-exported from the
//! submodules: [`Report`], [`DayOnly`], [`PeriodReport`], [`DayReport`], [`Filter`],
//! [`Health`], [`RebuildSummary`].

pub mod derive;
pub mod headline;
pub mod period;
pub mod rebuild;
pub mod stats;
pub mod suspect;
pub mod window;

pub use period::{DayOnly, PeriodReport, Report};
pub use rebuild::{rebuild, RebuildSummary};
pub use stats::{DayReport, Filter, Health};

use std::collections::{BTreeMap, HashMap};

use crate::day::Day;
use crate::store::{ServerRecord, Store, StoreError, REACH_DAYS};
use derive::DaySummary;
use stats::CARRY_DAYS;

/// How many days before the first reported day the window starts: a reported day uses
/// readings up to [`CARRY_DAYS`] old, which the suspect rules judge against the
/// [`suspect::LOOKBACK_DAYS`] before them.
pub const WINDOW_DAYS: i64 = CARRY_DAYS + suspect::LOOKBACK_DAYS;

// The store invalidates summaries over the same reach as a report's window.
const _: () = assert!(WINDOW_DAYS == REACH_DAYS);

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
    let (since, until) = match scope {
        Scope::Day(day) => {
            let day = known(day.unwrap_or(last))?;
            (day, day)
        }
        Scope::Period { since, until } => {
            let until = known(until.unwrap_or(last))?;
            let since = known(since)?;
            if since > until {
                return Err(ReportError::Reversed { since, until });
            }
            (since, until)
        }
    };
    let summaries = derive::summaries(store, since, until)?;
    if let Some(name) = filter.software_name() {
        known_software(store, &summaries, &name)?;
    }
    let crawl_days = crawl_days.into_iter().collect();
    let days: Vec<DayReport> = summaries
        .iter()
        .map(|(&d, summary)| derive::assemble(summary, d, first, &crawl_days, filter))
        .collect::<Result<_, _>>()?;
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
        Scope::Period { .. } => Report::Period(PeriodReport::new(days, software)),
    })
}
