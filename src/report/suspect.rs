//! Suspect data: readings no honest server produces, left out of every total (unless
//! `--include-suspect`) and listed with the reason.
//!
//! Each rule is one function, so each has one definition and one test:
//! - [`negative`]: a count below zero.
//! - [`too_many_users`]: users, monthly or half-year active users above [`MAX_USERS`].
//! - [`too_many_posts`]: local posts above [`MAX_POSTS`], or above
//!   [`MAX_POSTS_PER_USER`] per user.
//! - [`active_above_total`]: more monthly active users than users.
//! - [`halfyear_above_total`]: more half-year active users than users.
//! - [`month_above_halfyear`]: more monthly than half-year active users.
//! - [`jump`]: a one-day leap in users (see its doc for the exact rule).
//! - [`stuck`]: a monthly-active counter that has not moved for [`STUCK_DAYS`] while
//!   posts grow.
//! - [`farms`]: a burst of new servers under one registrable domain.
//!
//! The reading rules look back at most [`LOOKBACK_DAYS`] before the reading, so a
//! verdict is the same whether the reading is judged for a one-day report or inside a
//! long period.
//!
//! Together they bound every summed field: a reading that passes them has each count in
//! `0..=MAX_USERS` (users and actives, when users are reported; monthly actives also
//! through half-year actives) and posts in `0..=MAX_POSTS`, so no server can move a total
//! by more than that. The sums themselves saturate rather than overflow.
//!
//! Types: [`Reason`], [`Above`].

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
/// No server has written this many posts: the largest have a few hundred million.
pub const MAX_POSTS: i64 = 10_000_000_000;
/// Nor this many per account (a bot posting every minute for two years writes about a
/// million); servers reporting no or 0 users are allowed this many in all.
pub const MAX_POSTS_PER_USER: i64 = 1_000_000;
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
    /// A count below zero.
    Negative {
        /// The field: `users_total`, `active_month`, `active_halfyear` or `local_posts`.
        field: &'static str,
        /// Its value, below zero.
        value: i64,
    },
    /// Users, monthly or half-year active users above [`MAX_USERS`].
    TooManyUsers {
        /// The field: `users_total`, `active_month` or `active_halfyear`.
        field: &'static str,
        /// Its value, above [`MAX_USERS`].
        value: i64,
    },
    /// Local posts above their bound (see [`too_many_posts`]).
    TooManyPosts {
        /// The local posts reported.
        posts: i64,
        /// [`MAX_POSTS_PER_USER`] per user (at least one user), at most [`MAX_POSTS`].
        bound: i64,
    },
    /// One count above another that must be at least as large.
    Above {
        /// Which count exceeds which.
        which: Above,
        /// The smaller field's value, the one too high.
        value: i64,
        /// The larger field's value, which it exceeds.
        bound: i64,
    },
    /// A leap in users versus the previous reading (see [`jump`]).
    Jump {
        /// Users in the previous reading.
        from: i64,
        /// Users in this reading.
        to: i64,
        /// Whole hours between the two readings.
        hours: i64,
    },
    /// A monthly-active counter unchanged while posts grow (see [`stuck`]).
    Stuck {
        /// The unchanged monthly active users.
        active_month: i64,
        /// The day of the reading, at least [`STUCK_DAYS`] earlier, it is unchanged from.
        since: Day,
        /// Local posts in that reading.
        posts_from: i64,
        /// Local posts in this reading.
        posts_to: i64,
    },
    /// One of a burst of servers first up on one day under one registrable domain.
    Farm {
        /// The registrable domain they share.
        registrable: String,
        /// The day they were first up.
        day: Day,
        /// How many were first up under it that day (more than [`FARM_MAX`]).
        count: usize,
    },
}

