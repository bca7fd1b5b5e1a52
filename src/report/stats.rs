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
//! - `growth` from D1 to D2 ([`Growth`]): the change in users split by where it
//!   happened. Servers counting on both days contribute their change (`continuing`),
//!   servers counting on D2 only all their users (`newly_counted`: found, returned, or
//!   no longer suspect), servers counting on D1 only minus all theirs
//!   (`stopped_counting`). The parts add up to users(D2) − users(D1) exactly.
//! - `signups` on D ([`Signups`]): the sum of `registrations_week` (sign-ups in the
//!   server's last complete week, which only Mastodon's API publishes) over the
//!   counting servers that report it, with how many did and their users; a day's
//!   estimate is that sum ÷ 7, a period's the sum over its days ÷ 7.
//! - `by_language` on D ([`LanguageRow`]): counting servers, their users and monthly
//!   active users per declared language; a server declaring several languages is in
//!   each row, so rows do not add up to the totals. `coverage.languages` counts the
//!   servers that declared any.
//!
//! Cost: computing a day is O(servers × log(window days)) over a [`Census`] loaded from
//! the store; the census itself costs O(servers × window days) to load and judge.
//!
//! Types: [`DayReport`] and its parts ([`ServerCounts`], [`UserCounts`],
//! [`PostCounts`], [`Coverage`], [`SoftwareRow`], [`LanguageRow`], [`Flagged`],
//! [`Health`]), [`Growth`], [`ServerUsers`], [`Moves`] and [`Transition`], [`Signups`],
//! [`Filter`] (what to count), [`Census`] (the loaded window that computes days).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::day::Day;
use crate::domain::Domain;
use crate::number::plural;
use crate::outcome::OptOut;
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
- Where new users came from, between two days (for a period: its first and last day): \
servers that count on both days contribute the change in their users (growth on \
servers already counted); servers that count only on the later day contribute all \
their users (existing users the census found: new servers, servers back after more \
than 7 silent days, servers no longer suspect), which is discovery, not people \
joining; servers that count only on the earlier day take all their users away. The \
three parts add up to the new users exactly.
- Sign-ups: only servers with Mastodon's API publish them, as the sign-ups of their \
last complete week. A day's sign-ups are the sum of that weekly number over the \
counting servers that publish it, divided by 7; a period's are the sum over its days \
after the first, divided by 7. The number lags by up to a week and leaves out every \
server that does not publish it, so it is always given with how many servers publish \
it and how many users those servers have.
- Languages: servers declare the languages they are meant for (Mastodon-compatible \
APIs only; NodeInfo has no such field). Each declared language counts the server, its \
users and its monthly active users once; a server declaring several is counted under \
each, so the rows do not add up to the totals, and servers declaring none are in no \
row (coverage says how many declared any). A declared language is not a country: one \
language is spoken in many countries, people sign up on servers in languages other \
than their own and far from where they live, most software declares English by \
default, and the census never sees where a user is. It can show which language \
communities the servers serve, not where their users live.
- Growth waves: a day of a report is high when its new users (users that day minus the \
day before) are more than 3 times their median over the up to 28 days before it in the \
report and at least 100, or its new servers are more than 3 times their median and at \
least 3; a day is judged only with at least 7 earlier days in the report. Consecutive \
high days form a wave, named by its dates, with its peak (its day with the most new \
users, or new servers if only those rose), its size (new users and new servers from \
its start through its end) and the 5 servers whose users grew most over it.
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
    /// The UTC day the numbers are for.
    pub date: Day,
    /// How many servers count on the day and how, and those new, gone or left out.
    pub servers: ServerCounts,
    /// Users, monthly and half-year active users, summed over the counting servers.
    pub users: UserCounts,
    /// Local posts, summed over the counting servers.
    pub posts: PostCounts,
    /// How many of the counting servers reported each number.
    pub coverage: Coverage,
    /// The counting servers by software, most monthly active users first.
    pub by_software: Vec<SoftwareRow>,
    /// The counting servers by declared language, ordered as `by_software`; a server
    /// declaring several languages is in each of their rows.
    pub by_language: Vec<LanguageRow>,
    /// The change since the day before, split; `None` on the census's first day.
    pub growth: Option<Growth>,
    /// Weekly sign-ups of the counting servers that publish them (a day's estimate is ÷ 7).
    pub signups: Signups,
    /// Servers that would count but were left out as suspect.
    pub excluded: Vec<Flagged>,
    /// With `--include-suspect`: the suspect servers that were counted anyway.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suspect_included: Vec<Flagged>,
    /// Whether the day's crawls can be trusted: `ok`, `thin` or `nothing_reachable`.
    pub health: Health,
    /// Sentences to read the numbers by: the baseline day, a thin or missing crawl, the
    /// software filter, suspect data counted.
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
/// The servers of a day: how many count and how, and how many are new, gone or suspect.
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
/// User numbers summed over a set of servers; one that did not report a number adds 0.
pub struct UserCounts {
    /// Users: the accounts the servers report (NodeInfo `usage.users.total`).
    pub total: i64,
    /// Monthly active users (NodeInfo `usage.users.activeMonth`).
    pub active_month: i64,
    /// Half-year active users (NodeInfo `usage.users.activeHalfyear`).
    pub active_halfyear: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
/// Post numbers summed over a set of servers; one that did not report them adds 0.
pub struct PostCounts {
    /// Posts written on the servers themselves (NodeInfo `usage.localPosts`).
    pub local: i64,
}

/// How many of the counting servers reported each number.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Counting servers that reported their users.
    pub users_total: u64,
    /// Counting servers that reported their monthly active users.
    pub active_month: u64,
    /// Counting servers that reported their half-year active users.
    pub active_halfyear: u64,
    /// Counting servers that reported their local posts.
    pub local_posts: u64,
    /// Servers that declared at least one language.
    pub languages: u64,
}

