//! `fedicensus export`: the history, the server records or the report's days as CSV,
//! JSON Lines or Parquet, whole or as a Hive-style partitioned directory.
//!
//! Rows stream from a [`rows::Source`] into one [`Sink`] per output file, so memory
//! stays flat however long the history: snapshots are read day by day
//! ([`crate::store::Store::snapshots_between`]), so a partitioned export holds one open
//! file at a time. Output is written under `PATH.partial` and renamed into place at the
//! end, so a failed export leaves nothing half-written at `PATH`.
//!
//! Unknown values are empty in CSV and null in JSON Lines and Parquet, never 0.
//!
//! Types: [`What`], [`Format`], [`Partition`], [`Options`], [`Kind`], [`Column`],
//! [`Value`], [`Sink`], [`Summary`]; function [`export`].

pub(crate) mod csv;
pub(crate) mod jsonl;
pub(crate) mod parquet;
pub(crate) mod rows;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use chrono::{DateTime, Datelike, Utc};

use crate::day::Day;
use crate::store::Store;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum What {
    /// Every snapshot: one row per server per reading.
    Snapshots,
    /// One row per known server name with its record.
    Servers,
    /// The report's day objects, flattened.
    Days,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Csv,
    Jsonl,
    Parquet,
}

impl Format {
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

/// How a partitioned export splits its rows into directories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Partition {
    /// `date=YYYY-MM-DD/part-0.EXT`
    Day,
    /// `month=YYYY-MM/part-0.EXT`
    Month,
}

impl Partition {
    /// The Hive-style directory name of the partition holding `day`.
    fn dir(self, day: Day) -> String {
        match self {
            Partition::Day => format!("date={day}"),
            Partition::Month => format!("month={:04}-{:02}", day.year(), day.date().month()),
        }
    }

    /// The partition column's name, which the files then leave out (engines read it
    /// from the path, and Spark refuses a column present in both).
    fn column(self) -> &'static str {
        match self {
            Partition::Day => "date",
            Partition::Month => "month",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) what: What,
    pub(crate) format: Format,
    pub(crate) out: PathBuf,
    pub(crate) partition: Option<Partition>,
    /// First day exported (inclusive).
    pub(crate) since: Option<Day>,
    /// Last day exported (inclusive).
    pub(crate) until: Option<Day>,
    /// Only this software (lowercase compare).
    pub(crate) software: Option<String>,
    /// Replace an existing `out`.
    pub(crate) force: bool,
}

/// The type of a column, which each format maps to its own: Parquet gets UTC
/// timestamps, 64-bit integers, booleans, dates and a list of strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Int,
    Bool,
    Time,
    Date,
    TextList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Column {
    pub(crate) name: &'static str,
    pub(crate) kind: Kind,
}

/// One cell. `Null` is an unknown value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    Time(DateTime<Utc>),
    Date(Day),
    TextList(Vec<String>),
}

impl Value {
    pub(crate) fn text(v: Option<impl Into<String>>) -> Value {
        v.map_or(Value::Null, |s| Value::Text(s.into()))
    }

    pub(crate) fn int(v: Option<i64>) -> Value {
        v.map_or(Value::Null, Value::Int)
    }

    pub(crate) fn time(v: Option<DateTime<Utc>>) -> Value {
        v.map_or(Value::Null, Value::Time)
    }

    /// A list; an empty one is unknown (the store keeps "not said" as empty).
    pub(crate) fn list(v: Vec<String>) -> Value {
        if v.is_empty() {
            Value::Null
        } else {
            Value::TextList(v)
        }
    }
}

/// A writer of one output file.
pub(crate) trait Sink {
    fn write(&mut self, row: &[Value]) -> anyhow::Result<()>;
    /// Completes the file (footer, buffers); required for Parquet.
    fn finish(self: Box<Self>) -> anyhow::Result<()>;
}

fn open_sink(format: Format, path: &Path, columns: &[Column]) -> anyhow::Result<Box<dyn Sink>> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(match format {
        Format::Csv => Box::new(csv::CsvSink::new(file, columns)?),
        Format::Jsonl => Box::new(jsonl::JsonlSink::new(file, columns)),
        Format::Parquet => Box::new(parquet::ParquetSink::new(file, columns)?),
    })
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) rows: u64,
    pub(crate) files: u64,
}

/// Writes the export `options` describe; returns how many rows and files.
pub(crate) fn export(store: &Store, options: &Options) -> anyhow::Result<Summary> {
    if options.partition.is_some() && options.what == What::Servers {
        bail!("--partition splits rows by day; server records have none: drop --partition");
    }
    check_out(&options.out, options.force)?;
    let partial = partial_path(&options.out);
    remove_any(&partial)?;
    let result = write_all(store, options, &partial);
    if let Err(e) = result {
        let _ = remove_any(&partial);
        return Err(e);
    }
    remove_any(&options.out)?;
    std::fs::rename(&partial, &options.out)
        .with_context(|| format!("cannot move the export into {}", options.out.display()))?;
    result
}

