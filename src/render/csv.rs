//! `days.csv`: one row per day, for spreadsheets. The header is a contract; a day
//! without a count of new servers (the census's first) has an empty cell.
//!
//! Types: none; functions only.

use crate::report::stats::DayReport;

const HEADER: [&str; 11] = [
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
];

pub fn days_csv(days: &[DayReport]) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let rows = std::iter::once(HEADER.map(str::to_string)).chain(days.iter().map(|d| {
        let s = &d.servers;
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
        ]
    }));
    for row in rows {
        out.write_record(&row)
            .expect("writing to memory cannot fail");
    }
    String::from_utf8(out.into_inner().expect("writing to memory cannot fail"))
        .expect("csv of UTF-8 fields is UTF-8")
}
