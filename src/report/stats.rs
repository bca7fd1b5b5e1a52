//! Every statistic fedicensus publishes, defined once. The rules are written on the
//! items that implement them and summarized in [`METHOD`], the text the reports and
//! the README quote.
//!
//! - A day is a UTC calendar day ([`Day`]). A server's numbers for day D are those of
//!   its latest snapshot taken on or before the end of D.
//! - A server *counts* on D if it answered on D (`observed`) or within the
//!   [`CARRY_DAYS`] days before (`carried_forward`), and is neither opted out nor
//!   suspect (see [`suspect`]).
//! - `gone` on D: servers whose last answer was exactly [`GONE_DAYS`] days before D,
//!   i.e. those that reached 30 silent days on D. Each server is gone once per silence.
//!   Gone describes disappearance, not numbers, so suspect servers are included.
//! - `new` on D: counting servers observed on D whose first successful snapshot
//!   (`ServerRecord::first_up`) falls on D; `null` on the first day of the census.
//! - `health` of D: whether D's crawls can be trusted ([`Health`]), judged from the
//!   stored snapshots of D and the day before.
//!
//! Cost: computing a day is O(servers × log(window days)) over a [`Census`] loaded from
//! the rollup; the census itself costs O(servers × window days) to load and judge.
//!
//! Types: [`DayReport`] and its parts ([`ServerCounts`], [`UserCounts`],
//! [`PostCounts`], [`Coverage`], [`SoftwareRow`], [`Flagged`], [`Health`]),
//! [`Filter`] (what to count), [`Census`] (the loaded window that computes days).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::day::Day;
use crate::domain::Domain;
use crate::render::number::plural;
use crate::report::suspect::{self, Reason};
use crate::report::window::{Reading, Window};
use crate::store::{ServerRecord, Status};

/// A server silent for up to this many days still counts, with its last numbers: an
/// outage is not a decline.
pub const CARRY_DAYS: i64 = 7;
/// A server that has been silent this many days is reported as gone, on that day.
pub const GONE_DAYS: i64 = 30;

/// The Method section: the definitions above in words, for readers of the reports.
pub const METHOD: &str = "\
- A day is a UTC calendar day. A server's numbers for a day are those of its latest \
snapshot taken on or before the end of that day.
- A server counts on a day if it answered that day (observed) or within the 7 days \
before (carried forward with its last numbers: an outage is not a decline). After 7 \
silent days it stops counting; on the day it reaches 30 silent days it is reported once \
as gone.
- Servers up = observed + carried forward. Users, monthly active users, half-year \
active users and local posts are sums over the servers that count. A server that did \
not report a number contributes 0, and coverage says how many of the counting servers \
reported it.
- New servers on a day: counting servers whose first successful snapshot was taken that \
day. On the first day of the census every server is a baseline, not new, so the number \
of new servers is not given for it.
- Over a period from D1 (exclusive) to D2 (inclusive): new servers is the sum of the \
new servers of each day after D1 through D2; new users = users on D2 − users on D1; \
active users = monthly active users on D2.
- A day's crawls are thin when fewer than half of the servers that answered the day \
before answered that day, and reached nothing when crawls ran that day and no server \
answered: the crawler's own network is the likely cause, not a collapse of the \
fediverse. Every report of such a day says so, in its notes and next to its headline.
- Servers that asked not to be counted (robots.txt, HTTP 410 or 451, NodeInfo private \
or hidden from statistics, or excluded by the operator) are never counted.
- Suspect data is left out of every total and listed with its reason: a negative count; \
more than 50,000,000 users, monthly or half-year active users; more than 10,000,000,000 \
local posts, or more than 1,000,000 per user (per server when it reports no users); more \
monthly or half-year active users than users, or more monthly than half-year active \
users; users rising by more \
than 10,000 and to more than 3 times the server's previous snapshot taken at most 48 \
hours earlier (only the leaping snapshot is left out); monthly active users unchanged \
for 60 days or more while local posts grew (a stuck counter); and more than 5 servers \
first up on one day under one registrable domain (a spam farm: all of them are left \
out).
";

/// Which servers a report counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only servers whose software name is this (compared in lowercase).
    pub software: Option<String>,
    /// Count suspect servers instead of leaving them out.
    pub include_suspect: bool,
}

impl Filter {
    /// The software name as compared: software names are stored lowercased.
    pub fn software_name(&self) -> Option<String> {
        self.software.as_deref().map(str::to_lowercase)
    }
}

