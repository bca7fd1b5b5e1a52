//! Suspect data: readings no honest server produces, left out of every total (unless
//! `--include-suspect`) and listed with the reason.
//!
//! Each rule is one function, so each has one definition and one test:
//! - [`negative`]: a count below zero.
//! - [`too_many_users`]: `users_total` above [`MAX_USERS`].
//! - [`active_above_total`]: more monthly active users than users.
//! - [`jump`]: a one-day leap in users (see its doc for the exact rule).
//! - [`stuck`]: a monthly-active counter that has not moved for [`STUCK_DAYS`] while
//!   posts grow.
//! - [`farms`]: a burst of new servers under one registrable domain.
//!
//! The reading rules look back at most [`LOOKBACK_DAYS`] before the reading, so a
//! verdict is the same whether the reading is judged for a one-day report or inside a
//! long period.
//!
//! Types: [`Reason`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::Duration;

use crate::day::Day;
use crate::domain::Domain;
use crate::report::stats::CARRY_DAYS;
use crate::report::window::Reading;
use crate::store::{ServerRecord, Status};

/// No single server has this many accounts; mastodon.social, the largest, has a few
/// million.
pub const MAX_USERS: i64 = 50_000_000;
/// A jump must add more than this many users...
pub const JUMP_MIN_USERS: i64 = 10_000;
/// ...and multiply the count by more than this...
pub const JUMP_FACTOR: i64 = 3;
/// ...versus a snapshot taken at most this many hours earlier.
pub const JUMP_MAX_HOURS: i64 = 48;
/// How long an unchanged monthly-active count must last to be a stuck counter.
pub const STUCK_DAYS: i64 = 60;
/// More than this many servers first up on one day under one registrable domain is a
/// spam farm (or a crawler trap).
pub const FARM_MAX: usize = 5;
/// How far before a reading the rules look: the stuck rule needs [`STUCK_DAYS`], and a
/// server may have been silent for up to [`CARRY_DAYS`] at that mark.
pub const LOOKBACK_DAYS: i64 = STUCK_DAYS + CARRY_DAYS;

/// Why a server's numbers are not believed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Negative {
        field: &'static str,
        value: i64,
    },
    TooManyUsers {
        users: i64,
    },
    ActiveAboveTotal {
        active: i64,
        total: i64,
    },
    Jump {
        from: i64,
        to: i64,
        hours: i64,
    },
    Stuck {
        active_month: i64,
        since: Day,
        posts_from: i64,
        posts_to: i64,
    },
    Farm {
        registrable: String,
        day: Day,
        count: usize,
    },
}

/// Every rule's machine name, as [`Reason::rule`] gives it.
pub const RULES: [&str; 6] = [
    "negative",
    "too_many_users",
    "active_above_total",
    "jump",
    "stuck",
    "farm",
];

impl Reason {
    /// A stable machine name for the rule, for JSON consumers (one of [`RULES`]).
    pub fn rule(&self) -> &'static str {
        match self {
            Reason::Negative { .. } => "negative",
            Reason::TooManyUsers { .. } => "too_many_users",
            Reason::ActiveAboveTotal { .. } => "active_above_total",
            Reason::Jump { .. } => "jump",
            Reason::Stuck { .. } => "stuck",
            Reason::Farm { .. } => "farm",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Negative { field, value } => write!(f, "negative {field} ({value})"),
            Reason::TooManyUsers { users } => {
                write!(f, "{users} users is more than any server has ({MAX_USERS})")
            }
            Reason::ActiveAboveTotal { active, total } => write!(
                f,
                "{active} monthly active users is more than its {total} users"
            ),
            Reason::Jump { from, to, hours } => {
                write!(f, "users jumped from {from} to {to} within {hours} hours")
            }
            Reason::Stuck {
                active_month,
                since,
                posts_from,
                posts_to,
            } => write!(
                f,
                "monthly active users stuck at {active_month} since {since} while local \
                 posts grew from {posts_from} to {posts_to}"
            ),
            Reason::Farm {
                registrable,
                day,
                count,
            } => write!(
                f,
                "one of {count} servers first up under {registrable} on {day} (spam farm)"
            ),
        }
    }
}

/// The first rule that `series[index]` breaks, judged against the server's readings
/// in the [`LOOKBACK_DAYS`] before it. `series` is one server's readings, oldest first.
pub fn check(series: &[Reading], index: usize) -> Option<Reason> {
    let reading = &series[index];
    let start = series[..index].partition_point(|r| reading.day.days_since(r.day) > LOOKBACK_DAYS);
    let earlier = &series[start..index];
    negative(reading)
        .or_else(|| too_many_users(reading))
        .or_else(|| active_above_total(reading))
        .or_else(|| jump(earlier, reading))
        .or_else(|| stuck(earlier, reading))
}

