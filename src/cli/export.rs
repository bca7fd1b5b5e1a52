//! `fedicensus export`: snapshots, server records or the report's days as CSV, JSON
//! Lines or Parquet, optionally as a Hive-style partitioned directory.
//!
//! Types: [`ExportArgs`], [`WhatArg`], [`FormatArg`], [`PartitionArg`]; function [`run`].

use std::path::PathBuf;

use super::{Cli, DbArg};
use crate::day::Day;
use crate::export::{self, Format, Options, Partition, What};
use crate::store::Store;

#[derive(clap::Args, Debug)]
#[command(
    about = "Export snapshots, server records or daily totals as CSV, JSON Lines or Parquet",
    long_about = "Export the census for other tools. --what snapshots: every snapshot (domain, \
                  taken_at in UTC, users_total, active_month, active_halfyear, local_posts, \
                  software, version, open_registrations, registrations_week, languages, \
                  schema, source); servers: one row per known server with its record; days: \
                  the report's daily numbers. Unknown values are empty in CSV and null in \
                  JSON Lines and Parquet, never 0. Parquet columns are typed (UTC \
                  timestamps, 64-bit integers, booleans, a list of languages) and Snappy \
                  compressed. With --partition, --out is a directory of \
                  date=YYYY-MM-DD/part-0.EXT (or month=YYYY-MM/...) that DuckDB, Spark, \
                  Polars and BigQuery read as one dataset. The export streams: memory stays \
                  flat however long the history."
)]
pub(crate) struct ExportArgs {
    #[arg(long, value_enum, default_value_t = WhatArg::Snapshots, help = "What to export")]
    pub(crate) what: WhatArg,

    #[arg(long, value_enum, help = "The file format")]
    pub(crate) format: FormatArg,

    #[arg(
        long,
        value_name = "PATH",
        help = "The file to write (a directory with --partition); refused if it exists, \
                unless --force"
    )]
    pub(crate) out: PathBuf,

    #[arg(
        long,
        value_enum,
        value_name = "BY",
        help = "Write a Hive-style directory partitioned by day or month (snapshots, days)"
    )]
    pub(crate) partition: Option<PartitionArg>,

    #[arg(
        long,
        value_name = "DAY",
        help = "The first day to export (YYYY-MM-DD, UTC, inclusive)"
    )]
    pub(crate) since: Option<Day>,

    #[arg(
        long,
        value_name = "DAY",
        help = "The last day to export (YYYY-MM-DD, UTC, inclusive)"
    )]
    pub(crate) until: Option<Day>,

    #[arg(
        long,
        value_name = "NAME",
        help = "Only servers running this software (e.g. mastodon)"
    )]
    pub(crate) software: Option<String>,

    #[arg(long, help = "Replace an existing --out")]
    pub(crate) force: bool,

    #[command(flatten)]
    pub(crate) db: DbArg,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WhatArg {
    Snapshots,
    Servers,
    Days,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FormatArg {
    Csv,
    Jsonl,
    Parquet,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PartitionArg {
    Day,
    Month,
}

pub(crate) fn run(args: &ExportArgs, cli: &Cli) -> anyhow::Result<()> {
    if let (Some(since), Some(until)) = (args.since, args.until) {
        anyhow::ensure!(
            since <= until,
            "--since {since} is after --until {until}: swap the two days"
        );
    }
    let store = Store::open_existing(&cli.database(&args.db))?;
    let options = Options {
        what: match args.what {
            WhatArg::Snapshots => What::Snapshots,
            WhatArg::Servers => What::Servers,
            WhatArg::Days => What::Days,
        },
        format: match args.format {
            FormatArg::Csv => Format::Csv,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Parquet => Format::Parquet,
        },
        out: args.out.clone(),
        partition: args.partition.map(|p| match p {
            PartitionArg::Day => Partition::Day,
            PartitionArg::Month => Partition::Month,
        }),
        since: args.since,
        until: args.until,
        software: args.software.clone(),
        force: args.force,
    };
    let summary = export::export(&store, &options)?;
    if !cli.quiet {
        eprintln!(
            "exported {} rows into {} file{} at {}",
            summary.rows,
            summary.files,
            if summary.files == 1 { "" } else { "s" },
            args.out.display()
        );
    }
    Ok(())
}
