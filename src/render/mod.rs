//! Rendering reports: Markdown, JSON, CSV, charts and the HTML page, and the report
//! directory the CLI (`--out`) and the daily job write.
//!
//! Types: none of its own; see [`markdown`], [`csv`], [`charts`], [`html`] (numbers in
//! prose: [`crate::number`]).

pub mod charts;
pub mod csv;
pub mod html;
pub mod markdown;
pub(crate) mod servers;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::number::{signed, thousands};
use crate::report::{Report, Wave};

/// The report (or any part of it) as one pretty-printed JSON document (the contract
/// names are those of [`Report`]).
pub fn json(report: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("reports serialize");
    text.push('\n');
    text
}

/// One row of the growth-waves table, Markdown's and the page's: the wave, its start,
/// peak and end, its new users and new servers, and the servers that grew most, each
/// name shown through `domain` (each format marks names its own way).
pub(crate) fn wave_cells(w: &Wave, domain: impl Fn(&str) -> String) -> [String; 7] {
    let top: Vec<String> = w
        .top_servers
        .iter()
        .map(|c| format!("{} ({})", domain(c.domain.as_str()), signed(c.users)))
        .collect();
    [
        w.name.clone(),
        w.start.to_string(),
        w.peak.to_string(),
        w.end.to_string(),
        signed(w.new_users),
        thousands(w.new_servers as i64),
        top.join(", "),
    ]
}

/// Writes `report.md`, `report.json`, `days.csv`, `index.html`, for a period
/// `new_servers.csv`, and the charts (see [`charts::Chart::of`], each `.svg` and `.png`)
/// into `dir`, creating it; returns the paths.
pub fn write_report_dir(report: &Report, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut written = Vec::new();
    for (name, text) in [
        ("report.md", markdown::markdown(report)),
        ("report.json", json(report)),
        ("days.csv", csv::days_csv(report.days())),
        (
            "index.html",
            html::index_html(report, &html::Page::default())?,
        ),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    if let Report::Period(period) = report {
        let path = dir.join(servers::NEW_SERVERS_CSV);
        std::fs::write(&path, servers::csv(&period.new_server_list))
            .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    written.extend(charts::write_charts(report, dir)?);
    Ok(written)
}