/// One day's numbers. The field names are a contract with JSON consumers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayReport {
    pub date: Day,
    pub servers: ServerCounts,
    pub users: UserCounts,
    pub posts: PostCounts,
    pub coverage: Coverage,
    pub by_software: Vec<SoftwareRow>,
    /// Servers that would count but were left out as suspect.
    pub excluded: Vec<Flagged>,
    /// With `--include-suspect`: the suspect servers that were counted anyway.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suspect_included: Vec<Flagged>,
    pub health: Health,
    pub notes: Vec<String>,
}

/// Whether a day's crawls can be trusted. Judged on every server that answered
/// (whatever the filter), from the stored snapshots, so every later report of the day
/// says the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// No crawl ran on the day, or its crawls reached at least half of the servers that
    /// answered the day before.
    Ok,
    /// Fewer than half of the servers that answered the day before answered on the
    /// day: the crawler's own network is the likely cause, not a collapse of the
    /// fediverse.
    Thin,
    /// Crawls ran on the day and no server answered.
    NothingReachable,
}

impl Health {
    /// The warning that leads the caveats of a report of `day`.
    pub fn warning(self, day: Day) -> Option<String> {
        let date = day.in_words();
        match self {
            Health::Ok => None,
            Health::Thin => Some(format!(
                "Warning: fewer than half of the servers that answered the day before \
                 answered on {date}; the crawler's network was probably down, so these \
                 numbers should not be read as a decline."
            )),
            Health::NothingReachable => Some(format!(
                "Warning: the crawls of {date} reached no server; the crawler's network was \
                 probably down, so every number is carried forward from earlier days."
            )),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerCounts {
    /// `observed + carried_forward`.
    pub up: u64,
    /// Counting servers that answered on the day.
    pub observed: u64,
    /// Counting servers silent on the day but answered within [`CARRY_DAYS`].
    pub carried_forward: u64,
    /// `None` on the census's first day: everything is a baseline then.
    pub new: Option<u64>,
    /// Servers that reached [`GONE_DAYS`] silent days on the day.
    pub gone: u64,
    /// Servers left out as suspect (0 with `--include-suspect`).
    pub excluded: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCounts {
    pub total: i64,
    pub active_month: i64,
    pub active_halfyear: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostCounts {
    pub local: i64,
}

/// How many of the counting servers reported each number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    pub users_total: u64,
    pub active_month: u64,
    pub active_halfyear: u64,
    pub local_posts: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoftwareRow {
    pub software: String,
    pub servers: u64,
    pub users_total: i64,
    pub active_month: i64,
}

/// A server the suspect-data rules flagged, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flagged {
    pub domain: Domain,
    /// The rule's machine name, e.g. `jump`.
    pub rule: &'static str,
    /// The reason in words, with the offending numbers.
    pub reason: String,
}

/// One server's readings in the window, with the suspect verdict of each.
struct Series {
    domain: Domain,
    readings: Vec<Reading>,
    /// Parallel to `readings`; readings too early to be used for any reported day are
    /// not judged (their history is cut off by the window) and hold `None`.
    verdicts: Vec<Option<Reason>>,
}

/// A loaded window of history, ready to compute any day from `judged_from + CARRY_DAYS`
/// to the window's end.
pub struct Census {
    series: Vec<Series>,
    first_up: HashMap<Domain, Day>,
    opted_out: HashSet<Domain>,
    farms: HashMap<Domain, Reason>,
    /// The first day the database saw a crawl.
    baseline: Day,
    crawl_days: BTreeSet<Day>,
    software: Option<String>,
    include_suspect: bool,
}

/// One server as it stands on a day: its latest reading on or before the day, how many
/// days ago that was, and the suspect verdict on it.
pub struct Fact<'a> {
    pub domain: &'a Domain,
    pub reading: &'a Reading,
    /// Days since the reading (0: observed on the day).
    pub silent: i64,
    pub verdict: Option<&'a Reason>,
    /// Whether the server's first successful snapshot was taken on the day.
    pub first_up_today: bool,
}

impl Census {
    /// `judged_from`: the earliest day whose readings a reported day may use (the first
    /// reported day minus [`CARRY_DAYS`]); the window must start at least
    /// [`suspect::LOOKBACK_DAYS`] before it.
    pub fn new(
        window: Window,
        records: &[ServerRecord],
        crawl_days: &[Day],
        judged_from: Day,
        filter: &Filter,
    ) -> Census {
        let farms = suspect::farms(records);
        Census::judged(window, records, farms, crawl_days, judged_from, filter)
    }

    /// [`Census::new`] with the spam-farm verdicts given: they depend on every server's
    /// record, so a census of a part of the servers takes them from the whole.
    pub fn judged(
        window: Window,
        records: &[ServerRecord],
        farms: HashMap<Domain, Reason>,
        crawl_days: &[Day],
        judged_from: Day,
        filter: &Filter,
    ) -> Census {
        let series = window
            .servers
            .into_iter()
            .map(|(domain, readings)| {
                let verdicts = (0..readings.len())
                    .map(|i| {
                        (readings[i].day >= judged_from)
                            .then(|| suspect::check(&readings, i))
                            .flatten()
                    })
                    .collect();
                Series {
                    domain,
                    readings,
                    verdicts,
                }
            })
            .collect();
        Census {
            series,
            first_up: records
                .iter()
                .filter_map(|r| Some((r.domain.clone(), Day::of(r.first_up?))))
                .collect(),
            opted_out: records
                .iter()
                .filter(|r| matches!(r.status, Status::OptedOut { .. }))
                .map(|r| r.domain.clone())
                .collect(),
            farms,
            baseline: crawl_days.first().copied().unwrap_or(judged_from),
            crawl_days: crawl_days.iter().copied().collect(),
            software: filter.software_name(),
            include_suspect: filter.include_suspect,
        }
    }

    /// Every server that is not opted out and has a reading on or before `d`, in
    /// domain order.
    pub fn facts(&self, d: Day) -> impl Iterator<Item = Fact<'_>> {
        self.series.iter().filter_map(move |series| {
            if self.opted_out.contains(&series.domain) {
                return None;
            }
            let i = series
                .readings
                .partition_point(|r| r.day <= d)
                .checked_sub(1)?;
            let reading = &series.readings[i];
            Some(Fact {
                domain: &series.domain,
                reading,
                silent: d.days_since(reading.day),
                verdict: self
                    .farms
                    .get(&series.domain)
                    .or(series.verdicts[i].as_ref()),
                first_up_today: self.first_up.get(&series.domain) == Some(&d),
            })
        })
    }

    /// The numbers of day `d` (see the module doc for every definition).
    pub fn day(&self, d: Day) -> DayReport {
        let mut servers = ServerCounts::default();
        let mut new = 0;
        let mut users = UserCounts::default();
        let mut posts = PostCounts::default();
        let mut coverage = Coverage::default();
        let mut by_software: BTreeMap<Arc<str>, SoftwareRow> = BTreeMap::new();
        let mut flagged = Vec::new();

        for fact in self.facts(d) {
            let r = fact.reading;
            if self.software.as_deref().is_some_and(|s| s != &*r.software) {
                continue;
            }
            let silent = fact.silent;
            if silent == GONE_DAYS {
                servers.gone += 1;
            }
            if silent > CARRY_DAYS {
                continue;
            }
            if let Some(reason) = fact.verdict {
                flagged.push(Flagged {
                    domain: fact.domain.clone(),
                    rule: reason.rule(),
                    reason: reason.to_string(),
                });
                if !self.include_suspect {
                    servers.excluded += 1;
                    continue;
                }
            }
            if silent == 0 {
                servers.observed += 1;
                if fact.first_up_today {
                    new += 1;
                }
            } else {
                servers.carried_forward += 1;
            }
            let add = |sum: &mut i64, covered: &mut u64, value: Option<i64>| {
                if let Some(v) = value {
                    *sum = sum.saturating_add(v);
                    *covered += 1;
                }
            };
            add(&mut users.total, &mut coverage.users_total, r.users_total);
            add(
                &mut users.active_month,
                &mut coverage.active_month,
                r.active_month,
            );
            add(
                &mut users.active_halfyear,
                &mut coverage.active_halfyear,
                r.active_halfyear,
            );
            add(&mut posts.local, &mut coverage.local_posts, r.local_posts);
            let row = by_software
                .entry(r.software.clone())
                .or_insert_with(|| SoftwareRow {
                    software: r.software.to_string(),
                    servers: 0,
                    users_total: 0,
                    active_month: 0,
                });
            row.servers += 1;
            row.users_total = row.users_total.saturating_add(r.users_total.unwrap_or(0));
            row.active_month = row.active_month.saturating_add(r.active_month.unwrap_or(0));
        }
        servers.up = servers.observed + servers.carried_forward;

        if d != self.baseline {
            servers.new = Some(new);
        }
        let context = NoteContext {
            baseline: self.baseline,
            crawl_days: &self.crawl_days,
            software: self.software.as_deref(),
            include_suspect: self.include_suspect,
        };
        let (health, notes) = notes(d, &context, &self.turnout(d), flagged.len());
        let mut by_software: Vec<SoftwareRow> = by_software.into_values().collect();
        sort_software(&mut by_software);
        let (excluded, suspect_included) = if self.include_suspect {
            (Vec::new(), flagged)
        } else {
            (flagged, Vec::new())
        };
        DayReport {
            date: d,
            servers,
            users,
            posts,
            coverage,
            by_software,
            excluded,
            suspect_included,
            health,
            notes,
        }
    }

    /// How many servers answered on `d`, on the day before, and on both: what the
    /// day's [`Health`] is judged on (every server, whatever the filter).
    pub fn turnout(&self, d: Day) -> Turnout {
        let before = d.add_days(-1);
        let mut turnout = Turnout::default();
        for series in &self.series {
            let has = |day: Day| {
                series
                    .readings
                    .binary_search_by_key(&day, |r| r.day)
                    .is_ok()
            };
            let (on_d, on_before) = (has(d), has(before));
            turnout.today += u64::from(on_d);
            turnout.day_before += u64::from(on_before);
            turnout.answered += u64::from(on_d && on_before);
        }
        turnout
    }
}

/// How many servers answered on a day, on the day before, and on both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turnout {
    pub today: u64,
    pub day_before: u64,
    pub answered: u64,
}

impl Turnout {
    pub fn add(&mut self, other: Turnout) {
        self.today += other.today;
        self.day_before += other.day_before;
        self.answered += other.answered;
    }