fn write_all(store: &Store, options: &Options, dest: &Path) -> anyhow::Result<Summary> {
    let source = rows::Source::new(store, options)?;
    let columns = source.columns();
    let Some(partition) = options.partition else {
        let mut sink = open_sink(options.format, dest, columns)?;
        let mut summary = Summary { rows: 0, files: 1 };
        for row in source {
            sink.write(&row?.values)?;
            summary.rows += 1;
        }
        sink.finish()?;
        return Ok(summary);
    };
    std::fs::create_dir_all(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    let skip = columns.iter().position(|c| c.name == partition.column());
    let kept: Vec<Column> = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != skip)
        .map(|(_, c)| *c)
        .collect();
    let mut summary = Summary::default();
    let mut current: Option<(String, Box<dyn Sink>)> = None;
    for row in source {
        let row = row?;
        let dir = partition.dir(row.day.expect("dated sources give every row a day"));
        if current.as_ref().is_none_or(|(d, _)| *d != dir) {
            if let Some((_, sink)) = current.take() {
                sink.finish()?;
            }
            let path = dest.join(&dir);
            std::fs::create_dir_all(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let file = path.join(format!("part-0.{}", options.format.extension()));
            current = Some((dir, open_sink(options.format, &file, &kept)?));
            summary.files += 1;
        }
        let sink = &mut current.as_mut().expect("opened above").1;
        let mut values = row.values;
        if let Some(i) = skip {
            values.remove(i);
        }
        sink.write(&values)?;
        summary.rows += 1;
    }
    if let Some((_, sink)) = current {
        sink.finish()?;
    }
    Ok(summary)
}

/// Refuses an existing `out` unless `force`; with `force`, a directory is replaced only
/// if it looks like a partitioned export, so a mistyped path cannot wipe a folder.
fn check_out(out: &Path, force: bool) -> anyhow::Result<()> {
    if !out.exists() {
        return Ok(());
    }
    if !force {
        bail!(
            "{} already exists: choose another --out, or pass --force to replace it",
            out.display()
        );
    }
    if out.is_dir() {
        let foreign = std::fs::read_dir(out)
            .with_context(|| format!("cannot read {}", out.display()))?
            .filter_map(Result::ok)
            .any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                !(name.starts_with("date=") || name.starts_with("month="))
            });
        if foreign {
            bail!(
                "{} is a directory that is not a partitioned export; --force replaces only \
                 those: choose another --out",
                out.display()
            );
        }
    }
    Ok(())
}

fn partial_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    out.with_file_name(name)
}

fn remove_any(path: &Path) -> anyhow::Result<()> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Domain;
    use crate::snapshot::{ServerStats, Snapshot};

    fn store_with_two_days() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db")).unwrap();
        for (domain, at, users) in [
            ("b.social", "2022-11-07T12:00:00Z", Some(5)),
            ("a.social", "2022-11-07T13:00:00Z", None),
            ("a.social", "2022-11-08T12:00:00Z", Some(7)),
        ] {
            store
                .put_snapshot(&Snapshot {
                    domain: Domain::parse(domain).unwrap(),
                    at: at.parse().unwrap(),
                    stats: ServerStats {
                        software: "mastodon".into(),
                        users_total: users,
                        languages: vec!["en".into()],
                        ..Default::default()
                    },
                })
                .unwrap();
        }
        (dir, store)
    }

    fn options(dir: &Path, format: Format, partition: Option<Partition>) -> Options {
        Options {
            what: What::Snapshots,
            format,
            out: dir.join(format!("out.{}", format.extension())),
            partition,
            since: None,
            until: None,
            software: None,
            force: false,
        }
    }

    #[test]
    fn partitions_are_hive_directories_one_per_day_in_order() {
        let (dir, store) = store_with_two_days();
        let o = options(dir.path(), Format::Jsonl, Some(Partition::Day));
        assert_eq!(export(&store, &o).unwrap(), Summary { rows: 3, files: 2 });
        let day1 = std::fs::read_to_string(o.out.join("date=2022-11-07/part-0.jsonl")).unwrap();
        let lines: Vec<&str> = day1.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].starts_with(
                r#"{"domain":"a.social","taken_at":"2022-11-07T13:00:00Z","users_total":null,"#
            ),
            "{}",
            lines[0]
        );
        assert!(lines[0].ends_with(r#""languages":["en"],"schema":null,"source":"crawl"}"#));
        assert!(o.out.join("date=2022-11-08/part-0.jsonl").is_file());
        assert!(!partial_path(&o.out).exists());
        let again = export(&store, &o).unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
        let month = Options {
            force: true,
            partition: Some(Partition::Month),
            ..o.clone()
        };
        assert_eq!(export(&store, &month).unwrap().files, 1);
        assert!(o.out.join("month=2022-11/part-0.jsonl").is_file());
        assert!(
            !o.out.join("date=2022-11-07").exists(),
            "--force replaced the old export"
        );
    }

    #[test]
    fn parquet_columns_are_typed_and_unknowns_null() {
        use ::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        use arrow_array::{Array, Int64Array, ListArray, TimestampMillisecondArray};

        let (dir, store) = store_with_two_days();
        let o = options(dir.path(), Format::Parquet, None);
        export(&store, &o).unwrap();
        let file = std::fs::File::open(&o.out).unwrap();
        let batch = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(batch.num_rows(), 3);
        let users = batch.column_by_name("users_total").unwrap();
        let users = users.as_any().downcast_ref::<Int64Array>().unwrap();
        assert!(users.is_null(0), "unknown is null, never 0");
        assert_eq!(users.value(1), 5);
        let taken = batch.column_by_name("taken_at").unwrap();
        let taken = taken
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .unwrap();
        assert_eq!(
            taken.value_as_datetime(1).unwrap().and_utc().to_rfc3339(),
            "2022-11-07T12:00:00+00:00"
        );
        assert_eq!(
            batch
                .schema()
                .field_with_name("taken_at")
                .unwrap()
                .data_type(),
            &arrow_schema::DataType::Timestamp(
                arrow_schema::TimeUnit::Millisecond,
                Some("UTC".into())
            )
        );
        let languages = batch.column_by_name("languages").unwrap();
        assert_eq!(
            languages
                .as_any()
                .downcast_ref::<ListArray>()
                .unwrap()
                .value_length(0),
            1
        );
        assert!(batch
            .column_by_name("open_registrations")
            .unwrap()
            .is_null(0));
    }
}
