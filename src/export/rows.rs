//! The rows of each export, from the store or the reporter, as a stream of typed
//! values behind one [`Source`].
//!
//! - snapshots: [`SNAPSHOT_COLUMNS`], day by day, partitioned by the day taken.
//! - servers: [`SERVER_COLUMNS`], one per known name, in name order.
//! - days: [`DAY_COLUMNS`], the report's day objects read from the day summaries
//!   [`DAYS_PER_LOAD`] days at a time, so a long history never loads whole.
//!
//! Types: [`Row`], [`Source`].

use anyhow::Context;

use super::{Column, Kind, Options, Value, What};
use crate::day::Day;
use crate::report::{self, DayReport, Filter};
use crate::snapshot::Snapshot;
use crate::store::{ServerRecord, Status, Store};

/// The label of the snapshots this database's own crawls took, in the `source` column.
pub(crate) const CRAWL_SOURCE: &str = "crawl";

const fn col(name: &'static str, kind: Kind) -> Column {
    Column { name, kind }
}

pub(crate) const SNAPSHOT_COLUMNS: [Column; 13] = [
    col("domain", Kind::Text),
    col("taken_at", Kind::Time),
    col("users_total", Kind::Int),
    col("active_month", Kind::Int),
    col("active_halfyear", Kind::Int),
    col("local_posts", Kind::Int),
    col("software", Kind::Text),
    col("version", Kind::Text),
    col("open_registrations", Kind::Bool),
    col("registrations_week", Kind::Int),
    col("languages", Kind::TextList),
    col("schema", Kind::Text),
    col("source", Kind::Text),
];

pub(crate) const SERVER_COLUMNS: [Column; 12] = [
    col("domain", Kind::Text),
    col("first_discovered", Kind::Time),
    col("discovered_via", Kind::Text),
    col("first_up", Kind::Time),
    col("last_up", Kind::Time),
    col("last_attempt", Kind::Time),
    col("status", Kind::Text),
    col("status_detail", Kind::Text),
    col("software", Kind::Text),
    col("version", Kind::Text),
    col("aliases", Kind::TextList),
    col("consecutive_failures", Kind::Int),
];

pub(crate) const DAY_COLUMNS: [Column; 15] = [
    col("date", Kind::Date),
    col("servers_up", Kind::Int),
    col("servers_observed", Kind::Int),
    col("servers_carried_forward", Kind::Int),
    col("servers_new", Kind::Int),
    col("servers_gone", Kind::Int),
    col("servers_excluded", Kind::Int),
    col("users_total", Kind::Int),
    col("active_month", Kind::Int),
    col("active_halfyear", Kind::Int),
    col("posts_local", Kind::Int),
    col("coverage_users_total", Kind::Int),
    col("coverage_active_month", Kind::Int),
    col("coverage_active_halfyear", Kind::Int),
    col("coverage_local_posts", Kind::Int),
];

/// Days computed per census load in a `days` export.
pub(crate) const DAYS_PER_LOAD: i64 = 31;

/// One row, with the day it belongs to (for partitioning) if it has one.
pub(crate) struct Row {
    pub(crate) day: Option<Day>,
    pub(crate) values: Vec<Value>,
}

type Rows<'a> = Box<dyn Iterator<Item = anyhow::Result<Row>> + 'a>;

/// The rows of one export, in order.
pub(crate) struct Source<'a> {
    columns: &'static [Column],
    rows: Rows<'a>,
}

impl<'a> Source<'a> {
    pub(crate) fn new(store: &'a Store, options: &Options) -> anyhow::Result<Source<'a>> {
        let software = options.software.as_deref().map(str::to_lowercase);
        Ok(match options.what {
            What::Snapshots => {
                let since = options.since.unwrap_or(widest().0);
                let until = options.until.unwrap_or(widest().1);
                let rows = store
                    .snapshots_between(since, until)
                    .filter(move |s| {
                        s.as_ref().map_or(true, |s| {
                            software.as_ref().is_none_or(|w| *w == s.stats.software)
                        })
                    })
                    .map(|s| Ok(snapshot_row(s?)));
                Source {
                    columns: &SNAPSHOT_COLUMNS,
                    rows: Box::new(rows),
                }
            }
            What::Servers => {
                let rows = store
                    .servers()
                    .filter(move |r| {
                        r.as_ref().map_or(true, |r| {
                            software.is_none() || r.software.as_ref() == software.as_ref()
                        })
                    })
                    .map(|r| Ok(server_row(r?)));
                Source {
                    columns: &SERVER_COLUMNS,
                    rows: Box::new(rows),
                }
            }
            What::Days => Source {
                columns: &DAY_COLUMNS,
                rows: day_rows(store, options, software)?,
            },
        })
    }

    pub(crate) fn columns(&self) -> &'static [Column] {
        self.columns
    }
}

