//! The sentences a journalist can paste: the headline, and the caveats that must travel
//! with it (the Markdown report puts them in the very next sentence, not in fine print).
//!
//! Numbers carry thousands separators and dates are in words; the year is only given
//! for a start date in another year than the end.
//!
//! Types: none; functions only.

use crate::day::Day;
use crate::number::{plural, thousands};
use crate::report::period::PeriodSignups;
use crate::report::stats::{DayReport, Growth, CARRY_DAYS};

/// "The fediverse counted 608,837 monthly active users on 3,120 servers on November
/// 7, 2022."
pub fn day(day: &DayReport, software: Option<&str>) -> String {
    if day.servers.up == 0 {
        return no_census(day, software);
    }
    format!(
        "The fediverse counted {} on {} on {}.",
        active_users(day),
        servers(day.servers.up, software),
        day.date.in_words()
    )
}

/// "199,430 new users across the fediverse since October 27, along with 437 new
/// servers. That brings the total to 608,837 monthly active users on 3,120 servers."
pub fn period(
    since: Day,
    end: &DayReport,
    new_users: i64,
    new_servers: u64,
    software: Option<&str>,
) -> String {
    if end.servers.up == 0 {
        return no_census(end, software);
    }
    let users = match new_users {
        0 => "No new users".to_string(),
        n if n < 0 => plural(n.unsigned_abs(), "fewer user", "fewer users"),
        n => plural(n as u64, "new user", "new users"),
    };
    let place = match software {
        Some(name) => format!("on {name} servers"),
        None => "across the fediverse".to_string(),
    };
    let since = if since.year() == end.date.year() {
        since.month_day()
    } else {
        since.in_words()
    };
    let added = match new_servers {
        0 => "no new servers".to_string(),
        n => plural(n, "new server", "new servers"),
    };
    format!(
        "{users} {place} since {since}, along with {added}. That brings the total to {} on {}.",
        active_users(end),
        servers(end.servers.up, software),
    )
}

/// The sentences after a period's headline, saying which part of the new users were
/// found and which signed up: "Of this change, 5,120 happened on servers counted on both
/// days, 5,921 are the existing users of 3 servers newly counted (found by the census,
/// not sign-ups) and 200 left with 1 server no longer counted. The 41 of 120 servers
/// that publish sign-ups report about 4,900 (they have 80,000 users)."
pub fn split(growth: &Growth, signups: &PeriodSignups, servers_up: u64) -> String {
    let (newly, stopped) = (growth.newly_counted, growth.stopped_counting);
    let origin = if newly.servers == 0 && stopped.servers == 0 {
        "No server started or stopped counting, so all of the change is on servers counted \
         on both days."
            .to_string()
    } else {
        let c = growth.continuing.users;
        let mut parts = vec![if c < 0 {
            format!(
                "{} were lost on servers counted on both days",
                thousands(-c)
            )
        } else {
            format!("{} happened on servers counted on both days", thousands(c))
        }];
        if newly.servers > 0 {
            parts.push(format!(
                "{} are the existing users of {} newly counted (found by the census, not \
                 sign-ups)",
                thousands(newly.users),
                plural(newly.servers, "server", "servers")
            ));
        }
        if stopped.servers > 0 {
            parts.push(format!(
                "{} left with {} no longer counted",
                thousands(stopped.users),
                plural(stopped.servers, "server", "servers")
            ));
        }
        let last = parts.pop().expect("two parts at least");
        format!("Of this change, {} and {last}.", parts.join(", "))
    };
    let signups = match signups.servers_reporting {
        0 => "No counted server publishes its sign-ups.".to_string(),
        n => format!(
            "The {} of {} that publish sign-ups report about {} (they have {}).",
            thousands(n as i64),
            plural(servers_up, "server", "servers"),
            plural(signups.estimated.max(0) as u64, "sign-up", "sign-ups"),
            plural(signups.users_covered.max(0) as u64, "user", "users"),
        ),
    };
    format!("{origin} {signups}")
}

/// The headline of a day on which no server counts: never a census of zero.
/// "There is no census for November 7, 2022: no server could be counted."
fn no_census(day: &DayReport, software: Option<&str>) -> String {
    let what = match software {
        Some(name) => format!("{name} server"),
        None => "server".to_string(),
    };
    format!(
        "There is no census for {}: no {what} could be counted.",
        day.date.in_words()
    )
}

/// "608,837 monthly active users".
fn active_users(day: &DayReport) -> String {
    plural(
        day.users.active_month.max(0) as u64,
        "monthly active user",
        "monthly active users",
    )
}

fn servers(n: u64, software: Option<&str>) -> String {
    match software {
        Some(name) => plural(n, &format!("{name} server"), &format!("{name} servers")),
        None => plural(n, "server", "servers"),
    }
}

/// What the headline's numbers rest on: the crawl's health warning, if any, then
/// carried-forward servers, suspect exclusions and coverage of monthly active users,
/// as one sentence (none of it when no server counts).
pub fn caveats(day: &DayReport) -> String {
    let warning = day.health.warning(day.date);
    if day.servers.up == 0 {
        return warning.unwrap_or_default();
    }
    let date = day.date.in_words();
    let mut clauses = vec![match day.servers.carried_forward {
        0 => format!("Every server counted answered on {date}"),
        n => format!(
            "The count includes {} that did not answer on {date} but did in the {CARRY_DAYS} \
             days before",
            plural(n, "server", "servers")
        ),
    }];
    if day.servers.excluded > 0 {
        clauses.push(format!(
            "{} left out as suspect data",
            plural(day.servers.excluded, "server was", "servers were")
        ));
    }
    if !day.suspect_included.is_empty() {
        clauses.push(format!(
            "{} flagged as suspect {} included",
            plural(day.suspect_included.len() as u64, "server", "servers"),
            if day.suspect_included.len() == 1 {
                "is"
            } else {
                "are"
            }
        ));
    }
    clauses.push(format!(
        "{} of {} reported monthly active users",
        thousands(day.coverage.active_month as i64),
        plural(day.servers.up, "server", "servers")
    ));
    let counted = format!("{}.", clauses.join("; "));
    match warning {
        Some(warning) => format!("{warning} {counted}"),
        None => counted,
    }
}
