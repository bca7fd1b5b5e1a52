//! `bench export`: writes a synthetic history ([`super::history`]) into a scratch
//! database, then times exports of its snapshots (CSV, and Parquet partitioned by day)
//! with their memory peak, checking a CSV import (`import` `--dry-run`: reading and
//! checking only), the full import of that CSV into a fresh database, and the
//! derivation of the imported days' summaries that `fedicensus import` runs after it.
//!
//! Types: [`ExportResult`]; function [`run`] (of a [`HistorySize`]).

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use serde::Serialize;

use super::history::HistorySize;
use super::{count, per_second, proc, Machine, Phase, Scratch, Table};
use crate::export::{self, Format, Options, Partition, What};
use crate::import;
use crate::store::Store;

/// What one export benchmark measured. Field names are a contract (`--json`).
#[derive(Debug, Clone, Serialize)]
pub struct ExportResult {
    /// What the numbers were measured on.
    pub machine: Machine,
    /// The size of the history written.
    pub bench: HistorySize,
    /// Snapshots the history wrote, hence the rows each export holds.
    pub snapshots: u64,
    /// Writing the history, the exports, the checking pass, the import and deriving the
    /// imported days' summaries, in order.
    pub phases: Vec<Phase>,
    /// Size of the CSV export file, in bytes.
    pub csv_bytes: u64,
    /// Disk space of the Parquet export's directory of day partitions, in bytes (allocated
    /// blocks).
    pub parquet_bytes: u64,
    /// Rows a second of the import's checking pass alone.
    pub check_rows_per_sec: f64,
    /// Rows a second of the whole import (checking, then storing).
    pub import_rows_per_sec: f64,
    /// Where the database was kept (`--keep`).
    pub kept: Option<PathBuf>,
}

/// Writes the history, exports it, and imports the CSV export into a fresh database.
pub fn run(
    bench: &HistorySize,
    keep: Option<&Path>,
    progress: &ProgressBar,
) -> anyhow::Result<ExportResult> {
    let scratch = Scratch::new(keep)?;
    let store = Store::open(&scratch.db())?;
    let history = bench.history();
    let (write, snapshots) = Phase::measure("write history", || history.write(&store, progress));
    let snapshots = snapshots?;
    progress.finish_and_clear();
    let mut phases = vec![write];
    let csv = scratch.dir().join("snapshots.csv");
    let parquet = scratch.dir().join("snapshots");
    for (name, format, out, partition) in [
        ("export snapshots, CSV", Format::Csv, &csv, None),
        (
            "export snapshots, Parquet by day",
            Format::Parquet,
            &parquet,
            Some(Partition::Day),
        ),
    ] {
        let options = Options {
            what: What::Snapshots,
            format,
            out: out.clone(),
            partition,
            since: None,
            until: None,
            software: None,
            force: false,
        };
        let (phase, done) = Phase::measure(name, || export::export(&store, &options));
        done?;
        phases.push(phase);
    }
    drop(store);

    let fresh = Store::open(&scratch.dir().join("imported"))?;
    let mut options = import::Options {
        file: csv.clone(),
        format: import::Format::Csv,
        source: None,
        skip_invalid: false,
        dry_run: true,
    };
    let (check, checked) = Phase::measure("check the CSV (import --dry-run)", || {
        import::import(&fresh, &options)
    });
    let rows = checked?.rows;
    options.dry_run = false;
    let (load, imported) = Phase::measure("import the CSV", || import::import(&fresh, &options));
    imported?;
    let (derive, derived) = Phase::measure("derive the imported days' summaries", || {
        crate::report::derive::settle(&fresh)
    });
    derived?;
    let (check_secs, import_secs) = (check.secs, load.secs);
    phases.extend([check, load, derive]);
    Ok(ExportResult {
        machine: Machine::this(),
        bench: *bench,
        snapshots,
        phases,
        csv_bytes: std::fs::metadata(&csv)?.len(),
        parquet_bytes: proc::disk_usage(&parquet)?,
        check_rows_per_sec: per_second(rows, check_secs),
        import_rows_per_sec: per_second(rows, import_secs),
        kept: scratch.kept(),
    })
}

impl ExportResult {
    /// The result for people: the size, each phase's time and memory peak, the exports'
    /// sizes and the import's rates.
    pub fn table(&self) -> Table {
        let mut t = Table::new(
            format!(
                "bench export: {} servers × {} days of history",
                count(self.bench.servers as u64),
                self.bench.days
            ),
            &self.machine,
        );
        t.row("snapshots", count(self.snapshots));
        t.rows.extend(self.phases.iter().map(Phase::row));
        t.row("CSV size", super::bytes(self.csv_bytes));
        t.row("Parquet size", super::bytes(self.parquet_bytes));
        t.row(
            "import: check / whole",
            format!(
                "{} / {} rows a second",
                count(self.check_rows_per_sec as u64),
                count(self.import_rows_per_sec as u64)
            ),
        );
        if let Some(dir) = &self.kept {
            t.row("kept in", dir.display().to_string());
        }
        t
    }
}
