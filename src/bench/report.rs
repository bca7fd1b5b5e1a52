//! `bench report`: writes a synthetic history ([`super::history`]) into a scratch
//! database through the store's bulk path, derives the day summaries, then times the
//! reporter as whole processes (`fedicensus report --format json`, cold start) for one
//! day, a month and a year, with `--software` and `--include-suspect`, and a rebuild.
//!
//! Types: [`ReportResult`] (what was measured); function [`run`] (of a [`HistorySize`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use indicatif::ProgressBar;
use serde::Serialize;

use super::history::{History, HistorySize};
use super::{count, per_second, proc, Machine, Phase, Scratch, Table};
use crate::day::Day;
use crate::report::{self, derive};
use crate::store::Store;

/// Report spans timed, in days: the daily report, a monthly and a yearly period (each
/// cut to the history's length).
pub const SPANS: [i64; 3] = [1, 30, 365];

/// What one report benchmark measured. Field names are a contract (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct ReportResult {
    /// What the numbers were measured on.
    pub machine: Machine,
    /// The size of the history written.
    pub bench: HistorySize,
    /// Snapshots the history wrote.
    pub snapshots: u64,
    /// Snapshots written per second of the `write history (bulk)` phase.
    pub snapshots_per_sec: f64,
    /// Days whose summary was derived after the write (and again by the rebuild).
    pub days_derived: usize,
    /// Writing the history, deriving the days, each report, then the rebuild, in that
    /// order. Reports are separate processes: their peak RSS is the whole process's.
    pub phases: Vec<Phase>,
    /// Disk space of the database at the end (after the rebuild), in bytes (allocated
    /// blocks).
    pub db_bytes: u64,
    /// Disk bytes per stored snapshot, everything included.
    pub bytes_per_snapshot: f64,
    /// Where the database was kept (`--keep`).
    pub kept: Option<PathBuf>,
}

/// The report covering the last `span` days of the history (fewer if the history is
/// shorter): its `report` arguments and its name.
fn scope(history: &History, span: i64) -> (Vec<String>, String) {
    let until = history.last_day();
    if span == 1 {
        let args = vec!["--date".into(), until.to_string()];
        return (args, "report, one day".to_owned());
    }
    let since = until.add_days(1 - span).max(history.first_day());
    let days = Day::range(since, until).count();
    let args = vec![
        "--since".into(),
        since.to_string(),
        "--until".into(),
        until.to_string(),
    ];
    (args, format!("report, period of {days} days"))
}

/// Every report timed: each span, then the longest with each filter.
fn reports(history: &History) -> Vec<(Vec<String>, String)> {
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    for span in SPANS {
        let (args, name) = scope(history, span);
        // A history shorter than the span gives the same report as a shorter span.
        if !out.iter().any(|(_, n)| *n == name) {
            out.push((args, name));
        }
    }
    let (args, name) = out.last().cloned().expect("at least one span");
    for (flag, label) in [
        (&["--software", "mastodon"][..], "--software mastodon"),
        (&["--include-suspect"][..], "--include-suspect"),
    ] {
        let mut args = args.clone();
        args.extend(flag.iter().map(|s| s.to_string()));
        out.push((args, format!("{name}, {label}")));
    }
    out
}

/// Runs `fedicensus report --format json ARGS` as its own process.
fn report_process(
    exe: &Path,
    db: &Path,
    args: &[String],
    name: String,
    out: &Path,
) -> anyhow::Result<Phase> {
    let stdout = std::fs::File::create(out)?;
    let mut command = Command::new(exe);
    command
        .arg("--db")
        .arg(db)
        .args(["--quiet", "report", "--format", "json"])
        .args(args)
        .stdout(Stdio::from(stdout));
    let (secs, peak_rss_bytes, ok) =
        proc::run_child(&mut command).with_context(|| format!("running {}", exe.display()))?;
    anyhow::ensure!(ok, "{name} failed: {} {args:?}", exe.display());
    Ok(Phase {
        name,
        secs,
        peak_rss_bytes,
    })
}

/// Writes the history into a scratch database (kept in `keep` if given) and times the
/// reporter (`exe`: the fedicensus binary) and the rebuild on it.
pub fn run(
    bench: &HistorySize,
    exe: &Path,
    keep: Option<&Path>,
    progress: &ProgressBar,
) -> anyhow::Result<ReportResult> {
    let scratch = Scratch::new(keep)?;
    let db = scratch.db();
    let history = bench.history();
    let store = Store::open(&db)?;
    let (write, snapshots) =
        Phase::measure("write history (bulk)", || history.write(&store, progress));
    let snapshots = snapshots?;
    progress.finish_and_clear();
    let snapshots_per_sec = per_second(snapshots, write.secs);
    let (derived, days_derived) = Phase::measure("derive day summaries", || derive::settle(&store));
    let days_derived = days_derived?;
    let mut phases = vec![write, derived];
    // Closed as a crawl leaves it, so each report opens the database cold, as a
    // user's would.
    store.close()?;
    let out = db.with_extension("report.json");
    for (args, name) in reports(&history) {
        phases.push(report_process(exe, &db, &args, name, &out)?);
    }
    std::fs::remove_file(&out)?;
    let store = Store::open(&db)?;
    let (rebuild, rebuilt) = Phase::measure("rebuild", || report::rebuild(&store));
    rebuilt?;
    phases.push(rebuild);
    // Closed first, so everything sled buffers is on disk when it is measured.
    drop(store);
    let db_bytes = proc::disk_usage(&db)?;

    Ok(ReportResult {
        machine: Machine::this(),
        bench: *bench,
        snapshots,
        snapshots_per_sec,
        days_derived,
        phases,
        db_bytes,
        bytes_per_snapshot: db_bytes as f64 / snapshots.max(1) as f64,
        kept: scratch.kept(),
    })
}

impl ReportResult {
    /// The result for people: the size, the write rate, each phase's time and memory
    /// peak, and the database's size.
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
        t.row("days derived", count(self.days_derived as u64));
        t.database(self.db_bytes, self.kept.as_deref());
        t.row(
            "bytes per snapshot",
            format!("{:.1}", self.bytes_per_snapshot),
        );
        t
    }
}