/// The counting servers of one row of a split (by software or by declared language)
/// and their users; a server that did not report a number adds 0 to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCounts {
    /// Counting servers in the row.
    pub servers: u64,
    /// Their users.
    pub users_total: i64,
    /// Their monthly active users.
    pub active_month: i64,
}

impl RowCounts {
    /// Adds a server with reading `r`.
    fn add(&mut self, r: &Reading) {
        self.servers += 1;
        self.users_total = self.users_total.saturating_add(r.users_total.unwrap_or(0));
        self.active_month = self
            .active_month
            .saturating_add(r.active_month.unwrap_or(0));
    }

    /// Adds the servers of `other`.
    pub fn absorb(&mut self, other: &RowCounts) {
        self.servers += other.servers;
        self.users_total = self.users_total.saturating_add(other.users_total);
        self.active_month = self.active_month.saturating_add(other.active_month);
    }

    /// The order of every split's rows (`self` named `name` against `other` named
    /// `other_name`): most monthly active users first, then most servers, then by name.
    fn busiest_first(&self, name: &str, other: &RowCounts, other_name: &str) -> std::cmp::Ordering {
        (other.active_month, other.servers, name).cmp(&(
            self.active_month,
            self.servers,
            other_name,
        ))
    }
}

/// One software and the counting servers that run it (a row of `by_software`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoftwareRow {
    /// The software name (NodeInfo `software.name`), lowercased.
    pub software: String,
    /// Its counting servers and their users.
    #[serde(flatten)]
    pub counts: RowCounts,
}

/// One row of a split of a day, by software or by declared language, as the renderers
/// print both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SplitRow<'a> {
    /// The software name or the language code.
    pub name: &'a str,
    /// The row's counting servers and their users.
    pub counts: RowCounts,
}

impl DayReport {
    /// `by_software` as split rows.
    pub fn software_rows(&self) -> Vec<SplitRow<'_>> {
        self.by_software
            .iter()
            .map(|r| SplitRow {
                name: &r.software,
                counts: r.counts,
            })
            .collect()
    }

    /// `by_language` as split rows.
    pub fn language_rows(&self) -> Vec<SplitRow<'_>> {
        self.by_language
            .iter()
            .map(|r| SplitRow {
                name: &r.language,
                counts: r.counts,
            })
            .collect()
    }
}

/// The sums of one day as [`Census::day`] goes through its servers.
#[derive(Default)]
struct DayTally {
    servers: ServerCounts,
    new: u64,
    users: UserCounts,
    posts: PostCounts,
    coverage: Coverage,
    by_software: BTreeMap<Arc<str>, SoftwareRow>,
    by_language: BTreeMap<String, LanguageRow>,
    signups: Signups,
    flagged: Vec<Flagged>,
}

