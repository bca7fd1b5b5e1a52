//! `bench report`: writes a synthetic history ([`super::history`]) into a scratch
//! database through the real store, then times the reporter on it for one day, a
//! month and a year, and the rebuild of the daily rollup.
//!
//! Types: [`ReportBench`] (what to run), [`ReportResult`] (what was measured);
//! function [`run`].

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use serde::Serialize;

use super::history::History;
use super::{count, per_second, proc, Machine, Phase, Scratch, Table};
use crate::day::Day;
use crate::report::{self, Filter, Scope};
use crate::store::Store;

/// Report spans timed, in days: the daily report, a monthly and a yearly period (each
/// cut to the history's length).
pub const SPANS: [i64; 3] = [1, 30, 365];

/// One benchmark history.
#[derive(Debug, Clone, Serialize)]
pub struct ReportBench {
    pub servers: usize,
    pub days: u32,
}

/// What one report benchmark measured. Field names are a contract (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct ReportResult {
    pub machine: Machine,
    pub bench: ReportBench,
    pub snapshots: u64,
    pub snapshots_per_sec: f64,
    /// Entries in the daily rollup after its rebuild.
    pub daily_entries: usize,
    /// Writing the history, each report, then the rebuild, in that order.
    pub phases: Vec<Phase>,
    pub db_bytes: u64,
    /// Where the database was kept (`--keep`).
    pub kept: Option<PathBuf>,
}

/// The last day of every benchmark history, fixed so that runs are comparable.
fn last_day() -> Day {
    Day::from_ymd(2024, 12, 31).expect("a valid date")
}

/// The report covering the last `span` days of the history (fewer if the history is
/// shorter), and its name.
fn scope(history: &History, span: i64) -> (Scope, String) {
    let until = history.last_day();
    if span == 1 {
        return (Scope::Day(Some(until)), "report, one day".to_owned());
    }
    let since = until.add_days(1 - span).max(history.first_day());
    let days = Day::range(since, until).count();
    let scope = Scope::Period {
        since,
        until: Some(until),
    };
    (scope, format!("report, period of {days} days"))
}

/// Writes the history into a scratch database (kept in `keep` if given) and times the
/// reporter and the rebuild on it.
pub fn run(
    bench: &ReportBench,
    keep: Option<&Path>,
    progress: &ProgressBar,
) -> anyhow::Result<ReportResult> {
    let scratch = Scratch::new(keep)?;
    let store = Store::open(&scratch.db())?;
    let history = History::new(bench.servers, bench.days, last_day());
    let (write, snapshots) = Phase::measure("write history", || history.write(&store, progress));
    let snapshots = snapshots?;
    progress.finish_and_clear();
    let snapshots_per_sec = per_second(snapshots, write.secs);
    let mut phases = vec![write];
    for span in SPANS {
        let (scope, name) = scope(&history, span);
        // A history shorter than the span gives the same report as a shorter span.
        if phases.iter().any(|p| p.name == name) {
            continue;
        }
        let (phase, built) = Phase::measure(name, || {
            report::build(&store, scope, &Filter::default()).map(drop)
        });
        built?;
        phases.push(phase);
    }
    let (rebuild, daily_entries) = Phase::measure("rebuild daily rollup", || store.rebuild_daily());
    let daily_entries = daily_entries?;
    phases.push(rebuild);
    // Closed first, so everything sled buffers is on disk when it is measured.
    drop(store);

    Ok(ReportResult {
        machine: Machine::this(),
        bench: bench.clone(),
        snapshots,
        snapshots_per_sec,
        daily_entries,
        phases,
        db_bytes: proc::disk_usage(&scratch.db())?,
        kept: scratch.kept(),
    })
}

impl ReportResult {
    pub fn table(&self) -> Table {
        let mut t = Table::new(
            format!(
                "bench report: {} servers × {} days of history",
                count(self.bench.servers as u64),
                self.bench.days
            ),
            &self.machine,
        );
        t.row(
            "snapshots written",
            format!(
                "{} ({} a second)",
                count(self.snapshots),
                count(self.snapshots_per_sec as u64)
            ),
        );
        t.rows.extend(self.phases.iter().map(Phase::row));
        t.row("daily rollup entries", count(self.daily_entries as u64));
        t.database(self.db_bytes, self.kept.as_deref());
        t
    }
}
