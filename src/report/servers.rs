//! The list behind a number: which servers a day's or a period's figures count, and
//! where each one stands. Every decision is [`Census::entries`]'s and the census's
//! own (`counts`, `counts_as_new`), so `--new` over a period lists exactly the servers
//! its `new_servers` counts.
//!
//! Types: [`Select`] (which servers), [`Sort`], [`Query`], [`ServerRow`] (one server on
//! one day), [`Standing`] (whether and why it counts); functions [`list`], [`rows`],
//! [`new_in`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::day::Day;
use crate::domain::Domain;
use crate::outcome::OptOut;
use crate::report::derive::DaySummary;
use crate::report::stats::{Census, Entry, Filter};
use crate::report::suspect;
use crate::report::{load, Loaded, ReportError, Scope};
use crate::store::{Store, StoreError};

/// Which servers to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Select {
    /// Every server with a reading in the [`crate::report::stats::CARRY_DAYS`] before
    /// the (last) day: counted, suspect or opted out.
    #[default]
    Standing,
    /// The servers counted in `servers.new`: on the day, or on each day of the period
    /// after its start (the period's `new_servers`).
    New,
    /// The servers reported as gone on the day or the period's days.
    Gone,
    /// The servers the suspect-data rules flag on the day or the period's days.
    Suspect,
}

/// The order of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Most users first; servers that did not say come last.
    #[default]
    Users,
    /// Most monthly active users first.
    Active,
    /// Earliest first-up first.
    FirstSeen,
    /// By domain name.
    Domain,
}

/// What `fedicensus servers` lists: which servers, in which order, how many.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Which servers: standing on the day, new, gone or suspect.
    pub select: Select,
    /// The order of the rows; ties by domain.
    pub sort: Sort,
    /// At most this many rows (`--limit`); `None`: all of them.
    pub limit: Option<usize>,
}

/// Whether a server counts on the row's day, and why (not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Standing {
    /// Answered on the day.
    Observed,
    /// Silent on the day; counted with the numbers it gave on `from`.
    CarriedForward {
        /// The day of its last answer, whose numbers it is counted with.
        from: Day,
    },
    /// Flagged by a suspect-data rule; counted only with `--include-suspect`.
    Suspect {
        /// The rule's machine name, one of [`suspect::RULES`].
        rule: &'static str,
        /// The reason in words, with the offending numbers.
        reason: String,
        /// Whether it is counted anyway (`--include-suspect`).
        counted: bool,
    },
    /// Asked not to be counted: never counted.
    OptedOut {
        /// How: robots.txt, HTTP 410 or 451, NodeInfo private or hidden, or `--exclude`.
        how: OptOut,
    },
    /// More than the carry-forward days silent: last answered on `since`.
    Silent {
        /// The day of its last answer.
        since: Day,
    },
}

impl Standing {
    fn of(census: &Census, entry: &Entry) -> Standing {
        if let Some(how) = entry.opted_out {
            Standing::OptedOut { how }
        } else if !entry.is_recent() {
            Standing::Silent {
                since: entry.reading.day,
            }
        } else if let Some(reason) = entry.verdict {
            Standing::Suspect {
                rule: reason.rule(),
                reason: reason.to_string(),
                counted: census.counts(entry),
            }
        } else if entry.silent == 0 {
            Standing::Observed
        } else {
            Standing::CarriedForward {
                from: entry.reading.day,
            }
        }
    }

    /// One short phrase, for tables and CSV: `observed`, `carried forward from DAY`,
    /// `suspect (RULE)`, `opted out (HOW)`, `silent since DAY`.
    pub fn describe(&self) -> String {
        match self {
            Standing::Observed => "observed".into(),
            Standing::CarriedForward { from } => format!("carried forward from {from}"),
            Standing::Suspect { rule, counted, .. } => {
                format!(
                    "suspect ({rule}){}",
                    if *counted { ", counted" } else { "" }
                )
            }
            Standing::OptedOut { how } => format!("opted out ({})", how.as_str()),
            Standing::Silent { since } => format!("silent since {since}"),
        }
    }
}

/// One server on one day: its standing and the numbers of its latest reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerRow {
    /// The server's canonical name.
    pub domain: Domain,
    /// The day the row is about (for a period: the day the server was new, gone or
    /// flagged; its last such day).
    pub day: Day,
    /// Whether it counts on `day`, and why (not).
    pub standing: Standing,
    /// The numbers of its latest reading, flattened into the row.
    #[serde(flatten)]
    pub numbers: Numbers,
}

/// What a row shows of a server's latest reading, whatever its standing (also kept in
/// a day's summary for the servers new that day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Numbers {
    /// The software it ran (NodeInfo `software.name`), lowercased.
    pub software: String,
    /// When the numbers below were read.
    pub read_at: DateTime<Utc>,
    /// When its first successful snapshot was taken, as its record says.
    pub first_up: Option<DateTime<Utc>>,
    /// Users (`None`: not reported).
    pub users_total: Option<i64>,
    /// Monthly active users (`None`: not reported).
    pub active_month: Option<i64>,
    /// Half-year active users (`None`: not reported).
    pub active_halfyear: Option<i64>,
    /// Local posts (`None`: not reported).
    pub local_posts: Option<i64>,
}