impl DayTally {
    /// Counts one server's standing on day `d` under `census`'s filter.
    fn add(&mut self, census: &Census, entry: &Entry, d: Day) {
        if entry.opted_out.is_some() {
            return;
        }
        if entry.is_gone() {
            self.servers.gone += 1;
        }
        if !entry.is_recent() {
            return;
        }
        if let Some(reason) = entry.verdict {
            self.flagged.push(Flagged {
                domain: entry.domain.clone(),
                rule: reason.rule(),
                reason: reason.to_string(),
            });
        }
        if !census.counts(entry) {
            self.servers.excluded += 1;
            return;
        }
        if entry.silent == 0 {
            self.servers.observed += 1;
            self.new += u64::from(entry.is_new(d));
        } else {
            self.servers.carried_forward += 1;
        }
        self.add_reading(entry.reading);
    }

    /// Adds a counted server's numbers to the sums, the coverage and the splits.
    fn add_reading(&mut self, r: &Reading) {
        let (users, coverage) = (&mut self.users, &mut self.coverage);
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
        add(
            &mut self.posts.local,
            &mut coverage.local_posts,
            r.local_posts,
        );
        self.by_software
            .entry(r.software.clone())
            .or_insert_with(|| SoftwareRow {
                software: r.software.to_string(),
                counts: RowCounts::default(),
            })
            .counts
            .add(r);
        add_languages(&mut self.by_language, coverage, r);
        self.signups.add(r);
    }
}

/// One declared language (a lowercase ISO 639 code, e.g. `de`) and the counting
/// servers that declare it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageRow {
    /// The language code: a declared tag's primary subtag, lowercased.
    pub language: String,
    /// The counting servers that declare it, and all their users, whatever else they
    /// declare.
    #[serde(flatten)]
    pub counts: RowCounts,
}

/// A number of servers and their users: one part of a [`Growth`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServerUsers {
    /// Servers in this part.
    pub servers: u64,
    /// Their users: the change in them for `continuing`, all of them for the other parts
    /// (for `stopped_counting`, the users lost, as a positive number).
    pub users: i64,
}

/// Where the change in users from D1 to D2 happened (see the module doc):
/// `continuing.users + newly_counted.users − stopped_counting.users` is exactly
/// users(D2) − users(D1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Growth {
    /// Servers counting on both days, and the change in their users: growth on servers
    /// already counted.
    pub continuing: ServerUsers,
    /// Servers counting on D2 but not D1, with their users on D2: existing users the
    /// census found, not people who joined.
    pub newly_counted: ServerUsers,
    /// Servers counting on D1 but not D2, with their users on D1 (a loss).
    pub stopped_counting: ServerUsers,
}

impl Growth {
    /// The change in users the split explains.
    pub fn total(&self) -> i64 {
        self.continuing
            .users
            .saturating_add(self.newly_counted.users)
            .saturating_sub(self.stopped_counting.users)
    }

    /// Adds one server that counts with `before` users on D1 and `after` on D2 (`None`:
    /// does not count; see [`Compare::pairs`]).
    fn add(&mut self, before: Option<i64>, after: Option<i64>) {
        let moves = Moves {
            servers: 1,
            before: before.unwrap_or(0),
            after: after.unwrap_or(0),
            change: after.unwrap_or(0).saturating_sub(before.unwrap_or(0)),
        };
        self.add_moves(before.is_some(), after.is_some(), &moves);
    }

    /// Adds servers that count on D1 (`before`) and on D2 (`after`) as said, with their
    /// users summed in `moves`.
    pub fn add_moves(&mut self, before: bool, after: bool, moves: &Moves) {
        let (part, users) = match (before, after) {
            (true, true) => (&mut self.continuing, moves.change),
            (false, true) => (&mut self.newly_counted, moves.after),
            (true, false) => (&mut self.stopped_counting, moves.before),
            (false, false) => return,
        };
        part.servers += moves.servers;
        part.users = part.users.saturating_add(users);
    }
}

/// Servers between two days and their users (0 for a server that does not count or
/// did not report users): on D1, on D2, and the sum of each server's change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moves {
    /// Servers in the set.
    pub servers: u64,
    /// Their users on D1.
    pub before: i64,
    /// Their users on D2.
    pub after: i64,
    /// The sum of each server's change in users from D1 to D2.
    pub change: i64,
}

impl Moves {
    /// Adds one server with `before` on D1 and `after` on D2.
    pub fn add(&mut self, before: Option<&Reading>, after: Option<&Reading>) {
        let users = |r: Option<&Reading>| r.and_then(|r| r.users_total).unwrap_or(0);
        self.servers += 1;
        self.before = self.before.saturating_add(users(before));
        self.after = self.after.saturating_add(users(after));
        self.change = self
            .change
            .saturating_add(users(after).saturating_sub(users(before)));
    }
}

