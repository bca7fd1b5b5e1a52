//! `fedicensus import FILE`: backfills snapshots from CSV or JSON Lines.
//!
//! Types: [`ImportArgs`], [`FormatArg`]; function [`run`].

use std::path::PathBuf;

use anyhow::Context;

use super::{Cli, DbArg};
use crate::import::{self, Format, Options};
use crate::store::Store;

#[derive(clap::Args, Debug)]
#[command(
    about = "Backfill snapshots from CSV or JSON Lines (another crawler, an older census)",
    long_about = "Import snapshots from a file with the columns of `export --what snapshots` \
                  (CSV with a header naming its columns, or JSON Lines). Only domain, \
                  taken_at and users_total are required. Domains are normalized as the \
                  crawler's are; a snapshot of one server at one instant is stored once, so \
                  importing a file again adds nothing. A bad row stops the import before \
                  anything is stored, naming its line, unless --skip-invalid. Imported days \
                  become census days, and reports treat them like crawled ones."
)]
pub(crate) struct ImportArgs {
    /// The file to import.
    pub(crate) file: PathBuf,

    #[arg(
        long,
        value_enum,
        help = "The file format [default: from the extension]"
    )]
    pub(crate) format: Option<FormatArg>,

    #[arg(
        long,
        value_name = "NAME",
        help = "Record NAME as every snapshot's source [default: the file's source column, \
                else its name]"
    )]
    pub(crate) source: Option<String>,

    #[arg(long, help = "Skip and count invalid rows instead of stopping")]
    pub(crate) skip_invalid: bool,

    #[arg(long, help = "Check every row and stop: store nothing")]
    pub(crate) dry_run: bool,

    #[arg(long, help = "Print the summary as JSON")]
    pub(crate) json: bool,

    #[command(flatten)]
    pub(crate) db: DbArg,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FormatArg {
    Csv,
    Jsonl,
}

pub(crate) fn run(args: &ImportArgs, cli: &Cli) -> anyhow::Result<()> {
    let format = match args.format {
        Some(FormatArg::Csv) => Format::Csv,
        Some(FormatArg::Jsonl) => Format::Jsonl,
        None => Format::of_path(&args.file).with_context(|| {
            format!(
                "cannot tell the format of {} from its name: pass --format csv or jsonl",
                args.file.display()
            )
        })?,
    };
    let options = Options {
        file: args.file.clone(),
        format,
        source: args.source.clone(),
        skip_invalid: args.skip_invalid,
        dry_run: args.dry_run,
    };
    import::check_file(&options)?;
    let store = Store::open(&cli.database(&args.db))?;
    let summary = import::import(&store, &options)?;
    if !options.dry_run {
        // Imported days are census days now: derive their summaries (and those of the
        // later days the import reaches) once, as a crawl run does.
        crate::report::derive::settle(&store)?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else if !cli.quiet {
        println!(
            "imported {} rows: {} new snapshots, {} already known, {} invalid skipped; {} \
             servers updated, {} new census days",
            summary.rows,
            summary.added,
            summary.already_known,
            summary.skipped,
            summary.servers,
            summary.new_days
        );
    }
    Ok(())
}