    /// The health of a day with this turnout; `crawled`: whether a crawl ran that day.
    pub fn health(&self, crawled: bool) -> Health {
        if !crawled {
            Health::Ok
        } else if self.today == 0 {
            Health::NothingReachable
        } else if self.answered * 2 < self.day_before {
            Health::Thin
        } else {
            Health::Ok
        }
    }
}

/// What the notes of a day say besides its numbers: the census's first day, the days
/// with a crawl, and the filter.
pub struct NoteContext<'a> {
    pub baseline: Day,
    pub crawl_days: &'a BTreeSet<Day>,
    pub software: Option<&'a str>,
    pub include_suspect: bool,
}

/// The per-software table's order: most monthly active users first, then most
/// servers, then by name.
pub fn sort_software(rows: &mut [SoftwareRow]) {
    rows.sort_by(|a, b| {
        (b.active_month, b.servers, &a.software).cmp(&(a.active_month, a.servers, &b.software))
    });
}

/// The health of day `d` and the notes under its numbers: the baseline day, a thin
/// crawl, a day without a crawl, the software filter, and suspect data counted
/// (`flagged` servers).
pub fn notes(
    d: Day,
    ctx: &NoteContext,
    turnout: &Turnout,
    flagged: usize,
) -> (Health, Vec<String>) {
    let mut notes = Vec::new();
    if d == ctx.baseline {
        notes.push(format!(
            "{} is the first day of the census: every server is a baseline, so no \
             servers are counted as new.",
            d.in_words()
        ));
    }
    let crawled = ctx.crawl_days.contains(&d);
    let health = turnout.health(crawled);
    let Turnout {
        day_before,
        answered,
        ..
    } = turnout;
    match health {
        Health::Ok => {}
        Health::Thin => notes.push(format!(
            "The crawls of {} are suspiciously thin: only {answered} of the {day_before} \
             servers that answered the day before answered. The crawler's network was \
             probably down; servers that did not answer are carried forward, and the \
             numbers should not be read as a decline.",
            d.in_words()
        )),
        Health::NothingReachable => notes.push(format!(
            "No server answered the crawls of {}: the crawler's network was probably \
             down. The numbers are carried forward from earlier days.",
            d.in_words()
        )),
    }
    if !crawled {
        notes.push(format!(
            "No crawl ran on {}: every server counted is carried forward from an \
             earlier day.",
            d.in_words()
        ));
    }
    if let Some(software) = ctx.software {
        notes.push(format!("Only servers running {software} are counted."));
    }
    if ctx.include_suspect && flagged > 0 {
        notes.push(format!(
            "Suspect data is included: {} flagged by the suspect-data rules {} counted.",
            plural(flagged as u64, "server", "servers"),
            if flagged == 1 { "is" } else { "are" }
        ));
    }
    (health, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::suspect::{
        JUMP_MIN_USERS, MAX_POSTS, MAX_POSTS_PER_USER, MAX_USERS, STUCK_DAYS,
    };

    #[test]
    fn method_text_matches_the_constants() {
        for needle in [
            format!("within the {CARRY_DAYS} days"),
            format!("reaches {GONE_DAYS} silent days"),
            format!("for {STUCK_DAYS} days"),
            crate::render::number::thousands(MAX_USERS),
            crate::render::number::thousands(MAX_POSTS),
            crate::render::number::thousands(MAX_POSTS_PER_USER),
            crate::render::number::thousands(JUMP_MIN_USERS),
        ] {
            assert!(METHOD.contains(&needle), "METHOD lacks {needle:?}");
        }
    }
}