/// Every rule's machine name, as [`Reason::rule`] gives it (day summaries store the
/// name; a test checks the list against the rules).
pub const RULES: [&str; 9] = [
    "negative",
    "too_many_users",
    "too_many_posts",
    "active_above_total",
    "halfyear_above_total",
    "month_above_halfyear",
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
            Reason::TooManyPosts { .. } => "too_many_posts",
            Reason::Above { which, .. } => which.rule(),
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
            Reason::TooManyUsers { field, value } => write!(
                f,
                "{value} {} is more than any server has ({MAX_USERS})",
                words(field)
            ),
            Reason::TooManyPosts { posts, bound } => {
                write!(f, "{posts} local posts is more than its bound ({bound})")
            }
            Reason::Above {
                which,
                value,
                bound,
            } => {
                let (small, big) = which.fields();
                write!(
                    f,
                    "{value} {} is more than its {bound} {}",
                    words(small),
                    words(big)
                )
            }
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

/// Which count exceeds which in an [`Reason::Above`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Above {
    /// More monthly active users than users (`active_above_total`).
    MonthOverUsers,
    /// More half-year active users than users (`halfyear_above_total`).
    HalfyearOverUsers,
    /// More monthly than half-year active users (`month_above_halfyear`).
    MonthOverHalfyear,
}

impl Above {
    fn rule(self) -> &'static str {
        match self {
            Above::MonthOverUsers => "active_above_total",
            Above::HalfyearOverUsers => "halfyear_above_total",
            Above::MonthOverHalfyear => "month_above_halfyear",
        }
    }

    /// The smaller and the larger field, as named in [`negative`].
    fn fields(self) -> (&'static str, &'static str) {
        match self {
            Above::MonthOverUsers => ("active_month", "users_total"),
            Above::HalfyearOverUsers => ("active_halfyear", "users_total"),
            Above::MonthOverHalfyear => ("active_month", "active_halfyear"),
        }
    }
}

