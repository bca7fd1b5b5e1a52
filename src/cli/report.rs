//! `fedicensus report`: prints the census of a day or a period, and with `--out` writes
//! the full report directory (Markdown, JSON, CSV, charts).
//!
//! Types: [`ReportArgs`] (the flags), [`Format`].

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::day::Day;
use crate::render;
use crate::report::{self, Filter, Scope};
use crate::store::Store;

#[derive(clap::Args, Debug)]
#[command(
    about = "Report the census of a day or a period",
    long_about = "Report the census of a day (--date) or of a period (--since, --until) from \
                  the database, as Markdown (default), JSON or CSV on standard output; with \
                  --out, also write report.md, report.json, days.csv, index.html and the charts \
                  (users, servers, new-servers, software, languages; SVG and PNG) into a directory.\n\n\
                  Days are UTC calendar days written YYYY-MM-DD. A server counts on a day if \
                  it answered that day or in the 7 days before; suspect numbers are left out \
                  and listed with their reason. The report's Method section gives every rule."
)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) db: super::DbArg,

    #[arg(
        long,
        value_name = "DAY",
        conflicts_with_all = ["since", "until"],
        help = "The day to report (YYYY-MM-DD, UTC) [default: the last day with a crawl]",
        long_help = "The day to report, YYYY-MM-DD in UTC. It must lie between the first and \
                     the last day with a crawl; a day without a crawl in between reports the \
                     servers carried forward. Default: the last day with a crawl."
    )]
    pub(crate) date: Option<Day>,

    #[arg(
        long,
        value_name = "DAY",
        help = "Report the period after DAY through --until, with its daily series",
        long_help = "Report the period from DAY (exclusive) through --until (inclusive): new \
                     users (users on --until minus users on DAY), new servers (first up after \
                     DAY), monthly active users and servers up on --until, and one row per day \
                     from DAY through --until. DAY must be a day with census data."
    )]
    pub(crate) since: Option<Day>,

    #[arg(
        long,
        value_name = "DAY",
        requires = "since",
        help = "The last day of the --since period [default: the last day with a crawl]",
        long_help = "The last day (inclusive) of the --since period, YYYY-MM-DD in UTC; not \
                     before --since. Default: the last day with a crawl."
    )]
    pub(crate) until: Option<Day>,

    #[arg(
        long,
        value_enum,
        default_value_t = Format::Md,
        help = "What to print on standard output",
        long_help = "What to print on standard output: md, a Markdown report led by a \
                     headline; json, one JSON document (a day's numbers, or a period's figures \
                     with its days); csv, one row per day."
    )]
    pub(crate) format: Format,

    #[arg(
        long,
        value_name = "DIR",
        help = "Also write report.md, report.json, days.csv, index.html and charts into DIR",
        long_help = "Also write every format into DIR (created if needed): report.md, \
                     report.json, days.csv, index.html (a self-contained page), and the charts users, servers, new-servers, software and languages (a one-day report: only the last two), each as \
                     .svg and .png. Existing files of those names are replaced."
    )]
    pub(crate) out: Option<PathBuf>,

    #[arg(
        long,
        value_name = "NAME",
        help = "Count only servers running this software (e.g. mastodon)",
        long_help = "Count only servers whose NodeInfo software name is NAME, compared in \
                     lowercase (mastodon, pleroma, misskey, lemmy, ...). Every number, \
                     including the headline, is then about those servers only."
    )]
    pub(crate) software: Option<String>,

    #[arg(
        long,
        help = "Count suspect numbers instead of leaving them out",
        long_help = "Count the servers whose numbers the suspect-data rules flag (negative \
                     counts, impossible totals, one-day jumps, stuck counters, spam farms) \
                     instead of leaving them out. They are listed either way."
    )]
    pub(crate) include_suspect: bool,

    #[arg(
        long,
        value_enum,
        value_name = "KEY",
        help = "Print only the last day's split by KEY (software or language)",
        long_help = "Print only the split of the report's last day by KEY instead of the whole \
                     report, in --format (a Markdown table, a JSON array, or CSV rows): \
                     software (servers, users and monthly active users per software) or \
                     language (the same per language the servers declare, with how many \
                     servers declared any; not a split by country, see the Method). --out \
                     still writes the whole report."
    )]
    pub(crate) by: Option<By>,
}

/// What `--by` splits the last day by.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum By {
    Software,
    Language,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Md,
    Json,
    Csv,
}

/// Builds the report from the database at `db`, prints it in `args.format`, and writes
/// the report directory if `--out` was given.
pub(crate) fn run(args: &ReportArgs, db: &Path) -> anyhow::Result<()> {
    let store = Store::open_existing(db)?;
    let scope = match args.since {
        Some(since) => Scope::Period {
            since,
            until: args.until,
        },
        None => Scope::Day(args.date),
    };
    let filter = Filter {
        software: args.software.clone(),
        include_suspect: args.include_suspect,
    };
    let report = report::build(&store, scope, &filter)?;
    if let Some(dir) = &args.out {
        let written = render::write_report_dir(&report, dir)?;
        tracing::info!(files = written.len(), dir = %dir.display(), "report written");
    }
    let text = match args.by {
        Some(by) => split(&report, by, args.format),
        None => match args.format {
            Format::Md => render::markdown::markdown(&report),
            Format::Json => render::json(&report),
            Format::Csv => render::csv::days_csv(report.days()),
        },
    };
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(())
}

/// The `--by` table of the report's last day in `format`.
fn split(report: &report::Report, by: By, format: Format) -> String {
    let day = report.end();
    let (name, rows) = match by {
        By::Software => ("software", day.software_rows()),
        By::Language => ("language", day.language_rows()),
    };
    match format {
        Format::Md => {
            let mut md = String::new();
            match by {
                By::Software => render::markdown::software(&mut md, day),
                By::Language => render::markdown::languages(&mut md, day),
            }
            md
        }
        Format::Json => match by {
            By::Software => render::json(&day.by_software),
            By::Language => render::json(&day.by_language),
        },
        Format::Csv => render::csv::table(
            [name, "servers", "users_total", "active_month"],
            rows.iter().map(|r| {
                [
                    r.name.to_string(),
                    r.counts.servers.to_string(),
                    r.counts.users_total.to_string(),
                    r.counts.active_month.to_string(),
                ]
            }),
        ),
    }
}
