//! `days.csv`: one row per day, for spreadsheets. The header is a contract (columns
//! are only ever added at the end); a day without a count of new servers or a growth
//! split (the census's first) has empty cells. Also the `--by` tables as CSV.
//!
//! Types: none; functions only.

use crate::report::stats::{DayReport, Growth};

const HEADER: [&str; 16] = [
    "date",
    "servers_up",
    "servers_observed",
    "servers_carried_forward",
    "servers_new",
    "servers_gone",
    "servers_excluded",
    "users_total",
    "active_month",
    "active_halfyear",
    "posts_local",
    "users_change_continuing",
    "users_newly_counted",
    "users_stopped_counting",
    "signups_per_day",
    "signups_servers_reporting",
];

/// `days.csv` of `days`: the header, then one row per day in the order given.
pub fn days_csv(days: &[DayReport]) -> String {
    table(
        HEADER,
        days.iter().map(|d| {
            let s = &d.servers;
            let growth = |part: fn(&Growth) -> i64| {
                d.growth
                    .as_ref()
                    .map(part)
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            };
            [
                d.date.to_string(),
                s.up.to_string(),
                s.observed.to_string(),
                s.carried_forward.to_string(),
                s.new.map(|n| n.to_string()).unwrap_or_default(),
                s.gone.to_string(),
                s.excluded.to_string(),
                d.users.total.to_string(),
                d.users.active_month.to_string(),
                d.users.active_halfyear.to_string(),
                d.posts.local.to_string(),
                growth(|g| g.continuing.users),
                growth(|g| g.newly_counted.users),
                growth(|g| g.stopped_counting.users),
                d.signups.per_day().to_string(),
                d.signups.servers_reporting.to_string(),
            ]
        }),
    )
}

/// A `--by` table: a header, then one row per entry.
pub fn table<const N: usize>(header: [&str; N], rows: impl Iterator<Item = [String; N]>) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    for row in std::iter::once(header.map(str::to_string)).chain(rows) {
        out.write_record(&row)
            .expect("writing to memory cannot fail");
    }
    String::from_utf8(out.into_inner().expect("writing to memory cannot fail"))
        .expect("csv of UTF-8 fields is UTF-8")
}