/// A server's reading on D1 and on D2 where it would count with suspect data included,
/// and whether that reading is suspect.
pub type Transition<'a> = (Option<(&'a Reading, bool)>, Option<(&'a Reading, bool)>);

/// Sign-ups as the counting servers that publish them report them on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signups {
    /// The sum of the reporting servers' sign-ups in their last complete week.
    pub registrations_week: i64,
    /// Counting servers that reported their weekly sign-ups.
    pub servers_reporting: u64,
    /// The users of those servers: how much of the census the estimate covers.
    pub users_covered: i64,
}

impl Signups {
    /// Adds a counting server with reading `r` (nothing if it does not publish its
    /// sign-ups).
    pub fn add(&mut self, r: &Reading) {
        if let Some(week) = r.registrations_week {
            self.registrations_week = self.registrations_week.saturating_add(week);
            self.servers_reporting += 1;
            self.users_covered = self
                .users_covered
                .saturating_add(r.users_total.unwrap_or(0));
        }
    }

    /// Adds the sign-ups of other counting servers.
    pub fn absorb(&mut self, other: &Signups) {
        self.registrations_week = self
            .registrations_week
            .saturating_add(other.registrations_week);
        self.servers_reporting += other.servers_reporting;
        self.users_covered = self.users_covered.saturating_add(other.users_covered);
    }

    /// Sign-ups per day: the weekly sum ÷ 7, rounded.
    pub fn per_day(&self) -> i64 {
        per_day(self.registrations_week)
    }
}

/// A weekly count spread over its 7 days, rounded to the nearest whole.
pub fn per_day(week: i64) -> i64 {
    (week as f64 / 7.0).round() as i64
}

/// A server the suspect-data rules flagged, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flagged {
    /// The server left out (or, with `--include-suspect`, counted anyway).
    pub domain: Domain,
    /// The rule's machine name, e.g. `jump`.
    pub rule: &'static str,
    /// The reason in words, with the offending numbers.
    pub reason: String,
}

/// One server as one day sees it: its latest reading on or before the day and every
/// fact that decides whether it counts. Built only by [`Census::entries`].
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The server's canonical name.
    pub domain: &'a Domain,
    /// The latest reading on or before the day.
    pub reading: &'a Reading,
    /// Days between the reading and the day (0: observed that day).
    pub silent: i64,
    /// How the server asked not to be counted, if it did: it then never counts.
    pub opted_out: Option<OptOut>,
    /// The suspect rule the reading (or the server, for farms) breaks.
    pub verdict: Option<&'a Reason>,
    /// When the server's first successful snapshot was taken.
    pub first_up: Option<DateTime<Utc>>,
}

impl Entry<'_> {
    /// Answered within [`CARRY_DAYS`]: counts unless opted out or suspect.
    pub fn is_recent(&self) -> bool {
        self.silent <= CARRY_DAYS
    }

    /// Reached [`GONE_DAYS`] silent days on the day.
    pub fn is_gone(&self) -> bool {
        self.silent == GONE_DAYS
    }

    /// Observed on `d` and first up on `d`. Whether it is counted as new also needs it
    /// to count and `d` not to be the baseline (see [`Census::counts_as_new`]).
    pub fn is_new(&self, d: Day) -> bool {
        self.silent == 0 && self.first_up.map(Day::of) == Some(d)
    }
}

/// What a period compares server by server between two of its days: the growth split
/// and the servers that grew most. [`Census`] computes it from a window of history (the
/// test oracle); `super::compare::Standings` from the few stored days it needs (what
/// reports use). Both count a server as [`Census::counts`] says.
pub trait Compare {
    /// Every server that counts on `d1` or `d2`, with its users on each: `None` where it
    /// does not count, `Some(0)` where it counts without reporting users (as in the
    /// totals).
    fn pairs(&self, d1: Day, d2: Day) -> Vec<(Domain, Option<i64>, Option<i64>)>;

    /// The change in users from `d1` to `d2`, split (see [`Growth`]).
    fn growth(&self, d1: Day, d2: Day) -> Growth {
        let mut growth = Growth::default();
        for (_, before, after) in self.pairs(d1, d2) {
            growth.add(before, after);
        }
        growth
    }