impl Numbers {
    /// The numbers of `entry`'s reading.
    pub fn of(entry: &Entry) -> Numbers {
        let r = entry.reading;
        Numbers {
            software: r.software.to_string(),
            read_at: r.at,
            first_up: entry.first_up,
            users_total: r.users_total,
            active_month: r.active_month,
            active_halfyear: r.active_halfyear,
            local_posts: r.local_posts,
        }
    }
}

impl ServerRow {
    fn new(census: &Census, entry: &Entry, day: Day) -> ServerRow {
        ServerRow {
            domain: entry.domain.clone(),
            day,
            standing: Standing::of(census, entry),
            numbers: Numbers::of(entry),
        }
    }
}

/// The servers counted in `servers.new` on the days after `since` (never on the
/// census's first day, `baseline`), from the days' summaries: the list a period report
/// carries, equal to [`rows`] with [`Select::New`] over the same period (a property
/// test checks it). Most users first.
pub fn new_in(
    summaries: &BTreeMap<Day, DaySummary>,
    since: Day,
    baseline: Day,
    filter: &Filter,
) -> Result<Vec<ServerRow>, ReportError> {
    let software = filter.software_name();
    let mut rows = Vec::new();
    for (&day, summary) in summaries.range(since.add_days(1)..) {
        if day == baseline {
            continue;
        }
        for new in &summary.new_servers {
            if software
                .as_ref()
                .is_some_and(|s| *s != new.numbers.software)
                || (new.suspect && !filter.include_suspect)
            {
                continue;
            }
            let standing = if new.suspect {
                let flag = summary
                    .flagged
                    .iter()
                    .find(|f| f.domain == new.domain)
                    .ok_or_else(|| corrupt(format!("{} is suspect but not flagged", new.domain)))?;
                let rule = suspect::RULES
                    .into_iter()
                    .find(|r| *r == flag.rule)
                    .ok_or_else(|| corrupt(format!("unknown suspect rule '{}'", flag.rule)))?;
                Standing::Suspect {
                    rule,
                    reason: flag.reason.clone(),
                    counted: true,
                }
            } else {
                Standing::Observed
            };
            rows.push(ServerRow {
                domain: new.domain.clone(),
                day,
                standing,
                numbers: new.numbers.clone(),
            });
        }
    }
    // The order `rows` gives: by domain, then by the sort.
    rows.sort_by(|a, b| a.domain.cmp(&b.domain));
    sort(&mut rows, Sort::Users);
    Ok(rows)
}

fn corrupt(detail: String) -> ReportError {
    ReportError::Store(StoreError::Corrupt {
        path: Default::default(),
        detail: format!("day summary: {detail}"),
    })
}

/// Loads the census for `scope` and lists the servers `query` selects.
pub fn list(
    store: &Store,
    scope: Scope,
    filter: &Filter,
    query: &Query,
) -> Result<Vec<ServerRow>, ReportError> {
    Ok(rows(&load(store, scope, filter)?, scope, query))
}

/// The rows `query` selects from a loaded census. A period's days are those after its
/// start (as in the period's figures); [`Select::Standing`] looks at its last day only.
pub fn rows(loaded: &Loaded, scope: Scope, query: &Query) -> Vec<ServerRow> {
    let census = &loaded.census;
    let days: Vec<Day> = match (scope, query.select) {
        (Scope::Day(_), _) | (_, Select::Standing) => vec![loaded.until],
        (Scope::Period { .. }, _) => Day::range(loaded.since.add_days(1), loaded.until).collect(),
    };
    let wanted = |entry: &Entry, d: Day| match query.select {
        Select::Standing => entry.is_recent(),
        Select::New => census.counts_as_new(entry, d),
        Select::Gone => entry.opted_out.is_none() && entry.is_gone(),
        Select::Suspect => {
            entry.opted_out.is_none() && entry.is_recent() && entry.verdict.is_some()
        }
    };
    // Later days replace earlier ones: a row describes a server's last selected day.
    let mut by_domain: BTreeMap<Domain, ServerRow> = BTreeMap::new();
    for d in days {
        for entry in census.entries(d).filter(|e| wanted(e, d)) {
            by_domain.insert(entry.domain.clone(), ServerRow::new(census, &entry, d));
        }
    }
    let mut rows: Vec<ServerRow> = by_domain.into_values().collect();
    sort(&mut rows, query.sort);
    rows.truncate(query.limit.unwrap_or(usize::MAX));
    rows
}

/// Sorts rows by `by`, ties by domain (already the order of `rows`, and the sort is
/// stable).
fn sort(rows: &mut [ServerRow], by: Sort) {
    // `None` sorts last in a descending order: Reverse(None) > Reverse(Some(_)).
    let desc = |v: Option<i64>| std::cmp::Reverse(v.map_or(i128::MIN, i128::from));
    match by {
        Sort::Users => rows.sort_by_key(|r| desc(r.numbers.users_total)),
        Sort::Active => rows.sort_by_key(|r| desc(r.numbers.active_month)),
        Sort::FirstSeen => rows.sort_by_key(|r| (r.numbers.first_up.is_none(), r.numbers.first_up)),
        Sort::Domain => {}
    }
}
