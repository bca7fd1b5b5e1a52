//! The daily job's report step: after a crawl, write the day's report directory,
//! `latest.json` and `index.html`. Whether the crawl can be trusted is the report's
//! own judgement ([`Health`], defined with the statistics).
//!
//! Layout under the reports directory:
//! - `YYYY-MM-DD/`: the files of `report --out` for the period (D−30, D] (clipped to
//!   the first crawl day), replaced as a whole on a rerun the same day;
//! - `latest.json`: the newest day, and the last 7 and 30 days as periods;
//! - `index.html`: the page for people (see [`crate::render::html`]), its links
//!   pointing into the day's directory.
//!
//! A day whose crawls reached no server ([`Health::NothingReachable`]) gets its
//! directory, which says so, but `latest.json` and `index.html` keep the last day that
//! had a census: a page never announces a census of nothing.
//!
//! Every file is written to a temporary name and renamed into place, so a reader (a web
//! server, a journalist's browser) never sees a half-written report, and a killed job
//! leaves the previous report intact.
//!
//! Types: [`DailyOutcome`]; function [`write_reports`].

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::crawl::Summary;
use crate::day::Day;
use crate::render;
use crate::report::{self, Filter, Health, PeriodReport, Report};
use crate::store::Store;

/// What the daily job wrote.
#[derive(Debug, Clone)]
pub(crate) struct DailyOutcome {
    pub(crate) day: Day,
    pub(crate) dir: PathBuf,
    pub(crate) headline: String,
    /// The day's crawl health (see [`Health`]).
    pub(crate) health: Health,
    /// Whether `latest.json` and `index.html` now show this day.
    pub(crate) published: bool,
}

#[derive(Serialize)]
struct Latest<'a> {
    date: Day,
    headline: &'a str,
    health: Health,
    day: &'a report::DayReport,
    last_7_days: &'a PeriodReport,
    last_30_days: &'a PeriodReport,
    crawl: &'a Summary,
}

/// Writes the day's reports into `reports`.
pub(crate) fn write_reports(
    store: &Store,
    day: Day,
    reports: &Path,
    summary: &Summary,
) -> anyhow::Result<DailyOutcome> {
    let mut periods = report::build_periods(store, day, &[7, 30], &Filter::default())?;
    let (Some(month), Some(week)) = (periods.pop(), periods.pop()) else {
        unreachable!("two lengths build two periods")
    };
    let health = month.days.last().context("a period has days")?.health;
    std::fs::create_dir_all(reports)
        .with_context(|| format!("cannot create the reports directory {}", reports.display()))?;

    let headline = month.headline.clone();
    let latest = Latest {
        date: day,
        headline: &headline,
        health,
        day: month.days.last().context("a period has days")?,
        last_7_days: &week,
        last_30_days: &month,
        crawl: summary,
    };
    let latest = serde_json::to_string_pretty(&latest)? + "\n";

    let dir = reports.join(day.to_string());
    let report = Report::Period(month);
    replace_dir(&dir, |tmp| render::write_report_dir(&report, tmp).map(drop))?;
    let published = health != Health::NothingReachable;
    if published {
        write_atomic(&reports.join("latest.json"), latest.as_bytes())?;
        // The newest page, with its links pointing into the day's directory.
        let base = format!("{day}/");
        let page = render::html::Page {
            base: &base,
            ..Default::default()
        };
        let html = render::html::index_html(&report, &page)?;
        write_atomic(&reports.join("index.html"), html.as_bytes())?;
    }
    Ok(DailyOutcome {
        day,
        dir,
        headline,
        health,
        published,
    })
}

/// Writes `path` through a temporary sibling and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = sibling(path, "tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} into place", path.display()))
}

/// Fills a fresh temporary directory, then swaps it in for `dir`.
fn replace_dir(dir: &Path, fill: impl FnOnce(&Path) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let tmp = sibling(dir, "partial");
    let old = sibling(dir, "old");
    for stale in [&tmp, &old] {
        if stale.exists() {
            std::fs::remove_dir_all(stale)
                .with_context(|| format!("cannot remove {}", stale.display()))?;
        }
    }
    fill(&tmp)?;
    if dir.exists() {
        std::fs::rename(dir, &old)
            .with_context(|| format!("cannot move {} aside", dir.display()))?;
    }
    std::fs::rename(&tmp, dir)
        .with_context(|| format!("cannot move {} into place", dir.display()))?;
    if old.exists() {
        std::fs::remove_dir_all(&old)
            .with_context(|| format!("cannot remove {}", old.display()))?;
    }
    Ok(())
}

/// `reports/2024-01-02` → `reports/.2024-01-02.<suffix>-<pid>`: hidden, and distinct per
/// process.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{suffix}-{}", std::process::id()))
}