/// A field's name in the reasons people read.
fn words(field: &str) -> &'static str {
    match field {
        "users_total" => "users",
        "active_month" => "monthly active users",
        "active_halfyear" => "half-year active users",
        _ => "local posts",
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
        .or_else(|| too_many_posts(reading))
        .or_else(|| active_above_total(reading))
        .or_else(|| halfyear_above_total(reading))
        .or_else(|| month_above_halfyear(reading))
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

/// The first of users, monthly and half-year active users above [`MAX_USERS`].
pub fn too_many_users(r: &Reading) -> Option<Reason> {
    [
        ("users_total", r.users_total),
        ("active_month", r.active_month),
        ("active_halfyear", r.active_halfyear),
    ]
    .into_iter()
    .find_map(|(field, value)| {
        value
            .filter(|v| *v > MAX_USERS)
            .map(|value| Reason::TooManyUsers { field, value })
    })
}

/// `local_posts` above [`MAX_POSTS`], or above [`MAX_POSTS_PER_USER`] times
/// `users_total` (times 1 when no or 0 users are reported).
pub fn too_many_posts(r: &Reading) -> Option<Reason> {
    let posts = r.local_posts?;
    let users = r.users_total.unwrap_or(0).max(1);
    let bound = users.saturating_mul(MAX_POSTS_PER_USER).min(MAX_POSTS);
    (posts > bound).then_some(Reason::TooManyPosts { posts, bound })
}

/// `which`'s smaller field above its larger one (both reported).
fn above(which: Above, value: Option<i64>, bound: Option<i64>) -> Option<Reason> {
    match (value, bound) {
        (Some(value), Some(bound)) if value > bound => Some(Reason::Above {
            which,
            value,
            bound,
        }),
        _ => None,
    }
}

/// `active_month` above `users_total` (both reported).
pub fn active_above_total(r: &Reading) -> Option<Reason> {
    above(Above::MonthOverUsers, r.active_month, r.users_total)
}

/// `active_halfyear` above `users_total` (both reported).
pub fn halfyear_above_total(r: &Reading) -> Option<Reason> {
    above(Above::HalfyearOverUsers, r.active_halfyear, r.users_total)
}

/// `active_month` above `active_halfyear` (both reported): whoever was active in the
/// last month was active in the last half-year.
pub fn month_above_halfyear(r: &Reading) -> Option<Reason> {
    above(Above::MonthOverHalfyear, r.active_month, r.active_halfyear)
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

    #[test]
    fn every_rule_is_listed() {
        let day = Day::from_ymd(2024, 1, 1).unwrap();
        let above = |which| Reason::Above {
            which,
            value: 2,
            bound: 1,
        };
        let reasons = [
            Reason::Negative {
                field: "users_total",
                value: -1,
            },
            Reason::TooManyUsers {
                field: "users_total",
                value: 1,
            },
            Reason::TooManyPosts { posts: 2, bound: 1 },
            above(Above::MonthOverUsers),
            above(Above::HalfyearOverUsers),
            above(Above::MonthOverHalfyear),
            Reason::Jump {
                from: 1,
                to: 2,
                hours: 3,
            },
            Reason::Stuck {
                active_month: 1,
                since: day,
                posts_from: 1,
                posts_to: 2,
            },
            Reason::Farm {
                registrable: "a.social".into(),
                day,
                count: 6,
            },
        ];
        let named: Vec<&str> = reasons.iter().map(Reason::rule).collect();
        assert_eq!(named, RULES);
    }

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
            registrations_week: None,
            languages: Default::default(),
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
        let mut r = reading(0, 1_000);
        r.active_halfyear = Some(MAX_USERS);
        assert_eq!(too_many_users(&r), None);
        r.active_halfyear = Some(i64::MAX);
        assert_eq!(
            too_many_users(&r).unwrap().to_string(),
            "9223372036854775807 half-year active users is more than any server has (50000000)"
        );
        r.users_total = None;
        r.active_month = Some(MAX_USERS + 1);
        assert_eq!(
            too_many_users(&r),
            Some(Reason::TooManyUsers {
                field: "active_month",
                value: MAX_USERS + 1
            })
        );
    }

    #[test]
    fn too_many_posts_per_user_and_in_all() {
        let mut r = reading(0, 1_000);
        r.local_posts = Some(1_000 * MAX_POSTS_PER_USER);
        assert_eq!(too_many_posts(&r), None);
        r.local_posts = Some(1_000 * MAX_POSTS_PER_USER + 1);
        assert_eq!(too_many_posts(&r).unwrap().rule(), "too_many_posts");
        r.users_total = Some(0);
        r.local_posts = Some(MAX_POSTS_PER_USER);
        assert_eq!(too_many_posts(&r), None, "no users: one user's worth");
        r.local_posts = Some(MAX_POSTS_PER_USER + 1);
        assert!(too_many_posts(&r).is_some());
        r.users_total = Some(MAX_USERS);
        r.local_posts = Some(MAX_POSTS);
        assert_eq!(too_many_posts(&r), None);
        r.local_posts = Some(MAX_POSTS + 1);
        assert_eq!(
            too_many_posts(&r),
            Some(Reason::TooManyPosts {
                posts: MAX_POSTS + 1,
                bound: MAX_POSTS
            })
        );
        r.users_total = Some(i64::MAX);
        r.local_posts = Some(i64::MAX);
        assert!(too_many_posts(&r).is_some(), "no overflow in the bound");
        r.local_posts = None;
        assert_eq!(too_many_posts(&r), None);
    }

    #[test]
    fn active_above() {
        let mut r = reading(0, 100);
        r.active_month = Some(100);
        assert_eq!(active_above_total(&r), None);
        r.active_month = Some(101);
        assert_eq!(
            active_above_total(&r).unwrap().to_string(),
            "101 monthly active users is more than its 100 users"
        );
        r.users_total = None;
        assert_eq!(active_above_total(&r), None);
    }

    #[test]
    fn halfyear_above() {
        let mut r = reading(0, 1_000);
        r.active_halfyear = Some(1_000);
        assert_eq!(halfyear_above_total(&r), None);
        r.active_halfyear = Some(1_001);
        assert_eq!(
            halfyear_above_total(&r).unwrap().to_string(),
            "1001 half-year active users is more than its 1000 users"
        );
        assert_eq!(
            check(&[r.clone()], 0).unwrap().rule(),
            "halfyear_above_total"
        );
        r.users_total = None;
        assert_eq!(halfyear_above_total(&r), None);
    }

    #[test]
    fn month_above_half_year() {
        let mut r = reading(0, 1_000);
        r.active_month = Some(300);
        r.active_halfyear = Some(300);
        assert_eq!(month_above_halfyear(&r), None);
        r.active_halfyear = Some(299);
        assert_eq!(
            month_above_halfyear(&r).unwrap().to_string(),
            "300 monthly active users is more than its 299 half-year active users"
        );
        assert_eq!(
            month_above_halfyear(&r).unwrap().rule(),
            "month_above_halfyear"
        );
        r.active_halfyear = None;
        assert_eq!(month_above_halfyear(&r), None);
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