/// Any of users, monthly or half-year active users, or local posts below zero.
pub fn negative(r: &Reading) -> Option<Reason> {
    [
        ("users_total", r.users_total),
        ("active_month", r.active_month),
        ("active_halfyear", r.active_halfyear),
        ("local_posts", r.local_posts),
    ]
    .into_iter()
    .find_map(|(field, value)| {
        value
            .filter(|v| *v < 0)
            .map(|value| Reason::Negative { field, value })
    })
}

/// `users_total` above [`MAX_USERS`].
pub fn too_many_users(r: &Reading) -> Option<Reason> {
    r.users_total
        .filter(|u| *u > MAX_USERS)
        .map(|users| Reason::TooManyUsers { users })
}

/// `active_month` above `users_total` (both reported).
pub fn active_above_total(r: &Reading) -> Option<Reason> {
    match (r.active_month, r.users_total) {
        (Some(active), Some(total)) if active > total => {
            Some(Reason::ActiveAboveTotal { active, total })
        }
        _ => None,
    }
}

/// Versus the server's previous reading, taken at most [`JUMP_MAX_HOURS`] earlier:
/// `users_total` rose by more than [`JUMP_MIN_USERS`] AND to more than [`JUMP_FACTOR`]
/// times the previous count. Only the reading that leaps is flagged: a new level that
/// the server keeps reporting is accepted from its next reading on, so a one-day glitch
/// is left out while a real merger of servers is counted a day later.
pub fn jump(earlier: &[Reading], r: &Reading) -> Option<Reason> {
    let prev = earlier.last()?;
    let (from, to) = (prev.users_total?, r.users_total?);
    let within = r.at - prev.at <= Duration::hours(JUMP_MAX_HOURS);
    let leap = to.saturating_sub(from) > JUMP_MIN_USERS && to > from.saturating_mul(JUMP_FACTOR);
    (within && leap).then(|| Reason::Jump {
        from,
        to,
        hours: (r.at - prev.at).num_hours(),
    })
}

/// A stuck counter: the server's latest reading at least [`STUCK_DAYS`] before this
/// one (and within [`LOOKBACK_DAYS`]) and every reading since report the same
/// `active_month` as this one, while `local_posts` grew between that reading and this.
pub fn stuck(earlier: &[Reading], r: &Reading) -> Option<Reason> {
    let active_month = r.active_month?;
    let mark = earlier.partition_point(|e| r.day.days_since(e.day) >= STUCK_DAYS);
    let from = earlier[..mark].last()?;
    let unchanged = earlier[mark - 1..]
        .iter()
        .all(|e| e.active_month == Some(active_month));
    let (posts_from, posts_to) = (from.local_posts?, r.local_posts?);
    (unchanged && posts_to > posts_from).then_some(Reason::Stuck {
        active_month,
        since: from.day,
        posts_from,
        posts_to,
    })
}

