//! `fedicensus servers`: the list behind a number. Which servers a day's or a period's
//! figures count (or leave out), each with whether it counts and why.
//!
//! Types: [`ServersArgs`], [`SortArg`], [`FormatArg`]; function [`run`].

use std::io::Write;

use super::{Cli, DbArg};
use crate::day::Day;
use crate::render::servers as show;
use crate::report::servers::{self, Query, Select, Sort};
use crate::report::{Filter, Scope};
use crate::store::Store;

#[derive(clap::Args, Debug)]
#[command(
    about = "List the servers behind a number: new, gone, suspect, or all counted on a day",
    long_about = "List servers with the numbers of their latest snapshot and whether they \
                  count: observed, carried forward (from which day), suspect (which rule), \
                  opted out (how). --new lists exactly the servers a report counts as new \
                  (over --since D1 --until D2: those in the period's new_servers); --gone \
                  those that reached 30 silent days; --suspect those the suspect-data rules \
                  leave out. Without them: every server with a reading in the 7 days up to \
                  the day."
)]
pub(crate) struct ServersArgs {
    #[arg(long, value_name = "DAY", conflicts_with_all = ["since", "until"],
          help = "The day (YYYY-MM-DD, UTC) [default: the last day with a crawl]")]
    pub(crate) date: Option<Day>,

    #[arg(
        long,
        value_name = "DAY",
        help = "A period after DAY (exclusive) through --until"
    )]
    pub(crate) since: Option<Day>,

    #[arg(
        long,
        value_name = "DAY",
        requires = "since",
        help = "The period's last day [default: the last day with a crawl]"
    )]
    pub(crate) until: Option<Day>,

    #[arg(long, conflicts_with_all = ["gone", "suspect"], help = "Only the servers counted as new")]
    pub(crate) new: bool,

    #[arg(
        long,
        conflicts_with = "suspect",
        help = "Only the servers reported gone"
    )]
    pub(crate) gone: bool,

    #[arg(long, help = "Only the servers left out as suspect, with their rule")]
    pub(crate) suspect: bool,

    #[arg(long, value_name = "NAME", help = "Only servers running this software")]
    pub(crate) software: Option<String>,

    #[arg(long, value_enum, default_value_t = SortArg::Users, help = "The order of the list")]
    pub(crate) sort: SortArg,

    #[arg(long, value_name = "N", help = "At most N rows")]
    pub(crate) limit: Option<usize>,

    #[arg(long, value_enum, default_value_t = FormatArg::Table, help = "Output format")]
    pub(crate) format: FormatArg,

    #[command(flatten)]
    pub(crate) db: DbArg,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SortArg {
    Users,
    Active,
    FirstSeen,
    Domain,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FormatArg {
    Table,
    Csv,
    Json,
}

pub(crate) fn run(args: &ServersArgs, cli: &Cli) -> anyhow::Result<()> {
    let store = Store::open_existing(&cli.database(&args.db))?;
    let scope = match args.since {
        Some(since) => Scope::Period {
            since,
            until: args.until,
        },
        None => Scope::Day(args.date),
    };
    let query = Query {
        select: match (args.new, args.gone, args.suspect) {
            (true, _, _) => Select::New,
            (_, true, _) => Select::Gone,
            (_, _, true) => Select::Suspect,
            _ => Select::Standing,
        },
        sort: match args.sort {
            SortArg::Users => Sort::Users,
            SortArg::Active => Sort::Active,
            SortArg::FirstSeen => Sort::FirstSeen,
            SortArg::Domain => Sort::Domain,
        },
        limit: args.limit,
    };
    let filter = Filter {
        software: args.software.clone(),
        include_suspect: false,
    };
    let rows = servers::list(&store, scope, &filter, &query)?;
    let text = match args.format {
        FormatArg::Table => show::table(&rows),
        FormatArg::Csv => show::csv(&rows),
        FormatArg::Json => {
            let mut text = serde_json::to_string_pretty(&rows)?;
            text.push('\n');
            text
        }
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}
