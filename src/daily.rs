//! The daily job's report step: after a crawl, judge whether the crawl can be trusted,
//! then write the day's report directory, `latest.json` and `index.html`.
//!
//! Layout under the reports directory:
//! - `YYYY-MM-DD/`: the files of `report --out` for the period (D−30, D] (clipped to
//!   the first crawl day), replaced as a whole on a rerun the same day;
//! - `latest.json`: the newest day, and the last 7 and 30 days as periods;
//! - `index.html`: the page for people (see [`crate::render::html`]), its links
//!   pointing into the day's directory.
//!
//! Every file is written to a temporary name and renamed into place, so a reader (a web
//! server, a journalist's browser) never sees a half-written report, and a killed job
//! leaves the previous report intact.
//!
//! Types: [`Health`], [`DailyOutcome`]; functions [`after_crawl`], [`health`],
//! [`write_reports`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::crawl::Summary;
use crate::day::Day;
use crate::domain::Domain;
use crate::render;
use crate::report::{self, Filter, PeriodReport, Report};
use crate::store::Store;

/// How trustworthy the day's crawl is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    /// Fewer than half of the servers that answered yesterday answered today: the
    /// crawler's own network is the likely cause, not a collapse of the fediverse.
    Thin,
    /// No server answered at all.
    NothingReachable,
}

impl Health {
    /// The note the report carries, if any.
    pub fn note(self, yesterday: usize, answered: usize) -> Option<String> {
        match self {
            Health::Ok => None,
            Health::Thin => Some(format!(
                "This crawl is suspiciously thin: only {answered} of the {yesterday} servers \
                 that answered yesterday answered today. The crawler's network was probably \
                 down; servers that did not answer are carried forward, and today's numbers \
                 should not be read as a decline."
            )),
            Health::NothingReachable => Some(
                "No server answered this crawl: the crawler's network was probably down. \
                 The numbers are carried forward from earlier days."
                    .to_string(),
            ),
        }
    }
}

/// The crawl's health for `day`: of the servers observed the day before, how many
/// answered on `day` (any run that day counts, so a second run can repair a thin one).
pub fn health(
    store: &Store,
    day: Day,
    summary: &Summary,
) -> anyhow::Result<(Health, usize, usize)> {
    let today: HashSet<Domain> = store
        .day_snapshots(day)?
        .into_iter()
        .map(|s| s.domain)
        .collect();
    let yesterday: Vec<Domain> = store
        .day_snapshots(day.add_days(-1))?
        .into_iter()
        .map(|s| s.domain)
        .collect();
    let answered = yesterday.iter().filter(|d| today.contains(*d)).count();
    let health = if summary.attempted > 0 && today.is_empty() {
        Health::NothingReachable
    } else if !yesterday.is_empty() && answered * 2 < yesterday.len() {
        Health::Thin
    } else {
        Health::Ok
    };
    Ok((health, yesterday.len(), answered))
}

/// The daily job after its crawl: judges the crawl's health and writes the day's
/// reports, with the health note if the crawl was thin.
pub fn after_crawl(
    store: &Store,
    summary: &Summary,
    reports: &Path,
) -> anyhow::Result<DailyOutcome> {
    let day = Day::of(summary.at);
    let (health, yesterday, answered) = health(store, day, summary)?;
    let note = health.note(yesterday, answered);
    if let Some(note) = &note {
        tracing::warn!("{note}");
    }
    write_reports(store, day, reports, summary, health, note)
}

/// What the daily job wrote.
#[derive(Debug, Clone)]
pub struct DailyOutcome {
    pub day: Day,
    pub dir: PathBuf,
    pub headline: String,
    pub health: Health,
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

/// Writes the day's reports into `reports`; `note` (the health note) is added to the
/// day's notes so every format carries it.
pub fn write_reports(
    store: &Store,
    day: Day,
    reports: &Path,
    summary: &Summary,
    health: Health,
    note: Option<String>,
) -> anyhow::Result<DailyOutcome> {
    let mut periods = report::build_periods(store, day, &[7, 30], &Filter::default())?;
    if let Some(note) = note {
        for period in &mut periods {
            if let Some(last) = period.days.last_mut() {
                last.notes.push(note.clone());
            }
        }
    }
    let (Some(month), Some(week)) = (periods.pop(), periods.pop()) else {
        unreachable!("two lengths build two periods")
    };
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
    write_atomic(&reports.join("latest.json"), latest.as_bytes())?;
    // The newest page, with its links pointing into the day's directory.
    let base = format!("{day}/");
    let page = render::html::Page {
        base: &base,
        ..Default::default()
    };
    write_atomic(
        &reports.join("index.html"),
        render::html::index_html(&report, &page)?.as_bytes(),
    )?;
    Ok(DailyOutcome {
        day,
        dir,
        headline,
        health,
    })
}

/// Writes `path` through a temporary sibling and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = sibling(path, "tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot move {} into place", path.display()))
}

/// Fills a fresh temporary directory, then swaps it in for `dir`.
pub(crate) fn replace_dir(
    dir: &Path,
    fill: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
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
