//! Reports over more than a day: the figures of a period (D1, D2] and the report
//! shapes the renderers print.
//!
//! Types: [`Report`] (what `fedicensus report` prints), [`DayOnly`] (one day plus its
//! headline), [`PeriodReport`] (a period's figures, headline and daily series),
//! [`PeriodSignups`].

use serde::Serialize;

use crate::day::Day;
use crate::report::headline;
use crate::report::servers::ServerRow;
use crate::report::stats::{per_day, Compare, DayReport, Growth};
use crate::report::waves::{self, Wave};

/// A report for one day (`--date`) or for a period (`--since`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Report {
    /// One day's numbers and headline (`--date`).
    Day(DayOnly),
    /// A period's figures, waves and daily series (`--since`).
    Period(PeriodReport),
}

/// A one-day report: the day's numbers and a headline, as one JSON object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayOnly {
    /// The day's numbers, flattened into the report's JSON object.
    #[serde(flatten)]
    pub day: DayReport,
    /// The day's headline sentence (see [`headline::day`]).
    pub headline: String,
}

/// The period (since, until]: figures compare `until` with `since`, and `days` runs
/// from `since` through `until` inclusive, so its first entry is the starting point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodReport {
    /// D1: the day the figures are measured from, and the first entry of `days`.
    pub since: Day,
    /// D2: the period's last day, whose numbers the totals give.
    pub until: Day,
    /// users.total(until) − users.total(since); negative when users were lost.
    pub new_users: i64,
    /// Sum of `servers.new` over the days after `since` through `until`.
    pub new_servers: u64,
    /// users.active_month(until).
    pub active_users: i64,
    /// users.total(until).
    pub total_users: i64,
    /// servers.up(until).
    pub servers_up: u64,
    /// Where `new_users` happened (see [`Growth`]): its parts add up to it.
    pub growth: Growth,
    /// Sign-ups over the period, as the servers that publish them report them.
    pub signups: PeriodSignups,
    /// The period's headline sentence (see [`headline::period`]).
    pub headline: String,
    /// The sentence after the headline: which part of the new users signed up and
    /// which was found.
    pub headline_split: String,
    /// Growth waves within the period (see [`waves`]).
    pub waves: Vec<Wave>,
    /// Each day's report from `since` through `until`, oldest first.
    pub days: Vec<DayReport>,
    /// The servers counted in `new_servers`, most users first (the full list; reports
    /// show the top and write it all as CSV). Not part of the JSON document.
    #[serde(skip)]
    pub new_server_list: Vec<ServerRow>,
}

/// Sign-ups over a period, as the servers that publish them report them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PeriodSignups {
    /// The sum of each day's weekly sign-ups over the days after `since`, ÷ 7.
    pub estimated: i64,
    /// Counting servers that published their sign-ups on `until`.
    pub servers_reporting: u64,
    /// Their users on `until`.
    pub users_covered: i64,
}

impl PeriodReport {
    /// `days` must run from the period's start through its end, one entry per day;
    /// `census` compares its first and last day and each wave's ends.
    pub fn new(census: &dyn Compare, days: Vec<DayReport>, software: Option<&str>) -> PeriodReport {
        let first = days
            .first()
            .expect("a period has at least its starting day");
        let last = &days[days.len() - 1];
        let new_users = last.users.total.saturating_sub(first.users.total);
        let new_servers = days[1..].iter().filter_map(|d| d.servers.new).sum();
        let growth = census.growth(first.date, last.date);
        let signups = PeriodSignups {
            estimated: per_day(
                days[1..]
                    .iter()
                    .map(|d| d.signups.registrations_week)
                    .fold(0, i64::saturating_add),
            ),
            servers_reporting: last.signups.servers_reporting,
            users_covered: last.signups.users_covered,
        };
        PeriodReport {
            since: first.date,
            until: last.date,
            new_users,
            new_servers,
            active_users: last.users.active_month,
            total_users: last.users.total,
            servers_up: last.servers.up,
            growth,
            signups,
            headline: headline::period(first.date, last, new_users, new_servers, software),
            headline_split: headline::split(&growth, &signups, last.servers.up),
            waves: waves::waves(census, &days),
            days,
            new_server_list: Vec::new(),
        }
    }

    /// Attaches the list of new servers, keeping those new within this period (a list
    /// made for a longer period that ends on the same day may be given).
    pub fn with_new_servers(mut self, rows: &[ServerRow]) -> PeriodReport {
        self.new_server_list = rows
            .iter()
            .filter(|r| self.since < r.day && r.day <= self.until)
            .cloned()
            .collect();
        self
    }
}

impl Report {
    /// The daily series: one day for a one-day report.
    pub fn days(&self) -> &[DayReport] {
        match self {
            Report::Day(only) => std::slice::from_ref(&only.day),
            Report::Period(period) => &period.days,
        }
    }

    /// The day the report's snapshot numbers are for: the date, or the period's end.
    pub fn end(&self) -> &DayReport {
        let days = self.days();
        &days[days.len() - 1]
    }

    /// The report's headline sentence.
    pub fn headline(&self) -> &str {
        match self {
            Report::Day(only) => &only.headline,
            Report::Period(period) => &period.headline,
        }
    }
}