/// Spam farms: every server whose first successful snapshot falls on a day on which
/// more than [`FARM_MAX`] servers under the same [`Domain::registrable`] were first up.
/// All of them are flagged, on every day, since none can be told apart from the rest.
pub fn farms(records: &[ServerRecord]) -> HashMap<Domain, Reason> {
    let mut groups: BTreeMap<(Day, &str), Vec<&Domain>> = BTreeMap::new();
    for record in records {
        if matches!(record.status, Status::Alias { .. }) {
            continue;
        }
        if let Some(first_up) = record.first_up {
            groups
                .entry((Day::of(first_up), record.domain.registrable()))
                .or_default()
                .push(&record.domain);
        }
    }
    groups
        .into_iter()
        .filter(|(_, domains)| domains.len() > FARM_MAX)
        .flat_map(|((day, registrable), domains)| {
            let count = domains.len();
            domains.into_iter().map(move |domain| {
                let reason = Reason::Farm {
                    registrable: registrable.to_string(),
                    day,
                    count,
                };
                (domain.clone(), reason)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: i64) -> Day {
        Day::from_ymd(2022, 1, 1).unwrap().add_days(n)
    }

    fn reading(d: i64, users: i64) -> Reading {
        Reading {
            day: day(d),
            at: day(d).start() + Duration::hours(12),
            software: "mastodon".into(),
            users_total: Some(users),
            active_month: Some(users / 10),
            active_halfyear: None,
            local_posts: Some(1000 + d),
        }
    }

    #[test]
    fn negative_counts() {
        let mut r = reading(0, 10);
        assert_eq!(negative(&r), None);
        r.local_posts = Some(-1);
        assert_eq!(
            negative(&r),
            Some(Reason::Negative {
                field: "local_posts",
                value: -1
            })
        );
        r.users_total = Some(-5);
        assert_eq!(
            negative(&r).unwrap().to_string(),
            "negative users_total (-5)"
        );
    }

    #[test]
    fn too_many() {
        assert_eq!(too_many_users(&reading(0, MAX_USERS)), None);
        assert_eq!(
            too_many_users(&reading(0, MAX_USERS + 1)).unwrap().rule(),
            "too_many_users"
        );
    }

    #[test]
    fn active_above() {
        let mut r = reading(0, 100);
        r.active_month = Some(100);
        assert_eq!(active_above_total(&r), None);
        r.active_month = Some(101);
        assert!(active_above_total(&r).is_some());
        r.users_total = None;
        assert_eq!(active_above_total(&r), None);
    }

    #[test]
    fn jump_needs_both_size_and_ratio_within_two_days() {
        let prev = [reading(0, 5_000)];
        assert_eq!(jump(&prev, &reading(1, 15_000)), None, "exactly ×3");
        assert!(jump(&prev, &reading(1, 15_001)).is_some());
        let big = [reading(0, 100_000)];
        assert_eq!(jump(&big, &reading(1, 290_000)), None, "below ×3");
        let small = [reading(0, 10)];
        assert_eq!(jump(&small, &reading(1, 10_010)), None, "only +10,000");
        assert!(jump(&small, &reading(1, 10_011)).is_some());
        assert!(jump(&small, &reading(2, 10_011)).is_some(), "48 hours");
        assert_eq!(jump(&small, &reading(3, 10_011)), None, "72 hours");
        assert_eq!(jump(&[], &reading(1, 1_000_000)), None);
    }

    fn flat(d: i64, active: i64, posts: i64) -> Reading {
        Reading {
            active_month: Some(active),
            local_posts: Some(posts),
            ..reading(d, 1_000)
        }
    }

    #[test]
    fn stuck_counter() {
        let history: Vec<Reading> = (0..60).map(|d| flat(d, 50, 100 + d)).collect();
        let r = flat(60, 50, 200);
        assert_eq!(
            stuck(&history, &r),
            Some(Reason::Stuck {
                active_month: 50,
                since: day(0),
                posts_from: 100,
                posts_to: 200
            })
        );
        assert_eq!(stuck(&history[1..], &r), None, "only 59 days");
        assert_eq!(
            stuck(&history, &flat(60, 50, 100)),
            None,
            "posts did not grow"
        );
        assert_eq!(stuck(&history, &flat(60, 51, 200)), None, "counter moved");
        let mut moved = history.clone();
        moved[30].active_month = Some(49);
        assert_eq!(stuck(&moved, &r), None, "moved in between");
        // A gap in the history does not hide the counter.
        let sparse: Vec<Reading> = history.iter().step_by(7).cloned().collect();
        assert!(stuck(&sparse, &flat(62, 50, 200)).is_some());
    }

    #[test]
    fn check_looks_back_a_bounded_window() {
        let mut series: Vec<Reading> = (0..=60).map(|d| flat(d, 50, 100 + d)).collect();
        assert_eq!(check(&series, 60).unwrap().rule(), "stuck");
        series.push(reading(61, 1_000_000));
        assert_eq!(check(&series, 61).unwrap().rule(), "jump");
        // 68 days later the old readings are out of reach.
        series.push(flat(61 + LOOKBACK_DAYS + 1, 50, 500));
        assert_eq!(check(&series, 62), None);
    }

    #[test]
    fn farm_needs_more_than_five() {
        let at = day(3).start() + Duration::hours(1);
        let record = |name: &str| {
            let mut r = ServerRecord::discovered(Domain::parse(name).unwrap(), at, None);
            r.first_up = Some(at);
            r.status = Status::Up;
            r
        };
        let mut records: Vec<ServerRecord> = (0..5)
            .map(|i| record(&format!("s{i}.farm.example.com")))
            .collect();
        records.push(record("other.example.org"));
        assert!(farms(&records).is_empty());
        records.push(record("s5.farm.example.com"));
        let flagged = farms(&records);
        assert_eq!(flagged.len(), 6);
        let reason = &flagged[&Domain::parse("s0.farm.example.com").unwrap()];
        assert_eq!(
            reason.to_string(),
            "one of 6 servers first up under example.com on 2022-01-04 (spam farm)"
        );
    }
}
