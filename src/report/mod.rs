//! Reports: what the census says about a day or a period, every statistic defined once
//! (in [`stats`] and [`suspect`]).
//!
//! A report reads one stored summary per reported day ([`derive`]): O(reported days),
//! whatever the number of servers or the length of the history. A day without a
//! summary (a crawl still running, a late write not yet settled) is computed from the
//! history over a bounded window: from [`WINDOW_DAYS`] before it, one group of servers
//! at a time, O(servers × (WINDOW_DAYS + such days))).
//!
//! Types: [`Scope`] (which day or period), [`ReportError`]; re-exported from the
//! submodules: [`Report`], [`DayOnly`], [`PeriodReport`], [`DayReport`], [`Filter`],
//! [`RebuildSummary`].

pub mod derive;
pub mod headline;
pub mod period;
pub mod rebuild;
pub mod stats;
pub mod suspect;
pub mod window;

pub use period::{DayOnly, PeriodReport, Report};
pub use rebuild::{rebuild, RebuildSummary};
pub use stats::{DayReport, Filter};

use crate::day::Day;
use crate::store::{Store, StoreError, REACH_DAYS};
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
    #[error(transparent)]
    Store(#[from] StoreError),
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