impl Iterator for Source<'_> {
    type Item = anyhow::Result<Row>;
    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next()
    }
}

/// Bounds wide enough for any history: a snapshot export reads only the days the
/// rollup has, so wide bounds cost nothing.
fn widest() -> (Day, Day) {
    let day = |y| Day::from_ymd(y, 1, 1).expect("a valid date");
    (day(1970), day(9999))
}

pub(crate) fn snapshot_row(s: Snapshot) -> Row {
    let st = s.stats;
    Row {
        day: Some(Day::of(s.at)),
        values: vec![
            Value::Text(s.domain.as_str().to_owned()),
            Value::Time(s.at),
            Value::int(st.users_total),
            Value::int(st.active_month),
            Value::int(st.active_halfyear),
            Value::int(st.local_posts),
            Value::Text(st.software),
            Value::text(st.version),
            st.open_registrations.map_or(Value::Null, Value::Bool),
            Value::int(st.registrations_week),
            Value::list(st.languages),
            Value::text(st.schema),
            Value::Text(st.origin.unwrap_or_else(|| CRAWL_SOURCE.to_owned())),
        ],
    }
}

fn server_row(r: ServerRecord) -> Row {
    let (status, detail) = match r.status {
        Status::New => ("new", None),
        Status::Up => ("up", None),
        Status::Failed { reason } => ("failed", Some(reason.as_str().to_owned())),
        Status::OptedOut { how } => ("opted_out", Some(how.as_str().to_owned())),
        Status::Alias { canonical } => ("alias", Some(canonical.as_str().to_owned())),
    };
    Row {
        day: None,
        values: vec![
            Value::Text(r.domain.as_str().to_owned()),
            Value::Time(r.first_discovered),
            Value::text(r.discovered_via.map(|d| d.as_str().to_owned())),
            Value::time(r.first_up),
            Value::time(r.last_up),
            Value::time(r.last_attempt),
            Value::Text(status.to_owned()),
            Value::text(detail),
            Value::text(r.software),
            Value::text(r.version),
            Value::list(r.aliases.iter().map(|a| a.as_str().to_owned()).collect()),
            Value::Int(r.consecutive_failures.into()),
        ],
    }
}

/// The report's days from `--since` (default: the first crawl day) through `--until`
/// (default: the last), loaded [`DAYS_PER_LOAD`] at a time.
fn day_rows<'a>(
    store: &'a Store,
    options: &Options,
    software: Option<String>,
) -> anyhow::Result<Rows<'a>> {
    let crawl_days = store.crawl_days()?;
    let (Some(&first), Some(&last)) = (crawl_days.first(), crawl_days.last()) else {
        return Err(crate::store::StoreError::Empty {
            path: store.path().to_path_buf(),
        })
        .context("nothing to export");
    };
    let since = options.since.unwrap_or(first);
    let until = options.until.unwrap_or(last);
    let filter = Filter {
        software,
        include_suspect: false,
    };
    let starts = (0..)
        .map(move |i| since.add_days(i * DAYS_PER_LOAD))
        .take_while(move |d| *d <= until);
    Ok(Box::new(starts.flat_map(move |start| {
        let end = start.add_days(DAYS_PER_LOAD - 1).min(until);
        let rows: Vec<anyhow::Result<Row>> = match report::day_reports(store, start, end, &filter) {
            Err(e) => vec![Err(e.into())],
            Ok(days) => days.iter().map(|d| Ok(day_row(d))).collect(),
        };
        rows
    })))
}

fn day_row(d: &DayReport) -> Row {
    let count = |n: u64| Value::Int(n as i64);
    let s = &d.servers;
    let c = &d.coverage;
    Row {
        day: Some(d.date),
        values: vec![
            Value::Date(d.date),
            count(s.up),
            count(s.observed),
            count(s.carried_forward),
            s.new.map_or(Value::Null, count),
            count(s.gone),
            count(s.excluded),
            Value::Int(d.users.total),
            Value::Int(d.users.active_month),
            Value::Int(d.users.active_halfyear),
            Value::Int(d.posts.local),
            count(c.users_total),
            count(c.active_month),
            count(c.active_halfyear),
            count(c.local_posts),
        ],
    }
}
