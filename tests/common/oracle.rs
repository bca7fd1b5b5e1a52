//! The test oracle for format 2's stored day summaries: a period computed the way
//! reports were before them, by [`Census`] over the whole window of history, with its
//! list of new servers from [`servers::rows`].

use fedicensus::day::Day;
use fedicensus::report::stats::{Census, CARRY_DAYS};
use fedicensus::report::window::Window;
use fedicensus::report::{servers, Filter, Loaded, PeriodReport, Scope, WINDOW_DAYS};
use fedicensus::store::{ServerRecord, Store};

/// The period `since..=until` as `Census` computes it from the history.
pub fn period(store: &Store, since: Day, until: Day, filter: &Filter) -> PeriodReport {
    let records: Vec<ServerRecord> = store.servers().collect::<Result<_, _>>().unwrap();
    let crawl_days = store.crawl_days().unwrap();
    let window = Window::load(store, since.add_days(-WINDOW_DAYS), until).unwrap();
    let census = Census::new(
        window,
        &records,
        &crawl_days,
        since.add_days(-1 - CARRY_DAYS),
        filter,
    );
    let days = Day::range(since, until)
        .map(|day| census.day(day))
        .collect();
    let loaded = Loaded {
        census,
        since,
        until,
    };
    let scope = Scope::Period {
        since,
        until: Some(until),
    };
    let new = servers::Query {
        select: servers::Select::New,
        ..Default::default()
    };
    let new_servers = servers::rows(&loaded, scope, &new);
    PeriodReport::new(&loaded.census, days, filter.software_name().as_deref())
        .with_new_servers(&new_servers)
}