    /// The `n` servers whose users grew most from `d1` to `d2` (a newly counted server
    /// with all its users), largest first, ties by name.
    fn top_growth(&self, d1: Day, d2: Day, n: usize) -> Vec<(Domain, i64)> {
        let mut gains: Vec<(Domain, i64)> = self
            .pairs(d1, d2)
            .into_iter()
            .filter_map(|(domain, before, after)| {
                let gain = after?.saturating_sub(before.unwrap_or(0));
                (gain > 0).then_some((domain, gain))
            })
            .collect();
        gains.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        gains.truncate(n);
        gains
    }
}

impl Compare for Census {
    fn pairs(&self, d1: Day, d2: Day) -> Vec<(Domain, Option<i64>, Option<i64>)> {
        let users = |r: &Reading| r.users_total.unwrap_or(0);
        self.series
            .iter()
            .filter_map(|s| {
                let (before, after) = (self.counted(s, d1), self.counted(s, d2));
                (before.is_some() || after.is_some())
                    .then(|| (s.domain.clone(), before.map(users), after.map(users)))
            })
            .collect()
    }
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
    first_up: HashMap<Domain, DateTime<Utc>>,
    opted_out: HashMap<Domain, OptOut>,
    farms: HashMap<Domain, Reason>,
    /// The first day the database saw a crawl.
    baseline: Day,
    crawl_days: BTreeSet<Day>,
    software: Option<String>,
    include_suspect: bool,
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
                .filter_map(|r| Some((r.domain.clone(), r.first_up?)))
                .collect(),
            opted_out: records
                .iter()
                .filter_map(|r| match r.status {
                    Status::OptedOut { how } => Some((r.domain.clone(), how)),
                    _ => None,
                })
                .collect(),
            farms,
            baseline: crawl_days.first().copied().unwrap_or(judged_from),
            crawl_days: crawl_days.iter().copied().collect(),
            software: filter.software_name(),
            include_suspect: filter.include_suspect,
        }
    }

    /// Every server with a reading on or before `d` in the window, as day `d` sees it
    /// (opted-out servers included, marked; software filter applied). The one place that
    /// decides where a server stands: [`Census::day`], the stored day summaries, the
    /// growth split and the server lists all read it.
    pub fn entries(&self, d: Day) -> impl Iterator<Item = Entry<'_>> + '_ {
        self.series
            .iter()
            .filter_map(move |series| self.entry(series, d))
    }

    /// `series` as day `d` sees it (see [`Census::entries`]).
    fn entry<'a>(&'a self, series: &'a Series, d: Day) -> Option<Entry<'a>> {
        let i = series
            .readings
            .partition_point(|r| r.day <= d)
            .checked_sub(1)?;
        let reading = &series.readings[i];
        if self
            .software
            .as_deref()
            .is_some_and(|s| s != &*reading.software)
        {
            return None;
        }
        Some(Entry {
            domain: &series.domain,
            reading,
            silent: d.days_since(reading.day),
            opted_out: self.opted_out.get(&series.domain).copied(),
            verdict: self
                .farms
                .get(&series.domain)
                .or(series.verdicts[i].as_ref()),
            first_up: self.first_up.get(&series.domain).copied(),
        })
    }

    /// Whether `entry` counts on its day: recent, not opted out, and not suspect
    /// (unless `--include-suspect`).
    pub fn counts(&self, entry: &Entry) -> bool {
        entry.opted_out.is_none()
            && entry.is_recent()
            && (entry.verdict.is_none() || self.include_suspect)
    }

    /// Whether `entry` is among day `d`'s `servers.new`.
    pub fn counts_as_new(&self, entry: &Entry, d: Day) -> bool {
        !self.is_baseline(d) && self.counts(entry) && entry.is_new(d)
    }

    /// Whether `d` is the census's first day, on which nothing is new.
    pub fn is_baseline(&self, d: Day) -> bool {
        d == self.baseline
    }

    /// The reading with which `series` would count on `d` with suspect data included,
    /// and whether it is suspect.
    fn counting<'a>(&'a self, series: &'a Series, d: Day) -> Option<(&'a Reading, bool)> {
        self.entry(series, d)
            .filter(|e| e.opted_out.is_none() && e.is_recent())
            .map(|e| (e.reading, e.verdict.is_some()))
    }

    /// The reading with which `series` counts on `d`, if it counts ([`Census::counts`]).
    fn counted<'a>(&'a self, series: &'a Series, d: Day) -> Option<&'a Reading> {
        self.entry(series, d)
            .filter(|e| self.counts(e))
            .map(|e| e.reading)
    }

    /// Every server that would count on `d1` or `d2` with suspect data included, with
    /// its reading on each and whether that reading is suspect: what a stored day needs
    /// to split its growth under any filter.
    pub fn transitions(&self, d1: Day, d2: Day) -> impl Iterator<Item = Transition<'_>> + '_ {
        self.series.iter().filter_map(move |s| {
            let (before, after) = (self.counting(s, d1), self.counting(s, d2));
            (before.is_some() || after.is_some()).then_some((before, after))
        })
    }

    /// The numbers of day `d` (see the module doc for every definition).
    pub fn day(&self, d: Day) -> DayReport {
        let mut tally = DayTally::default();
        for entry in self.entries(d) {
            tally.add(self, &entry, d);
        }
        let DayTally {
            mut servers,
            new,
            users,
            posts,
            coverage,
            by_software,
            by_language,
            signups,
            flagged,
        } = tally;
        servers.up = servers.observed + servers.carried_forward;
        if !self.is_baseline(d) {
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
        let mut by_language: Vec<LanguageRow> = by_language.into_values().collect();
        sort_languages(&mut by_language);
        let growth = (d > self.baseline).then(|| self.growth(d.add_days(-1), d));
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
            by_language,
            growth,
            signups,
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
    /// Servers that answered on the day (a snapshot taken that day).
    pub today: u64,
    /// Servers that answered on the day before.
    pub day_before: u64,
    /// Servers that answered on both days.
    pub answered: u64,
}

impl Turnout {
    /// Adds the turnout of other servers (another group's, as days are derived).
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
    /// The census's first day, on which no server is new.
    pub baseline: Day,
    /// The days on which a crawl ended: a day without one gets a note.
    pub crawl_days: &'a BTreeSet<Day>,
    /// The `--software` filter, lowercased, if any.
    pub software: Option<&'a str>,
    /// Whether suspect servers are counted (`--include-suspect`).
    pub include_suspect: bool,
}

/// The per-software table's order: most monthly active users first, then most
/// servers, then by name.
pub fn sort_software(rows: &mut [SoftwareRow]) {
    rows.sort_by(|a, b| a.counts.busiest_first(&a.software, &b.counts, &b.software));
}

/// The per-language table's order: as [`sort_software`].
pub fn sort_languages(rows: &mut [LanguageRow]) {
    rows.sort_by(|a, b| a.counts.busiest_first(&a.language, &b.counts, &b.language));
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

/// Counts a server under each language it declares.
pub fn add_languages(
    rows: &mut BTreeMap<String, LanguageRow>,
    coverage: &mut Coverage,
    r: &Reading,
) {
    if !r.languages.is_empty() {
        coverage.languages += 1;
    }
    for language in r.languages.iter() {
        if !rows.contains_key(&**language) {
            let row = LanguageRow {
                language: language.to_string(),
                counts: RowCounts::default(),
            };
            rows.insert(language.to_string(), row);
        }
        rows.get_mut(&**language)
            .expect("inserted above")
            .counts
            .add(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::suspect::{
        JUMP_MIN_USERS, MAX_POSTS, MAX_POSTS_PER_USER, MAX_USERS, STUCK_DAYS,
    };
    use crate::report::waves;

    #[test]
    fn method_text_matches_the_constants() {
        for needle in [
            format!("within the {CARRY_DAYS} days"),
            format!("more than {CARRY_DAYS} silent"),
            format!("reaches {GONE_DAYS} silent days"),
            format!("for {STUCK_DAYS} days"),
            crate::number::thousands(MAX_USERS),
            crate::number::thousands(MAX_POSTS),
            crate::number::thousands(MAX_POSTS_PER_USER),
            crate::number::thousands(JUMP_MIN_USERS),
            format!("more than {} times their median", waves::MULTIPLE),
            format!("up to {} days before", waves::TRAILING_DAYS),
            format!("at least {} earlier days", waves::MIN_TRAILING_DAYS),
            format!("at least {}, or", waves::MIN_USERS),
            format!("at least {}; a day", waves::MIN_SERVERS),
            format!("the {} servers whose", waves::TOP_SERVERS),
        ] {
            assert!(METHOD.contains(&needle), "METHOD lacks {needle:?}");
        }
    }
}
